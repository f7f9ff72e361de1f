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

/// k-mer -> list of hits, as flat arrays: an open-addressing hash over the distinct k-mers (no
/// hashing library, no reference counting in the lookup loop) pointing into one hit array.
struct KmerTable<Hit: Sendable>: Sendable {
    private let keys: [UInt32]
    private let starts: [Int32]
    private let ends: [Int32]
    let hits: [Hit]
    private let shift: UInt32
    private let mask: Int
    static var empty: UInt32 { .max }

    init(_ entries: [(UInt32, Hit)]) {
        let sorted = entries.enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }.map(\.element)
        hits = sorted.map(\.1)
        var distinct = 0
        for i in sorted.indices where i == 0 || sorted[i].0 != sorted[i - 1].0 { distinct += 1 }
        var bits: UInt32 = 4
        while (1 << bits) < distinct * 2 { bits += 1 }
        shift = 32 - bits
        mask = (1 << Int(bits)) - 1
        var keys = [UInt32](repeating: Self.empty, count: 1 << Int(bits))
        var starts = [Int32](repeating: 0, count: keys.count), ends = starts
        var i = 0
        while i < sorted.count {
            var j = i + 1
            while j < sorted.count && sorted[j].0 == sorted[i].0 { j += 1 }
            var slot = Int((sorted[i].0 &* 0x9E37_79B1) >> shift)
            while keys[slot] != Self.empty { slot = (slot + 1) & mask }
            keys[slot] = sorted[i].0
            starts[slot] = Int32(i)
            ends[slot] = Int32(j)
            i = j
        }
        self.keys = keys
        self.starts = starts
        self.ends = ends
    }

    /// The range of `hits` for `kmer` (empty when absent).
    @inline(__always)
    func range(_ kmer: UInt32) -> Range<Int> {
        var slot = Int((kmer &* 0x9E37_79B1) >> shift)
        while true {
            let key = keys[slot]
            if key == kmer { return Int(starts[slot])..<Int(ends[slot]) }
            if key == Self.empty { return 0..<0 }
            slot = (slot + 1) & mask
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

    @inline(__always)
    func mayContain(_ kmer: UInt32) -> Bool {
        let slot = Int((kmer &* 0x2545_F491) >> shift)
        return words[slot >> 6] & (1 << UInt64(slot & 63)) != 0
    }
}
