#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The read files of one sample: lane files of read 1, and for paired-end data the matching
/// lane files of read 2 (same order, same number).
public struct SampleInput: Sendable, Equatable {
    public var read1: [String]
    public var read2: [String]
    /// How compressed files are decoded (never changes what is read).
    public var decoding: DecoderSettings

    public init(read1: [String], read2: [String] = [], decoding: DecoderSettings = DecoderSettings()) {
        self.read1 = read1
        self.read2 = read2
        self.decoding = decoding
    }

    public var isPaired: Bool { !read2.isEmpty }

    /// The same input with `chunks` decompressed chunks of `chunkSize` bytes held ahead of the
    /// parser (`DecoderSettings.aheadChunks`): for a consumer much slower than decoding.
    public func readingAhead(chunks: Int, of chunkSize: Int) -> SampleInput {
        var input = self
        input.decoding.aheadChunks = chunks
        input.decoding.aheadChunkSize = chunkSize
        return input
    }
    public var allFiles: [String] { read1 + read2 }
}

/// The records of one batch of a sample: read 1, and read 2 in lockstep for paired-end input
/// (`read2[i]` is the mate of `read1[i]`).
public final class ReadBatch: @unchecked Sendable {
    public let read1: RecordBatch
    public let read2: RecordBatch?
    /// Position of this batch in the sample (0-based), for merging results in input order.
    public internal(set) var sequenceNumber = 0

    public init(paired: Bool, capacity: Int = 4 << 20) {
        read1 = RecordBatch(capacity: capacity)
        read2 = paired ? RecordBatch(capacity: capacity) : nil
    }

    public var count: Int { read1.count }
}

/// What was read from one file.
public struct FileSummary: Sendable, Equatable {
    public var file: String
    public var format: FastxFormat?
    public var compression: Compression
    public var records: Int
}

/// Reads a sample's lane files one after another as one stream, and paired-end mates in lockstep,
/// checking that mates agree in name and number.
public final class SampleReader {
    public let input: SampleInput
    /// Files finished so far: read-1 lanes in order, then read-2 lanes in order.
    public var summaries: [FileSummary] { read1Summaries + read2Summaries }
    private var read1Summaries: [FileSummary] = []
    private var read2Summaries: [FileSummary] = []

    private var lane = 0
    private var reader1: FastxReader?
    private var reader2: FastxReader?
    private var batchesRead = 0
    /// Read no more than this many records (pairs) of the sample: the first ones, in file order, so
    /// a prefix is the same whatever the thread count.
    public var recordLimit = Int.max
    private var delivered = 0
    /// Whether each file's first batch is checked for Phred+64 qualities (an error: every quality
    /// rule would read them 31 too high). `mrd stats` describes any FASTQ and turns it off.
    public var checksQualityEncoding = true
    /// The read-1 files hold both mates, read 1 and read 2 alternately (one interleaved file per
    /// lane, as `fastq-dump --split-spot`, `bwa mem -p` or `fastp --interleaved_in` take them):
    /// decided from each file's first records before anything is read (`holdsInterleavedPairs`).
    public private(set) var interleaved = false
    /// Paired-end: mate files, or interleaved ones.
    public var isPaired: Bool { input.isPaired || interleaved }
    /// An interleaved file's records are read here, then split into a batch's two halves.
    private var interleavedRecords: RecordBatch?
    /// Read 1 of a pair whose read 2 starts the next fill of an interleaved file (at most one record).
    private lazy var heldFirstMate = RecordBatch(capacity: 1 << 12)

    /// Checks that every file exists and is readable before anything is read, so that a missing
    /// lane fails the sample at once rather than after the first lanes were processed.
    /// With `detectingInterleaved` (the default; `mrd stats` describes files as they are), a
    /// single-end input whose files hold mates alternately is read as pairs.
    public init(_ input: SampleInput, detectingInterleaved: Bool = true) throws {
        guard !input.read1.isEmpty else {
            throw ReadError(.missingInput, file: "-", "no read files given")
        }
        if input.isPaired && input.read1.count != input.read2.count {
            throw ReadError(.mateMismatch, file: input.read2.joined(separator: ";"),
                            "\(input.read1.count) read-1 files but \(input.read2.count) read-2 files; expected one mate file per lane")
        }
        for path in input.allFiles where path != "-" {
            if access(path, F_OK) != 0 {
                throw ReadError(.missingInput, file: path, "no such file (expected a FASTQ or FASTA file)")
            }
            if access(path, R_OK) != 0 {
                throw ReadError(.unreadableInput, file: path, "cannot open: permission denied")
            }
        }
        try Self.rejectRepeatedFiles(input)
        self.input = input
        if detectingInterleaved && !input.isPaired {
            interleaved = try Self.interleavedLanes(input)
        }
    }

    /// Whether the lane files are interleaved: all of them or none. Only regular files are looked
    /// at ahead: standard input, a pipe or a process substitution (`<(zcat ...)`) would lose the
    /// records read, so they are taken as single-end.
    static func interleavedLanes(_ input: SampleInput) throws -> Bool {
        let verdicts = input.read1.filter(isRegularFile).map { ($0, holdsInterleavedPairs(path: $0, decoding: input.decoding)) }
        guard let interleaved = verdicts.first(where: { $0.1 }), let single = verdicts.first(where: { !$0.1 }) else {
            return verdicts.first?.1 ?? false
        }
        throw ReadError(.mateMismatch, file: single.0,
                        "holds single reads, but lane file \(interleaved.0) holds interleaved pairs (read 1 and read 2 alternately, "
                        + "each two records sharing a name); expected the lanes of one sample in one layout")
    }

    static func isRegularFile(_ path: String) -> Bool {
        var status = stat()
        return path != "-" && stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFREG
    }

    /// Records that come in twos of one name (up to `/1` `/2`), each two unlike the next, over a
    /// file's first 2,000 records (at least 2): read 1 and read 2 alternately. Single-end reads
    /// as two lines of one file would be counted twice, their pair never merged, and every
    /// Poisson bound drawn from twice the molecules. A file that cannot be read is left to the
    /// reading itself, which reports it where it fails.
    static func holdsInterleavedPairs(path: String, decoding: DecoderSettings) -> Bool {
        guard let reader = try? FastxReader(path: path, decoding: decoding, threadedDecompression: false) else { return false }
        let batch = RecordBatch(capacity: 1 << 20)
        guard (try? reader.fill(batch, maxRecords: 2_000)) == true, batch.count >= 2 else { return false }
        let pairs = batch.count / 2
        for p in 0..<pairs where !mateNamesMatch(batch[2 * p].id, batch[2 * p + 1].id) { return false }
        if pairs == 1 { return true }
        // Every record named alike (a simulator's fixed name) is no pairing.
        return (0..<(pairs - 1)).contains { !mateNamesMatch(batch[2 * $0 + 1].id, batch[2 * $0 + 2].id) }
    }

    /// The same file (same device and inode, whatever the path's spelling or links) given twice: as
    /// two lanes its reads would count twice (with cells from DNA input and no spike-ins, twice the
    /// level), as read 1 and read 2 no pair would be a pair.
    static func rejectRepeatedFiles(_ input: SampleInput) throws {
        var seen: [String: String] = [:]
        let roles = input.read1.enumerated().map { ($0.element, "read-1 file \($0.offset + 1)") }
            + input.read2.enumerated().map { ($0.element, "read-2 file \($0.offset + 1)") }
        for (path, role) in roles {
            guard let identity = path == "-" ? "-" : fileIdentity(path) else { continue }
            if let earlier = seen[identity] {
                throw ReadError(.repeatedInput, file: path,
                                "given as \(earlier) and again as \(role); expected each file once (a lane given twice counts its reads twice)")
            }
            seen[identity] = role
        }
    }

    /// A file's identity, device and inode: the same whatever the path's spelling or links; nil
    /// when it cannot be read.
    static func fileIdentity(_ path: String) -> String? {
        var status = stat()
        return stat(path, &status) == 0 ? "\(status.st_dev):\(status.st_ino)" : nil
    }

    /// Quality characters of a file's first records that all lie in Phred+64's range and reach past
    /// any Phred+33 instrument's top (none under '@' = Q31, some from 'M' = Q44, none above 'j'): Illumina
    /// 1.3-1.7 qualities. Read as Phred+33 they would pass every quality rule (error folding, the
    /// mate that read a junction better, spike-in and UMI checks) 31 points too high, silently.
    /// Decided on 1,000 quality values at least (the first 2,000 records at most). Phred+33 data
    /// always has some base under Q31 among that many; PacBio HiFi's Q93 ('~') lies above the range.
    static func rejectPhred64(_ batch: RecordBatch) throws {
        var lowest = UInt8.max, highest = UInt8.min, values = 0
        for i in 0..<min(batch.count, 2_000) {
            let quality = batch[i].quality
            guard quality.baseAddress != nil else { return }  // FASTA
            for q in quality {
                lowest = min(lowest, q)
                highest = max(highest, q)
            }
            values += quality.count
        }
        guard values >= 1_000, lowest >= UInt8(ascii: "@"), highest >= UInt8(ascii: "M"), highest <= UInt8(ascii: "j") else { return }
        let first = batch[0]
        throw ReadError(.invalidCharacter, file: batch.file, line: first.line, recordID: first.idString,
                        "quality characters run from '\(Character(Unicode.Scalar(lowest)))' to '\(Character(Unicode.Scalar(highest)))' over the first "
                        + "\(min(batch.count, 2_000)) records, none under '@': Phred+64 (Illumina 1.3-1.7) qualities; expected Phred+33 "
                        + "(Sanger, Illumina 1.8+). Convert the file first, e.g. seqkit convert --from Illumina-1.5+ --to Sanger")
    }

    /// Refills `batch` with the next records; false at the end of the sample.
    public func next(into batch: ReadBatch) throws -> Bool {
        precondition((batch.read2 != nil) == isPaired, "batch layout does not match the input")
        if interleaved { return try nextInterleaved(into: batch) }
        while lane < input.read1.count && delivered < recordLimit {
            if reader1 == nil {
                reader1 = try FastxReader(path: input.read1[lane], decoding: input.decoding)
                if input.isPaired { reader2 = try FastxReader(path: input.read2[lane], decoding: input.decoding) }
            }
            let first = reader1!
            let firstOfLane = first.recordsRead == 0
            if try first.fill(batch.read1, maxRecords: recordLimit - delivered) {
                delivered += batch.read1.count
                if checksQualityEncoding && firstOfLane { try Self.rejectPhred64(batch.read1) }
                if let mates = batch.read2, let second = reader2 {
                    try fillMates(mates, from: second, for: batch.read1)
                    if checksQualityEncoding && firstOfLane { try Self.rejectPhred64(mates) }
                }
                return numbered(batch)
            }
            try finishLane()
        }
        return false
    }

    /// Stamps a filled batch with its place in the sample (for merging results in input order).
    private func numbered(_ batch: ReadBatch) -> Bool {
        batch.sequenceNumber = batchesRead
        batch.read1.sequenceNumber = batchesRead
        batch.read2?.sequenceNumber = batchesRead
        batchesRead += 1
        return true
    }

    /// The next pairs of an interleaved file: its records read, then copied into the batch's
    /// read-1 and read-2 halves, each two checked to be mates.
    private func nextInterleaved(into batch: ReadBatch) throws -> Bool {
        let firsts = batch.read1, seconds = batch.read2!
        let records = interleavedRecords ?? RecordBatch(capacity: firsts.capacity)
        interleavedRecords = records
        let held = heldFirstMate
        while lane < input.read1.count && delivered < recordLimit {
            if reader1 == nil { reader1 = try FastxReader(path: input.read1[lane], decoding: input.decoding) }
            let reader = reader1!
            let firstOfLane = reader.recordsRead == 0
            let wanted = recordLimit - delivered
            let maxRecords = wanted >= Int.max / 2 ? Int.max : 2 * wanted - held.count
            if try reader.fill(records, maxRecords: maxRecords) {
                if checksQualityEncoding && firstOfLane { try Self.rejectPhred64(records) }
                firsts.reset()
                seconds.reset()
                for half in [firsts, seconds] {
                    half.file = records.file
                    half.format = records.format
                    half.firstRecordOrdinal = delivered
                }
                var next = 0
                if held.count == 1 {
                    try appendPair(held[0], records[0], to: batch)
                    held.reset()
                    next = 1
                }
                while next + 1 < records.count {
                    try appendPair(records[next], records[next + 1], to: batch)
                    next += 2
                }
                if next < records.count { held.append(records[next]) }
                guard firsts.count > 0 else { continue }
                delivered += firsts.count
                return numbered(batch)
            }
            if held.count == 1 {
                let orphan = held[0]
                throw ReadError(.mateMismatch, file: reader.file, line: orphan.line, recordID: orphan.idString,
                                "an interleaved file (read 1 and read 2 alternately) ends on record '\(orphan.idString)' at line \(orphan.line), "
                                + "which has no mate; expected an even number of records")
            }
            try finishLane()
        }
        return false
    }

    private func appendPair(_ first: FastxRecord, _ second: FastxRecord, to batch: ReadBatch) throws {
        guard Self.mateNamesMatch(first.id, second.id) else {
            throw ReadError(.mateMismatch, file: batch.read1.file, line: second.line, recordID: second.idString,
                            "record '\(second.idString)' follows '\(first.idString)' (line \(first.line)) in an interleaved file "
                            + "(read 1 and read 2 alternately: its first records come in twos of one name); expected the mate of "
                            + "'\(first.idString)', of the same name")
        }
        batch.read1.append(first)
        batch.read2!.append(second)
    }

    private func fillMates(_ mates: RecordBatch, from reader: FastxReader, for firsts: RecordBatch) throws {
        _ = try reader.fill(mates, maxRecords: firsts.count, all: true)
        if mates.count < firsts.count {
            let orphan = firsts[mates.count]
            throw ReadError(.mateMismatch, file: reader.file, recordID: orphan.idString,
                            "read-2 file ends after \(reader.recordsRead) records, but read-1 file \(firsts.file) "
                            + "has more (record '\(orphan.idString)' at line \(orphan.line) has no mate); expected the same number of records")
        }
        for i in 0..<firsts.count {
            let a = firsts[i], b = mates[i]
            if !Self.mateNamesMatch(a.id, b.id) {
                throw ReadError(.mateMismatch, file: reader.file, line: b.line, recordID: b.idString,
                                "mate name differs from read 1 '\(a.idString)' (\(firsts.file) line \(a.line)); "
                                + "expected the same read name in both files")
            }
        }
    }

    private func finishLane() throws {
        if let second = reader2 {
            let probe = RecordBatch(capacity: 1 << 12)
            if try second.fill(probe, maxRecords: 1) {
                throw ReadError(.mateMismatch, file: second.file, line: probe[0].line, recordID: probe[0].idString,
                                "read-2 file has more records than read-1 file \(reader1!.file) "
                                + "(\(reader1!.recordsRead)); expected the same number of records")
            }
            read2Summaries.append(FileSummary(file: second.file, format: second.format,
                                              compression: second.compression, records: second.recordsRead))
        }
        if let first = reader1 {
            read1Summaries.append(FileSummary(file: first.file, format: first.format,
                                              compression: first.compression, records: first.recordsRead))
        }
        reader1 = nil
        reader2 = nil
        lane += 1
    }

    /// Mate names agree when equal up to an optional `/1` / `/2` suffix (older Illumina style;
    /// newer headers carry the read number after a space, which `id` already excludes), and before
    /// the first `|` (pRESTO's annotations, `SEQ1|PRIMER=IgA_5-primer|CONSCOUNT=2`, differ between
    /// mates: each mate's own primer and counts).
    static func mateNamesMatch(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
        func stem(_ whole: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
            let id = whole.firstIndex(of: UInt8(ascii: "|")).map { UnsafeBufferPointer(rebasing: whole[..<$0]) } ?? whole
            let n = id.count
            if n >= 2 && id[n - 2] == UInt8(ascii: "/") && (id[n - 1] == UInt8(ascii: "1") || id[n - 1] == UInt8(ascii: "2")) {
                return UnsafeBufferPointer(rebasing: id[0..<(n - 2)])
            }
            return id
        }
        let x = stem(a), y = stem(b)
        return x.count == y.count && (x.count == 0 || memcmp(x.baseAddress!, y.baseAddress!, x.count) == 0)
    }
}
