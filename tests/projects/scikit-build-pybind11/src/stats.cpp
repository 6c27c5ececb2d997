#include <algorithm>
#include <numeric>

#include "kernels.hpp"

namespace kernels {
double mean_of_sorted(std::vector<double> values) {
    if (values.empty()) return 0.0;
    std::sort(values.begin(), values.end());
    return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}
}  // namespace kernels
