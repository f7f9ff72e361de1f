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
