#include "helper.h"

double fastsum_weight(long i) { return 1.0 / (double)(i + 1); }
