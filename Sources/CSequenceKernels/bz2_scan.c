#include "sequence_kernels.h"
#include <string.h>

static inline uint64_t load_be64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return __builtin_bswap64(v);
}

uint64_t mrd_bz2_find_marker(const uint8_t *p, size_t n, uint64_t from_bit, int *is_end) {
    const uint64_t mask = 0xFFFFFFFFFFFFULL;
    if (n < 6 || from_bit + 48 > (uint64_t)n * 8) return UINT64_MAX;
    size_t byte = (size_t)(from_bit >> 3);
    // Whole 64-bit windows: a marker starting at bit s of byte b is bits [s, s+48) of the window.
    for (; byte + 8 <= n; byte++) {
        uint64_t w = load_be64(p + byte);
        for (int s = 0; s < 8; s++) {
            uint64_t v = (w >> (16 - s)) & mask;
            if ((v == MRD_BZ2_BLOCK_MAGIC || v == MRD_BZ2_EOS_MAGIC)) {
                uint64_t bit = (uint64_t)byte * 8 + (uint64_t)s;
                if (bit < from_bit) continue;
                *is_end = v == MRD_BZ2_EOS_MAGIC;
                return bit;
            }
        }
    }
    // The last bytes, padded with zeros (a marker must still fit inside n bytes).
    for (; byte + 6 <= n; byte++) {
        uint8_t tail[8] = {0};
        memcpy(tail, p + byte, n - byte);
        uint64_t w = load_be64(tail);
        for (int s = 0; s < 8; s++) {
            uint64_t bit = (uint64_t)byte * 8 + (uint64_t)s;
            if (bit < from_bit || bit + 48 > (uint64_t)n * 8) continue;
            uint64_t v = (w >> (16 - s)) & mask;
            if (v == MRD_BZ2_BLOCK_MAGIC || v == MRD_BZ2_EOS_MAGIC) {
                *is_end = v == MRD_BZ2_EOS_MAGIC;
                return bit;
            }
        }
    }
    return UINT64_MAX;
}

void mrd_copy_bits(const uint8_t *p, size_t n, uint64_t from_bit, uint64_t bit_count, uint8_t *out) {
    size_t bytes = (size_t)((bit_count + 7) / 8);
    size_t base = (size_t)(from_bit >> 3);
    unsigned shift = (unsigned)(from_bit & 7);
    if (shift == 0) {
        memcpy(out, p + base, bytes);
    } else {
        for (size_t k = 0; k < bytes; k++) {
            uint8_t high = (uint8_t)(p[base + k] << shift);
            uint8_t low = base + k + 1 < n ? (uint8_t)(p[base + k + 1] >> (8 - shift)) : 0;
            out[k] = high | low;
        }
    }
    unsigned used = (unsigned)(bit_count & 7);
    if (used) out[bytes - 1] &= (uint8_t)(0xFF << (8 - used));
}
