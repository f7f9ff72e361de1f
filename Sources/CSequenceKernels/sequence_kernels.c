#include "sequence_kernels.h"
#include "seeding.h"
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static uint8_t table[256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void build_table(void) {
    const char *letters = "ACGTUNRYSWKMBDHV";
    for (int i = 0; i < 256; i++) table[i] = 1;
    for (const char *c = letters; *c; c++) {
        table[(uint8_t)*c] = 0;
        table[(uint8_t)*c | 0x20] = 0;
    }
}

// Fast check for the usual letters A, C, G, T, N in either case; blocks that fail it go through
// the full IUPAC table.
static inline int block_is_acgtn(const uint8_t *p, size_t n) {
    uint8_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t x = p[i] | 0x20;
        uint8_t ok = (x == 'a') | (x == 'c') | (x == 'g') | (x == 't') | (x == 'n');
        bad |= (uint8_t)(ok ^ 1);
    }
    return bad == 0;
}

size_t mrd_find_invalid_nucleotide(const uint8_t *p, size_t n) {
    const size_t block = 64;
    size_t i = 0;
    for (; i + block <= n; i += block) {
        if (!block_is_acgtn(p + i, block)) break;
    }
    if (i + block > n && block_is_acgtn(p + i, n - i)) return n;
    pthread_once(&table_once, build_table);
    for (; i < n; i++) {
        if (table[p[i]]) return i;
    }
    return n;
}

void mrd_uppercase_letters(uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] &= 0xDF;
}

size_t mrd_find_invalid_quality(const uint8_t *p, size_t n) {
    const size_t block = 64;
    size_t i = 0;
    for (; i < n; i += block) {
        size_t stop = i + block < n ? i + block : n;
        uint8_t bad = 0;
        for (size_t j = i; j < stop; j++) bad |= (uint8_t)(p[j] - 33) > 93;
        if (bad) {
            for (size_t j = i; j < stop; j++) {
                if ((uint8_t)(p[j] - 33) > 93) return j;
            }
        }
    }
    return n;
}

uint64_t mrd_count_gc(const uint8_t *p, size_t n) {
    uint64_t total = 0;
    size_t i = 0;
    while (i < n) {
        // 32-bit lane counters, emptied before they could overflow.
        size_t stop = n - i > (1u << 24) ? i + (1u << 24) : n;
        uint32_t count = 0;
        for (; i < stop; i++) {
            uint8_t x = p[i] | 0x20;
            count += (x == 'c') | (x == 'g') | (x == 's');
        }
        total += count;
    }
    return total;
}

uint64_t mrd_quality_sum(const uint8_t *q, size_t n, uint64_t *q30) {
    uint64_t sum = 0, high = 0;
    size_t i = 0;
    while (i < n) {
        size_t stop = n - i > (1u << 24) ? i + (1u << 24) : n;
        uint32_t s = 0, h = 0;
        for (; i < stop; i++) {
            s += q[i];
            h += q[i] >= 63;
        }
        sum += s;
        high += h;
    }
    *q30 = high;
    return sum - 33 * (uint64_t)n;
}

// Ungapped comparison a mismatch at a time: a 64-base block's mismatches as bits (SSE2 compares 16
// bytes at once), runs between them added whole. Scores are the same as a base-by-base walk; a read
// of a V or J differs from it in a few bases, so the walk's work falls from one step per base to one
// per mismatch.
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/// Bit i set where a[i] != b[i], for i < n <= 64. a[-before ..< n + after] and the same of b are
/// readable: a block's last few bases are then compared in a 16-byte load that overlaps them.
static inline uint64_t mismatch_bits(const uint8_t *a, const uint8_t *b, long n, long before, long after) {
    uint64_t bits = 0;
    long i = 0;
#if defined(__SSE2__)
    for (; i + 16 <= n; i += 16) {
        const __m128i x = _mm_loadu_si128((const __m128i *)(a + i)), y = _mm_loadu_si128((const __m128i *)(b + i));
        const uint32_t equal = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, y));
        bits |= (uint64_t)(~equal & 0xFFFFu) << i;
    }
    const long rest = n - i;
    if (rest > 0) {
        if (rest + after >= 16) {
            const __m128i x = _mm_loadu_si128((const __m128i *)(a + i)), y = _mm_loadu_si128((const __m128i *)(b + i));
            const uint32_t equal = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, y));
            return bits | ((uint64_t)(~equal & ((1u << rest) - 1)) << i);
        }
        if (i + before >= 16 - rest) {
            const long at = n - 16;  // the load ends at n
            const __m128i x = _mm_loadu_si128((const __m128i *)(a + at)), y = _mm_loadu_si128((const __m128i *)(b + at));
            const uint32_t equal = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(x, y));
            return bits | ((uint64_t)((~equal & 0xFFFFu) >> (16 - rest)) << i);
        }
    }
#else
    (void)before;
    (void)after;
    for (; i + 8 <= n; i += 8) {
        uint64_t x, y;
        memcpy(&x, a + i, 8);
        memcpy(&y, b + i, 8);
        const uint64_t d = x ^ y, low7 = 0x7F7F7F7F7F7F7F7FULL;
        // A byte's top bit set where the byte is non-zero, gathered into 8 bits.
        const uint64_t nonzero = (((d & low7) + low7) | d) & ~low7;
        bits |= (((nonzero >> 7) * 0x0102040810204080ULL) >> 56) << i;
    }
#endif
    for (; i < n; i++) bits |= (uint64_t)(a[i] != b[i]) << i;
    return bits;
}

/// Mismatches of a[from..<to] and b[from..<to]; a[lo..<hi] and b[lo..<hi] are readable.
static inline long mismatch_count(const uint8_t *a, const uint8_t *b, long from, long to, long lo, long hi) {
    long count = 0;
    for (long i = from; i < to; i += 64) {
        const long n = to - i < 64 ? to - i : 64;
        count += __builtin_popcountll(mismatch_bits(a + i, b + i, n, i - lo, hi - i - n));
    }
    return count;
}

/// The best prefix score (0 at worst) of a[i] against b[i] for i = from, from + 1, ..., to - 1;
/// a[lo..<hi] and b[lo..<hi] are readable.
static inline long best_run_forward(const uint8_t *a, const uint8_t *b, long from, long to, long lo, long hi,
                                    long match, long mismatch) {
    long run = 0, best = 0;
    for (long i = from; i < to; i += 64) {
        const long n = to - i < 64 ? to - i : 64;
        uint64_t bits = mismatch_bits(a + i, b + i, n, i - lo, hi - i - n);
        long done = 0;
        while (bits) {
            const long k = __builtin_ctzll(bits);
            run += (k - done) * match;
            if (run > best) best = run;
            run += mismatch;
            done = k + 1;
            bits &= bits - 1;
        }
        run += (n - done) * match;
        if (run > best) best = run;
    }
    return best;
}

/// The best prefix score (0 at worst) of a[i] against b[i] for i = to - 1, to - 2, ..., from;
/// a[lo..<hi] and b[lo..<hi] are readable.
static inline long best_run_backward(const uint8_t *a, const uint8_t *b, long from, long to, long lo, long hi,
                                     long match, long mismatch) {
    long run = 0, best = 0;
    for (long end = to; end > from; end -= 64) {
        const long start = end - 64 > from ? end - 64 : from, n = end - start;
        uint64_t bits = mismatch_bits(a + start, b + start, n, start - lo, hi - end);
        long top = n;  // bases at [k + 1, top) of the block are matches still to add
        while (bits) {
            const long k = 63 - __builtin_clzll(bits);
            run += (top - 1 - k) * match;
            if (run > best) best = run;
            run += mismatch;
            top = k;
            bits ^= 1ULL << k;
        }
        run += top * match;
        if (run > best) best = run;
    }
    return best;
}

long mrd_extension_score(const uint8_t *read, long read_len, const uint8_t *element, long element_len,
                         long core_from, long core_to, long diagonal, long trimmed_side, long trimmed_minimum) {
    const uint8_t *r = read + diagonal;
    long first = -diagonal > 0 ? -diagonal : 0;
    long last = read_len - diagonal < element_len ? read_len - diagonal : element_len;
    if (last <= first) return 0;
    // The core clipped to the overlap of read and element (it may lie wholly outside it).
    if (core_from < first) core_from = first;
    if (core_from > last) core_from = last;
    if (core_to > last) core_to = last;
    if (core_to < core_from) core_to = core_from;
    const long core_length = core_to - core_from;
    long score = core_length - 5 * mismatch_count(r, element, core_from, core_to, first, last);
    long best = best_run_backward(r, element, first, core_from, first, last, 1, -4);
    if (trimmed_side < 0 && best <= trimmed_minimum) best = 0;
    score += best;
    best = best_run_forward(r, element, core_to, last, first, last, 1, -4);
    if (trimmed_side > 0 && best <= trimmed_minimum) best = 0;
    return score + best;
}

long mrd_gapped_extension_score(const uint8_t *read, long read_end, const uint8_t *element, long element_end,
                long band, long match, long mismatch, long open, long extend, long x_drop, long goal) {
    enum { MAX_WIDTH = 65 };
    if (band > 32) band = 32;
    if (band < 0) band = 0;
    const long width = 2 * band + 1;
    // 32-bit cells: scores stay within a few thousand; NEG-derived values only fall (every
    // penalty is negative), so they stay far below any real score without overflowing.
    const int32_t NEG = -(1 << 29);
    const int32_t m = (int32_t)match, mm = (int32_t)mismatch, oe = (int32_t)(open + extend), ex = (int32_t)extend;
    int32_t hPrev[MAX_WIDTH + 1], fPrev[MAX_WIDTH + 1], hRow[MAX_WIDTH + 1], fRow[MAX_WIDTH + 1];
    for (long x = 0; x <= width; x++) { hPrev[x] = NEG; fPrev[x] = NEG; hRow[x] = NEG; fRow[x] = NEG; }
    for (long d = 0; d <= band && d <= element_end; d++) hPrev[d + band] = d == 0 ? 0 : (int32_t)(open + extend * d);
    int32_t best = 0;
    for (long i = 1; i <= read_end; i++) {
        const uint8_t base = read[read_end - i];
        // Cells with 0 <= j = i + x - band <= element_end; the others are NEG.
        long lo = band - i > 0 ? band - i : 0;
        long hi = element_end - i + band < width - 1 ? element_end - i + band : width - 1;
        int32_t rowBest = NEG;
        for (long x = 0; x < lo && x < width; x++) { hRow[x] = NEG; fRow[x] = NEG; }
        int32_t e = NEG;
        int32_t left = NEG;  // hRow[x - 1]
        for (long x = lo; x <= hi; x++) {
            const long j = i + x - band;
            const int32_t o1 = hPrev[x + 1] + oe, x1 = fPrev[x + 1] + ex;  // hPrev[width] is NEG: x + 1 == width has no insertion
            const int32_t f = x + 1 < width ? (o1 > x1 ? o1 : x1) : NEG;
            int32_t del = NEG;
            if (x > 0) { const int32_t o2 = left + oe, x2 = e + ex; del = o2 > x2 ? o2 : x2; }
            e = del;
            int32_t h = NEG;
            if (j > 0 && hPrev[x] > NEG / 2) {
                h = hPrev[x] + (base == element[element_end - j] ? m : mm);
                if (h > best) best = h;
            }
            if (del > h) h = del;
            if (f > h) h = f;
            hRow[x] = h;
            fRow[x] = f;
            left = h;
            if (h > rowBest) rowBest = h;
        }
        for (long x = hi + 1 > lo ? hi + 1 : lo; x < width; x++) { hRow[x] = NEG; fRow[x] = NEG; }
        for (long x = 0; x < width; x++) { hPrev[x] = hRow[x]; fPrev[x] = fRow[x]; }
        if (rowBest < best - x_drop) break;
        // Each further row adds at most one match: stop when even that leaves the goal out of reach.
        if (best < goal && (long)rowBest + (read_end - i) * m < goal) return best;
    }
    return best;
}

int mrd_format_g6(double value, char *out, size_t n) { return snprintf(out, n, "%.6g", value); }
int mrd_format_fixed(double value, int decimals, char *out, size_t n) { return snprintf(out, n, "%.*f", decimals, value); }

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static inline uint64_t load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t finish64(uint64_t h) {
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ULL;
    return h ^ (h >> 33);
}

uint64_t mrd_hash_bytes(const uint8_t *p, size_t n) {
    const uint64_t k1 = 0x9E3779B185EBCA87ULL, k2 = 0xC2B2AE3D27D4EB4FULL;
    uint64_t a = k1 ^ n, b = k2, c = 0x165667B19E3779F9ULL, d = 0x27D4EB2F165667C5ULL;
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        a = rotl64(a + load64(p + i) * k2, 31) * k1;
        b = rotl64(b + load64(p + i + 8) * k2, 31) * k1;
        c = rotl64(c + load64(p + i + 16) * k2, 31) * k1;
        d = rotl64(d + load64(p + i + 24) * k2, 31) * k1;
    }
    uint64_t h = rotl64(a, 1) + rotl64(b, 7) + rotl64(c, 12) + rotl64(d, 18);
    for (; i + 8 <= n; i += 8) h = rotl64(h ^ (load64(p + i) * k2), 27) * k1;
    uint64_t tail = 0;
    for (int shift = 0; i < n; i++, shift += 8) tail |= (uint64_t)p[i] << shift;
    return finish64(h ^ tail * k1 ^ (uint64_t)n);
}

#if defined(__GLIBC__)
#include <malloc.h>
size_t mrd_heap_in_use(void) {
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}
void mrd_memory_policy(size_t mmap_threshold) { mallopt(M_MMAP_THRESHOLD, (int)mmap_threshold); }
void mrd_release_free_memory(void) { malloc_trim(0); }
#else
void mrd_release_free_memory(void) {}
size_t mrd_heap_in_use(void) { return 0; }
void mrd_memory_policy(size_t mmap_threshold) { (void)mmap_threshold; }
#endif

long mrd_forward_run_score(const uint8_t *read, const uint8_t *element, long length, long match, long mismatch) {
    return best_run_forward(read, element, 0, length, 0, length, match, mismatch);
}

/// Best score of a run that ends at anchor_end - 1 on diagonal d and reaches at most `span` bases
/// leftwards (inside read and element), 0 at worst.
static long anchored_left_run(const uint8_t *read, const uint8_t *element, long anchor_end, long d, long span,
                              long match, long mismatch) {
    long lowest = anchor_end - span;
    if (lowest < 0) lowest = 0;
    if (lowest < -d) lowest = -d;
    if (lowest >= anchor_end) return 0;
    return best_run_backward(read + d, element, lowest, anchor_end, lowest, anchor_end, match, mismatch);
}

long mrd_anchored_run_score(const uint8_t *read, long read_len, const uint8_t *element, long element_len, long anchor_end,
                            long diagonal, long span, long gate_length, long gate_minimum, long right_minimum,
                            long match, long mismatch) {
    const long d = diagonal;
    // The gate: the last gate_length bases before anchor_end inside the read and scoring gate_minimum.
    if (anchor_end - 1 + d >= read_len || anchor_end - gate_length < 0 || anchor_end - gate_length + d < 0) return 0;
    long gate = 0;
    for (long i = anchor_end - gate_length; i < anchor_end; i++) gate += read[i + d] == element[i] ? match : mismatch;
    if (gate < gate_minimum) return 0;
    const long left = anchored_left_run(read, element, anchor_end, d, span, match, mismatch);
    const long last = element_len < read_len - d ? element_len : read_len - d;
    const long right = anchor_end < last ? best_run_forward(read + d, element, anchor_end, last, anchor_end, last, match, mismatch) : 0;
    return left + (right > right_minimum ? right : 0);
}

long mrd_j_indel_score(const uint8_t *read, long read_len, const uint8_t *element, long element_len, long anchor_end,
                       long diagonal, long span, long match, long mismatch, long gap_open, long gap_extend, long max_shift) {
    enum { MAX_TAIL = 512, MAX_SHIFT = 4 };
    const long d = diagonal;
    if (anchor_end - 6 < 0 || anchor_end - 6 + d < 0 || anchor_end - 1 + d >= read_len || anchor_end > element_len) return 0;
    if (max_shift > MAX_SHIFT) max_shift = MAX_SHIFT;
    const long left = anchored_left_run(read, element, anchor_end, d, span, match, mismatch);
    // best[s][t - anchor_end]: the best run from element position t on diagonal d + s (0 at worst),
    // filled backwards in one pass per diagonal: best(t) = max(0, x(t) + best(t + 1)).
    long tail = element_len - anchor_end;
    if (tail > MAX_TAIL) tail = MAX_TAIL;
    if (tail <= 0) return left;
    int32_t best[2 * MAX_SHIFT + 1][MAX_TAIL + 1];
    for (long s = -max_shift; s <= max_shift; s++) {
        int32_t *b = best[s + MAX_SHIFT];
        b[tail] = 0;
        for (long k = tail - 1; k >= 0; k--) {
            const long t = anchor_end + k, r = t + d + s;
            if (r < 0 || r >= read_len) { b[k] = 0; continue; }
            const long value = (read[r] == element[t] ? match : mismatch) + b[k + 1];
            b[k] = value > 0 ? (int32_t)value : 0;
        }
    }
    long right = best[MAX_SHIFT][0];
    // A run on the diagonal up to t (exclusive), a gap, the best run on the shifted diagonal from t.
    long prefix = 0;
    for (long k = 0; k < tail; k++) {
        const long t = anchor_end + k;
        for (long s = -max_shift; s <= max_shift; s++) {
            if (s == 0) continue;
            const long shifted = prefix - gap_open - gap_extend * (s < 0 ? -s : s) + best[s + MAX_SHIFT][k];
            if (shifted > right) right = shifted;
        }
        if (t + d >= read_len) break;
        prefix += read[t + d] == element[t] ? match : mismatch;
    }
    return left + right;
}

long mrd_count_matches(const uint8_t *a, const uint8_t *b, long length) {
    return length > 0 ? length - mismatch_count(a, b, 0, length, 0, length) : 0;
}


/// Bases matched from the start of a and b (at most n), with up to `allowed` mismatches passed:
/// the prefix length reached before mismatch number `allowed` + 1.
static long prefix_reach(const uint8_t *a, const uint8_t *b, long n, long allowed) {
    for (long i = 0; i < n; i += 64) {
        const long block = n - i < 64 ? n - i : 64;
        uint64_t bits = mismatch_bits(a + i, b + i, block, i, n - i - block);
        while (bits) {
            const long k = __builtin_ctzll(bits);
            if (allowed-- == 0) return i + k;
            bits &= bits - 1;
        }
    }
    return n;
}

/// The same from the ends of a and b (a[..<n], b[..<n] aligned at their last bases).
static long suffix_reach(const uint8_t *a, const uint8_t *b, long n, long allowed) {
    for (long end = n; end > 0; end -= 64) {
        const long start = end - 64 > 0 ? end - 64 : 0, block = end - start;
        uint64_t bits = mismatch_bits(a + start, b + start, block, start, n - end);
        while (bits) {
            const long k = 63 - __builtin_clzll(bits);
            if (allowed-- == 0) return n - (start + k + 1);
            bits ^= 1ULL << k;
        }
    }
    return n;
}

long mrd_any_within(const uint8_t *window, long n, const uint8_t *all, const long *starts, long count, long clip_left,
                    long clip_right, long gap, long limit) {
    for (long k = 0; k < count; k++) {
        const long length = starts[k + 1] - starts[k];
        // The competitor over the window's part of the target (nothing left: empty).
        const long m = clip_left + clip_right < length ? length - clip_left - clip_right : 0;
        const uint8_t *c = all + starts[k] + (m > 0 ? clip_left : 0);
        const long difference = m > n ? m - n : n - m;
        if (difference * gap > limit) continue;
        if (difference == 0 && limit < 2 * gap) {
            // Equal lengths and two gaps over the limit: substitutions only, counted until over it.
            if (prefix_reach(window, c, n, limit) == n) return 1;
            continue;
        }
        if (difference == 1 && limit < 3 * gap && limit - gap <= 1) {
            // One base more on one side and one gap at most: the shorter sequence must be the longer
            // one less a base, with limit - gap substitutions (0 or 1) on either side of the gap.
            const uint8_t *longer = m > n ? c : window, *shorter = m > n ? window : c;
            const long s = m > n ? n : m, allowed = limit - gap;
            const long front0 = prefix_reach(longer, shorter, s, 0), back0 = suffix_reach(longer + 1, shorter, s, 0);
            if (front0 + back0 >= s) return 1;
            if (allowed == 1) {
                const long front1 = prefix_reach(longer, shorter, s, 1), back1 = suffix_reach(longer + 1, shorter, s, 1);
                if (front1 + back0 >= s || front0 + back1 >= s) return 1;
            }
            continue;
        }
        if (mrd_alignment_cost(window, n, c, m, gap, limit) <= limit) return 1;
    }
    return 0;
}
