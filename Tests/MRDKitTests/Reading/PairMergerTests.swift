import Foundation
import Testing
@testable import MRDKit

/// Every pair of a file as merged by mrd: (read id, merged sequence or nil).
private func mergeAll(_ r1: String, _ r2: String) throws -> [(String, [UInt8]?)] {
    let reader = try SampleReader(SampleInput(read1: [r1], read2: [r2]))
    let batch = ReadBatch(paired: true)
    let merger = PairMerger()
    var out: [(String, [UInt8]?)] = []
    while try reader.next(into: batch) {
        for i in 0..<batch.count {
            let read = batch.read1[i]
            out.append((read.idString, merger.merge(read, batch.read2![i]) ? merger.sequence : nil))
        }
    }
    return out
}

@Suite("Pair merging")
struct PairMergerTests {
    static let presto = packageRoot.appendingPathComponent("TestReads/real/presto")

    @Test("real MiSeq pairs (pRESTO's set413, 2x309): the same pairs merged, at the same overlap, as fastp --merge")
    func againstFastp() throws {
        let fastp = URL(fileURLWithPath: "/usr/bin/fastp")
        try #require(FileManager.default.isExecutableFile(atPath: fastp.path), "fastp missing: run Scripts/setup")
        let r1 = Self.presto.appendingPathComponent("set413_R1.fq.gz").path, r2 = Self.presto.appendingPathComponent("set413_R2.fq.gz").path
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mrd-merge-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let merged = directory.appendingPathComponent("merged.fq")
        let process = Process()
        process.executableURL = fastp
        // Merging only: no adapter, quality, length or poly-G trimming, one thread.
        process.arguments = ["-i", r1, "-I", r2, "--merge", "--merged_out", merged.path, "-A", "-Q", "-L", "-G", "-w", "1",
                             "-j", directory.appendingPathComponent("fastp.json").path, "-h", directory.appendingPathComponent("fastp.html").path,
                             "--out1", directory.appendingPathComponent("u1.fq").path, "--out2", directory.appendingPathComponent("u2.fq").path]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        // fastp's merged reads: id -> length.
        var theirs: [String: Int] = [:]
        let lines = try String(contentsOf: merged, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        for r in stride(from: 0, to: lines.count - 3, by: 4) {
            let id = String(lines[r].dropFirst().split(separator: " ")[0])
            theirs[id] = lines[r + 1].count
        }
        let ours = try mergeAll(r1, r2)
        #expect(ours.count == 2500)
        var agree = 0, bothMerged = 0
        for (id, sequence) in ours {
            switch (sequence, theirs[id]) {
            case (nil, nil): agree += 1
            case (let s?, let length?): if s.count == length { agree += 1; bothMerged += 1 }
            default: break
            }
        }
        print("merge: mrd \(ours.filter { $0.1 != nil }.count), fastp \(theirs.count), agreeing \(agree) of \(ours.count)")
        #expect(theirs.count > 1500)
        #expect(Double(agree) >= 0.99 * Double(ours.count))
        #expect(bothMerged >= theirs.count * 99 / 100)
    }

    @Test("consensus: agreeing bases keep the better quality; a mismatch takes the better base, quality lowered; FASTA keeps read 1")
    func consensus() throws {
        let amplicon = Array("ACGTTGCAGGCTAACCGGTTAGCATCGATCGGATCCTAGGCTAGCTTACGGATCGATCGGCTAGCTAGGCATCGATTTACGACTGAC".utf8)
        let r1 = Array(amplicon.prefix(60)), mateForward = Array(amplicon.suffix(60))
        var mate = mateForward.reversed().map { complementTable[Int($0)] }
        // One disagreement in the overlap: read 1 has a low-quality error at amplicon position 40.
        var r1Bases = r1
        r1Bases[40] = r1[40] == UInt8(ascii: "A") ? UInt8(ascii: "C") : UInt8(ascii: "A")
        var q1 = [UInt8](repeating: 33 + 38, count: 60), q2 = [UInt8](repeating: 33 + 30, count: 60)
        q1[40] = 33 + 8
        let merger = PairMerger()
        func record(_ bases: [UInt8], _ quality: [UInt8]?, _ body: (FastxRecord) -> Void) {
            bases.withUnsafeBufferPointer { b in
                let header = Array("r".utf8)
                header.withUnsafeBufferPointer { h in
                    if let quality {
                        quality.withUnsafeBufferPointer { q in body(FastxRecord(header: h, sequence: b, quality: q, line: 1)) }
                    } else {
                        body(FastxRecord(header: h, sequence: b, quality: UnsafeBufferPointer(start: nil, count: 0), line: 1))
                    }
                }
            }
        }
        var mergedOK = false
        record(r1Bases, q1) { a in record(mate, q2) { b in mergedOK = merger.merge(a, b) } }
        #expect(mergedOK)
        #expect(merger.sequence == amplicon)
        #expect(merger.quality.count == amplicon.count)
        // Position 40 (overlap starts at amplicon.count - 60 = 28): the mate's base, quality 30 - 8.
        #expect(merger.quality[40] == 33 + 22)
        #expect(merger.quality[30] == 33 + 38)
        #expect(merger.quality[70] == 33 + 30)
        record(r1Bases, nil) { a in record(mate, nil) { b in mergedOK = merger.merge(a, b) } }
        #expect(mergedOK && merger.sequence[40] == r1Bases[40] && merger.quality.isEmpty)
        // No overlap: unrelated mates stay unmerged.
        mate = Array(repeating: UInt8(ascii: "T"), count: 60)
        record(r1Bases, q1) { a in record(mate, q2) { b in mergedOK = merger.merge(a, b) } }
        #expect(!mergedOK)
    }
}
