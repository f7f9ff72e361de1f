import Foundation
import Testing
@testable import MRDKit

@Suite("Reader specimens (TestReads/specimens/manifest.tsv)")
struct SpecimenTests {
    @Test("manifest lists every kind of specimen")
    func manifestIsComplete() {
        #expect(Specimen.valid.count >= 15)
        #expect(Specimen.invalidSingle.count >= 25)
        let compressions = Set(Specimen.valid.map(\.compression))
        #expect(compressions == ["plain", "gzip", "bgzf", "bzip2"])
    }

    @Test("valid specimens: format, compression, counts", arguments: Specimen.valid)
    func validSpecimen(_ specimen: Specimen) throws {
        for backend in inflateBackends {
            let reader = try FastxReader(path: specimen.path, decoding: DecoderSettings(inflate: backend))
            let records = try readAll(reader)
            #expect(reader.compression.rawValue == specimen.compression)
            #expect(reader.format?.rawValue == specimen.format)
            #expect(records.count == specimen.reads)
            #expect(records.reduce(0) { $0 + $1.sequence.count } == specimen.bases)
            #expect(reader.recordsRead == specimen.reads)
            for record in records where specimen.format == "FASTQ" {
                #expect(record.quality.count == record.sequence.count)
            }
        }
    }

    @Test("compressed, multi-member, CRLF and wrapped forms equal their plain twin",
          arguments: Specimen.valid.filter { !$0.twin.isEmpty })
    func twinsAreEqual(_ specimen: Specimen) throws {
        let expected = try readAll(path: specimenDirectory.appendingPathComponent(specimen.twin).path)
        for backend in inflateBackends {
            let got = try readAll(path: specimen.path, inflate: backend)
            #expect(got.count == expected.count)
            for (a, b) in zip(got, expected) {
                #expect(a.header == b.header)
                #expect(a.sequence == b.sequence)
                #expect(a.quality == b.quality)
            }
        }
    }

    @Test("invalid specimens: error kind, line, message and exit code", arguments: Specimen.invalidSingle)
    func invalidSpecimen(_ specimen: Specimen) throws {
        for backend in inflateBackends {
            do {
                let records = try readAll(path: specimen.path, inflate: backend)
                Issue.record("\(specimen.file) read \(records.count) records without an error")
            } catch let error as ReadError {
                #expect(error.exitCode == specimen.exitCode)
                #expect(error.file.hasSuffix(specimen.file))
                #expect(error.description.contains(specimen.error), "\(error.description)")
                if let line = specimen.line { #expect(error.line == line, "\(error.description)") }
            }
        }
    }

    @Test("paired specimens: mates checked in lockstep", arguments: Specimen.invalidPairs)
    func pairedMismatch(_ specimen: Specimen) throws {
        let reader = try SampleReader(SampleInput(read1: [specimen.matePath], read2: [specimen.path]))
        let batch = ReadBatch(paired: true)
        do {
            while try reader.next(into: batch) {}
            Issue.record("\(specimen.file) was accepted")
        } catch let error as ReadError {
            #expect(error.kind == .mateMismatch)
            #expect(error.exitCode == 65)
            #expect(error.description.contains(specimen.error), "\(error.description)")
            if let line = specimen.line { #expect(error.line == line) }
        }
    }
}
