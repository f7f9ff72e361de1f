import Foundation
import Testing
@testable import MRDKit

/// An index clone's sequence is its reads' consensus, not one read with that read's errors.
@Suite("Index clones: the sequence is the reads' consensus")
struct CloneSequenceConsensusTests {
    static let germline = try! GermlineReference.bundled()
    static let context = AnalysisContext(germline: germline)

    /// A 300-nt IGH amplicon: IGHV3-23*01's last 250 bases with six somatic mutations, 15 N
    /// bases, IGHJ4*02 and 24 bases past J; and where its junction's N bases start.
    static func amplicon() -> (bases: [UInt8], nStart: Int) {
        var v = Array(germline.segments.first { $0.allele == "IGHV3-23*01" }!.sequence.suffix(250))
        for p in [20, 61, 99, 140, 171, 203] { v[p] = v[p] == UInt8(ascii: "A") ? UInt8(ascii: "G") : UInt8(ascii: "A") }
        let j = germline.segments.first { $0.allele == "IGHJ4*02" }!.sequence
        return (v + Array("GGGACCTATTACGGT".utf8) + j + Array("GGTGAGTCCTCACAACCTCTCTCC".utf8), 250)
    }

    /// 60 reads of the clone, each with two substitutions somewhere in its V (never in the last 30
    /// bases before the junction, so every read holds it), ten of them with an inserted base in V
    /// too (the longest reads: one of them was the representative); a third read from the J end.
    /// And 12 reads of a second clone (another junction).
    static func writeReads(in directory: URL) throws -> SampleInput {
        let (amplicon, nStart) = amplicon()
        var rng = SeededRandom(seed: 11)
        var text = ""
        for i in 0..<60 {
            var read = amplicon
            for _ in 0..<2 {
                let p = Int(rng.next() % UInt64(nStart - 40))
                read[p] = read[p] == UInt8(ascii: "C") ? UInt8(ascii: "T") : UInt8(ascii: "C")
            }
            if i % 6 == 0 { read.insert(UInt8(ascii: "G"), at: 30 + Int(rng.next() % 150)) }
            if i % 3 == 2 { read = reverseComplement(read) }
            text += "@c\(i)\n\(String(decoding: read, as: UTF8.self))\n+\n\(String(repeating: "I", count: read.count))\n"
        }
        var other = amplicon
        other.replaceSubrange(nStart..<(nStart + 15), with: Array("CCCTTTAGAGGTACA".utf8))
        for i in 0..<12 {
            text += "@o\(i)\n\(String(decoding: other, as: UTF8.self))\n+\n\(String(repeating: "I", count: other.count))\n"
        }
        let file = directory.appendingPathComponent("DX.fastq")
        try text.write(to: file, atomically: true, encoding: .utf8)
        return SampleInput(read1: [file.path])
    }

    func baseline(threads: Int, in directory: URL, input: SampleInput) throws -> [AIRRRearrangement] {
        var options = BaselineOptions()
        options.threads = threads
        let out = directory.appendingPathComponent("out\(threads)")
        _ = try BaselineSample(sampleID: "DX", input: input).run(context: Self.context, options: options, directory: out.path, commandLine: [])
        return try AIRRFile.read(path: out.appendingPathComponent("DX.airr.tsv").path)
    }

    @Test("the clone's AIRR sequence is the error-free amplicon, its v_identity that of the amplicon, whatever the thread count")
    func consensusIsTheAmplicon() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = try Self.writeReads(in: directory)
        let (amplicon, _) = Self.amplicon()
        let rows = try baseline(threads: 2, in: directory, input: input)
        let clone = try #require(rows.first { $0.sequence.count >= 290 && $0.duplicateCount == 60 })
        #expect(clone.sequence == String(decoding: amplicon, as: UTF8.self))
        #expect(clone.consensusCount == 60)
        #expect(clone.revComp == false)
        // The amplicon itself, annotated as one read: the identity the clone's reads should show.
        guard case .success(let truth) = Self.context.annotator.annotate(amplicon, callD: false, gapped: true),
              let truthIdentity = truth.vGapped?.identity else {
            Issue.record("the amplicon is not annotated"); return
        }
        #expect(truthIdentity < 0.98 && truthIdentity > 0.96, "\(truthIdentity)")
        #expect(clone.vIdentity.map { abs($0 - truthIdentity) < 1e-9 } == true, "\(String(describing: clone.vIdentity)) against \(truthIdentity)")
        #expect(clone.vCall.hasPrefix("IGHV3-23"))
        // The second clone: 12 identical reads, one read's bases; no consensus count.
        let other = try #require(rows.first { $0.duplicateCount == 12 })
        #expect(other.consensusCount == (other.mrdTrackable == true ? 12 : nil))
        // The same file on one thread: the same rows.
        let single = try baseline(threads: 1, in: directory, input: input)
        #expect(AIRRFile.text(single) == AIRRFile.text(rows))
    }

    @Test("a consensus position needs three reads and a base held by more than half of them")
    func consensusRules() {
        typealias Profile = CloneSequenceConsensus.Profile
        var profile = Profile()
        // Distance 0: A x3; 1: C x2, G x1; 2: T x2 only (depth 2: the consensus stops).
        for (d, bases) in [(0, "AAA"), (1, "CCG"), (2, "TT")] {
            for b in bases.utf8 { profile.add(b, at: d, upstream: true) }
        }
        #expect(String(decoding: Profile.consensus(profile.upstream), as: UTF8.self) == "AC")
        // No base holding more than half (2 A, 2 G): the consensus stops there.
        var tie = Profile()
        for (d, bases) in [(0, "CCCC"), (1, "AAGG"), (2, "TTTT")] {
            for b in bases.utf8 { tie.add(b, at: d, upstream: false) }
        }
        #expect(String(decoding: Profile.consensus(tie.downstream), as: UTF8.self) == "C")
        // Under a quarter of the deepest coverage (4 of 20: the reads with an inserted base that
        // run past the amplicon's end): the consensus stops there.
        var edge = Profile()
        for (d, bases) in [(0, String(repeating: "G", count: 20)), (1, String(repeating: "T", count: 16)), (2, "CCCC"), (3, "AAAAA")] {
            for b in bases.utf8 { edge.add(b, at: d, upstream: true) }
        }
        #expect(String(decoding: Profile.consensus(edge.upstream), as: UTF8.self) == "GT")
        // Merged from two workers: the sums.
        var merged = Profile()
        merged.merge(profile)
        merged.merge(tie)
        #expect(merged.upstream == profile.upstream && merged.downstream == tie.downstream)
    }
}
