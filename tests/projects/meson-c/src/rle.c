#include "kernels.h"

/* Length of the run-length encoding of s: one (count, char) pair per run. */
size_t rle_length(const char* s, size_t n) {
    size_t runs = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || s[i] != s[i - 1]) runs++;
    return 2 * runs;
}
