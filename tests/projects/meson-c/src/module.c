#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "kernels.h"

static PyObject* py_fib(PyObject* self, PyObject* args) {
    unsigned n;
    if (!PyArg_ParseTuple(args, "I", &n)) return NULL;
    return PyLong_FromUnsignedLongLong(fib(n));
}

static PyObject* py_count_primes(PyObject* self, PyObject* args) {
    Py_ssize_t limit;
    if (!PyArg_ParseTuple(args, "n", &limit)) return NULL;
    return PyLong_FromSize_t(count_primes((size_t)limit));
}

static PyObject* py_rle_length(PyObject* self, PyObject* args) {
    const char* s;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "s#", &s, &n)) return NULL;
    return PyLong_FromSize_t(rle_length(s, (size_t)n));
}

static PyMethodDef methods[] = {
    {"fib", py_fib, METH_VARARGS, "n-th Fibonacci number."},
    {"count_primes", py_count_primes, METH_VARARGS, "Primes up to limit."},
    {"rle_length", py_rle_length, METH_VARARGS, "Length of a string's run-length encoding."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_core", NULL, -1, methods};

PyMODINIT_FUNC PyInit__core(void) { return PyModule_Create(&module); }
