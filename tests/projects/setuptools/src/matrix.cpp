#include <array>
#include <complex>
#include "kernels.hpp"

double kernels::matrix_trace(std::size_t n) {
    std::vector<std::vector<std::complex<double>>> m(n, std::vector<std::complex<double>>(n));
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < n; ++j) m[i][j] = {double(i + j), double(i) - double(j)};
    std::complex<double> trace = 0;
    for (std::size_t i = 0; i < n; ++i) trace += m[i][i] * m[i][i];
    return trace.real();
}
