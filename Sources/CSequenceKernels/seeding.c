#include "seeding.h"
#include <stdlib.h>
#include "sequence_kernels.h"

static const uint8_t base_code[256] = {
    ['A'] = 1, ['C'] = 2, ['G'] = 3, ['T'] = 4, ['a'] = 1, ['c'] = 2, ['g'] = 3, ['t'] = 4,
};

static inline long slot_of(uint32_t kmer, uint32_t shift) { return (long)((uint32_t)(kmer * 0x9E3779B1u) >> shift); }

static inline int range_of(const mrd_kmer_index *index, uint32_t kmer, int32_t *start, int32_t *end) {
    long slot = slot_of(kmer, index->shift);
    for (;;) {
        mrd_kmer_slot entry = index->slots[slot];
        if (entry.key == kmer) {
            uint32_t first = entry.range >> 8, length = entry.range & 0xFF;
            *start = (int32_t)first;
            *end = (int32_t)(first + length);
            if (length == 255) {
                long lo = 0, hi = index->long_count;  // binary search of the long ranges by start
                while (lo < hi) {
                    long mid = (lo + hi) / 2;
                    if (index->long_starts[mid] < first) lo = mid + 1; else hi = mid;
                }
                *end = (int32_t)index->long_ends[lo];
            }
            return 1;
        }
        if (entry.key == UINT32_MAX) return 0;
        slot = (slot + 1) & index->mask;
    }
}

long mrd_seed_count(const uint8_t *read, long n, int k, long step, const mrd_kmer_index *index,
                    long element_count, int32_t *counts, int32_t *touched, long *touched_count,
                    mrd_seed *found, uint32_t *codes, const int32_t *near_from,
                    int32_t *hit_slots, int32_t *hit_values, long hit_capacity, long *hit_count) {
    const uint32_t mask = k == 16 ? UINT32_MAX : ((1u << (2 * k)) - 1);
    const uint32_t top = (uint32_t)(2 * (k - 1));
    const int step_is_power_of_two = step > 0 && (step & (step - 1)) == 0;
    // The canonical k-mers of the positions looked up (codes[2s], with the strand at codes[2s + 1]);
    // their table slots are prefetched as they are made, so that the probes overlap.
    long positions = 0;
    uint32_t forward = 0, reverse = 0;
    long valid = 0;
    for (long i = 0; i < n; i++) {
        uint32_t c = base_code[read[i]];
        if (c == 0) { valid = 0; forward = 0; reverse = 0; continue; }
        c -= 1;
        forward = ((forward << 2) | c) & mask;
        reverse = (reverse >> 2) | ((3 - c) << top);
        valid += 1;
        if (valid >= k) {
            long p = i - k + 1;
            // A mask, not `%`: a division per base is a measurable share of seeding.
            if ((step_is_power_of_two ? (p & (step - 1)) : (p % step)) != 0) continue;
            int is_forward = forward <= reverse;
            uint32_t canonical = is_forward ? forward : reverse;
            codes[2 * positions] = canonical;
            codes[2 * positions + 1] = (uint32_t)is_forward;
            found[positions].position = (int32_t)p;
            __builtin_prefetch(&index->slots[slot_of(canonical, index->shift)]);
            positions++;
        }
    }
    // Probes: hits of the seeds found are prefetched before they are counted.
    long seeds = 0, total = 0;
    for (long s = 0; s < positions; s++) {
        int32_t start, end;
        if (!range_of(index, codes[2 * s], &start, &end)) continue;
        mrd_seed seed = { found[s].position, start, end, (int32_t)codes[2 * s + 1] };
        found[seeds++] = seed;
        total += end - start;
        __builtin_prefetch(&index->hits[start]);
    }
    long touched_n = 0;
    if (total <= hit_capacity) {
        // Each hit's slot and diagonal recorded as it is counted: the second pass then reads this
        // list instead of looking every seed's hits up again. Restrict-qualified copies and
        // per-seed constants (the hit's strand as a 0/-1 mask) spare the compiler reloads and
        // branches: about 35 instructions a hit, 2% fewer than before (cachegrind).
        const int32_t last_start = (int32_t)(n - k);
        const mrd_element_hit *restrict hits = index->hits;
        const int32_t *restrict near = near_from;
        int32_t *restrict slots_out = hit_slots;
        int32_t *restrict values_out = hit_values;
        int32_t *restrict tally = counts;
        int32_t *restrict touched_out = touched;
        const int32_t reverse_base = (int32_t)element_count;
        long h = 0;
        for (long s = 0; s < seeds; s++) {
            const int32_t start = found[s].start, end = found[s].end;
            // A hit is on the read's reverse strand when its canonical flag differs from the seed's.
            const uint32_t seed_flag = (uint32_t)found[s].forward;
            const int32_t position = found[s].position, reverse_shift = last_start - 2 * position;
            for (int32_t i = start; i < end; i++) {
                const uint32_t packed = hits[i].packed;
                const int32_t offset = hits[i].offset;
                const int32_t element = (int32_t)(packed >> 1);
                const int32_t on_reverse = -(int32_t)((packed & 1) ^ seed_flag);  // 0 or -1
                const int32_t slot = element + (reverse_base & on_reverse);
                const int32_t diagonal = position + (reverse_shift & on_reverse) - offset;
                slots_out[h] = slot;
                values_out[h] = (int32_t)((uint32_t)diagonal << 1) | (offset >= near[element]);
                h++;
                const int32_t before = tally[slot];
                touched_out[touched_n] = slot;
                touched_n += before == 0;
                tally[slot] = before + 1;
            }
        }
        *hit_count = h;
    } else {
        for (long s = 0; s < seeds; s++) {
            const mrd_element_hit *hit = index->hits + found[s].start;
            const mrd_element_hit *stop = index->hits + found[s].end;
            const int forward_seed = found[s].forward;
            for (; hit < stop; hit++) {
                long element = hit->packed >> 1;
                long slot = ((hit->packed & 1) == forward_seed ? 0 : element_count) + element;
                // Branch-free: whether a slot is new is as unpredictable as the hits.
                touched[touched_n] = (int32_t)slot;
                touched_n += counts[slot] == 0;
                counts[slot] += 1;
            }
        }
        *hit_count = -total;
    }
    *touched_count = touched_n;
    return seeds;
}

void mrd_seed_bucket(const int32_t *hit_slots, const int32_t *hit_values, long hit_count, int strand, long element_count,
                     int32_t spare, int32_t *cursor, int32_t *diagonals, uint8_t *near) {
    const int32_t base = strand == 0 ? 0 : (int32_t)element_count;
    const uint32_t elements = (uint32_t)element_count;
    const int32_t *restrict slots = hit_slots;
    const int32_t *restrict values = hit_values;
    int32_t *restrict cursors = cursor;
    int32_t *restrict out_diagonals = diagonals;
    uint8_t *restrict out_near = near;
    for (long h = 0; h < hit_count; h++) {
        // Branch-free (a branch on `take` is mispredicted for a large share of the hits): hits of the other strand or of elements not selected go to the spare entry.
        const uint32_t relative = (uint32_t)(slots[h] - base);
        const int32_t inside = -(int32_t)(relative < elements);  // 0 or -1
        const int32_t element = (int32_t)relative & inside;
        const int32_t c = cursors[element];
        int32_t take = inside & ~(c >> 31);  // -1 when inside and selected (c >= 0)
        // An empty asm hides `take` from the optimiser, which would otherwise branch on it.
        __asm__("" : "+r"(take));
        const int32_t at = spare + ((c - spare) & take);
        const int32_t value = values[h];
        out_diagonals[at] = value >> 1;
        out_near[at] = (uint8_t)(value & 1);
        cursors[element] = c - take;
    }
}

void mrd_seed_diagonals(const mrd_seed *found, long found_count, const mrd_kmer_index *index, int strand,
                        int32_t last_start, const int32_t *near_from, long first_element, long last_element,
                        int32_t spare, int32_t *cursor, int32_t *diagonals, uint8_t *near) {
    const int wanted = strand == 0;
    for (long s = 0; s < found_count; s++) {
        const mrd_seed seed = found[s];
        const int32_t position = wanted ? seed.position : last_start - seed.position;
        // A k-mer's hits are in element order: only the span of the selected elements is read.
        int32_t lo = seed.start, hi = seed.end;
        while (lo < hi) {
            const int32_t mid = lo + (hi - lo) / 2;
            if ((index->hits[mid].packed >> 1) < first_element) lo = mid + 1; else hi = mid;
        }
        // Same strand as the one wanted: the hit's canonical flag equals the seed's (forward strand)
        // or differs from it (reverse strand).
        const int same = wanted ? seed.forward : !seed.forward;
        for (int32_t h = lo; h < seed.end; h++) {
            const mrd_element_hit hit = index->hits[h];
            const long element = hit.packed >> 1;
            if (element > last_element) break;
            // Branch-free: hits of other elements or strands are written to the spare entry.
            const int32_t c = cursor[element];
            const int32_t take = (c >= 0) & ((int)(hit.packed & 1) == same);
            const int32_t at = take ? c : spare;
            diagonals[at] = position - (int32_t)hit.offset;
            near[at] = (int32_t)hit.offset >= near_from[element];
            cursor[element] = c + take;
        }
    }
}

int32_t mrd_best_diagonal(const int32_t *diagonals, const uint8_t *near, long from, long to,
                          int32_t *histogram, long shift) {
    for (int near_only = 1; near_only >= 0; near_only--) {
        int32_t best_diagonal = INT32_MAX, best_hits = 0;
        for (long i = from; i < to; i++) {
            if (near_only && !near[i]) continue;
            const int32_t d = diagonals[i];
            const int32_t hits = ++histogram[d + shift];
            if (hits > best_hits || (hits == best_hits && d < best_diagonal)) { best_hits = hits; best_diagonal = d; }
        }
        for (long i = from; i < to; i++) histogram[diagonals[i] + shift] = 0;
        if (best_hits >= 2) return best_diagonal;
    }
    return INT32_MAX;
}

long mrd_filter_kmers(const uint8_t *read, long n, int k, const uint64_t *words, uint32_t shift, uint32_t *out) {
    const uint32_t mask = k == 16 ? UINT32_MAX : ((1u << (2 * k)) - 1);
    uint32_t value = 0;
    long valid = 0, count = 0;
    for (long i = 0; i < n; i++) {
        uint32_t c = base_code[read[i]];
        if (c == 0) { valid = 0; value = 0; continue; }
        value = ((value << 2) | (c - 1)) & mask;
        valid += 1;
        if (valid >= k) {
            uint32_t slot = (uint32_t)(value * 0x2545F491u) >> shift;
            if (words[slot >> 6] & (1ull << (slot & 63))) out[count++] = value;
        }
    }
    return count;
}

long mrd_alignment_cost(const uint8_t *a, long n, const uint8_t *b, long m, long gap, long limit) {
    const long over = limit + 1;
    if (limit < 0) return over;
    if ((n > m ? n - m : m - n) * gap > limit) return over;
    if (n == m) {
        // Equal lengths: an alignment with a gap has two (one in each), so up to `gap`
        // substitutions are the cost, and so is any number when two gaps cost more than the limit
        // (the usual case: a tracked read's few differences against a clone).
        const long d = n - mrd_count_matches(a, b, n);
        if (d <= gap || d <= 1 || limit < 2 * gap) return d < over ? d : over;
    }
    if (n == 0) return m * gap < over ? m * gap : over;
    if (m == 0) return n * gap < over ? n * gap : over;
    const long band = limit / gap;
    const long infinity = over + 2 * gap + 1;  // above anything that can still come back under the limit
    long stack_rows[2 * 1024];
    long *rows = m + 1 <= 1024 ? stack_rows : malloc(2 * (size_t)(m + 1) * sizeof(long));
    long *previous = rows, *current = rows + (m + 1);
    for (long j = 0; j <= m; j++) previous[j] = j <= band ? j * gap : infinity;
    long result = over;
    for (long i = 1; i <= n; i++) {
        const long from = i - band > 1 ? i - band : 1;
        const long to = i + band < m ? i + band : m;
        current[0] = i <= band ? i * gap : infinity;
        if (from > 1) current[from - 1] = infinity;
        long row_min = current[0];
        for (long j = from; j <= to; j++) {
            long best = previous[j - 1] + (a[i - 1] != b[j - 1]);
            const long up = previous[j] + gap, left = current[j - 1] + gap;
            if (up < best) best = up;
            if (left < best) best = left;
            if (best > infinity) best = infinity;
            current[j] = best;
            if (best < row_min) row_min = best;
        }
        if (to < m) current[to + 1] = infinity;
        if (row_min > limit) { result = over; goto done; }
        long *swap = previous; previous = current; current = swap;
    }
    result = previous[m] < over ? previous[m] : over;
done:
    if (rows != stack_rows) free(rows);
    return result;
}

enum { extension_lanes = 64 };

void mrd_extension_scores(const uint8_t *read, long read_len, const uint8_t *element, long element_len,
                          long core_from, long core_to, long diagonal_from, long diagonal_to,
                          long trimmed_side, long trimmed_minimum, int32_t *scores) {
    // Diagonals whose core [core_from, core_to) lies inside both read and element: no clipping, so
    // every lane runs the same loops; the others go through the one-diagonal kernel.
    long inside_from = -core_from > diagonal_from ? -core_from : diagonal_from;
    long inside_to = read_len - core_to < diagonal_to ? read_len - core_to : diagonal_to;
    if (core_to > element_len || core_from >= core_to) { inside_from = diagonal_to + 1; inside_to = diagonal_to; }
    for (long d = diagonal_from; d <= diagonal_to; d++) {
        if (d >= inside_from && d <= inside_to) { d = inside_to; continue; }
        scores[d - diagonal_from] = (int32_t)mrd_extension_score(read, read_len, element, element_len, core_from, core_to, d,
                                                                trimmed_side, trimmed_minimum);
    }
    for (long d0 = inside_from; d0 <= inside_to; d0 += extension_lanes) {
        const long lanes = inside_to - d0 + 1 < extension_lanes ? inside_to - d0 + 1 : extension_lanes;
        int32_t core[extension_lanes], run[extension_lanes], best_left[extension_lanes], best_right[extension_lanes];
        for (long l = 0; l < extension_lanes; l++) { core[l] = 0; run[l] = 0; best_left[l] = 0; best_right[l] = 0; }
        for (long i = core_from; i < core_to; i++) {
            const uint8_t e = element[i];
            const uint8_t *r = read + i + d0;
            for (long l = 0; l < lanes; l++) core[l] += r[l] == e ? 1 : -4;
        }
        // Leftwards from the core: lane l runs while its read position i + d0 + l is >= 0.
        const long left_stop = -(d0 + lanes - 1) > 0 ? -(d0 + lanes - 1) : 0;
        for (long i = core_from - 1; i >= left_stop; i--) {
            const uint8_t e = element[i];
            const long first_lane = -(i + d0) > 0 ? -(i + d0) : 0;  // lanes before it are left of the read
            const uint8_t *r = read + i + d0;
            for (long l = first_lane; l < lanes; l++) {
                run[l] += r[l] == e ? 1 : -4;
                best_left[l] = run[l] > best_left[l] ? run[l] : best_left[l];
            }
        }
        for (long l = 0; l < lanes; l++) run[l] = 0;
        // Rightwards: lane l runs while i + d0 + l < read_len (and i < element_len).
        const long right_stop = read_len - d0 < element_len ? read_len - d0 : element_len;
        for (long i = core_to; i < right_stop; i++) {
            const uint8_t e = element[i];
            const long end_lane = read_len - (i + d0) < lanes ? read_len - (i + d0) : lanes;  // lanes past it are beyond the read
            const uint8_t *r = read + i + d0;
            for (long l = 0; l < end_lane; l++) {
                run[l] += r[l] == e ? 1 : -4;
                best_right[l] = run[l] > best_right[l] ? run[l] : best_right[l];
            }
        }
        for (long l = 0; l < lanes; l++) {
            int32_t left = best_left[l], right = best_right[l];
            if (trimmed_side < 0 && left <= trimmed_minimum) left = 0;
            if (trimmed_side > 0 && right <= trimmed_minimum) right = 0;
            scores[d0 + l - diagonal_from] = core[l] + left + right;
        }
    }
}
