import CSequenceKernels
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads FASTQ (4-line records) or FASTA (single- or multi-line) from one file, plain, gzip, BGZF or
/// bzip2, into `RecordBatch`es.
///
/// Format and compression are recognised from the content. Every record is checked (layout,
/// lengths, IUPAC sequence letters, Phred+33 qualities) and every error names the file, line and
/// record. Like kseq.h the reader reuses its buffers; like needletail, records borrow them.
public final class FastxReader {
    public let file: String
    public let compression: Compression
    /// Known once the first record has been seen.
    public var format: FastxFormat? { parser.format }
    /// Records handed out so far.
    public private(set) var recordsRead = 0

    /// The longest record (header, sequence, qualities and line ends) read before giving up.
    public var maximumRecordBytes = 256 << 20

    private let source: ByteSource
    private var carry: UnsafeMutableRawBufferPointer
    private var carryCount = 0
    private var parser: FastxParser

    /// Opens `path` (`-` for standard input), recognising its compression from the first bytes.
    /// Compressed input is decoded on a thread of its own when `threadedDecompression` is set.
    public convenience init(path: String, decoding: DecoderSettings = DecoderSettings(), threadedDecompression: Bool = true) throws {
        let fileSource = try FileSource(path: path)
        try self.init(source: fileSource, name: fileSource.name, decoding: decoding, threadedDecompression: threadedDecompression)
    }

    /// Reads from any byte source; `name` is used in messages.
    public init(source raw: ByteSource, name: String, decoding: DecoderSettings = DecoderSettings(),
                threadedDecompression: Bool = false) throws {
        file = name
        var head = [UInt8](repeating: 0, count: 18)
        let headCount = try head.withUnsafeMutableBytes { try raw.readFully(into: $0) }
        head.removeSubrange(headCount...)
        compression = try Compression.sniff(head, file: name)
        let replayed = PrefixedSource(prefix: head, upstream: raw)
        var decoded = try decompressingSource(replayed, compression: compression, file: name, decoding: decoding)
        // Parallel bzip2 decoding runs on threads of its own already.
        if compression != .plain && threadedDecompression && !(decoded is ParallelBzip2Source) {
            decoded = ThreadedSource(decoded, name: name, chunkSize: decoding.aheadChunkSize, depth: decoding.aheadChunks)
        }
        source = decoded
        carry = .allocate(byteCount: 1 << 16, alignment: 16)
        parser = FastxParser(file: name)
    }

    deinit { carry.deallocate() }

    /// Refills `batch` with the next records: as many as fit in its buffer, at most `maxRecords`;
    /// with `all`, exactly `maxRecords` unless the file ends first, the buffer grown as needed (a
    /// read-2 batch must hold the mates of a read-1 batch, whose records may be shorter).
    /// Returns false (and leaves the batch empty) at the end of the file.
    public func fill(_ batch: RecordBatch, maxRecords: Int = .max, all: Bool = false) throws -> Bool {
        batch.reset()
        batch.file = file
        batch.firstRecordOrdinal = recordsRead
        guard maxRecords > 0 else { return false }
        // Recognising the format looks at the first 64 bytes: let them all arrive at once.
        if parser.format == nil && batch.capacity < 4096 { batch.grow(toAtLeast: 4096, keeping: 0) }
        if carryCount > batch.capacity / 2 { batch.grow(toAtLeast: carryCount * 2, keeping: 0) }
        if carryCount > 0 {
            batch.bytes.baseAddress!.copyMemory(from: carry.baseAddress!, byteCount: carryCount)
        }
        var filled = carryCount
        carryCount = 0
        var parsed = 0
        while true {
            while filled < batch.capacity && !parser.sourceEnded {
                let room = UnsafeMutableRawBufferPointer(rebasing: batch.bytes[filled...])
                let n: Int
                do { n = try source.read(into: room) } catch let error as ReadError {
                    // Parse what arrived before the damage so the error names the first line not
                    // read whole; the records themselves are dropped with the failing sample.
                    if parser.format != nil || filled > 0 {
                        if parser.format == nil { try? parser.detectFormat(batch.bytes, filled) }
                        if parser.format != nil { _ = try? parser.parse(batch, from: parsed, to: filled, maxRecords: .max) }
                    }
                    batch.reset()
                    throw error.at(line: parser.line)
                }
                if n == 0 { parser.sourceEnded = true } else { filled += n }
            }
            if parser.format == nil {
                try parser.detectFormat(batch.bytes, filled)
            }
            batch.format = parser.format!
            parsed = try parser.parse(batch, from: parsed, to: filled, maxRecords: maxRecords)
            if batch.count >= maxRecords || parser.sourceEnded { break }
            if batch.count > 0 && !all { break }
            // Not one whole record fits (a very long read or header), or, with `all`, not all of
            // them: grow and read on, up to a cap: record offsets are 32-bit, and a file with no
            // line ends must not take all memory.
            guard batch.capacity < maximumRecordBytes else {
                throw ReadError(.malformedRecord, file: file, line: parser.line,
                                "a record longer than \(maximumRecordBytes >= 1 << 20 ? "\(maximumRecordBytes >> 20) MiB" : "\(maximumRecordBytes) bytes"); "
                                + "expected sequencing reads (is this a FASTQ/FASTA file?)")
            }
            batch.grow(toAtLeast: min(batch.capacity * 2, maximumRecordBytes), keeping: filled)
        }
        let rest = filled - parsed
        if rest > 0 {
            if rest > carry.count {
                carry.deallocate()
                carry = .allocate(byteCount: max(rest, carry.count * 2), alignment: 16)
            }
            carry.baseAddress!.copyMemory(from: batch.bytes.baseAddress! + parsed, byteCount: rest)
        }
        carryCount = rest
        batch.used = parsed
        recordsRead += batch.count
        if !batch.isEmpty { parser.lastRecordID = batch[batch.count - 1].idString }
        return batch.count > 0
    }
}

/// The parsing state of one file: format, line number, end of input. A value type driven by
/// `FastxReader`, so the per-record loop works on locals rather than class properties.
struct FastxParser {
    let file: String
    var format: FastxFormat?
    /// Line number of the first byte not yet parsed.
    var line = 1
    var sourceEnded = false
    var lastRecordID: String?

    init(file: String) { self.file = file }

    /// Looks at the first non-blank byte: `@` is FASTQ, `>` FASTA.
    mutating func detectFormat(_ bytes: UnsafeMutableRawBufferPointer, _ count: Int) throws {
        let b = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var i = 0
        var lineHere = line
        while i < count && (b[i] == 0x0a || b[i] == 0x0d || b[i] == 0x20 || b[i] == 0x09) {
            if b[i] == 0x0a { lineHere += 1 }
            i += 1
        }
        if i == count {
            throw ReadError(.emptyInput, file: file, line: lineHere > 1 ? lineHere : nil,
                            "no records: the file is empty (expected FASTQ or FASTA records)")
        }
        switch b[i] {
        case UInt8(ascii: "@"): format = .fastq
        case UInt8(ascii: ">"): format = .fasta
        default:
            let sample = UnsafeBufferPointer(start: b + i, count: min(count - i, 64))
            let binary = sample.contains { $0 == 0 || $0 >= 0x80 || ($0 < 0x20 && $0 != 0x0a && $0 != 0x0d && $0 != 0x09) }
            let what = binary ? "binary data" : "text \(lineText(b, i, count))"
            throw ReadError(.unrecognizedFormat, file: file, line: lineHere,
                            "not FASTQ or FASTA: expected '@' (FASTQ) or '>' (FASTA) at the start of the first record, found \(what)")
        }
    }


    /// Parses whole records in `bytes[start..<end]` into `batch`; returns where parsing stopped
    /// (the start of the first incomplete record, or `end`).
    mutating func parse(_ batch: RecordBatch, from start: Int, to end: Int, maxRecords: Int) throws -> Int {
        let b = batch.bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        var spans = SpanWriter(batch)
        defer { spans.finish() }
        var position = start
        let fastq = format! == .fastq
        while spans.count < maxRecords {
            position = skipBlankLines(b, position, end)
            if position >= end { return end }
            let next = fastq ? try parseFastqRecord(b, position, end, &spans)
                             : try parseFastaRecord(b, position, end, &spans)
            guard let next else { return position }
            position = next
        }
        return position
    }

    /// Skips empty lines (between records, or at the end of the file).
    @inline(__always)
    private mutating func skipBlankLines(_ b: UnsafeMutablePointer<UInt8>, _ start: Int, _ end: Int) -> Int {
        var position = start
        while position < end {
            if b[position] == 0x0a {
                position += 1
                line += 1
            } else if b[position] == 0x0d && position + 1 < end && b[position + 1] == 0x0a {
                position += 2
                line += 1
            } else if b[position] == 0x0d && position + 1 == end && sourceEnded {
                position += 1
            } else {
                break
            }
        }
        return position
    }

    /// Offset of the next `\n` in `b[from..<end]`, or nil.
    @inline(__always)
    private func newline(_ b: UnsafeMutablePointer<UInt8>, _ from: Int, _ end: Int) -> Int? {
        guard from < end, let hit = memchr(b + from, 0x0a, end - from) else { return nil }
        return UnsafeMutableRawPointer(hit) - UnsafeMutableRawPointer(b)
    }

    /// Length of a line `b[from..<lineEnd]` without a trailing carriage return.
    @inline(__always)
    private func contentEnd(_ b: UnsafeMutablePointer<UInt8>, _ from: Int, _ lineEnd: Int) -> Int {
        lineEnd > from && b[lineEnd - 1] == 0x0d ? lineEnd - 1 : lineEnd
    }

    private func recordID(_ b: UnsafeMutablePointer<UInt8>, _ headerStart: Int, _ headerEnd: Int) -> String {
        var end = headerStart
        while end < headerEnd && b[end] != 0x20 && b[end] != 0x09 && b[end] != 0x0d { end += 1 }
        return String(decoding: UnsafeBufferPointer(start: b + headerStart, count: min(end - headerStart, 200)), as: UTF8.self)
    }

    /// Whether the line at `from` is cut by the end of the buffer before its excerpt is whole: an
    /// error message must not depend on where a buffer happened to end, so read on first.
    private func excerptIncomplete(_ b: UnsafeMutablePointer<UInt8>, _ from: Int, _ end: Int) -> Bool {
        !sourceEnded && end - from <= 40 && newline(b, from, end) == nil
    }

    private func lineText(_ b: UnsafeMutablePointer<UInt8>, _ from: Int, _ end: Int) -> String {
        let stop = newline(b, from, end) ?? end
        return excerpt(UnsafeBufferPointer(start: b + from, count: contentEnd(b, from, stop) - from))
    }

    /// Parses one FASTQ record at `start`. Returns the offset after it, or nil when the record is
    /// not complete in the buffer (and more input may follow).
    private mutating func parseFastqRecord(_ b: UnsafeMutablePointer<UInt8>, _ start: Int, _ end: Int,
                                           _ spans: inout SpanWriter) throws -> Int? {
        let atEOF = sourceEnded
        guard b[start] == UInt8(ascii: "@") else {
            if b[start] != UInt8(ascii: ">") && excerptIncomplete(b, start, end) { return nil }
            let found = b[start] == UInt8(ascii: ">") ? "'>' (a FASTA header in a FASTQ file)" : lineText(b, start, end)
            throw ReadError(.malformedRecord, file: file, line: line,
                            "expected '@' at the start of a FASTQ record, found \(found)" + afterNote(b, spans))
        }
        guard let headerEnd = newline(b, start, end) else {
            if atEOF { throw truncated("the file ends inside the header line", b, start + 1, end, line) }
            return nil
        }
        let headerStart = start + 1
        let headerContentEnd = contentEnd(b, headerStart, headerEnd)
        let sequenceStart = headerEnd + 1
        guard let sequenceEnd = newline(b, sequenceStart, end) else {
            if atEOF {
                throw truncated("the file ends after the header; expected the sequence, '+' and quality lines",
                                b, headerStart, headerContentEnd, line)
            }
            return nil
        }
        let sequenceContentEnd = contentEnd(b, sequenceStart, sequenceEnd)
        let sequenceLength = sequenceContentEnd - sequenceStart
        let plusStart = sequenceEnd + 1
        guard plusStart < end else {
            if atEOF {
                throw truncated("the file ends after the sequence; expected the '+' and quality lines",
                                b, headerStart, headerContentEnd, line)
            }
            return nil
        }
        guard b[plusStart] == UInt8(ascii: "+") else {
            if excerptIncomplete(b, plusStart, end) { return nil }
            throw ReadError(.malformedRecord, file: file, line: line + 2, recordID: recordID(b, headerStart, headerContentEnd),
                            "expected the '+' separator line, found \(lineText(b, plusStart, end))")
        }
        guard let plusEnd = newline(b, plusStart, end) else {
            if atEOF {
                throw truncated("the file ends after the '+' line; expected the quality line",
                                b, headerStart, headerContentEnd, line)
            }
            return nil
        }
        let qualityStart = plusEnd + 1
        let qualityEnd = qualityStart + sequenceLength
        var next: Int
        // The quality line must be exactly as long as the sequence: look straight at where it must end.
        if qualityEnd < end {
            let after = b[qualityEnd]
            if after == 0x0a {
                next = qualityEnd + 1
            } else if after == 0x0d && qualityEnd + 1 < end && b[qualityEnd + 1] == 0x0a {
                next = qualityEnd + 2
            } else if after == 0x0d && qualityEnd + 1 == end {
                if !atEOF { return nil }
                next = end
            } else {
                return try qualityLengthMismatch(b, headerStart, headerContentEnd, qualityStart, end, sequenceLength)
            }
        } else if qualityEnd == end {
            if !atEOF { return nil }
            next = end
        } else {
            if newline(b, qualityStart, end) != nil {
                return try qualityLengthMismatch(b, headerStart, headerContentEnd, qualityStart, end, sequenceLength)
            }
            if atEOF {
                throw truncated("the file ends inside the quality line (\(end - qualityStart) of \(sequenceLength) quality values)",
                                b, headerStart, headerContentEnd, line + 3)
            }
            return nil
        }
        try validateSequence(b, sequenceStart, sequenceLength, headerStart, headerContentEnd, line + 1)
        try validateQuality(b, qualityStart, sequenceLength, headerStart, headerContentEnd, line + 3)
        spans.append(RecordSpan(
            headerStart: Int32(headerStart), headerLength: Int32(headerContentEnd - headerStart),
            sequenceStart: Int32(sequenceStart), sequenceLength: Int32(sequenceLength),
            qualityStart: Int32(qualityStart), line: Int64(line)))
        line += 4
        return next
    }

    private func qualityLengthMismatch(_ b: UnsafeMutablePointer<UInt8>, _ headerStart: Int, _ headerEnd: Int,
                                       _ qualityStart: Int, _ end: Int, _ sequenceLength: Int) throws -> Int? {
        guard let lineEnd = newline(b, qualityStart, end) else {
            if !sourceEnded { return nil }  // see the whole line before judging its length
            return try lengthError(end - qualityStart)
        }
        return try lengthError(contentEnd(b, qualityStart, lineEnd) - qualityStart)

        func lengthError(_ qualityLength: Int) throws -> Int? {
            throw ReadError(.malformedRecord, file: file, line: line + 3, recordID: recordID(b, headerStart, headerEnd),
                            "quality line has \(qualityLength) characters but the sequence has \(sequenceLength); expected equal lengths")
        }
    }

    /// " (after record 'id')" naming the record before the current one, when there is one.
    private func afterNote(_ b: UnsafeMutablePointer<UInt8>, _ spans: SpanWriter) -> String {
        if let last = spans.last {
            let start = Int(last.headerStart)
            return " (after record '\(recordID(b, start, start + Int(last.headerLength)))')"
        }
        return lastRecordID.map { " (after record '\($0)')" } ?? ""
    }

    private func truncated(_ what: String, _ b: UnsafeMutablePointer<UInt8>, _ headerStart: Int, _ headerEnd: Int,
                           _ line: Int) -> ReadError {
        ReadError(.truncatedRecord, file: file, line: line, recordID: recordID(b, headerStart, headerEnd),
                  "truncated record: \(what)")
    }

    /// Parses one FASTA record: a `>` header and the sequence lines up to the next `>` line or the
    /// end of the file, joined in place.
    private mutating func parseFastaRecord(_ b: UnsafeMutablePointer<UInt8>, _ start: Int, _ end: Int,
                                           _ spans: inout SpanWriter) throws -> Int? {
        let atEOF = sourceEnded
        guard b[start] == UInt8(ascii: ">") else {
            if excerptIncomplete(b, start, end) { return nil }
            throw ReadError(.malformedRecord, file: file, line: line,
                            "expected '>' at the start of a FASTA record, found \(lineText(b, start, end))" + afterNote(b, spans))
        }
        let headerStart = start + 1
        let headerEnd: Int
        if let found = newline(b, start, end) {
            headerEnd = found
        } else {
            if !atEOF { return nil }
            headerEnd = end
        }
        let headerContentEnd = contentEnd(b, headerStart, headerEnd)
        // First pass: find where the record ends without touching the bytes (it may be incomplete).
        var position = headerEnd + 1
        var sequenceLines = 0
        while true {
            if position >= end {
                if !atEOF { return nil }
                position = end
                break
            }
            if b[position] == UInt8(ascii: ">") { break }
            guard let lineEnd = newline(b, position, end) else {
                if !atEOF { return nil }
                sequenceLines += 1
                position = end
                break
            }
            sequenceLines += 1
            position = lineEnd + 1
        }
        let recordEnd = position
        // Second pass: join the sequence lines in place, dropping line ends.
        let sequenceStart = min(headerEnd + 1, recordEnd)
        var write = sequenceStart
        var read = sequenceStart
        var lineNumber = line + 1
        while read < recordEnd {
            let lineEnd = newline(b, read, recordEnd) ?? recordEnd
            let stop = contentEnd(b, read, lineEnd)
            let length = stop - read
            if length > 0 {
                try validateSequence(b, read, length, headerStart, headerContentEnd, lineNumber)
                if write != read { memmove(b + write, b + read, length) }
                write += length
            }
            read = lineEnd + 1
            lineNumber += 1
        }
        spans.append(RecordSpan(
            headerStart: Int32(headerStart), headerLength: Int32(headerContentEnd - headerStart),
            sequenceStart: Int32(sequenceStart), sequenceLength: Int32(write - sequenceStart),
            qualityStart: -1, line: Int64(line)))
        line += 1 + sequenceLines
        return recordEnd
    }

    // MARK: - Alphabet checks

    @inline(__always)
    private func validateSequence(_ b: UnsafeMutablePointer<UInt8>, _ start: Int, _ length: Int,
                                  _ headerStart: Int, _ headerEnd: Int, _ line: Int) throws {
        let offset = mrd_find_invalid_nucleotide(b + start, length)
        // Upper case from here on: lab FASTA and soft-masked exports carry lower-case bases, and
        // every later comparison is byte for byte.
        if offset == length { mrd_uppercase_letters(b + start, length); return }
        throw invalidCharacter("sequence", expected: "IUPAC nucleotide codes (ACGTUN RYSWKM BDHV, either case)",
                               b, start, offset, headerStart, headerEnd, line)
    }

    @inline(__always)
    private func validateQuality(_ b: UnsafeMutablePointer<UInt8>, _ start: Int, _ length: Int,
                                 _ headerStart: Int, _ headerEnd: Int, _ line: Int) throws {
        let offset = mrd_find_invalid_quality(b + start, length)
        if offset == length { return }
        throw invalidCharacter("quality", expected: "Phred+33 characters '!' to '~'",
                               b, start, offset, headerStart, headerEnd, line)
    }

    private func invalidCharacter(_ what: String, expected: String, _ b: UnsafeMutablePointer<UInt8>, _ start: Int,
                                  _ offset: Int, _ headerStart: Int, _ headerEnd: Int, _ line: Int) -> ReadError {
        ReadError(.invalidCharacter, file: file, line: line, recordID: recordID(b, headerStart, headerEnd),
                  "invalid \(what) character \(describeByte(b[start + offset])) at position \(offset + 1); expected \(expected)")
    }
}

/// Appends record spans to a batch's storage, growing it when full.
struct SpanWriter {
    private let batch: RecordBatch
    private var storage: UnsafeMutablePointer<RecordSpan>
    private var capacity: Int
    private(set) var count: Int

    init(_ batch: RecordBatch) {
        self.batch = batch
        storage = batch.spanStorage
        capacity = batch.spanCapacity
        count = batch.count
    }

    @inline(__always)
    mutating func append(_ span: RecordSpan) {
        if count == capacity {
            batch.count = count
            batch.growSpans()
            storage = batch.spanStorage
            capacity = batch.spanCapacity
        }
        storage[count] = span
        count += 1
    }

    func finish() { batch.count = count }

    var last: RecordSpan? { count > 0 ? storage[count - 1] : nil }
}

