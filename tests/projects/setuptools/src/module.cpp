#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "kernels.hpp"

static PyObject* run(PyObject*, PyObject* args) {
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "n", &n)) return nullptr;
    auto size = static_cast<std::size_t>(n);
    return PyFloat_FromDouble(kernels::sort_sum(size) + kernels::map_sum(size) +
                              kernels::matrix_trace(size) + kernels::string_hash(size));
}

static PyObject* greeting(PyObject*, PyObject*) { return PyUnicode_FromString(EXAMPLE_GREETING); }

static PyObject* before_build_ran(PyObject*, PyObject*) {
    return PyBool_FromLong(EXAMPLE_BEFORE_BUILD);
}

static PyMethodDef methods[] = {
    {"run", run, METH_VARARGS, "Run every kernel on n items."},
    {"greeting", greeting, METH_NOARGS, "EXAMPLE_GREETING as the build saw it."},
    {"before_build_ran", before_build_ran, METH_NOARGS, "Whether the user's before-build ran."},
    {nullptr, nullptr, 0, nullptr},
};

static PyModuleDef module = {PyModuleDef_HEAD_INIT, "ccwheel_example", nullptr, -1, methods};

PyMODINIT_FUNC PyInit_ccwheel_example() { return PyModule_Create(&module); }
