import Testing
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

    @Test("a locus's order is its place in allCases (clone order and fold keys use it)")
    func locusOrder() {
        for (i, locus) in Locus.allCases.enumerated() { #expect(locus.order == i) }
        #expect(Locus.allCases.sorted() == Locus.allCases)
    }
}
