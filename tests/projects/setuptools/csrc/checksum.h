#ifndef CHECKSUM_H
#define CHECKSUM_H
#include <stddef.h>
#include <stdint.h>

uint32_t checksum_crc32(const unsigned char* data, size_t n);

#endif
