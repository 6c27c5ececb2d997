#include <algorithm>
#include <numeric>
#include <random>
#include "kernels.hpp"

double kernels::sort_sum(std::size_t n) {
    std::vector<double> v(n);
    std::mt19937 rng(42);
    std::generate(v.begin(), v.end(), [&] { return std::uniform_real_distribution<>(0, 1)(rng); });
    std::sort(v.begin(), v.end());
    std::stable_sort(v.rbegin(), v.rend());
    return std::accumulate(v.begin(), v.end(), 0.0);
}
