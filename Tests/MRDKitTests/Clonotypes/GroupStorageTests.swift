import Testing
import Foundation
@testable import MRDKit

/// The compact storage of a baseline's groups: bytes in an arena, counts that widen.
@Suite("Group storage: arena spans and counts that widen")
struct GroupStorageTests {
    @Test("strings added across many chunks read back intact, also after another arena's chunks are taken")
    func arenaSpans() {
        var generator = SystemRandomNumberGenerator()
        var first = ByteArena(), second = ByteArena()
        var expected: [([UInt8], ByteArena.Span, Bool)] = []
        // 3 MiB and more of strings of 1-600 bytes, and one larger than a chunk: several chunks each.
        for i in 0..<14_000 {
            let length = i == 7_000 ? ByteArena.chunkSize + 17 : Int.random(in: 1...600, using: &generator)
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let inFirst = i % 3 != 0
            let span = bytes.withUnsafeBufferPointer { inFirst ? first.add($0) : second.add($0) }
            #expect(span.length == UInt32(length))
            expected.append((bytes, span, inFirst))
        }
        #expect(first.chunkCount > 3 && second.chunkCount > 1)
        let shift = first.absorb(second)
        #expect(shift > 3)
        for (bytes, span, inFirst) in expected {
            #expect(first.array(inFirst ? span : span.moved(by: shift)) == bytes)
        }
        #expect(first.add(UnsafeBufferPointer(start: nil, count: 0)).isEmpty)
    }

    @Test("counts start narrow and widen before any count could overflow; values equal plain sums")
    func adaptiveCounts() {
        var generator = SystemRandomNumberGenerator()
        var counts = AdaptiveCounts<UInt8, Int32>([3, 0, 250, 1], bound: 250)
        var plain: [Int32] = [3, 0, 250, 1]
        // Increments of up to 5 each time: the 3rd call's bound (260) passes UInt8.max.
        for step in 0..<200 {
            let increments = (0..<4).map { _ in Int32.random(in: 0...5, using: &generator) }
            func add<T: FixedWidthInteger>(_ buffer: UnsafeMutableBufferPointer<T>) {
                for i in 0..<4 { buffer[i] += T(increments[i]) }
            }
            counts.update(maxIncrement: 5, narrow: { add($0) }, wide: { add($0) })
            for i in 0..<4 { plain[i] += increments[i] }
            #expect(counts.values == plain, "after step \(step)")
        }
        #expect(counts.bound == 250 + 200 * 5)
        // Quality sums: two bytes a cell up to 257 reads of score 255, then Int.
        var sums = AdaptiveCounts<UInt16, Int>([255], bound: 255)
        for _ in 0..<1_000 { sums.update(maxIncrement: 255, narrow: { $0[0] += 255 }, wide: { $0[0] += 255 }) }
        #expect(sums.values == [255 * 1_001])
    }

    @Test("a junction is a span within its read's bytes (no copy)")
    func subspans() {
        var arena = ByteArena()
        let read = Array("TTGTGCGAGAGGGGCTACTTTGACTACTGG".utf8)
        let span = read.withUnsafeBufferPointer { arena.add($0) }
        let junction = span.subspan(from: 3, length: 24)
        #expect(arena.array(junction) == Array(read[3..<27]))
        #expect(span.subspan(from: 5, length: 0).isEmpty)
        #expect(arena.chunkCount == 1)
    }

    /// A group's base counts over its window (junction, 40 bases before it, 10 after), the reads given as
    /// V-to-J strings with the junction at `junctionStart`.
    private func groupCounts(_ reads: [(String, offered: Bool)], junctionStart: Int, junctionLength: Int, mergeAfter: Int? = nil) -> [Int32] {
        var arena = ByteArena()
        func representative(_ read: [UInt8]) -> BaselineTally.Representative {
            BaselineTally.Representative(sequence: read.withUnsafeBufferPointer { arena.add($0) }, junctionStart: Int32(junctionStart),
                                         templatedFivePrime: 0, templatedThreePrime: 0, reversed: false, v: nil, j: nil)
        }
        func newGroup(_ first: [UInt8]) -> BaselineTally.Group {
            let rep = representative(first)
            var group = BaselineTally.Group(locus: .IGH, kind: .VDJ, junction: rep.sequence.subspan(from: junctionStart, length: junctionLength))
            group.replaceRepresentative(rep, arena: &arena)
            return group
        }
        var groups = [newGroup(Array(reads[0].0.utf8))]
        for (k, (text, offered)) in reads.enumerated() {
            let read = Array(text.utf8)
            let g = mergeAfter.map { k >= $0 ? 1 : 0 } ?? 0
            if g == groups.count { groups.append(newGroup(read)) }
            if offered && k > 0 { groups[g].offer(representative(read), arena: &arena) }
            read.withUnsafeBufferPointer { groups[g].addBases($0, reversed: false, junctionStart: junctionStart, weight: 1, arena: &arena) }
        }
        if groups.count == 2 { groups[0].addCounts(of: groups[1], arena: &arena) }
        return groups[0].counts(arena)
    }

    @Test("the clone's upstream V bases are the reads' consensus: the longest read (the representative) with an inserted base does not shift them")
    func upstreamFromConsensus() {
        var arena = ByteArena()
        let v = "GCTGAGCAGCCTGAGATCTGAGGACACGGCCGTGTATTACTGT"  // the V's last bases, ending with its Cys codon TGT
        let junctionAndJ = "GCGAGAGGGGCTACTTTGACTACTGGGGCCAGGGAACC"
        let clean = v + junctionAndJ
        // The same read with a base inserted 20 bases before the junction: one longer.
        let slipped = String(v.prefix(20)) + "G" + String(v.dropFirst(20)) + junctionAndJ
        let junctionStart = v.count - 3, junctionLength = 27
        func representative(_ read: [UInt8], junctionStart: Int) -> BaselineTally.Representative {
            BaselineTally.Representative(sequence: read.withUnsafeBufferPointer { arena.add($0) }, junctionStart: Int32(junctionStart),
                                         templatedFivePrime: 0, templatedThreePrime: 0, reversed: false, v: nil, j: nil)
        }
        let first = Array(clean.utf8)
        let firstRepresentative = representative(first, junctionStart: junctionStart)
        var group = BaselineTally.Group(locus: .IGH, kind: .VDJ, junction: firstRepresentative.sequence.subspan(from: junctionStart, length: junctionLength))
        group.replaceRepresentative(firstRepresentative, arena: &arena)
        for k in 0..<5 {
            let read = Array((k == 2 ? slipped : clean).utf8)
            let start = k == 2 ? junctionStart + 1 : junctionStart
            if k > 0 { group.offer(representative(read, junctionStart: start), arena: &arena) }
            group.count += 1
            read.withUnsafeBufferPointer { group.addBases($0, reversed: false, junctionStart: start, weight: 1, arena: &arena) }
        }
        // The slipped read is the longest: the representative; its bases before the target are shifted.
        #expect(group.representative?.length == slipped.utf8.count)
        let consensus = group.consensus(arena)
        let bytes = Array(clean.utf8)
        #expect(consensus.bases == Array(bytes[(junctionStart - 10)..<(junctionStart + junctionLength + 10)]))
        #expect(consensus.junctionOffset == 10)
        // Every V base before the target flank that the reads hold (20 here; up to 30).
        #expect(consensus.upstream == Array(bytes[0..<(junctionStart - 10)]))
        #expect(consensus.upstream.count == junctionStart - 10)
    }

    @Test("a lone read's base codes are read from its representative, and stay right when another read replaces it or groups merge")
    func firstBasesFromRepresentative() {
        // A junction of 6 bases at 12: a window of 56 (40 bases before it: the target's flank and
        // the clone's upstream V; 10 after), of which these reads cover 12 before.
        let a = "ACGTACGTACGTGGGCCCTTTTAAAACCCCGG"
        let b = "ACGTACGTACGTGGGCCCTATTAAAACCCCGGTT"  // longer (preferred as representative), and differs in the junction
        let c = "TCGTACGTACGAGGGCCCTTTTAAATCCCCGG"
        func expected(_ reads: [String]) -> [Int32] {
            var counts = [Int32](repeating: 0, count: 56 * 4)
            for read in reads {
                let bytes = Array(read.utf8)
                for q in 0..<56 {
                    let p = 12 - 40 + q
                    guard p >= 0, p < bytes.count, let code = "ACGT".utf8.firstIndex(of: bytes[p]) else { continue }
                    counts[q * 4 + "ACGT".utf8.distance(from: "ACGT".utf8.startIndex, to: code)] += 1
                }
            }
            return counts
        }
        #expect(groupCounts([(a, false)], junctionStart: 12, junctionLength: 6) == expected([a]))
        #expect(groupCounts([(a, false), (b, true)], junctionStart: 12, junctionLength: 6) == expected([a, b]))
        #expect(groupCounts([(a, false), (c, true), (b, true)], junctionStart: 12, junctionLength: 6) == expected([a, c, b]))
        // Another worker's group of one read merged in, its representative not taken.
        #expect(groupCounts([(b, false), (c, false)], junctionStart: 12, junctionLength: 6, mergeAfter: 1) == expected([b, c]))
        #expect(groupCounts([(c, false), (b, false)], junctionStart: 12, junctionLength: 6, mergeAfter: 1) == expected([c, b]))
    }

    @Test("packed bases: read back as written, compared as memcmp compares the letters; only A, C, G, T packed")
    func packedBases() {
        var generator = SystemRandomNumberGenerator()
        let letters = Array("ACGT".utf8)
        var arena = ByteArena()
        for length in [1, 2, 3, 4, 5, 149, 150, 151, 600] {
            let a = (0..<length).map { _ in letters[Int.random(in: 0..<4, using: &generator)] }
            var b = a
            b[Int.random(in: 0..<length, using: &generator)] = letters[Int.random(in: 0..<4, using: &generator)]
            let stored = a.withUnsafeBufferPointer { BaselineTally.store($0, in: &arena) }
            #expect(stored.packedLength == Int32(length) && Int(stored.span.length) == (length + 3) / 4)
            let representative = BaselineTally.Representative(sequence: stored.span, junctionStart: 0, templatedFivePrime: 0, templatedThreePrime: 0,
                                                              reversed: false, v: nil, j: nil, packedLength: stored.packedLength)
            #expect(representative.bases(arena) == a)
            #expect(representative.length == length)
            for other in [a, b] {
                let expected = other.withUnsafeBufferPointer { o in a.withUnsafeBufferPointer { memcmp(o.baseAddress!, $0.baseAddress!, length) } }
                let got = other.withUnsafeBufferPointer { o in arena.withBytes(stored.span) { PackedBases.compare(o, packed: $0) } }
                #expect(got.signum() == Int(expected).signum(), "\(length)")
            }
        }
        // N, IUPAC codes and lower case are kept as read.
        for text in ["ACGTN", "acgt", "ACGTR"] {
            let bytes = Array(text.utf8)
            let stored = bytes.withUnsafeBufferPointer { BaselineTally.store($0, in: &arena) }
            #expect(stored.packedLength == 0 && arena.array(stored.span) == bytes)
        }
    }

    @Test("a locus's order is its place in allCases (clone order and fold keys use it)")
    func locusOrder() {
        for (i, locus) in Locus.allCases.enumerated() { #expect(locus.order == i) }
        #expect(Locus.allCases.sorted() == Locus.allCases)
    }
}
