import Foundation

/// What the fold and the clone order read of a clonotype: a built `Clonotype`, or a baseline's
/// group before its clonotype is made (so that satellites never become whole clonotypes).
protocol FoldableClone {
    var count: Int { get set }
    var forwardCount: Int { get set }
    var locus: Locus { get }
    var kind: RearrangementKind { get }
    var junction: [UInt8] { get }
    func meanQuality(at position: Int) -> Double
}

extension Clonotype: FoldableClone {}

/// Sequencing-error satellites folded into their parent clonotype, and the deterministic clone order.
enum ErrorFolding {
    /// Sorts most reads first, ties by locus, then junction, then kind (deterministic), moving each
    /// clonotype once: sorting the large structs themselves copies them (a dozen reference counts
    /// each) at every step of the sort.
    static func sortInOrder<Clone: FoldableClone>(_ clonotypes: inout [Clone]) {
        let counts = clonotypes.map(\.count), loci = clonotypes.map(\.locus), junctions = clonotypes.map(\.junction)
        let kinds = clonotypes.map(\.kind.rawValue)
        let permutation = clonotypes.indices.sorted { a, b in
            if counts[a] != counts[b] { return counts[a] > counts[b] }
            if loci[a] != loci[b] { return loci[a] < loci[b] }
            let order = compareBytes(junctions[a], junctions[b])
            if order != 0 { return order < 0 }
            return kinds[a] < kinds[b]
        }
        permute(&clonotypes, permutation)
    }

    /// memcmp order of two byte arrays, a proper prefix first (as `lexicographicallyPrecedes`):
    /// negative, zero or positive. Most clonotypes of a diagnosis tie on count, so the junctions decide.
    static func compareBytes(_ a: [UInt8], _ b: [UInt8]) -> Int {
        let common = min(a.count, b.count)
        let order = common == 0 ? 0 : a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in Int(memcmp(a.baseAddress!, b.baseAddress!, common)) } }
        return order != 0 ? order : a.count - b.count
    }

    /// Reorders `values` in place so that `values[i]` becomes the old `values[permutation[i]]`,
    /// by swaps along the permutation's cycles (each element moved, never copied).
    static func permute<T>(_ values: inout [T], _ permutation: [Int]) {
        var placed = [Bool](repeating: false, count: values.count)
        values.withUnsafeMutableBufferPointer { buffer in
            for start in buffer.indices where !placed[start] {
                var i = start
                while true {
                    placed[i] = true
                    let j = permutation[i]
                    if j == start { break }
                    swap(&buffer[i], &buffer[j])
                    i = j
                }
            }
        }
    }

    /// Folds sequencing-error satellites into their parent: a clonotype of the same locus whose
    /// junction is 1 substitution or 1-base indel from a clone at least 200x larger (2 differences:
    /// 5000x). Sequencing errors make each specific one-base variant of a junction well under 0.5%
    /// of its parent, while true near-neighbour clones of similar size stay apart. Quality makes the
    /// rule sharper: a substitution whose base has a mean quality under Q20 across the satellite's
    /// reads is an error signature (a real variant is read at the run's usual quality), so it folds
    /// into a parent only 20x larger; two such substitutions into one 400x larger (where quality
    /// falls along the read, the reads that reach the J carry several).
    static func fold<Clone: FoldableClone>(_ sorted: [Clone]) -> [Clone] {
        var clonotypes = sorted
        fold(inPlace: &clonotypes)
        return clonotypes
    }

    /// As `fold(_:)`, on the caller's array (a copy of every clonotype of a large diagnosis would
    /// be the command's peak memory).
    static func fold<Clone: FoldableClone>(inPlace clonotypes: inout [Clone]) {
        // Kept clonotypes by their index in `clonotypes`; folded ones are dropped at the end.
        var kept: [Int] = []
        var folded = [Bool](repeating: false, count: clonotypes.count)
        // Junctions one edit apart share a key of their deletion neighbourhood (the junction itself
        // and each one-base deletion), so one-difference parents are found by lookup, not by
        // comparing every pair. Only possible parents are indexed.
        var parents = NeighbourTable()
        var prefix: [UInt64] = []
        var candidates: [Int] = []
        let smallest = clonotypes.last?.count ?? 1
        for i in clonotypes.indices {
            let count = clonotypes[i].count, locus = clonotypes[i].locus
            candidates.removeAll(keepingCapacity: true)
            // No clone is 20x larger: nothing to fold into (the largest clones).
            if let largest = kept.first, Double(clonotypes[largest].count) >= lowQualityFoldRatio * Double(count) {
                forEachNeighbourKey(clonotypes[i].junction, locus: locus, prefix: &prefix) { key in parents.forEach(key) { candidates.append($0) } }
                // Two differences need a 5000x parent: only the largest clones can be one.
                for p in kept.indices {
                    guard Double(clonotypes[kept[p]].count) / Double(count) >= twoFoldRatio else { break }
                    candidates.append(p)
                }
            }
            candidates.sort()
            var parent: Int?
            for (n, p) in candidates.enumerated() where (n == 0 || candidates[n - 1] != p) && clonotypes[kept[p]].locus == locus {
                let ratio = Double(clonotypes[kept[p]].count) / Double(count)
                guard ratio >= lowQualityFoldRatio else { break }  // kept is in decreasing count order
                if folds(clonotypes[i], into: clonotypes[kept[p]], ratio: ratio) { parent = kept[p]; break }
            }
            // Else two substitutions both read under Q20, into a clone 400x larger: the few largest
            // clones, compared base by base (a junction of another length is skipped at once).
            if parent == nil {
                for p in kept.indices {
                    let candidate = kept[p]
                    guard Double(clonotypes[candidate].count) >= lowQualityTwoFoldRatio * Double(count) else { break }
                    if clonotypes[candidate].locus == locus && foldsAsTwoLowQualitySubstitutions(clonotypes[i], into: clonotypes[candidate]) {
                        parent = candidate
                        break
                    }
                }
            }
            if let parent {
                clonotypes[parent].count += count
                clonotypes[parent].forwardCount += clonotypes[i].forwardCount
                folded[i] = true
            } else {
                // Only a clone 20x larger than the smallest one can be anyone's parent.
                if Double(count) >= lowQualityFoldRatio * Double(smallest) {
                    let index = kept.count
                    forEachNeighbourKey(clonotypes[i].junction, locus: locus, prefix: &prefix) { parents.insert($0, index) }
                }
                kept.append(i)
            }
        }
        // Keep the survivors in place (moved, not copied), then restore the order (parents grew).
        var write = 0
        clonotypes.withUnsafeMutableBufferPointer { buffer in
            for i in buffer.indices where !folded[i] {
                if write != i { swap(&buffer[write], &buffer[i]) }
                write += 1
            }
        }
        clonotypes.removeLast(clonotypes.count - write)
        sortInOrder(&clonotypes)
    }

    private static func folds<Clone: FoldableClone>(_ satellite: Clone, into parent: Clone, ratio: Double) -> Bool {
        switch boundedEditDistance(parent.junction, satellite.junction, limit: 2) {
        case 1:
            if ratio >= foldRatio { return true }
            guard parent.junction.count == satellite.junction.count,
                  let position = satellite.junction.indices.first(where: { satellite.junction[$0] != parent.junction[$0] }) else { return false }
            return satellite.meanQuality(at: position) < 20
        case 2: return ratio >= twoFoldRatio
        default: return false
        }
    }

    /// Calls `body` with the key (locus and hash) of the junction itself and of each distinct
    /// one-base deletion, from prefix and suffix polynomial hashes (no shortened copies): deleting
    /// base i of s leaves hash(s[..<i]) * B^(n-1-i) + hash(s[i+1...]). Collisions only cost an
    /// edit-distance check.
    static func forEachNeighbourKey(_ s: [UInt8], locus: Locus, prefix: inout [UInt64], _ body: (UInt64) -> Void) {
        let n = s.count
        let base: UInt64 = 0x100_0000_01B3
        if prefix.count < n + 1 { prefix = [UInt64](repeating: 0, count: n + 1) }
        for i in 0..<n { prefix[i + 1] = prefix[i] &* base &+ UInt64(s[i]) }
        let salt = UInt64(locus.order) << 48
        func key(_ hash: UInt64, length: Int) -> UInt64 { SequenceMemo<Int>.mix(hash ^ UInt64(length) << 56 ^ salt) }
        body(key(prefix[n], length: n))
        var suffix: UInt64 = 0  // hash of s[i+1...]
        var power: UInt64 = 1   // B^(n-1-i)
        for i in stride(from: n - 1, through: 0, by: -1) {
            // One key per homopolymer run: deleting any base of a run leaves the same junction.
            if i == 0 || s[i] != s[i - 1] { body(key(prefix[i] &* power &+ suffix, length: n - 1)) }
            suffix = suffix &+ UInt64(s[i]) &* power
            power = power &* base
        }
    }

    /// Two substitutions (or one), each read at mean quality under Q20 across the satellite's reads
    /// (errors pile up where a read's quality falls).
    private static func foldsAsTwoLowQualitySubstitutions<Clone: FoldableClone>(_ satellite: Clone, into parent: Clone) -> Bool {
        let a = satellite.junction, b = parent.junction
        guard a.count == b.count else { return false }
        var differences = 0
        for k in a.indices where a[k] != b[k] {
            differences += 1
            if differences > 2 || satellite.meanQuality(at: k) >= 20 { return false }
        }
        return differences > 0
    }

    /// Neighbourhood key -> the kept clonotypes that have it: open addressing over the keys, each
    /// slot heading a list of clonotype indices.
    struct NeighbourTable {
        private var keys = [UInt64](repeating: 0, count: 1024)
        private var heads = [Int32](repeating: -1, count: 1024)
        private var values: [Int32] = []
        private var next: [Int32] = []
        private var used = 0

        /// Key 0 marks an empty slot, so a key of 0 is stored as 1 (a collision at worst).
        private func slot(_ key: UInt64) -> Int {
            let mask = keys.count - 1
            var slot = Int(truncatingIfNeeded: key) & mask
            while keys[slot] != 0 && keys[slot] != key { slot = (slot + 1) & mask }
            return slot
        }

        func forEach(_ key: UInt64, _ body: (Int) -> Void) {
            let s = slot(max(key, 1))
            guard keys[s] != 0 else { return }
            var entry = heads[s]
            while entry >= 0 {
                body(Int(values[Int(entry)]))
                entry = next[Int(entry)]
            }
        }

        mutating func insert(_ key: UInt64, _ value: Int) {
            let key = max(key, 1)
            if (used + 1) * 2 > keys.count { grow() }
            let s = slot(key)
            if keys[s] == 0 { keys[s] = key; used += 1 }
            values.append(Int32(value))
            next.append(heads[s])
            heads[s] = Int32(values.count - 1)
        }

        private mutating func grow() {
            let oldKeys = keys, oldHeads = heads
            keys = [UInt64](repeating: 0, count: oldKeys.count * 2)
            heads = [Int32](repeating: -1, count: oldKeys.count * 2)
            for (i, key) in oldKeys.enumerated() where key != 0 {
                let s = slot(key)
                keys[s] = key
                heads[s] = oldHeads[i]
            }
        }
    }

    /// Parent / satellite read ratio above which a one-difference junction is taken as an error.
    static let foldRatio = 200.0
    /// The same when the differing base was read at low quality.
    static let lowQualityFoldRatio = 20.0
    /// Two differences; two substitutions both read at low quality (20 x 20).
    static let twoFoldRatio = 5000.0
    static let lowQualityTwoFoldRatio = 400.0
}
