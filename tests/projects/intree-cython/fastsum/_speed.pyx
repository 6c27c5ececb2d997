cdef extern from "helper.h":
    double fastsum_weight(long i)


def weighted_sum(values):
    """Sum of values[i] / (i + 1)."""
    cdef double total = 0.0
    cdef long i
    for i, v in enumerate(values):
        total += v * fastsum_weight(i)
    return total
