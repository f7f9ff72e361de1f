#ifndef MRD_SEQUENCE_KERNELS_H
#define MRD_SEQUENCE_KERNELS_H
#include <stddef.h>
#include <stdint.h>

// Byte loops of the hot path, written so that the C compiler vectorises them with SSE2 (the
// x86-64 baseline) and NEON alike.

/// Index of the first byte of p[0..n) that is not an IUPAC nucleotide letter (either case), or n.
size_t mrd_find_invalid_nucleotide(const uint8_t *p, size_t n);

/// Index of the first byte of p[0..n) outside Phred+33 '!'..'~', or n.
size_t mrd_find_invalid_quality(const uint8_t *p, size_t n);

/// Number of G, C and S letters (either case) in p[0..n).
uint64_t mrd_count_gc(const uint8_t *p, size_t n);

/// Sum of Phred scores (byte - 33) of q[0..n); *q30 receives how many are >= 30.
uint64_t mrd_quality_sum(const uint8_t *q, size_t n, uint64_t *q30);

#endif
