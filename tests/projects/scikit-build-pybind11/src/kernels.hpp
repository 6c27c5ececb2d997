#pragma once
#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace kernels {
double mean_of_sorted(std::vector<double> values);
std::map<std::string, std::size_t> word_counts(const std::string& text);
std::vector<std::vector<long>> pascal(std::size_t rows);
}  // namespace kernels
