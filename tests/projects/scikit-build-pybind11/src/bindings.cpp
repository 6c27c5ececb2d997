#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "kernels.hpp"

PYBIND11_MODULE(_core, m) {
    m.doc() = "ccwheel's scikit-build-core + pybind11 example";
    m.def("mean_of_sorted", &kernels::mean_of_sorted);
    m.def("word_counts", &kernels::word_counts);
    m.def("pascal", &kernels::pascal);
}
