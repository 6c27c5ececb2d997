#ifndef KERNELS_H
#define KERNELS_H
#include <stddef.h>

unsigned long long fib(unsigned n);
size_t count_primes(size_t limit);
size_t rle_length(const char* s, size_t n);

#endif
