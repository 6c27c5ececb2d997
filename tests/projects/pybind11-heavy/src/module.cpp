#include <pybind11/pybind11.h>

#include "units.hpp"

PYBIND11_MODULE(_core, m) {
    m.doc() = "ccwheel's compile-heavy benchmark example";
    register_all_units(m);
}
