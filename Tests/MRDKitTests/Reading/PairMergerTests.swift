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

    /// An insertion or deletion in one mate's overlap puts the mates out of register past it; an
    /// ungapped consensus there mixes two shifted copies of the amplicon into a sequence neither
    /// mate holds. Either mate's slip, in either direction, at several places: the merged read is
    /// the amplicon (to a column or two), merged at fastp's overlap.
    @Test("a slip (insertion or deletion) in one mate's overlap: the merged read is the amplicon")
    func slipInOverlap() throws {
        var random = SeededRandom(seed: 5, stream: "slip")
        let letters = Array("ACGT".utf8)
        let merger = PairMerger()
        for round in 0..<200 {
            let amplicon = (0..<(260 + random.below(30))).map { _ in letters[random.below(4)] }
            let n = 200
            var r1 = Array(amplicon.prefix(n)), r2Forward = Array(amplicon.suffix(n))
            var q1 = [UInt8](repeating: 33 + 36, count: n), q2 = [UInt8](repeating: 33 + 36, count: n)
            let overlapStart = amplicon.count - n  // on read 1
            // The slip 55-105 columns into the 110-140-column overlap (past the 50 columns fastp
            // checks, so the overlap is found where it is), in the worse-read mate (Q20 around it).
            let slipAt = overlapStart + 55 + random.below(50)
            let inMate = round % 2 == 0, insertion = round % 4 < 2
            if inMate {
                let p = slipAt - overlapStart
                if insertion { r2Forward.insert(letters[random.below(4)], at: p) } else { r2Forward.remove(at: p) }
                r2Forward = Array(r2Forward.suffix(n))
                for i in max(0, p - 8)..<min(n, p + 8) { q2[n - 1 - i] = 33 + 20 }
            } else {
                if insertion { r1.insert(letters[random.below(4)], at: slipAt) } else { r1.remove(at: slipAt) }
                r1 = Array(r1.prefix(n))
                for i in max(0, slipAt - 8)..<min(n, slipAt + 8) { q1[i] = 33 + 20 }
            }
            let mate = r2Forward.reversed().map { complementTable[Int($0)] }
            var merged = false
            try r1.withUnsafeBufferPointer { b1 in
                try q1.withUnsafeBufferPointer { qq1 in
                    try mate.withUnsafeBufferPointer { b2 in
                        try q2.withUnsafeBufferPointer { qq2 in
                            try Array("r".utf8).withUnsafeBufferPointer { h in
                                merged = merger.merge(FastxRecord(header: h, sequence: b1, quality: qq1, line: 1),
                                                      FastxRecord(header: h, sequence: b2, quality: qq2, line: 1))
                                try #require(merged)
                            }
                        }
                    }
                }
            }
            // The amplicon, but for a column next to the slip where the alignment may put the gap a few
            // bases off and the two mates' bases, read at equal quality, disagree (read 1's kept); an
            // ungapped consensus differs in dozens of columns past the slip.
            let differing = zip(merger.sequence, amplicon).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
            #expect(merger.sequence.count == amplicon.count && differing.count <= 4 && differing.allSatisfy { abs($0 - slipAt) <= 16 },
                    "columns \(differing) differ; round \(round): slip at \(slipAt), in \(inMate ? "the mate" : "read 1"), \(insertion ? "insertion" : "deletion")")
            #expect(merger.quality.count == merger.sequence.count)
        }
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
