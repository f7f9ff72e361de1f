#ifndef MRD_SEQUENCE_KERNELS_H
#define MRD_SEQUENCE_KERNELS_H
#include <stddef.h>
#include <stdint.h>
#include "seeding.h"

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

/// Ungapped alignment score of element[from..to) placed on read with element offset i at read
/// position i + diagonal: +1 per equal byte, -3 per different one, over the offsets whose read
/// position lies inside read[0..read_len).
/// A 64-bit hash of p[0..n) for in-memory tables (not stable across versions): four independent
/// multiply-rotate lanes over 32-byte blocks, so a read's bytes are hashed at several bytes a cycle.
uint64_t mrd_hash_bytes(const uint8_t *p, size_t n);

/// Writes value as printf's "%.6g" into out (size n, NUL-terminated); returns the length.
int mrd_format_g6(double value, char *out, size_t n);
/// printf's `%.*f` (`decimals` digits after the point) into out; returns the length written.
int mrd_format_fixed(double value, int decimals, char *out, size_t n);

/// Upper-cases letters in place (the bytes are already checked to be IUPAC letters).
void mrd_uppercase_letters(uint8_t *p, size_t n);
/// Ungapped score of `element` on `read` along `diagonal` (read position - element position):
/// +1 per match, -4 per mismatch over [core_from, core_to), plus the best-scoring extension from the
/// core towards each end (ends that recombination trimmed or that the read does not reach cost nothing).
/// The extension on `trimmed_side` (-1 left, +1 right: the junction side, where the element meets
/// untemplated bases) counts only above `trimmed_minimum`, so that chance matches of a few N bases
/// never choose between alleles.
long mrd_extension_score(const uint8_t *read, long read_len, const uint8_t *element, long element_len,
                         long core_from, long core_to, long diagonal, long trimmed_side, long trimmed_minimum);

/// Best local score of a banded affine-gap alignment of read[..<read_end] with element[..<element_end],
/// extended backwards from those ends (aligned with each other), e.g. a V gene from its Cys region
/// 5'-wards through hypermutation with small indels. Score-only (no traceback), match/mismatch/gap
/// open/gap extend as given (a gap of g bases costs open + g * extend), diagonal drift within band
/// (at most 32); stops once every cell of a row is x_drop below the best. When the score cannot
/// reach `goal` any more (every remaining read base matching), stops and returns a score below it
/// (LONG_MIN: no goal).
long mrd_gapped_extension_score(const uint8_t *read, long read_end, const uint8_t *element, long element_end,
                                long band, long match, long mismatch, long open, long extend, long x_drop, long goal);

/// The score of a J placed on `diagonal` with one indel allowed past its anchor: the best run that
/// ends at anchor_end (at most `span` bases leftwards), plus the best of: the run from anchor_end
/// onwards on the same diagonal, or a run on it up to some position, then a gap of 1..max_shift
/// bases (open + extend per base), then a run on the shifted diagonal (an insertion or a deletion in the read, e.g. in the G run of
/// TGGGGC). Runs are ungapped best prefix scores, +match / mismatch per base.
long mrd_j_indel_score(const uint8_t *read, long read_len, const uint8_t *element, long element_len, long anchor_end,
                       long diagonal, long span, long match, long mismatch, long gap_open, long gap_extend, long max_shift);

/// Whether any of `count` competitors (end to end in `all`, competitor k at starts[k]..<starts[k+1])
/// is within `limit` of window[..<n] by mrd_alignment_cost (substitution 1, gap `gap`), each cut by
/// clip_left and clip_right bases at its ends first (nothing left: empty). The cases a small limit
/// allows are answered without the dynamic-programming table: equal lengths by a substitution count
/// that stops past the limit; lengths one apart, when only one gap fits, by how far each end matches.
long mrd_any_within(const uint8_t *window, long n, const uint8_t *all, const long *starts, long count, long clip_left,
                    long clip_right, long gap, long limit);

/// Positions where a[i] == b[i], i < length.
long mrd_count_matches(const uint8_t *a, const uint8_t *b, long length);

/// Best prefix score of read[0..<length] against element[0..<length] without gaps (match/mismatch
/// as given): how far a gene extends rightwards from an aligned point, e.g. a V from its Cys region
/// to the junction. 0 when every prefix scores below 0.
long mrd_forward_run_score(const uint8_t *read, const uint8_t *element, long length, long match, long mismatch);

/// The score of `element` on `diagonal` anchored at anchor_end: the best run that ends at
/// anchor_end (reaching at most `span` bases leftwards, +match / mismatch per base, 0 at worst),
/// plus the best run rightwards from anchor_end when it scores over `right_minimum` (junction-side
/// bases match N nucleotides by chance). Bases outside the read or the element end a run. 0, the
/// rest unread, when the last gate_length bases before anchor_end are not all in the read or score
/// under gate_minimum (nearly every place of a search).
long mrd_anchored_run_score(const uint8_t *read, long read_len, const uint8_t *element, long element_len, long anchor_end,
                            long diagonal, long span, long gate_length, long gate_minimum, long right_minimum,
                            long match, long mismatch);

#endif

#ifndef MRD_BZ2_SCAN_H
#define MRD_BZ2_SCAN_H
/// bzip2 block start (pi) and end-of-stream (sqrt(pi)) markers, 48 bits each.
#define MRD_BZ2_BLOCK_MAGIC 0x314159265359ULL
#define MRD_BZ2_EOS_MAGIC 0x177245385090ULL

/// Finds the first bzip2 block or end-of-stream marker that starts at a bit offset in
/// [from_bit, n*8 - 48]. Returns its bit offset (bits counted from the most significant bit of p[0])
/// and sets *is_end to 1 for an end-of-stream marker; returns UINT64_MAX when there is none.
uint64_t mrd_bz2_find_marker(const uint8_t *p, size_t n, uint64_t from_bit, int *is_end);

/// Copies bit_count bits starting at bit from_bit of p into out (byte-aligned, most significant bit
/// first); the unused low bits of the last byte are zero. out must hold (bit_count + 7) / 8 bytes and
/// p must hold the bits read.
void mrd_copy_bits(const uint8_t *p, size_t n, uint64_t from_bit, uint64_t bit_count, uint8_t *out);
/// Bytes the C heap has handed out and not taken back (glibc's mallinfo2; 0 where unknown): the
/// live size of a phase's data, apart from what the allocator keeps for reuse.
size_t mrd_heap_in_use(void);
/// Makes blocks of mmap_threshold bytes or more come from (and go back to) the system directly
/// (glibc mallopt; nothing elsewhere). glibc otherwise raises its threshold each time such a block
/// is freed, so large buffers that grow by copying (tables, batches) stay in the heap once freed and
/// count towards the process's peak.
void mrd_memory_policy(size_t mmap_threshold);
/// Gives the pages of freed heap memory back to the system (glibc malloc_trim), in every thread's
/// arena: memory freed by one thread is otherwise kept for that thread's arena while the next
/// phase's threads allocate afresh.
void mrd_release_free_memory(void);
#endif
