import CSequenceKernels
import Foundation
import Testing
@testable import MRDKit

@Suite("Core: identifiers, escaping, hashing, edit distances, concurrency helpers")
struct CoreTests {
    @Test("sequence memo: finds what was inserted, by content; declines when full")
    func sequenceMemo() {
        var memo = SequenceMemo<Int>(capacity: 3)
        func withBytes<R>(_ text: String, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
            Array(text.utf8).withUnsafeBufferPointer(body)
        }
        let words = ["ACGTACGTACGT", "ACGTACGTACGA", ""]
        for (i, word) in words.enumerated() {
            withBytes(word) { #expect(memo.insert($0, hash: SequenceMemo<Int>.hash($0), payload: i) == i) }
        }
        for (i, word) in words.enumerated() {
            withBytes(word) { #expect(memo.index(of: $0, hash: SequenceMemo<Int>.hash($0)) == i) }
        }
        // Same hash, different bytes: not found (the bytes are compared).
        let storedHash = withBytes(words[0]) { SequenceMemo<Int>.hash($0) }
        withBytes("ACGTACGTACGG") { #expect(memo.index(of: $0, hash: storedHash) == nil) }
        withBytes("TTTT") { #expect(memo.insert($0, hash: SequenceMemo<Int>.hash($0), payload: 9) == nil) }
        withBytes("TTTT") { #expect(memo.index(of: $0, hash: SequenceMemo<Int>.hash($0)) == nil) }
        #expect(memo.count == 3)
    }

    @Test("sequence memo admitting on repeat: a key is declined when first offered and taken when offered again")
    func sequenceMemoAdmitsOnRepeat() {
        var memo = SequenceMemo<Int>(capacity: 1000, admitOnRepeat: true)
        let keys = (0..<500).map { i in Array("ACGT\(i)TTGCA".utf8) }
        for (i, key) in keys.enumerated() {
            key.withUnsafeBufferPointer { #expect(memo.insert($0, hash: SequenceMemo<Int>.hash($0), payload: i) == nil) }
        }
        #expect(memo.count == 0)
        for (i, key) in keys.enumerated() {
            key.withUnsafeBufferPointer { bytes in
                let hash = SequenceMemo<Int>.hash(bytes)
                #expect(memo.index(of: bytes, hash: hash) == nil)
                #expect(memo.insert(bytes, hash: hash, payload: i) == i)
                #expect(memo.index(of: bytes, hash: hash) == i)
                #expect(memo[i] == i)
            }
        }
        // Keys never offered: (almost) all declined on their first offer; the filter's false
        // admissions are rare (two bits of 2^23 per key).
        var admitted = 0
        for i in 0..<2000 {
            Array("GGCC\(i)AATT".utf8).withUnsafeBufferPointer { bytes in
                if memo.insert(bytes, hash: SequenceMemo<Int>.hash(bytes), payload: -1) != nil { admitted += 1 }
            }
        }
        #expect(admitted <= 2)
    }

    @Test("identifiers follow the contract's rule; printable and HTML escaping")
    func text() {
        for good in ["P001", "a.b_c-D", String(repeating: "x", count: 64)] { #expect(isIdentifier(good), "\(good)") }
        for bad in ["", ".", "..", "a/b", "a b", "é", String(repeating: "x", count: 65)] { #expect(!isIdentifier(bad), "\(bad)") }
        #expect(isIdentifier(String(repeating: "x", count: 100), maxLength: 128))
        #expect(printable("a\tb\\c\u{1b}") == "a\\x09b\\x5cc\\x1b")
        #expect(printable(String(repeating: "y", count: 70)).hasSuffix("..."))
        #expect(htmlEscape("<script>\"&'</script>") == "&lt;script&gt;&quot;&amp;&#39;&lt;/script&gt;")
    }

    @Test("edit distance (Levenshtein, banded) and alignment cost (indel 2)")
    func distances() {
        #expect(boundedEditDistance(Array("ACGTACGT".utf8), Array("ACGACGT".utf8), limit: 2) == 1)
        #expect(boundedEditDistance(Array("AAAA".utf8), Array("TTTT".utf8), limit: 2) == 3)
        #expect(boundedEditDistance(Array("ACGT".utf8), Array("ACGT".utf8), limit: 0) == 0)
        #expect(alignmentCost(Array("ACGTACGT".utf8)[...], Array("ACGACGT".utf8)[...], gap: 2, limit: 4) == 2)
        #expect(alignmentCost(Array("ACGTACGT".utf8)[...], Array("ACGAACGT".utf8)[...], gap: 2, limit: 4) == 1)
        #expect(alignmentCost(Array("AAAAAAAA".utf8)[...], Array("TTTTTTTT".utf8)[...], gap: 2, limit: 3) == 4)
    }

    @Test("whether any competitor is within the limit (the tracker's check) equals a cost per competitor, for windows with substitutions, indels and clipped ends")
    func anyCompetitorWithin() {
        var random = SeededRandom(seed: 37, stream: "competitors")
        let letters = Array("ACGTN".utf8)
        func mutated(_ s: [UInt8], edits: Int) -> [UInt8] {
            var s = s
            for _ in 0..<edits {
                let p = random.below(max(1, s.count))
                switch random.below(3) {
                case 0 where !s.isEmpty: s[p] = letters[random.below(random.below(30) == 0 ? 5 : 4)]
                case 1 where !s.isEmpty: s.remove(at: p)
                default: s.insert(letters[random.below(4)], at: p)
                }
            }
            return s
        }
        var checked = 0, found = 0, differing: [String] = []
        for round in 0..<4_000 {
            // A target: flanks and a junction; competitors: other junctions between the same flanks.
            let left = (0..<(5 + random.below(20))).map { _ in letters[random.below(4)] }, right = (0..<(5 + random.below(20))).map { _ in letters[random.below(4)] }
            let junction = (0..<(10 + random.below(60))).map { _ in letters[random.below(4)] }
            let target = left + junction + right
            let competitors = (0..<(1 + random.below(30))).map { _ in left + mutated(junction, edits: random.below(5)) + right }
            var all: [UInt8] = [], starts = [0]
            for c in competitors { all += c; starts.append(all.count) }
            let clipLeft = random.below(3) == 0 ? random.below(left.count + 1) : 0, clipRight = random.below(3) == 0 ? random.below(right.count + 1) : 0
            let cut = Array(target[clipLeft..<(target.count - clipRight)])
            // The window: a competitor's or the target's part, with a few sequencing errors.
            let source = random.below(2) == 0 ? cut : Array(competitors[random.below(competitors.count)].dropFirst(clipLeft).dropLast(clipRight))
            let window = mutated(source, edits: random.below(4))
            let gap = [1, 2, 2, 3][random.below(4)], limit = random.below(round % 5 == 0 ? 8 : 4)
            let expected = competitors.contains { c in
                let kept = clipLeft + clipRight < c.count ? Array(c[clipLeft..<(c.count - clipRight)]) : []
                return alignmentCost(window[...], kept[...], gap: gap, limit: limit) <= limit
            }
            let got = window.withUnsafeBufferPointer { w in
                all.withUnsafeBufferPointer { a in
                    starts.withUnsafeBufferPointer { s in mrd_any_within(w.baseAddress, w.count, a.baseAddress, s.baseAddress, s.count - 1, clipLeft, clipRight, gap, limit) }
                }
            } != 0
            if got != expected { differing.append("round \(round): \(got) vs \(expected), gap \(gap) limit \(limit)") }
            checked += 1
            if expected { found += 1 }
        }
        #expect(checked == 4_000 && found > 1_000 && found < 3_500, "\(found)")
        #expect(differing.isEmpty, "\(differing.prefix(5))")
    }

    @Test("the banded alignment cost equals the whole table (min(cost, limit + 1)) on random pairs with indels and substitutions")
    func bandedCostEqualsFullTable() {
        /// The whole dynamic-programming table, no band, no cut-off.
        func fullTable(_ a: [UInt8], _ b: [UInt8], gap: Int, limit: Int) -> Int {
            var previous = (0...b.count).map { $0 * gap }
            for i in stride(from: 1, through: a.count, by: 1) {
                var current = [i * gap] + [Int](repeating: 0, count: b.count)
                for j in stride(from: 1, through: b.count, by: 1) {
                    current[j] = min(previous[j] + gap, current[j - 1] + gap, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
                }
                previous = current
            }
            return min(previous[b.count], limit + 1)
        }
        var random = SeededRandom(seed: 17, stream: "banded")
        let letters = Array("ACGT".utf8)
        var compared = 0
        for round in 0..<20_000 {
            // Up to 100 nt a quarter of the time: the equal-length count runs 16 bases at a time.
            let a = (0..<random.below(round % 4 == 0 ? 100 : 40)).map { _ in letters[random.below(4)] }
            var b: [UInt8] = []
            if random.bernoulli(0.7) {
                for base in a {
                    let u = random.below(100)
                    if u < 6 { b.append(letters[random.below(4)]) } else if u < 9 { continue } else if u < 12 { b += [letters[random.below(4)], base] } else { b.append(base) }
                }
            } else {
                b = (0..<random.below(40)).map { _ in letters[random.below(4)] }
            }
            let gap = 1 + random.below(3), limit = random.below(12)
            #expect(alignmentCost(a[...], b[...], gap: gap, limit: limit) == fullTable(a, b, gap: gap, limit: limit), "\(a) \(b) gap \(gap) limit \(limit)")
            if gap == 1 { #expect(boundedEditDistance(a, b, limit: limit) == fullTable(a, b, gap: 1, limit: limit)) }
            compared += 1
        }
        #expect(compared == 20_000)
    }

    @Test("content hash: same bytes same hash, whatever the file name; one byte changes it")
    func contentHashes() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("mrd-core-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let a = folder.appendingPathComponent("a"), b = folder.appendingPathComponent("b"), c = folder.appendingPathComponent("c")
        try Data("ACGT\n".utf8).write(to: a)
        try Data("ACGT\n".utf8).write(to: b)
        try Data("ACGA\n".utf8).write(to: c)
        #expect(try contentHash([a.path]) == contentHash([b.path]))
        #expect(try contentHash([a.path]) != contentHash([c.path]))
        #expect(try contentHash([a.path, c.path]) != contentHash([c.path, a.path]))
        #expect { try contentHash([folder.appendingPathComponent("none").path]) } throws: { ($0 as? ReadError)?.exitCode == 66 }
    }

    @Test("parallel map keeps input order whatever the thread count")
    func parallelMapOrder() {
        let values = Array(0..<10_000)
        for threads in [1, 2, 3, 8] { #expect(values.parallelMap(threads: threads) { $0 * 3 } == values.map { $0 * 3 }) }
    }
}
