#include <sstream>

#include "kernels.hpp"

namespace kernels {
std::map<std::string, std::size_t> word_counts(const std::string& text) {
    std::map<std::string, std::size_t> counts;
    std::istringstream in(text);
    for (std::string word; in >> word;) ++counts[word];
    return counts;
}
}  // namespace kernels
