#pragma once
#include <cstddef>
#include <vector>

// A few template-heavy units, so each compile does real work and a miss is visible.
namespace kernels {
double sort_sum(std::size_t n);
double map_sum(std::size_t n);
double matrix_trace(std::size_t n);
double string_hash(std::size_t n);
}  // namespace kernels
