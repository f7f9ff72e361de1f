import CSequenceKernels

/// 2-bit packed k-mers (k <= 16) of A/C/G/T text; anything else breaks the k-mer.
struct KmerScanner {
    let k: Int
    private let mask: UInt32

    init(k: Int) {
        precondition(k >= 4 && k <= 16)
        self.k = k
        mask = k == 16 ? .max : (1 << UInt32(2 * k)) - 1
    }

    static let code: [UInt8] = {
        var table = [UInt8](repeating: 4, count: 256)
        for (i, c) in "ACGT".utf8.enumerated() {
            table[Int(c)] = UInt8(i)
            table[Int(c | 0x20)] = UInt8(i)
        }
        return table
    }()

    /// Calls `body(position, kmer)` for every k-mer of `sequence` (position = its first base).
    @inline(__always)
    func forEach<C: Collection>(_ sequence: C, _ body: (Int, UInt32) -> Void) where C.Element == UInt8, C.Index == Int {
        var value: UInt32 = 0
        var valid = 0
        for i in sequence.indices {
            let c = Self.code[Int(sequence[i])]
            if c > 3 { valid = 0; value = 0; continue }
            value = ((value << 2) | UInt32(c)) & mask
            valid += 1
            if valid >= k { body(i - sequence.startIndex - k + 1, value) }
        }
    }
}

extension KmerScanner {
    /// Calls `body(position, canonical, forward)` for every k-mer of `sequence`: `canonical` is the
    /// smaller of the k-mer and its reverse complement, `forward` whether that is the k-mer itself
    /// (palindromes count as forward). One table of canonical k-mers answers for both strands.
    @inline(__always)
    func forEachCanonical<C: Collection>(_ sequence: C, _ body: (Int, UInt32, Bool) -> Void) where C.Element == UInt8, C.Index == Int {
        let mask: UInt32 = k == 16 ? .max : (1 << UInt32(2 * k)) - 1
        let top = UInt32(2 * (k - 1))
        var forward: UInt32 = 0, reverse: UInt32 = 0
        var valid = 0
        for i in sequence.indices {
            let c = UInt32(Self.code[Int(sequence[i])])
            if c > 3 { valid = 0; forward = 0; reverse = 0; continue }
            forward = ((forward << 2) | c) & mask
            reverse = (reverse >> 2) | ((3 - c) << top)
            valid += 1
            if valid >= k {
                let isForward = forward <= reverse
                body(i - sequence.startIndex - k + 1, isForward ? forward : reverse, isForward)
            }
        }
    }
}

/// k-mer -> list of hits, as flat arrays: an open-addressing hash over the distinct k-mers (no
/// hashing library, no reference counting in the lookup loop) pointing into one hit array.
///
/// A slot is 8 bytes holding the key and its hit range (start and length packed), so a lookup
/// touches one cache line of the slot array, and the germline tables stay near second-level-cache
/// size.
struct KmerTable<Hit: Sendable>: Sendable {
    struct Slot: Sendable {
        var key: UInt32
        /// start << 8 | length; a length of 255 means "look in `longStarts`/`longEnds`".
        var range: UInt32
    }
    private let slots: [Slot]
    let hits: [Hit]
    /// Ranges of k-mers with 255 hits or more, `longStarts[i]..<longEnds[i]`, in order of start
    /// (found by binary search, here and in the C kernels).
    private let longStarts: [UInt32]
    private let longEnds: [UInt32]
    private let shift: UInt32
    private let mask: Int
    static var empty: UInt32 { .max }

    /// - Parameter maxHits: k-mers with more hits than this are left out (lookups find nothing).
    init(_ entries: [(UInt32, Hit)], maxHits: Int = .max) {
        var sorted = entries.enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }.map(\.element)
        if maxHits < .max {
            var kept: [(UInt32, Hit)] = []
            var i = 0
            while i < sorted.count {
                var j = i + 1
                while j < sorted.count && sorted[j].0 == sorted[i].0 { j += 1 }
                if j - i <= maxHits { kept += sorted[i..<j] }
                i = j
            }
            sorted = kept
        }
        precondition(sorted.count < 1 << 24, "k-mer table of \(sorted.count) hits: at most 2^24")
        hits = sorted.map(\.1)
        var distinct = 0
        for i in sorted.indices where i == 0 || sorted[i].0 != sorted[i - 1].0 { distinct += 1 }
        var bits: UInt32 = 4
        while (1 << bits) < distinct * 2 { bits += 1 }
        shift = 32 - bits
        mask = (1 << Int(bits)) - 1
        var slots = [Slot](repeating: Slot(key: Self.empty, range: 0), count: 1 << Int(bits))
        var longStarts: [UInt32] = [], longEnds: [UInt32] = []
        var i = 0
        while i < sorted.count {
            var j = i + 1
            while j < sorted.count && sorted[j].0 == sorted[i].0 { j += 1 }
            var slot = Int((sorted[i].0 &* 0x9E37_79B1) >> shift)
            while slots[slot].key != Self.empty { slot = (slot + 1) & mask }
            let length = min(j - i, 255)
            if length == 255 { longStarts.append(UInt32(i)); longEnds.append(UInt32(j)) }
            slots[slot] = Slot(key: sorted[i].0, range: UInt32(i) << 8 | UInt32(length))
            i = j
        }
        self.slots = slots
        self.longStarts = longStarts
        self.longEnds = longEnds
    }

    /// The table as the C seeding kernels read it (`mrd_kmer_index`), valid inside `body`. `Slot`
    /// and `Hit` must have the kernels' layouts (two 32-bit fields; two 16-bit fields).
    func withIndex<R>(_ body: (UnsafePointer<mrd_kmer_index>) throws -> R) rethrows -> R {
        precondition(MemoryLayout<Slot>.size == MemoryLayout<mrd_kmer_slot>.size && MemoryLayout<Hit>.size == MemoryLayout<mrd_element_hit>.size)
        return try slots.withUnsafeBytes { slots in
            try hits.withUnsafeBytes { hits in
                try longStarts.withUnsafeBufferPointer { starts in
                    try longEnds.withUnsafeBufferPointer { ends in
                        var index = mrd_kmer_index(slots: slots.baseAddress?.assumingMemoryBound(to: mrd_kmer_slot.self), shift: shift,
                                                   mask: UInt32(mask), hits: hits.baseAddress?.assumingMemoryBound(to: mrd_element_hit.self),
                                                   long_starts: starts.baseAddress, long_ends: ends.baseAddress, long_count: starts.count)
                        return try withUnsafePointer(to: &index) { try body($0) }
                    }
                }
            }
        }
    }

    /// The range of `hits` for `kmer` (empty when absent).
    @inline(__always)
    func range(_ kmer: UInt32) -> Range<Int> { withLookup { $0.range(kmer) } }

    /// Lookups without array bounds checks or reference counting, for hot loops.
    struct Lookup {
        let slots: UnsafeBufferPointer<Slot>
        let hits: UnsafeBufferPointer<Hit>
        let shift: UInt32
        let mask: Int
        let longStarts: UnsafeBufferPointer<UInt32>
        let longEnds: UnsafeBufferPointer<UInt32>

        @inline(__always)
        func range(_ kmer: UInt32) -> Range<Int> {
            var slot = Int((kmer &* 0x9E37_79B1) >> shift)
            while true {
                let entry = slots[slot]
                if entry.key == kmer {
                    let start = entry.range >> 8, length = entry.range & 0xFF
                    guard length == 255 else { return Int(start)..<Int(start + length) }
                    // A long range: its start among the ordered starts.
                    var low = 0, high = longStarts.count
                    while low < high {
                        let middle = (low + high) / 2
                        if longStarts[middle] < start { low = middle + 1 } else { high = middle }
                    }
                    return Int(start)..<Int(longEnds[low])
                }
                if entry.key == empty { return 0..<0 }
                slot = (slot + 1) & mask
            }
        }
    }

    @inline(__always)
    func withLookup<R>(_ body: (Lookup) throws -> R) rethrows -> R {
        try slots.withUnsafeBufferPointer { slots in
            try hits.withUnsafeBufferPointer { hits in
                try longStarts.withUnsafeBufferPointer { longStarts in
                    try longEnds.withUnsafeBufferPointer { longEnds in
                        try body(Lookup(slots: slots, hits: hits, shift: shift, mask: mask, longStarts: longStarts, longEnds: longEnds))
                    }
                }
            }
        }
    }
}

/// A one-hash bit filter over a k-mer set, small enough for the first-level cache: most k-mers of a
/// read are in no table, and this answers "certainly not" with one load instead of a probe into a
/// table that lives in a slower cache.
struct KmerFilter: Sendable {
    private let words: [UInt64]
    private let shift: UInt32

    /// - Parameter bits: log2 of the filter size in bits (16 = 8 KiB).
    init<S: Sequence>(_ kmers: S, bits: Int) where S.Element == UInt32 {
        var words = [UInt64](repeating: 0, count: (1 << bits) / 64)
        let shift = UInt32(32 - bits)
        for kmer in kmers {
            let slot = Int((kmer &* 0x2545_F491) >> shift)
            words[slot >> 6] |= 1 << UInt64(slot & 63)
        }
        self.words = words
        self.shift = shift
    }

    /// The k-mers of `read` (forward strand) that may be in the set, in read order: the first
    /// `count` of `out` (a buffer kept by the caller, grown as needed).
    func candidates(_ read: UnsafeBufferPointer<UInt8>, k: Int, into out: inout [UInt32]) -> Int {
        if out.count < read.count { out = [UInt32](repeating: 0, count: read.count) }
        return words.withUnsafeBufferPointer { words in
            out.withUnsafeMutableBufferPointer { out in
                mrd_filter_kmers(read.baseAddress, read.count, Int32(k), words.baseAddress, shift, out.baseAddress)
            }
        }
    }

    @inline(__always)
    func mayContain(_ kmer: UInt32) -> Bool {
        let slot = Int((kmer &* 0x2545_F491) >> shift)
        return words[slot >> 6] & (1 << UInt64(slot & 63)) != 0
    }
}
