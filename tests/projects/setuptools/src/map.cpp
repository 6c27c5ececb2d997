#include <map>
#include <string>
#include <unordered_map>
#include "kernels.hpp"

double kernels::map_sum(std::size_t n) {
    std::map<std::size_t, double> ordered;
    std::unordered_map<std::string, double> hashed;
    for (std::size_t i = 0; i < n; ++i) {
        ordered[i] = static_cast<double>(i) / 2;
        hashed[std::to_string(i)] = static_cast<double>(i);
    }
    double total = 0;
    for (const auto& kv : ordered) total += kv.second;
    for (const auto& kv : hashed) total += kv.second;
    return total;
}
