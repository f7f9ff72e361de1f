/// Merges the two mates of an overlapping pair into one read (the whole amplicon), per worker.
///
/// Overlap, as `fastp --merge` finds it: read 2 is reverse-complemented and slid along read 1,
/// longest overlap first (read 2 starting at read 1's first base, then one base later, ...; then
/// read 2 starting before read 1, for inserts shorter than a read). An overlap is taken when it is
/// at least 30 nt long and its first 50 columns hold at most 5 mismatches and at most 20% of the
/// overlap (the limit only shrinks as the overlaps get shorter, as in fastp). Consensus, as PEAR
/// and pRESTO's AssemblePairs do it: where the mates agree the base keeps the higher quality; where
/// they differ the base of higher quality wins, its quality lowered by the other's (at least 2),
/// read 1's base on equal qualities and for FASTA. Outside the overlap each mate's own bases. Inserts
/// shorter than a read keep the overlap only (both mates ran into adapter beyond it).
///
/// Unlike fastp, PEAR and AssemblePairs, an overlap whose columns stop agreeing part-way (a sequencing
/// insertion or deletion in one mate: fastp checks only the first 50 columns, and an ungapped
/// consensus past the slip mixes two shifted copies of the amplicon into a sequence neither mate
/// holds) is aligned with gaps (a band of 4) and the consensus made along that alignment; at a gap
/// the mate read at the better quality around it decides whether the base is kept. Which pairs are
/// merged, and where their overlap starts, are fastp's either way.
public final class PairMerger {
    public static let minimumOverlap = 30
    public static let mismatchLimit = 5
    public static let mismatchShare = 0.2
    public static let checkedColumns = 50

    /// The last merged read and its Phred+33 qualities (empty for FASTA).
    public private(set) var sequence: [UInt8] = []
    public private(set) var quality: [UInt8] = []
    private var mate: [UInt8] = []
    private var mateQuality: [UInt8] = []

    /// The merged read as a record (views into storage of this merger, valid until the next merge).
    private var storage = UnsafeMutablePointer<UInt8>.allocate(capacity: 1024)
    private var storageCapacity = 1024

    public init() {}

    deinit { storage.deallocate() }

    /// The last merged read as a record that carries `read`'s header and line.
    public func record(like read: FastxRecord) -> FastxRecord {
        let n = sequence.count
        if 2 * n > storageCapacity {
            storage.deallocate()
            storageCapacity = 2 * n
            storage = UnsafeMutablePointer<UInt8>.allocate(capacity: storageCapacity)
        }
        sequence.withUnsafeBufferPointer { storage.update(from: $0.baseAddress!, count: n) }
        if !quality.isEmpty { quality.withUnsafeBufferPointer { (storage + n).update(from: $0.baseAddress!, count: n) } }
        return FastxRecord(header: read.header, sequence: UnsafeBufferPointer(start: storage, count: n),
                           quality: quality.isEmpty ? UnsafeBufferPointer(start: nil, count: 0) : UnsafeBufferPointer(start: storage + n, count: n),
                           line: read.line)
    }

    /// Where the reverse-complemented mate starts on read 1 (negative: before it) and how long the
    /// overlap is; nil when the mates do not overlap by the rule above.
    public static func overlap(_ read: UnsafeBufferPointer<UInt8>, _ mateReversed: UnsafeBufferPointer<UInt8>) -> (offset: Int, length: Int)? {
        let n1 = read.count, n2 = mateReversed.count
        var limit = mismatchLimit
        func accepted(_ offset: Int, _ length: Int) -> Bool {
            limit = min(limit, Int(Double(length) * mismatchShare))
            var mismatches = 0
            let first = max(0, offset), second = max(0, -offset)
            for i in 0..<min(length, checkedColumns + 1) where read[first + i] != mateReversed[second + i] {
                mismatches += 1
                if mismatches > limit && i < checkedColumns { return false }
            }
            return true
        }
        var offset = 0
        while offset < n1 - minimumOverlap {
            let length = min(n1 - offset, n2)
            if length >= minimumOverlap && accepted(offset, length) { return (offset, length) }
            offset += 1
        }
        offset = -1
        while offset > -(n2 - minimumOverlap) {
            let length = min(n1, n2 + offset)
            if length >= minimumOverlap && accepted(offset, length) { return (offset, length) }
            offset -= 1
        }
        return nil
    }

    /// Pair `i` of `batch` as one read when its mates overlap (a view valid until the next merge);
    /// nil for single-end batches and for mates that do not overlap. The pair is counted either way.
    public func merged(_ batch: ReadBatch, _ i: Int, counts: inout PairCounts) -> FastxRecord? {
        guard let mates = batch.read2 else { return nil }
        counts.readPairs += 1
        let read = batch.read1[i]
        guard merge(read, mates[i]) else { return nil }
        counts.mergedPairs += 1
        return record(like: read)
    }

    /// Merges `read` with `mate` (as sequenced: it is reverse-complemented here); true when they
    /// overlap, the merged read then in `sequence` and `quality`.
    public func merge(_ read: FastxRecord, _ mateRecord: FastxRecord) -> Bool {
        // The buffers are taken out of the object for the work and put back after: every access
        // to a class's stored property is a dynamic exclusivity check, one per base otherwise.
        var mate = self.mate, mateQuality = self.mateQuality, sequence = self.sequence, quality = self.quality
        self.mate = []; self.mateQuality = []; self.sequence = []; self.quality = []
        defer { self.mate = mate; self.mateQuality = mateQuality; self.sequence = sequence; self.quality = quality }
        let n2 = mateRecord.sequence.count
        mate.removeAll(keepingCapacity: true)
        mateQuality.removeAll(keepingCapacity: true)
        for i in stride(from: n2 - 1, through: 0, by: -1) { mate.append(complementTable[Int(mateRecord.sequence[i])]) }
        let qualities = read.hasQuality && mateRecord.hasQuality
        if qualities { for i in stride(from: n2 - 1, through: 0, by: -1) { mateQuality.append(mateRecord.quality[i]) } }
        guard let (offset, length) = mate.withUnsafeBufferPointer({ Self.overlap(read.sequence, $0) }) else { return false }
        sequence.removeAll(keepingCapacity: true)
        quality.removeAll(keepingCapacity: true)
        let first = max(0, offset), second = max(0, -offset)
        // Read 1 before the overlap (none when the mate starts before it).
        for i in 0..<first {
            sequence.append(read.sequence[i])
            if qualities { quality.append(read.quality[i]) }
        }
        // Where the mate's own bases start past the overlap.
        var mateEnd = length
        // (Read 1 wholly inside the mate's span: a read 1 that runs on past the mate's end into
        // adapter keeps the ungapped consensus.)
        if offset >= 0 && read.sequence.count - first + Self.slipBand <= n2 && Self.slips(read.sequence, mate, first: first, length: length) {
            mateEnd = Self.appendOverlapAcrossSlip(read, mate: mate, mateQuality: mateQuality, first: first, qualities: qualities,
                                                   sequence: &sequence, quality: &quality)
        } else {
            for i in 0..<length {
                Self.appendConsensus(read, first + i, mate, mateQuality, second + i, qualities: qualities, &sequence, &quality)
            }
        }
        // The mate beyond read 1's end (offset >= 0 only: otherwise both ran into adapter).
        if offset >= 0 {
            for i in mateEnd..<n2 {
                sequence.append(mate[i])
                if qualities { quality.append(mateQuality[i]) }
            }
        }
        return true
    }

    /// The consensus of read 1's base `p` and the (turned) mate's base `q`: where they agree the
    /// base at the higher quality; where they differ the base of higher quality (read 1's on a tie
    /// and without qualities), its quality lowered by the other's (at least 2).
    @inline(__always)
    static func appendConsensus(_ read: FastxRecord, _ p: Int, _ mate: [UInt8], _ mateQuality: [UInt8], _ q: Int, qualities: Bool,
                                _ sequence: inout [UInt8], _ quality: inout [UInt8]) {
        let a = read.sequence[p], b = mate[q]
        guard qualities else { sequence.append(a); return }
        let qa = read.quality[p], qb = mateQuality[q]
        if a == b {
            sequence.append(a); quality.append(max(qa, qb))
        } else {
            sequence.append(qb > qa ? b : a)
            quality.append(max(33 + 2, 33 + (qa > qb ? qa - qb : qb - qa)))
        }
    }

    /// Columns compared per window, and mismatches in one window that mean the mates stopped being
    /// in register: two error-free copies mismatch in 3 of 4 columns once shifted, while two reads in
    /// register disagree only where one of them erred (a few percent of columns in a Q15 tail).
    static let slipWindow = 20
    static let slipMismatches = 8

    /// Whether some window of the overlap holds `slipMismatches` or more mismatches.
    static func slips(_ read: UnsafeBufferPointer<UInt8>, _ mate: [UInt8], first: Int, length: Int) -> Bool {
        guard length >= slipWindow else { return false }
        return mate.withUnsafeBufferPointer { mate in
            var inWindow = 0
            for i in 0..<length {
                if read[first + i] != mate[i] { inWindow += 1 }
                if i >= slipWindow && read[first + i - slipWindow] != mate[i - slipWindow] { inWindow -= 1 }
                if inWindow >= slipMismatches { return true }
            }
            return false
        }
    }

    static let slipBand = 4

    /// The overlap of a pair that holds a slip, appended: read 1's remainder (from `first`) aligned to
    /// the mate's start with gaps (match +1, mismatch -1, gap -4, |i - j| <= `slipBand`; the mate's
    /// end is free, as it runs on past read 1's end) and the consensus along that alignment. Returns
    /// where the mate's bases past the alignment start.
    static func appendOverlapAcrossSlip(_ read: FastxRecord, mate: [UInt8], mateQuality: [UInt8], first: Int, qualities: Bool,
                                        sequence: inout [UInt8], quality: inout [UInt8]) -> Int {
        let m = read.sequence.count - first, n = mate.count, band = slipBand
        let width = 2 * band + 1
        let lowest = Int32.min / 4
        // score[i][d]: read 1's first i remainder bases aligned with the mate's first i + d - band.
        var score = [Int32](repeating: lowest, count: (m + 1) * width)
        var move = [UInt8](repeating: 0, count: (m + 1) * width)  // 0 diagonal, 1 gap in the mate, 2 gap in read 1
        func at(_ i: Int, _ j: Int) -> Int? {
            let d = j - i + band
            return d >= 0 && d < width && j >= 0 && j <= n ? i * width + d : nil
        }
        score[at(0, 0)!] = 0
        for j in 1...band where j <= n { score[at(0, j)!] = Int32(-4 * j); move[at(0, j)!] = 2 }
        for i in 1...m {
            for j in max(0, i - band)...min(n, i + band) {
                guard let here = at(i, j) else { continue }
                var best = lowest, step: UInt8 = 0
                if j > 0, let diagonal = at(i - 1, j - 1), score[diagonal] > lowest {
                    best = score[diagonal] + (read.sequence[first + i - 1] == mate[j - 1] ? 1 : -1)
                }
                if let up = at(i - 1, j), score[up] > lowest, score[up] - 4 > best { best = score[up] - 4; step = 1 }
                if j > 0, let left = at(i, j - 1), score[left] > lowest, score[left] - 4 > best { best = score[left] - 4; step = 2 }
                score[here] = best
                move[here] = step
            }
        }
        // All of read 1's remainder aligned; the mate may go on past it.
        var end = max(0, m - band)
        for j in max(0, m - band)...min(n, m + band) where score[at(m, j)!] > score[at(m, end)!] { end = j }
        var columns: [(Int, Int)] = []  // (read 1 index or -1, mate index or -1)
        var i = m, j = end
        while i > 0 || j > 0 {
            let step = i == 0 ? 2 : move[at(i, j)!]
            switch step {
            case 0: columns.append((first + i - 1, j - 1)); i -= 1; j -= 1
            case 1: columns.append((first + i - 1, -1)); i -= 1
            default: columns.append((-1, j - 1)); j -= 1
            }
        }
        columns.reverse()
        func meanQuality(_ q: UnsafeBufferPointer<UInt8>, around p: Int) -> Int {
            let lo = max(0, p - 5), hi = min(q.count, p + 6)
            guard hi > lo else { return 0 }
            return (lo..<hi).reduce(0) { $0 + Int(q[$1]) } / (hi - lo)
        }
        mateQuality.withUnsafeBufferPointer { mateQ in
            for (c, (p, q)) in columns.enumerated() {
                if p >= 0 && q >= 0 {
                    appendConsensus(read, p, mate, mateQuality, q, qualities: qualities, &sequence, &quality)
                    continue
                }
                // A base one mate has and the other lacks: kept when the mate holding it was read
                // better around it (read 1 without qualities: read 1 decides).
                let neighbour = columns[min(columns.count - 1, c + 1)]
                if p >= 0 {
                    let otherAt = neighbour.1 >= 0 ? neighbour.1 : max(0, columns[max(0, c - 1)].1)
                    if !qualities || meanQuality(read.quality, around: p) >= meanQuality(mateQ, around: otherAt) {
                        sequence.append(read.sequence[p])
                        if qualities { quality.append(read.quality[p]) }
                    }
                } else {
                    let otherAt = neighbour.0 >= 0 ? neighbour.0 : max(first, columns[max(0, c - 1)].0)
                    if qualities && meanQuality(mateQ, around: q) > meanQuality(read.quality, around: otherAt) {
                        sequence.append(mate[q]); quality.append(mateQ[q])
                    }
                }
            }
        }
        return end
    }
}

/// Pairs read and how many were merged (contract v3: read_pairs, merged_pairs, unmerged_pairs).
public struct PairCounts: Sendable, Equatable {
    public var readPairs = 0
    public var mergedPairs = 0
    public var unmergedPairs: Int { readPairs - mergedPairs }
    /// The mates came interleaved in one file per lane (`SampleReader.interleaved`), not as mate files.
    public var interleaved = false

    public init(readPairs: Int = 0, mergedPairs: Int = 0) {
        self.readPairs = readPairs
        self.mergedPairs = mergedPairs
    }

    public mutating func add(_ other: PairCounts) {
        readPairs += other.readPairs
        mergedPairs += other.mergedPairs
        interleaved = interleaved || other.interleaved
    }
}
