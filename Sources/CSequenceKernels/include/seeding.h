#ifndef MRD_SEEDING_H
#define MRD_SEEDING_H
#include <stddef.h>
#include <stdint.h>

// Seeding of reads against the germline k-mer index (Annotator): the two passes over a read's k-mer
// hits, in C so that the table probes of one read are issued together (prefetched) instead of one
// cache miss after another, and the hit loops run without bounds checks or reference counting.

/// One slot of the k-mer hash (KmerTable.Slot): the canonical k-mer and its hit range,
/// start << 8 | length, a length of 255 meaning the range is in the long-range list.
typedef struct { uint32_t key; uint32_t range; } mrd_kmer_slot;

/// A k-mer occurrence in a germline element (Annotator.Hit): element << 1 | 1 when the element's
/// k-mer is the canonical one, and its offset in the element.
typedef struct { uint16_t packed; uint16_t offset; } mrd_element_hit;

/// A read position whose k-mer is in the table: its hit range and whether the read's k-mer there
/// is the canonical one.
typedef struct { int32_t position; int32_t start; int32_t end; int32_t forward; } mrd_seed;

/// The k-mer table as the kernels see it.
typedef struct {
    const mrd_kmer_slot *slots;
    uint32_t shift;
    uint32_t mask;
    const mrd_element_hit *hits;
    /// Ranges of 255 hits or more, sorted by start: long_starts[i]..<long_ends[i].
    const uint32_t *long_starts;
    const uint32_t *long_ends;
    long long_count;
} mrd_kmer_index;

/// First pass: the canonical k-mers (length k, 4..16) at every `step`-th read position are looked
/// up; each one found goes into `found` (at most n / step + 1 entries) and its hits are counted per
/// element and strand in `counts` (slot = element for hits on the read's forward strand, element +
/// element_count for the reverse one); slots counted for the first time are appended to `touched`
/// (at most 2 * element_count entries). `codes` is scratch for 2 * n 32-bit values. Returns how many
/// seeds were found; *touched_count receives the number of touched slots.
///
/// Each hit is also recorded, when all of them fit in `hit_capacity`: its slot into `hit_slots`
/// and its diagonal (read position - element offset, on the hit's strand of the read: the reverse
/// strand's k-mer at forward position p starts at n - k - p) shifted left by one, or'ed with whether
/// the offset is at or after the element's `near_from`, into `hit_values`; *hit_count receives how
/// many. When they do not fit, nothing is recorded and *hit_count is minus the number of hits.
long mrd_seed_count(const uint8_t *read, long n, int k, long step, const mrd_kmer_index *index,
                    long element_count, int32_t *counts, int32_t *touched, long *touched_count,
                    mrd_seed *found, uint32_t *codes, const int32_t *near_from,
                    int32_t *hit_slots, int32_t *hit_values, long hit_capacity, long *hit_count);

/// Second pass from the hits mrd_seed_count recorded, for one strand (0 forward, 1 reverse): the
/// same buckets as mrd_seed_diagonals fills (elements whose `cursor` is >= 0, entries in seed order).
void mrd_seed_bucket(const int32_t *hit_slots, const int32_t *hit_values, long hit_count, int strand, long element_count,
                     int32_t spare, int32_t *cursor, int32_t *diagonals, uint8_t *near);

/// Second pass, for one strand (0 forward, 1 reverse) and the elements whose `cursor` is >= 0
/// (their buckets in `diagonals`/`near`, in element order, laid out by the caller): each such
/// element's hits become diagonals (read position - element offset; on the reverse strand the
/// k-mer at forward position p starts at last_start - p) and whether the hit lies at or after the
/// element's `near_from` offset. `cursor` ends at each bucket's end. Every selected element lies
/// in first_element...last_element, and each k-mer's hits must be in element order (only that
/// span of each is read). `spare` is an entry of `diagonals`/`near` past every bucket (written to
/// for the hits not taken).
void mrd_seed_diagonals(const mrd_seed *found, long found_count, const mrd_kmer_index *index, int strand,
                        int32_t last_start, const int32_t *near_from, long first_element, long last_element,
                        int32_t spare, int32_t *cursor, int32_t *diagonals, uint8_t *near);

/// The best diagonal of the bucket diagonals[from..<to): most hits among those near the junction
/// anchor when that is at least 2, else most hits among all; the smallest diagonal on ties;
/// INT32_MAX when the bucket is empty. `histogram` (all zero, left so) is indexed by diagonal + shift.
int32_t mrd_best_diagonal(const int32_t *diagonals, const uint8_t *near, long from, long to,
                          int32_t *histogram, long shift);

/// The k-mers (length k, 4..16, forward strand as read) of read[0..n) that a one-hash bit filter
/// may hold (bit (kmer * 0x2545F491) >> shift of `words`), in read order, into `out` (room for n).
/// Returns how many. Most reads carry none of a small set's k-mers, and this answers for all of
/// them in one loop.
long mrd_filter_kmers(const uint8_t *read, long n, int k, const uint64_t *words, uint32_t shift, uint32_t *out);

/// Global alignment cost of a[0..n) and b[0..m): substitution 1, an inserted or deleted base `gap`
/// (>= 1); limit + 1 when the cost is above `limit`. Only the band of cells within limit / gap of
/// the diagonal is computed (a path through a cell farther out has paid more than `limit` in gaps
/// already), so the answer is exact up to `limit` at a fraction of the full table's cost.
long mrd_alignment_cost(const uint8_t *a, long n, const uint8_t *b, long m, long gap, long limit);

/// mrd_extension_score (sequence_kernels.h) of one element at every diagonal from diagonal_from to
/// diagonal_to (inclusive) into scores[0...]: the same numbers, with the diagonals whose core lies
/// wholly inside the read computed side by side (one read base per diagonal and element position,
/// in vector lanes), e.g. a J gene searched for at a few hundred places downstream of a V.
void mrd_extension_scores(const uint8_t *read, long read_len, const uint8_t *element, long element_len,
                          long core_from, long core_to, long diagonal_from, long diagonal_to,
                          long trimmed_side, long trimmed_minimum, int32_t *scores);

#endif
