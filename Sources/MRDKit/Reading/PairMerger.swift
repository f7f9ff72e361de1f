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
        for i in 0..<length {
            let a = read.sequence[first + i], b = mate[second + i]
            guard qualities else { sequence.append(a); continue }
            let qa = read.quality[first + i], qb = mateQuality[second + i]
            if a == b {
                sequence.append(a); quality.append(max(qa, qb))
            } else {
                sequence.append(qb > qa ? b : a)
                quality.append(max(33 + 2, 33 + (qa > qb ? qa - qb : qb - qa)))
            }
        }
        // The mate beyond read 1's end (offset >= 0 only: otherwise both ran into adapter).
        if offset >= 0 {
            for i in length..<n2 {
                sequence.append(mate[i])
                if qualities { quality.append(mateQuality[i]) }
            }
        }
        return true
    }
}

/// Pairs read and how many were merged (contract v3: read_pairs, merged_pairs, unmerged_pairs).
public struct PairCounts: Sendable, Equatable {
    public var readPairs = 0
    public var mergedPairs = 0
    public var unmergedPairs: Int { readPairs - mergedPairs }

    public init(readPairs: Int = 0, mergedPairs: Int = 0) {
        self.readPairs = readPairs
        self.mergedPairs = mergedPairs
    }

    public mutating func add(_ other: PairCounts) {
        readPairs += other.readPairs
        mergedPairs += other.mergedPairs
    }
}
