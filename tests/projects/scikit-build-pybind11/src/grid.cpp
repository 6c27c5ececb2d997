#include "kernels.hpp"

namespace kernels {
std::vector<std::vector<long>> pascal(std::size_t rows) {
    std::vector<std::vector<long>> out;
    for (std::size_t r = 0; r < rows; ++r) {
        std::vector<long> row(r + 1, 1);
        for (std::size_t k = 1; k < r; ++k) row[k] = out[r - 1][k - 1] + out[r - 1][k];
        out.push_back(std::move(row));
    }
    return out;
}
}  // namespace kernels
