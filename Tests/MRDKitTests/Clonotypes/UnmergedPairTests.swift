import Foundation
import Testing
@testable import MRDKit

/// Pairs the merge refuses (a poor run: the mismatches of two low-quality tails exceed fastp's
/// limit) whose read 1 misread the junction in its tail while read 2 read it cleanly in its first
/// cycles.
@Suite("Unmerged pairs: the mate that read the junction better")
struct UnmergedPairTests {
    static let germline = try! GermlineReference.bundled()

    /// A 287-nt IGH amplicon (IGHV3-23*01's last 200 bases, 15 N bases, IGHJ4*02, 24 bases past J)
    /// and where its junction's N bases lie.
    static func amplicon() -> (bases: [UInt8], nStart: Int) {
        let v = germline.segments.first { $0.allele == "IGHV3-23*01" }!.sequence
        let j = germline.segments.first { $0.allele == "IGHJ4*02" }!.sequence
        let bases = Array(v.suffix(200)) + Array("GGGACCTATTACGGT".utf8) + j + Array("GGTGAGTCCTCACAACCTCTCTCC".utf8)
        return (bases, 200)
    }

    static func substitute(_ b: UInt8) -> UInt8 { b == UInt8(ascii: "A") ? UInt8(ascii: "C") : UInt8(ascii: "A") }

    /// 20 clean pairs (they merge) and 10 refused ones: read 1 (255 nt) with 7 low-quality (Q5)
    /// substitutions in its first 50 overlap columns and 3 in the N bases of the junction; read 2
    /// (150 nt) error-free at Q38. Written as two FASTQ files.
    static func writePairs(in directory: URL) throws -> (r1: URL, r2: URL) {
        let (amplicon, nStart) = amplicon()
        var r1 = "", r2 = ""
        let mate = reverseComplement(Array(amplicon.suffix(150)))
        for i in 0..<30 {
            var read = Array(amplicon.prefix(255))
            var quality = [UInt8](repeating: UInt8(ascii: "G"), count: 255)
            if i >= 20 {
                for p in [140, 146, 152, 158, 164, 170, 176] + [nStart + 3, nStart + 7, nStart + 11] {
                    read[p] = substitute(read[p])
                    quality[p] = UInt8(ascii: "&")
                }
            }
            r1 += "@pair\(i)\n\(String(decoding: read, as: UTF8.self))\n+\n\(String(decoding: quality, as: UTF8.self))\n"
            r2 += "@pair\(i)\n\(String(decoding: mate, as: UTF8.self))\n+\n\(String(repeating: "G", count: 150))\n"
        }
        let files = (directory.appendingPathComponent("R1.fastq"), directory.appendingPathComponent("R2.fastq"))
        try r1.write(to: files.0, atomically: true, encoding: .utf8)
        try r2.write(to: files.1, atomically: true, encoding: .utf8)
        return files
    }

    /// FASTQ records of pairs of `amplicon`: read 1 its first 255 bases, read 2 its last 150 turned;
    /// `poor`: read 1 with 7 low-quality (Q5) substitutions in its first 50 overlap columns (the
    /// pair is refused by the merge) and the substitutions `misread` (position, base) at Q5 too.
    static func pair(_ name: String, _ amplicon: [UInt8], poor: Bool, misread: [(Int, UInt8)] = []) -> (String, String) {
        var read = Array(amplicon.prefix(255))
        var quality = [UInt8](repeating: UInt8(ascii: "G"), count: 255)
        if poor {
            for p in [140, 146, 152, 158, 164, 170, 176] { read[p] = substitute(read[p]); quality[p] = UInt8(ascii: "&") }
            for (p, b) in misread { read[p] = b; quality[p] = UInt8(ascii: "&") }
        }
        let mate = reverseComplement(Array(amplicon.suffix(150)))
        return ("@\(name)\n\(String(decoding: read, as: UTF8.self))\n+\n\(String(decoding: quality, as: UTF8.self))\n",
                "@\(name)\n\(String(decoding: mate, as: UTF8.self))\n+\n\(String(repeating: "G", count: 150))\n")
    }

    @Test("mrd track: a read 1 misread into the clone's junction is not counted when its mate read the near miss it is")
    func trackerTakesTheBetterMate() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (amplicon, nStart) = Self.amplicon()
        func write(_ pairs: [(String, String)], _ name: String) throws -> SampleInput {
            let r1 = directory.appendingPathComponent("\(name)_R1.fastq"), r2 = directory.appendingPathComponent("\(name)_R2.fastq")
            try pairs.map(\.0).joined().write(to: r1, atomically: true, encoding: .utf8)
            try pairs.map(\.1).joined().write(to: r2, atomically: true, encoding: .utf8)
            return SampleInput(read1: [r1.path], read2: [r2.path])
        }
        var options = BaselineOptions()
        options.threads = 2
        let diagnosis = try BaselineAnalysis(germline: Self.germline, options: options)
            .run(try write((0..<30).map { Self.pair("dx\($0)", amplicon, poor: false) }, "DX"), sampleID: "DX")
        let clonesFile = directory.appendingPathComponent("clones.tsv")
        try ClonesFile.text(BaselineSample.clones(diagnosis)).write(to: clonesFile, atomically: true, encoding: .utf8)
        var trackOptions = TrackOptions()
        trackOptions.threads = 2
        let tracker = FollowUpTracker(clones: try ClonesFile.read(path: clonesFile.path), germline: Self.germline,
                                      annotator: Annotator(germline: Self.germline), spikeIns: [], options: trackOptions)
        let target = try #require(tracker.index.targets.first { !$0.evolved })
        // A normal clone one substitution past the budget (three N bases differ), read once: its
        // read 1 misread one of them back to the clone's base in its poor tail.
        var nearMiss = amplicon
        let differing = (0...target.budget).map { nStart + 2 + 4 * $0 }
        for p in differing { nearMiss[p] = Self.substitute(nearMiss[p]) }
        let pairs = (0..<5).map { Self.pair("fu\($0)", amplicon, poor: false) }
            + [Self.pair("near", nearMiss, poor: true, misread: [(differing[0], amplicon[differing[0]])])]
        let counts = try tracker.run(try write(pairs, "FU"), sampleID: "FU")
        #expect(counts.pairs?.mergedPairs == 5)
        #expect(counts.clones.first?.reads == 5, "the near miss is not the clone's: \(counts.clones.first.map { ($0.reads, $0.rejectedReads) }!)")
        #expect(counts.clones.first?.rejectedReads == 1, "the near miss is tallied in the halo")
    }

    @Test("mrd baseline counts the refused pairs in the clone (read 2 read its junction), not in a satellite 3 differences away")
    func baselineTakesTheBetterMate() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (r1, r2) = try Self.writePairs(in: directory)
        var options = BaselineOptions()
        options.threads = 2
        let result = try BaselineAnalysis(germline: Self.germline, options: options)
            .run(SampleInput(read1: [r1.path], read2: [r2.path]), sampleID: "T")
        #expect(result.pairs?.readPairs == 30 && result.pairs?.mergedPairs == 20, "the 10 poor pairs are refused, as fastp would")
        let igh = result.clonotypes.filter { $0.locus == .IGH }
        #expect(igh.count == 1, "\(igh.map { ($0.junctionString, $0.count) })")
        #expect(igh.first?.count == 30)
        let (amplicon, nStart) = Self.amplicon()
        #expect(igh.first.map { String(decoding: amplicon, as: UTF8.self).contains($0.junctionString) } == true)
        #expect(igh.first.map { $0.junctionString.contains(String(decoding: amplicon[nStart..<nStart + 15], as: UTF8.self)) } == true)
    }

    @Test("mrd annotate takes the same mate: the refused pairs' rows carry read 2's junction")
    func annotateTakesTheBetterMate() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let (r1, r2) = try Self.writePairs(in: directory)
        let output = directory.appendingPathComponent("airr.tsv")
        let summary = try ReadAnnotationRun(input: SampleInput(read1: [r1.path], read2: [r2.path]), threads: 2)
            .run(annotator: Annotator(germline: Self.germline), path: output.path)
        #expect(summary.assigned == 30)
        let rows = try String(contentsOf: output, encoding: .utf8).split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false) }
        let column = rows[0].firstIndex(of: "junction")!
        let junctions = Set(rows.dropFirst().map { String($0[column]) })
        #expect(junctions.count == 1, "\(junctions)")
    }
}
