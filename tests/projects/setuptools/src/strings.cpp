#include <functional>
#include <regex>
#include <sstream>
#include <string>
#include "kernels.hpp"

double kernels::string_hash(std::size_t n) {
    std::ostringstream out;
    for (std::size_t i = 0; i < n; ++i) out << "item-" << i << ';';
    std::regex word("item-([0-9]+)");
    std::string text = out.str();
    double total = 0;
    for (std::sregex_iterator it(text.begin(), text.end(), word), end; it != end; ++it)
        total += static_cast<double>(std::hash<std::string>{}((*it)[1].str()) % 7);
    return total;
}
