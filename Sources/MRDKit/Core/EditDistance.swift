import CSequenceKernels
/// Levenshtein distance, or limit + 1 when it exceeds `limit` (banded).
func boundedEditDistance(_ a: [UInt8], _ b: [UInt8], limit: Int) -> Int {
    if abs(a.count - b.count) > limit { return limit + 1 }
    if a.count == b.count {
        var d = 0
        for i in a.indices where a[i] != b[i] { d += 1; if d > limit { break } }
        if d <= 1 { return d }
    }
    var previous = Array(0...b.count), current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...max(1, a.count) where !a.isEmpty {
        current[0] = i
        var rowMin = current[0]
        for j in 1...max(1, b.count) where !b.isEmpty {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            rowMin = min(rowMin, current[j])
        }
        if rowMin > limit { return limit + 1 }
        swap(&previous, &current)
    }
    return min(previous[b.count], limit + 1)
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
