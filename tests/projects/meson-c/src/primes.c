#include <stdlib.h>
#include <string.h>

#include "kernels.h"

size_t count_primes(size_t limit) {
    if (limit < 2) return 0;
    unsigned char* sieve = malloc(limit + 1);
    if (!sieve) return 0;
    memset(sieve, 1, limit + 1);
    size_t count = 0;
    for (size_t i = 2; i <= limit; i++) {
        if (!sieve[i]) continue;
        count++;
        for (size_t j = i * i; j <= limit; j += i) sieve[j] = 0;
    }
    free(sieve);
    return count;
}
