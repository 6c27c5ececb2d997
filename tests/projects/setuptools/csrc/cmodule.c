#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "checksum.h"

static PyObject* crc32(PyObject* self, PyObject* args) {
    const unsigned char* data;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "y#", &data, &n)) return NULL;
    return PyLong_FromUnsignedLong(checksum_crc32(data, (size_t)n));
}

static PyMethodDef methods[] = {
    {"crc32", crc32, METH_VARARGS, "CRC-32 of a bytes object."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "ccwheel_example_c", NULL, -1, methods};

PyMODINIT_FUNC PyInit_ccwheel_example_c(void) { return PyModule_Create(&module); }
