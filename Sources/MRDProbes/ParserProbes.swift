import CBzip2
import CZlib
import Foundation
// The fuzz build (Scripts/fuzz) compiles these probes and MRDKit's sources as one module.
#if canImport(MRDKit)
import MRDKit
#endif

/// The parsers that read what users hand us, each run on arbitrary bytes with the properties that
/// must hold whatever the bytes are. Used by the fuzz targets (`Scripts/fuzz`) and by the tests,
/// which replay the seed corpus and every input fuzzing ever found. A broken property stops the
/// process (`preconditionFailure`) so that libFuzzer keeps the input.
public enum ParserProbe: String, CaseIterable, Sendable {
    /// FASTQ/FASTA reader: plain, gzip and bzip2 decoding of the same bytes, cut into chunks of
    /// every size, must give the same records or the same error.
    case fastx
    /// sheet.csv of `mrd run`.
    case sheet
    /// ID.clones.tsv of `mrd baseline`, as `mrd track` reads it.
    case clones
    /// The spike-in table.
    case spikeins

    public func run(_ data: [UInt8]) {
        switch self {
        case .fastx: Self.probeFastx(data)
        case .sheet: Self.probeSheet(data)
        case .clones: Self.probeClones(data)
        case .spikeins: Self.probeSpikeIns(data)
        }
    }

    // MARK: FASTQ/FASTA

    /// What reading an input gave: its records, or the error it ended with.
    struct FastxOutcome: Equatable {
        var records: [[UInt8]] = []
        var lines: [Int] = []
        var error: String?
    }

    /// The first byte picks how the input is served: bits 0-2 the chunk size, bit 3 the batch
    /// size, bit 4 serial (not parallel) bzip2, bit 5 a record-size cap, bit 6 a bzip2 copy, bit 7
    /// ISA-L (where available) instead of zlib. The rest is the file.
    static func probeFastx(_ data: [UInt8]) {
        guard let selector = data.first else { return }
        let body = Array(data.dropFirst())
        let chunkLimits = [1, 2, 3, 7, 64, 1000, 4096, Int.max]
        let chunk = chunkLimits[Int(selector & 7)]
        let capacity = selector & 0x08 == 0 ? 64 : 4096
        let backend: InflateBackend = selector & 0x80 != 0 && InflateBackend.isalAvailable ? .isal : .zlib
        let bzip2Threads = selector & 0x10 != 0 ? 1 : 2

        let reference = readFastx(body, chunkLimit: .max, capacity: 1 << 16, backend: .zlib)
        let cut = readFastx(body, chunkLimit: chunk, capacity: capacity, backend: backend, bzip2Threads: bzip2Threads)
        let head = Array(body.prefix(18))
        let plain = (try? Compression.sniff(head, file: "input")) == .plain
        // A damaged compressed stream is found damaged at its check sum; how much of its garbage
        // was parsed before then depends on the chunks (and decoders word errors their own way),
        // so only the failure itself must agree.
        agree(reference, cut, "chunks of \(chunk), batches of \(capacity), \(backend)", sameError: plain)

        // A record cap below the input size must end in a clear error, never a crash.
        if selector & 0x20 != 0 { _ = readFastx(body, chunkLimit: chunk, capacity: 16, backend: backend, recordCap: 256) }

        // The same text compressed must read the same (skip inputs that are compressed themselves).
        guard plain else { return }
        agree(reference, readFastx(gzipCompressed(body), chunkLimit: chunk, capacity: capacity, backend: backend), "gzip, \(backend)")
        if selector & 0x40 != 0 {
            agree(reference, readFastx(bzip2Compressed(body), chunkLimit: chunk, capacity: capacity, backend: backend,
                                       bzip2Threads: bzip2Threads), "bzip2")
        }
    }

    static func agree(_ reference: FastxOutcome, _ other: FastxOutcome, _ how: String, sameError: Bool = true) {
        if reference.error != nil || other.error != nil {
            // Records handed out before an error depend on batching; the error must not.
            precondition(sameError ? reference.error == other.error : (reference.error != nil) == (other.error != nil),
                         "\(how): error '\(other.error ?? "none")' where the whole input gave '\(reference.error ?? "none")'")
        } else {
            precondition(reference == other, "\(how): \(other.records.count) records where the whole input gave \(reference.records.count)")
        }
    }

    static func readFastx(_ bytes: [UInt8], chunkLimit: Int, capacity: Int, backend: InflateBackend, bzip2Threads: Int = 2,
                          recordCap: Int? = nil) -> FastxOutcome {
        var outcome = FastxOutcome()
        do {
            let reader = try FastxReader(source: MemorySource(bytes, chunkLimit: chunkLimit), name: "input",
                                         decoding: DecoderSettings(inflate: backend, bzip2Threads: bzip2Threads))
            if let recordCap { reader.maximumRecordBytes = recordCap }
            let batch = RecordBatch(capacity: capacity)
            var lastLine = 0
            while try reader.fill(batch) {
                for i in 0..<batch.count {
                    let record = batch[i]
                    precondition(record.line > lastLine, "record lines must increase")
                    lastLine = record.line
                    precondition(record.sequence.allSatisfy { $0 > 0x20 && $0 < 0x7f }, "sequence bytes must be letters")
                    if reader.format == .fastq {
                        precondition(record.quality.count == record.sequence.count, "one quality per base")
                        precondition(record.quality.allSatisfy { $0 >= 33 && $0 < 127 }, "Phred+33 qualities")
                    }
                    outcome.records.append(Array(record.header) + [0] + Array(record.sequence) + [0] + Array(record.quality))
                    outcome.lines.append(record.line)
                }
            }
            precondition(reader.recordsRead == outcome.records.count, "records counted as read")
        } catch let error as ReadError {
            precondition(error.line.map { $0 >= 1 } ?? true, "error lines start at 1")
            outcome.error = error.description
        } catch {
            preconditionFailure("unexpected error type: \(error)")
        }
        return outcome
    }

    // MARK: Tables

    static func probeSheet(_ data: [UInt8]) {
        do {
            let sheet = try SampleSheet(bytes: data, path: "/nonexistent/fuzz/sheet.csv")
            var ids = Set<String>()
            for sample in sheet.samples {
                precondition(isIdentifier(sample.patientID) && isIdentifier(sample.sampleID), "ids pass the contract's rule")
                precondition(ids.insert(sample.sampleID).inserted, "sample ids are unique")
                precondition(!sample.reads1.isEmpty, "every sample has reads")
                for text in [sample.timepoint] + sample.reads1 + sample.reads2 {
                    precondition(!text.utf8.contains { $0 < 0x20 || $0 == 0x7f }, "no control characters reach outputs")
                }
            }
        } catch is SheetError {
        } catch is ReadError {
        } catch {
            preconditionFailure("unexpected error type: \(error)")
        }
    }

    static func probeClones(_ data: [UInt8]) {
        do {
            let clones = try ClonesFile.parse(bytes: data, path: "clones.tsv")
            var ids = Set<String>()
            for clone in clones {
                precondition(isIdentifier(clone.cloneID, maxLength: 128) && isIdentifier(clone.sampleID), "ids pass the rule")
                precondition(ids.insert(clone.cloneID).inserted, "clone ids are unique")
                precondition(!clone.junction.isEmpty, "a junction")
                if clone.trackable { precondition(clone.target.firstRange(of: clone.junction) != nil, "target holds the junction") }
            }
        } catch let error as ReadError {
            precondition(error.line.map { $0 >= 1 } ?? true, "error lines start at 1")
        } catch {
            preconditionFailure("unexpected error type: \(error)")
        }
        // The same bytes as an AIRR TSV of index clones (`--clones` from MiXCR, IgBLAST, Vidjil).
        do {
            let clones = try IndexClonesInput.airr(bytes: data, path: "index.airr.tsv")
            var ids = Set<String>()
            for clone in clones {
                precondition(ids.insert(clone.cloneID).inserted, "clone ids are unique")
                precondition(!clone.junction.isEmpty && !clone.cloneID.contains(";"), "a junction; ids fit calls.tsv's markers")
                if clone.trackable {
                    precondition(clone.target.firstRange(of: clone.junction) != nil, "target holds the junction")
                    precondition(clone.junction.allSatisfy { "ACGT".utf8.contains($0) }, "trackable junctions are ACGT")
                }
            }
        } catch let error as ReadError {
            precondition(error.line.map { $0 >= 1 } ?? true, "error lines start at 1")
        } catch {
            preconditionFailure("unexpected error type: \(error)")
        }
    }

    static func probeSpikeIns(_ data: [UInt8]) {
        guard let text = String(validating: data, as: UTF8.self) else { return }
        do {
            let spikes = try SpikeInsFile.parse(bytes: Array(text.utf8), path: "spikes.tsv")
            for spike in spikes {
                precondition(isIdentifier(spike.id), "spike ids pass the rule")
                precondition(spike.sequence.count >= 30 && spike.sequence.allSatisfy { "ACGT".utf8.contains($0) }, "A/C/G/T")
                precondition(spike.copies > 0 && spike.copies.isFinite, "positive copies")
            }
            precondition(Set(spikes.map(\.id)).count == spikes.count, "spike ids are unique")
        } catch let error as ReadError {
            precondition(error.line.map { $0 >= 1 } ?? true, "error lines start at 1")
        } catch {
            preconditionFailure("unexpected error type: \(error)")
        }
    }
}

/// `bytes` as one gzip member (zlib, default level).
public func gzipCompressed(_ bytes: [UInt8]) -> [UInt8] {
    var stream = z_stream()
    precondition(mrd_deflate_init_gzip(&stream, Z_DEFAULT_COMPRESSION) == Z_OK)
    defer { deflateEnd(&stream) }
    var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 32)
    var input = bytes
    let produced = input.withUnsafeMutableBufferPointer { inBuffer in
        output.withUnsafeMutableBufferPointer { outBuffer -> Int in
            stream.next_in = inBuffer.baseAddress
            stream.avail_in = UInt32(inBuffer.count)
            stream.next_out = outBuffer.baseAddress
            stream.avail_out = UInt32(outBuffer.count)
            precondition(deflate(&stream, Z_FINISH) == Z_STREAM_END)
            return outBuffer.count - Int(stream.avail_out)
        }
    }
    return Array(output.prefix(produced))
}

/// `bytes` as one bzip2 stream (100 kB blocks: small to set up).
public func bzip2Compressed(_ bytes: [UInt8]) -> [UInt8] {
    var input = bytes
    var length = UInt32(bytes.count + bytes.count / 100 + 600)
    var output = [UInt8](repeating: 0, count: Int(length))
    let status = input.withUnsafeMutableBufferPointer { inBuffer in
        output.withUnsafeMutableBufferPointer { outBuffer in
            outBuffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: outBuffer.count) { out in
                inBuffer.baseAddress.map { base in
                    base.withMemoryRebound(to: CChar.self, capacity: inBuffer.count) {
                        BZ2_bzBuffToBuffCompress(out, &length, $0, UInt32(inBuffer.count), 1, 0, 0)
                    }
                } ?? BZ2_bzBuffToBuffCompress(out, &length, nil, 0, 1, 0, 0)
            }
        }
    }
    precondition(status == BZ_OK)
    return Array(output.prefix(Int(length)))
}
