import Foundation
import Testing
@testable import MRDKit

@Suite("Reader: chunk boundaries, lanes, pairs, pipeline")
struct ReaderTests {
    static let chunkedFiles = ["reads.fastq", "reads.crlf.fastq", "reads.wrapped.fasta", "reads.blanklines.fastq",
                               "reads.nofinalnewline.fastq", "reads.members.fastq.gz", "reads.bgzf.fastq.gz",
                               "reads.streams.fastq.bz2", "reads.wrapped.crlf.fasta.gz"]

    @Test("byte-by-byte and odd-sized input chunks give identical records", arguments: chunkedFiles)
    func chunkBoundaries(_ file: String) throws {
        let path = specimenDirectory.appendingPathComponent(file).path
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let expected = try readAll(FastxReader(source: MemorySource(bytes), name: file))
        #expect(expected.count > 200)
        // Input cut into 1-byte and odd-sized pieces; batches from tiny (forcing growth and
        // carried partial records at every offset) to large.
        for (chunk, capacity) in [(1, 64), (3, 4 << 20), (7, 333), (4093, 1000), (65_537, 4096)] {
            let reader = try FastxReader(source: MemorySource(bytes, chunkLimit: chunk), name: file)
            let got = try readAll(reader, batchCapacity: capacity)
            #expect(got == expected, "chunk \(chunk), batch capacity \(capacity)")
        }
    }

    @Test("every possible end of a truncated plain FASTQ is an error or a clean prefix")
    func everyTruncation() throws {
        let text = Array("@a x\nACGT\n+\nIIII\n@b\nAC\n+b\nII\n".utf8)
        for cut in 1...text.count {
            let prefix = Array(text[0..<cut])
            let reader = try FastxReader(source: MemorySource(prefix, chunkLimit: 2), name: "cut")
            do {
                let records = try readAll(reader, batchCapacity: 16)
                // Only cuts right after a complete record (or its quality line without newline) succeed.
                let acceptable = [16, 17, 28, 29]
                #expect(acceptable.contains(cut), "cut \(cut) gave \(records.count) records")
                #expect(records.count == (cut < 28 ? 1 : 2))
            } catch let error as ReadError {
                #expect([.truncatedRecord, .malformedRecord].contains(error.kind), "cut \(cut): \(error)")
                #expect(error.line != nil)
            }
        }
    }

    @Test("records report their header line; multi-line FASTA lines are joined")
    func linesAndJoins() throws {
        let fasta = Array(">one desc\nACGT\nTT\r\n\n>two\nGG\n".utf8)
        let records = try readAll(FastxReader(source: MemorySource(fasta), name: "x.fa"))
        #expect(records.map(\.header) == ["one desc", "two"])
        #expect(records.map(\.sequence) == ["ACGTTT", "GG"])
        #expect(records.map(\.line) == [1, 5])
        #expect(records.allSatisfy { $0.quality.isEmpty })
        let fastq = Array("@r1 a\nAC\n+\nII\n\n@r2\nG\n+r2\nI\n".utf8)
        let reads = try readAll(FastxReader(source: MemorySource(fastq), name: "x.fq"))
        #expect(reads.map(\.line) == [1, 6])
    }

    @Test("a 1 Mb read with a 100 kB header is read whole")
    func longRecord() throws {
        let sequence = String(repeating: "ACGTTGCA", count: 125_000)
        let header = String(repeating: "h", count: 100_000)
        let text = "@short\nACGT\n+\nIIII\n@\(header)\n\(sequence)\n+\n\(String(repeating: "I", count: sequence.count))\n@end\nA\n+\nI\n"
        let reader = try FastxReader(source: MemorySource(Array(text.utf8), chunkLimit: 65_536), name: "long")
        let records = try readAll(reader, batchCapacity: 4096)
        #expect(records.count == 3)
        #expect(records[1].sequence == sequence)
        #expect(records[1].header.count == 100_000)
        #expect(records[2].line == 9)
    }

    @Test("lanes are read as one stream; pairs stay in lockstep")
    func pairedLanes() throws {
        let lanes = SampleInput(
            read1: ["pair_L1_R1.fastq.gz", "pair_L2_R1.fastq.gz"].map { specimenDirectory.appendingPathComponent($0).path },
            read2: ["pair_L1_R2.fastq.bz2", "pair_L2_R2.fastq.bz2"].map { specimenDirectory.appendingPathComponent($0).path })
        let reader = try SampleReader(lanes)
        let batch = ReadBatch(paired: true, capacity: 2048)
        var pairs = 0
        var sequenceNumbers: [Int] = []
        while try reader.next(into: batch) {
            let mates = try #require(batch.read2)
            #expect(mates.count == batch.read1.count)
            for i in 0..<batch.count {
                let a = batch.read1[i].idString, b = mates[i].idString
                #expect(a.dropLast(2) == b.dropLast(2))
                #expect(a.hasSuffix("/1") && b.hasSuffix("/2"))
            }
            pairs += batch.count
            sequenceNumbers.append(batch.sequenceNumber)
        }
        #expect(pairs == 150)
        #expect(sequenceNumbers == Array(0..<sequenceNumbers.count))
        #expect(reader.summaries.map(\.records) == [70, 80, 70, 80])
        #expect(reader.summaries.map(\.compression) == [.gzip, .gzip, .bzip2, .bzip2])
    }

    @Test("read 2 longer than read 1 (trimmed differently): a read-2 batch holds every mate of a read-1 batch, however many bytes they take")
    func longerMates() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mrd-mates-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var one = "", two = ""
        for i in 0..<3_000 {
            let short = String(repeating: "ACGT", count: 10), long = String(repeating: "TTGCA", count: 30)
            one += "@pair\(i) 1:N:0:1\n\(short)\n+\n\(String(repeating: "I", count: short.count))\n"
            two += "@pair\(i) 2:N:0:1\n\(long)\n+\n\(String(repeating: "F", count: long.count))\n"
        }
        let r1 = directory.appendingPathComponent("R1.fastq"), r2 = directory.appendingPathComponent("R2.fastq")
        try one.write(to: r1, atomically: true, encoding: .utf8)
        try two.write(to: r2, atomically: true, encoding: .utf8)
        let reader = try SampleReader(SampleInput(read1: [r1.path], read2: [r2.path]))
        // Read-1 batches of 16 KiB hold about 150 records, whose mates take three times the bytes.
        let batch = ReadBatch(paired: true, capacity: 16 << 10)
        var pairs = 0, batches = 0
        while try reader.next(into: batch) {
            let mates = try #require(batch.read2)
            #expect(mates.count == batch.read1.count)
            for i in 0..<batch.count { #expect(batch.read1[i].idString == mates[i].idString) }
            #expect(mates[batch.count - 1].sequence.count == 150)
            pairs += batch.count
            batches += 1
        }
        #expect(pairs == 3_000 && batches > 10, "\(pairs) pairs in \(batches) batches")
    }

    @Test("a record limit reads exactly the first N pairs, across lanes")
    func recordLimit() throws {
        let lanes = SampleInput(
            read1: ["pair_L1_R1.fastq.gz", "pair_L2_R1.fastq.gz"].map { specimenDirectory.appendingPathComponent($0).path },
            read2: ["pair_L1_R2.fastq.bz2", "pair_L2_R2.fastq.bz2"].map { specimenDirectory.appendingPathComponent($0).path })
        func ids(limit: Int, capacity: Int) throws -> [String] {
            let reader = try SampleReader(lanes)
            reader.recordLimit = limit
            let batch = ReadBatch(paired: true, capacity: capacity)
            var names: [String] = []
            while try reader.next(into: batch) {
                #expect(batch.read2!.count == batch.read1.count)
                for i in 0..<batch.count { names.append(batch.read1[i].idString) }
            }
            return names
        }
        let all = try ids(limit: .max, capacity: 2048)
        #expect(all.count == 150)
        for limit in [0, 1, 69, 70, 71, 100, 150, 1_000] {
            for capacity in [512, 2048, 1 << 20] {
                #expect(try ids(limit: limit, capacity: capacity) == Array(all.prefix(limit)), "limit \(limit), capacity \(capacity)")
            }
        }
    }

    @Test("mate names: /1 and /2 suffixes and pRESTO's |annotations ignored, anything else compared")
    func mateNames() {
        func match(_ a: String, _ b: String) -> Bool {
            Array(a.utf8).withUnsafeBufferPointer { x in
                Array(b.utf8).withUnsafeBufferPointer { y in SampleReader.mateNamesMatch(x, y) }
            }
        }
        #expect(match("r1/1", "r1/2"))
        #expect(match("r1", "r1"))
        #expect(match("SIM:1:FC:1:1:2:3", "SIM:1:FC:1:1:2:3"))
        #expect(!match("r1/1", "r2/2"))
        #expect(!match("r1", "r10"))
        #expect(!match("r1/3", "r1/4"))
        // pRESTO (its own test pairs): each mate names its primer.
        #expect(match("SEQUENCE001|CONSCOUNT=2|PRIMER=IgA_5-primer|PRFREQ=1.0", "SEQUENCE001|CONSCOUNT=2|PRIMER=IgA_3-primer|PRFREQ=1.0"))
        #expect(match("SEQ7/1|PRIMER=A", "SEQ7/2|PRIMER=B"))
        #expect(!match("SEQUENCE001|PRIMER=A", "SEQUENCE002|PRIMER=A"))
    }

    @Test("a missing lane fails before any reading; mismatched lane counts are refused")
    func missingLane() throws {
        let present = specimenDirectory.appendingPathComponent("reads.fastq").path
        #expect(throws: ReadError.self) { try SampleReader(SampleInput(read1: [present, "/nonexistent/lane2.fq"])) }
        do {
            _ = try SampleReader(SampleInput(read1: [present, "/nonexistent/lane2.fq"]))
        } catch let error as ReadError {
            #expect(error.kind == .missingInput && error.exitCode == 66)
            #expect(error.file == "/nonexistent/lane2.fq")
        }
        #expect(throws: ReadError.self) { try SampleReader(SampleInput(read1: [present, present], read2: [present])) }
    }

    @Test("a directory is unreadable input (exit 66)")
    func directoryInput() throws {
        do {
            _ = try FastxReader(path: specimenDirectory.path)
            Issue.record("a directory was opened")
        } catch let error as ReadError {
            #expect(error.kind == .unreadableInput)
            #expect(error.exitCode == 66)
        }
    }

    @Test("statistics are the same whatever the thread count and batch split")
    func deterministicStatistics() throws {
        let input = SampleInput(read1: ["reads.fastq", "reads.members.fastq.gz", "reads.streams.fastq.bz2"]
            .map { specimenDirectory.appendingPathComponent($0).path })
        let reference = try FileStatistics.compute(input, threads: 1)
        for threads in [2, 3, 8] {
            #expect(try FileStatistics.compute(input, threads: threads) == reference)
        }
        let stats = reference[0].statistics
        #expect(stats.reads == 3 * 241)
        #expect(stats.minLength == 0)
        let records = try readAll(path: input.read1[0])
        let gc = records.reduce(0) { $0 + $1.sequence.filter { "GCSgcs".contains($0) }.count }
        #expect(stats.gcBases == 3 * gc)
        let qualities = records.flatMap { $0.quality.utf8.map { Int($0) - 33 } }
        #expect(stats.qualitySum == 3 * qualities.reduce(0, +))
        #expect(stats.q30Bases == 3 * qualities.filter { $0 >= 30 }.count)
        #expect(stats.maxLength == records.map(\.sequence.count).max())
    }

    @Test("a worker's error stops the pipeline and is reported")
    func workerError() throws {
        struct Stop: Error {}
        let reader = try SampleReader(SampleInput(read1: [specimenDirectory.appendingPathComponent("reads.fastq").path]))
        #expect(throws: Stop.self) {
            _ = try BatchPipeline.run(reader, workers: 2, batchCapacity: 1024, makeTally: { 0 }) { _, _ in throw Stop() }
        }
        let again = try SampleReader(SampleInput(read1: [specimenDirectory.appendingPathComponent("reads.fastq").path]))
        #expect(throws: Stop.self) {
            _ = try BatchPipeline.runPartitioned(again, workers: 3, batchCapacity: 1024, makeTally: { 0 }) { _, partition, _ in
                if partition.worker == 1 { throw Stop() }
            }
        }
    }

    @Test("partitioned pipeline: every read goes to exactly one worker, identical reads to the same one, small batches recycled")
    func partitionedPipeline() throws {
        // Three lanes in one sample, batches of 1 KiB: many more batches than the pool holds.
        let input = SampleInput(read1: ["reads.fastq", "reads.members.fastq.gz", "reads.streams.fastq.bz2"]
            .map { specimenDirectory.appendingPathComponent($0).path })
        let records = try input.read1.flatMap { try readAll(path: $0) }
        for workers in [1, 2, 3, 8] {
            struct Seen { var ids: [String] = []; var sequences: Set<String> = [] }
            let tallies = try BatchPipeline.runPartitioned(try SampleReader(input), workers: workers, batchCapacity: 1024,
                                                           makeTally: { Seen() }) { batch, partition, seen in
                for i in 0..<batch.count where partition.owns(SequenceMemo<Int>.readHash(batch.read1[i].sequence)) {
                    seen.ids.append(String(decoding: batch.read1[i].header, as: UTF8.self))
                    seen.sequences.insert(String(decoding: batch.read1[i].sequence, as: UTF8.self))
                }
            }
            #expect(tallies.count == workers)
            let ids = tallies.flatMap(\.ids)
            #expect(ids.count == records.count, "\(workers) workers")
            #expect(ids.sorted() == records.map(\.header).sorted())
            // A sequence is owned by one worker only.
            for a in tallies.indices { for b in tallies.indices where a < b { #expect(tallies[a].sequences.isDisjoint(with: tallies[b].sequences)) } }
            if workers > 1 { #expect(tallies.filter { !$0.ids.isEmpty }.count > 1, "reads spread over the workers") }
        }
    }
}

/// Found by fuzzing: ISA-L misread a BGZF member header (gzip extra field) that arrived in pieces
/// and called the file corrupt. Every decoder must read every gzip layout fed in any piece size.
@Test("gzip decoders read BGZF and multi-member gzip fed in pieces of any size",
      arguments: ["reads.bgzf.fastq.gz", "reads.members.fastq.gz", "reads.fastq.gz"])
func gzipInPieces(_ file: String) throws {
    let bytes = [UInt8](try Data(contentsOf: specimenDirectory.appendingPathComponent(file)))
    let expected = try readAll(FastxReader(source: MemorySource(bytes), name: file, decoding: DecoderSettings(inflate: .zlib)))
    #expect(expected.count > 200)
    for backend in inflateBackends {
        for chunk in [1, 2, 5, 17, 19, 4093] {
            let reader = try FastxReader(source: MemorySource(bytes, chunkLimit: chunk), name: file, decoding: DecoderSettings(inflate: backend))
            #expect(try readAll(reader, batchCapacity: 1000) == expected, "\(backend), pieces of \(chunk)")
        }
    }
}

@Test("a file that shrinks while being read is an error (exit 66), not a shorter sample")
func shrinkingFile() throws {
    let folder = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: folder) }
    let path = folder.appendingPathComponent("shrinking.fastq").path
    let record = "@r\n" + String(repeating: "ACGT", count: 25) + "\n+\n" + String(repeating: "I", count: 100) + "\n"
    try Data(String(repeating: record, count: 10_000).utf8).write(to: URL(fileURLWithPath: path))
    let reader = try FastxReader(path: path)
    let batch = RecordBatch(capacity: 64 << 10)
    #expect(try reader.fill(batch))
    // Cut the file at a record boundary past what was read: the rest reads as clean records.
    #expect(truncate(path, record.utf8.count * 5_000) == 0)
    var failure: ReadError?
    do {
        while try reader.fill(batch) {}
    } catch let error as ReadError {
        failure = error
    }
    #expect(failure?.kind == .unreadableInput && failure?.exitCode == 66)
    #expect(failure?.description.contains("shrank while being read (1035000 of the 2070000 bytes it had when opened)") == true, "\(String(describing: failure))")
}

@Test("a record past the size cap is an error naming its line, not unbounded memory")
func recordSizeCap() throws {
    let text = "@a\nACGT\n+\nIIII\n@b\n" + String(repeating: "A", count: 5000) + "\n+\n" + String(repeating: "I", count: 5000) + "\n"
    let reader = try FastxReader(source: MemorySource(Array(text.utf8), chunkLimit: 100), name: "big.fastq")
    reader.maximumRecordBytes = 4096
    var failure: ReadError?
    do { _ = try readAll(reader, batchCapacity: 64) } catch let error as ReadError { failure = error }
    #expect(failure?.kind == .malformedRecord)
    #expect(failure?.description == "big.fastq:5: a record longer than 4096 bytes; expected sequencing reads (is this a FASTQ/FASTA file?)",
            "\(String(describing: failure))")
}

/// Interleaved files (read 1 and read 2 alternately in one file): read as pairs, whatever the
/// batch boundaries; a broken or odd pairing is an error naming the record; other layouts stay
/// single-end.
@Suite("Reader: interleaved pairs")
struct InterleavedReaderTests {
    /// `pairs` pairs of varied lengths (a batch boundary falls between mates and within pairs), as
    /// one interleaved text and as the mate files' two texts.
    static func pairsText(_ pairs: Int, names: (Int) -> (String, String) = { ("@p\($0) 1:N:0:1", "@p\($0) 2:N:0:1") }) -> String {
        var text = ""
        for i in 0..<pairs {
            let (first, second) = names(i)
            let one = String(repeating: "ACGT", count: 5 + i % 7), two = String(repeating: "TTGCA", count: 3 + i % 11)
            text += "\(first)\n\(one)\n+\n\(String(repeating: "I", count: one.count))\n"
            text += "\(second)\n\(two)\n+\n\(String(repeating: "F", count: two.count))\n"
        }
        return text
    }

    func write(_ text: String, _ name: String, in folder: URL) throws -> String {
        let path = folder.appendingPathComponent(name).path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test("pairs split across batches come out as mates, in order; the record limit counts pairs")
    func split() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = try write(Self.pairsText(3_001), "inter.fastq", in: folder)
        for (capacity, limit) in [(1 << 10, Int.max), (16 << 10, Int.max), (4 << 20, Int.max), (1 << 10, 777)] {
            let reader = try SampleReader(SampleInput(read1: [path]))
            reader.recordLimit = limit
            #expect(reader.interleaved && reader.isPaired)
            let batch = ReadBatch(paired: true, capacity: capacity)
            var pairs = 0
            while try reader.next(into: batch) {
                let mates = try #require(batch.read2)
                #expect(mates.count == batch.read1.count)
                for i in 0..<batch.count {
                    let n = pairs + i
                    #expect(batch.read1[i].idString == "p\(n)" && mates[i].idString == "p\(n)")
                    #expect(batch.read1[i].sequence.count == 4 * (5 + n % 7) && mates[i].sequence.count == 5 * (3 + n % 11))
                    #expect(batch.read1[i].qualityString.allSatisfy { $0 == "I" } && mates[i].line == 8 * n + 5)
                }
                pairs += batch.count
            }
            #expect(pairs == min(3_001, limit), "capacity \(capacity)")
            #expect(reader.summaries.map(\.records) == (limit == Int.max ? [6_002] : []))
        }
    }

    @Test("an odd record count, a broken pair, or lanes of two layouts: exit-65 errors naming the record")
    func errors() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        func failure(_ files: [String]) -> ReadError? {
            do {
                let reader = try SampleReader(SampleInput(read1: files))
                let batch = ReadBatch(paired: reader.isPaired, capacity: 1 << 10)
                while try reader.next(into: batch) {}
            } catch let error as ReadError { return error } catch { return nil }
            return nil
        }
        let whole = Self.pairsText(500)
        let odd = try write(whole + "@p500 1:N:0:1\nACGT\n+\nIIII\n", "odd.fastq", in: folder)
        let oddError = failure([odd])
        #expect(oddError?.kind == .mateMismatch && oddError?.exitCode == 65 && oddError?.line == 4_001)
        #expect(oddError?.description.contains("ends on record 'p500' at line 4001, which has no mate") == true, "\(String(describing: oddError))")
        // Pair 300's read 2 renamed: past the first 2,000 records it is not part of the detection.
        let broken = try write(Self.pairsText(1_200, names: { ($0 == 1_100 ? ("@p1100", "@q1100") : ("@p\($0)", "@p\($0)")) }), "broken.fastq", in: folder)
        let brokenError = failure([broken])
        #expect(brokenError?.kind == .mateMismatch && brokenError?.line == 8 * 1_100 + 5)
        #expect(brokenError?.description.contains("record 'q1100' follows 'p1100' (line 8801) in an interleaved file") == true, "\(String(describing: brokenError))")
        let single = try write(Self.pairsText(100, names: { ("@a\($0)", "@b\($0)") }), "single.fastq", in: folder)
        let mixed = failure([broken, single])
        #expect(mixed?.kind == .mateMismatch && mixed?.file.hasSuffix("single.fastq") == true)
    }

    @Test("single-end files, a fixed read name, and standard input stay single-end; /1 /2 names pair")
    func layouts() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let single = try write(Self.pairsText(100, names: { ("@a\($0)", "@b\($0)") }), "single.fastq", in: folder)
        let fixed = try write(Self.pairsText(100, names: { _ in ("@read", "@read") }), "fixed.fastq", in: folder)
        let slashes = try write(Self.pairsText(100, names: { ("@x\($0)/1", "@x\($0)/2") }), "slashes.fastq", in: folder)
        #expect(try !SampleReader(SampleInput(read1: [single])).interleaved)
        #expect(try !SampleReader(SampleInput(read1: [fixed])).interleaved)
        #expect(try SampleReader(SampleInput(read1: [slashes])).interleaved)
        #expect(try !SampleReader(SampleInput(read1: [slashes]), detectingInterleaved: false).interleaved)
        #expect(try !SampleReader(SampleInput(read1: ["-"])).interleaved)
        // A pipe is not read ahead (its records would be lost): single-end, every record kept.
        let fifo = folder.appendingPathComponent("pipe.fastq").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let writer = Thread { try? Data(Self.pairsText(100, names: { ("@x\($0)/1", "@x\($0)/2") }).utf8).write(to: URL(fileURLWithPath: fifo)) }
        writer.start()
        let piped = try SampleReader(SampleInput(read1: [fifo]))
        #expect(!piped.interleaved)
        let batch = ReadBatch(paired: false)
        var records = 0
        while try piped.next(into: batch) { records += batch.count }
        #expect(records == 200)
    }
}
