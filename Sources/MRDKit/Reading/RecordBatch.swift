/// Where one record lies inside its batch's bytes.
public struct RecordSpan: Sendable {
    /// Header text after `@`/`>`, without the line end.
    public var headerStart: Int32
    public var headerLength: Int32
    /// Sequence; for multi-line FASTA the lines are joined in place.
    public var sequenceStart: Int32
    public var sequenceLength: Int32
    /// Quality string (same length as the sequence); -1 for FASTA.
    public var qualityStart: Int32
    /// 1-based line of the header in its file.
    public var line: Int64
}

/// A sequencing read: views into the bytes of the batch it came from, valid while that batch is
/// alive and not refilled. Nothing is copied or allocated per record.
public struct FastxRecord {
    /// The whole header line after `@` or `>`.
    public let header: UnsafeBufferPointer<UInt8>
    public let sequence: UnsafeBufferPointer<UInt8>
    /// Phred+33 qualities; empty for FASTA.
    public let quality: UnsafeBufferPointer<UInt8>
    /// 1-based line of the header in its file.
    public let line: Int

    /// The read identifier: the header up to the first space or tab.
    public var id: UnsafeBufferPointer<UInt8> {
        var end = 0
        while end < header.count && header[end] != 0x20 && header[end] != 0x09 { end += 1 }
        return UnsafeBufferPointer(rebasing: header[0..<end])
    }

    public var idString: String { String(decoding: id, as: UTF8.self) }
    public var sequenceString: String { String(decoding: sequence, as: UTF8.self) }
    public var qualityString: String { String(decoding: quality, as: UTF8.self) }
    public var hasQuality: Bool { quality.baseAddress != nil }
}

/// A few MiB of consecutive records of one file: one contiguous byte buffer plus the spans of its
/// records. Batches are refilled and recycled, so steady-state reading allocates nothing; they are
/// the unit handed between the reader thread and the workers.
public final class RecordBatch: @unchecked Sendable {
    public private(set) var bytes: UnsafeMutableRawBufferPointer
    /// Bytes of `bytes` holding records (the rest is free or belongs to the next batch).
    var used = 0
    /// Record spans: manual storage, so that appending in the parser's loop costs no
    /// uniqueness or exclusivity checks.
    private(set) var spanStorage: UnsafeMutablePointer<RecordSpan>
    private(set) var spanCapacity: Int
    public internal(set) var count = 0
    /// File the records come from, for messages.
    public internal(set) var file = ""
    /// Format of that file.
    public internal(set) var format: FastxFormat = .fastq
    /// Position of the first record in its whole input (0-based, over all lanes), which orders
    /// batches when workers finish them out of order.
    public internal(set) var firstRecordOrdinal = 0
    /// Position of this batch in its input (0-based), for merging results in input order.
    public internal(set) var sequenceNumber = 0

    public init(capacity: Int = 4 << 20) {
        bytes = .allocate(byteCount: max(capacity, 16), alignment: 64)
        spanCapacity = max(16, capacity / 256)
        spanStorage = .allocate(capacity: spanCapacity)
    }

    deinit {
        bytes.deallocate()
        spanStorage.deallocate()
    }

    /// The spans of the records in this batch.
    public var spans: UnsafeBufferPointer<RecordSpan> { UnsafeBufferPointer(start: spanStorage, count: count) }
    public var isEmpty: Bool { count == 0 }
    public var capacity: Int { bytes.count }

    public subscript(index: Int) -> FastxRecord {
        precondition(index >= 0 && index < count, "record index out of range")
        let span = spanStorage[index]
        let base = UnsafePointer(bytes.baseAddress!.assumingMemoryBound(to: UInt8.self))
        let quality = span.qualityStart >= 0
            ? UnsafeBufferPointer(start: base + Int(span.qualityStart), count: Int(span.sequenceLength))
            : UnsafeBufferPointer(start: nil, count: 0)
        return FastxRecord(
            header: UnsafeBufferPointer(start: base + Int(span.headerStart), count: Int(span.headerLength)),
            sequence: UnsafeBufferPointer(start: base + Int(span.sequenceStart), count: Int(span.sequenceLength)),
            quality: quality,
            line: Int(span.line))
    }

    func reset() {
        used = 0
        count = 0
    }

    /// Appends a copy of `record` (header, sequence, qualities and line), growing the buffer as
    /// needed: for splitting an interleaved file's batch into its read-1 and read-2 batches.
    func append(_ record: FastxRecord) {
        let needed = record.header.count + record.sequence.count + record.quality.count
        if used + needed > bytes.count { grow(toAtLeast: used + needed, keeping: used) }
        if count == spanCapacity { growSpans() }
        let base = bytes.baseAddress!
        func copy(_ part: UnsafeBufferPointer<UInt8>) -> Int32 {
            let start = used
            if let source = part.baseAddress, part.count > 0 { (base + used).copyMemory(from: source, byteCount: part.count) }
            used += part.count
            return Int32(start)
        }
        let headerStart = copy(record.header)
        let sequenceStart = copy(record.sequence)
        let qualityStart = record.hasQuality ? copy(record.quality) : -1
        spanStorage[count] = RecordSpan(headerStart: headerStart, headerLength: Int32(record.header.count),
                                        sequenceStart: sequenceStart, sequenceLength: Int32(record.sequence.count),
                                        qualityStart: qualityStart, line: Int64(record.line))
        count += 1
    }

    /// Doubles the span storage, keeping the first `count` spans.
    func growSpans() {
        let larger = UnsafeMutablePointer<RecordSpan>.allocate(capacity: spanCapacity * 2)
        larger.moveInitialize(from: spanStorage, count: count)
        spanStorage.deallocate()
        spanStorage = larger
        spanCapacity *= 2
    }

    /// Grows the buffer to at least `minimum` bytes, keeping the first `used` bytes.
    func grow(toAtLeast minimum: Int, keeping kept: Int) {
        var newSize = bytes.count
        while newSize < minimum { newSize *= 2 }
        precondition(newSize <= Int(Int32.max), "a single record larger than 2 GiB")
        let newBytes = UnsafeMutableRawBufferPointer.allocate(byteCount: newSize, alignment: 64)
        if kept > 0 { newBytes.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: kept) }
        bytes.deallocate()
        bytes = newBytes
    }
}

/// The two record layouts read.
public enum FastxFormat: String, Sendable {
    case fastq = "FASTQ"
    case fasta = "FASTA"
}
