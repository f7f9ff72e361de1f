import CSequenceKernels
/// Levenshtein distance, or limit + 1 when it exceeds `limit` (banded; the alignment cost with gaps of 1).
func boundedEditDistance(_ a: [UInt8], _ b: [UInt8], limit: Int) -> Int {
    alignmentCost(a[...], b[...], gap: 1, limit: limit)
}

/// Global alignment cost (substitution 1, inserted or deleted base `gap`), or `limit + 1` when above `limit`.
/// Banded and allocation-free (`mrd_alignment_cost`): the tracker compares every distinct window
/// of a clone with its competitors, hundreds of thousands of times in a diagnostic sample.
func alignmentCost(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>, gap: Int, limit: Int) -> Int {
    a.withUnsafeBufferPointer { a in
        b.withUnsafeBufferPointer { b in
            mrd_alignment_cost(a.baseAddress, a.count, b.baseAddress, b.count, gap, limit)
        }
    }
}
