import Foundation

/// The bound on a baseline's memory: its groups (one per distinct locus, kind and junction) are
/// what grows with the number of distinct reads. The workers meet every `epochBatches` batches
/// and count the distinct junctions of all their tallies together; once there are `maxGroups`,
/// the junctions seen so far are frozen: from the next batch on, a read of a junction not among
/// them opens no group; it joins the frozen clone it is a sequencing-error satellite of (see
/// `FrozenGroupKeys`), or is counted as not kept (per locus, in the locus's reads). Where the
/// limit falls depends on the input only (the batches are cut by size, the count is over all
/// workers), so the outputs stay the same whatever the thread count. A diagnosis that never
/// reaches the limit is untouched.
public struct GroupLimit: Sendable {
    /// Distinct junction groups before the set is frozen (0: no limit).
    public var maxGroups: Int
    /// Batches (4 MiB of reads each, ~12,000 reads of 150 nt) between counts.
    public var epochBatches: Int

    /// 400,000 groups: about three times a noisy 1M-read diagnosis's (127,000), some 300-400 MB
    /// of groups; counted every 16 batches (64 MiB of FASTQ, ~190,000 reads of 150 nt).
    public static let standard = GroupLimit(maxGroups: 400_000, epochBatches: 16)

    public init(maxGroups: Int, epochBatches: Int) {
        self.maxGroups = maxGroups
        self.epochBatches = epochBatches
    }
}

/// The junction keys (locus, kind, junction) of the groups when the limit was reached, with
/// their reads by then: read by every worker, never changed.
///
/// A read of a new junction one substitution or one-base indel from a key with at least the
/// fold's one-difference ratio of reads (200), or two from one with its two-difference ratio
/// (5000), is a sequencing-error satellite of that clone, as the fold would find at the end: its
/// read is added to that clone (`parent(of:locus:)`), so that a clone's count hardly falls once
/// the limit is reached (the fold's quality rules, which need the reads' qualities at the end,
/// are not applied).
final class FrozenGroupKeys: @unchecked Sendable {
    private(set) var locus: [Locus] = []
    private(set) var kind: [RearrangementKind] = []
    private var starts: [Int32] = [0]
    private var bytes: [UInt8] = []
    private var reads: [Int] = []
    private var table: IndexHashTable
    /// Deletion-neighbourhood key (as the fold makes them) -> keys with enough reads to be a parent.
    private var parents: [UInt64: [Int32]] = [:]
    /// Keys with enough reads to be the parent of a two-difference satellite (a few at most).
    private var twoDifferenceParents: [Int] = []
    /// Reads seen when the keys were frozen.
    let readsBefore: Int

    var count: Int { locus.count }

    func junction(_ key: Int) -> ArraySlice<UInt8> { bytes[Int(starts[key])..<Int(starts[key + 1])] }

    init(_ tallies: UnsafeMutableBufferPointer<BaselineTally>, expected: Int) {
        table = IndexHashTable(expected: expected)
        readsBefore = tallies.reduce(0) { $0 + $1.total }
        for tally in tallies {
            for g in 0..<tally.groups.count {
                let group = tally.groups[g]
                tally.arena.withBytes(group.junction) { junction in
                    let hash = GroupTable.hash(junction)
                    let key = find(group.locus, group.kind, junction, hash: hash) ?? insert(group.locus, group.kind, junction, hash: hash)
                    reads[key] += group.count
                }
            }
        }
        var prefix: [UInt64] = []
        for key in 0..<count where Double(reads[key]) >= ErrorFolding.foldRatio {
            ErrorFolding.forEachNeighbourKey(Array(junction(key)), locus: locus[key], prefix: &prefix) { parents[$0, default: []].append(Int32(key)) }
            if Double(reads[key]) >= ErrorFolding.twoFoldRatio { twoDifferenceParents.append(key) }
        }
    }

    /// The key a read of this new junction folds into: one difference from it, the most reads,
    /// then the first junction in byte order (the same whatever the workers' order); nil if none.
    func parent(of junction: UnsafeBufferPointer<UInt8>, locus: Locus) -> Int? {
        guard !parents.isEmpty else { return nil }
        let read = Array(junction)
        var prefix: [UInt64] = [], candidates: [Int32] = []
        ErrorFolding.forEachNeighbourKey(read, locus: locus, prefix: &prefix) { candidates += parents[$0] ?? [] }
        var best: Int?
        for key in Set(candidates.map { Int($0) } + twoDifferenceParents) {
            guard self.locus[key] == locus else { continue }
            let distance = boundedEditDistance(Array(self.junction(key)), read, limit: 2)
            guard distance == 1 || (distance == 2 && Double(reads[key]) >= ErrorFolding.twoFoldRatio) else { continue }
            if let current = best, reads[current] > reads[key] || (reads[current] == reads[key]
                && !self.junction(key).lexicographicallyPrecedes(self.junction(current))) { continue }
            best = key
        }
        return best
    }

    func contains(_ locus: Locus, _ kind: RearrangementKind, _ junction: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Bool {
        find(locus, kind, junction, hash: hash) != nil
    }

    func find(_ locus: Locus, _ kind: RearrangementKind, _ junction: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int? {
        table.find(hash: hash) { key in
            let start = Int(starts[key]), length = Int(starts[key + 1]) - start
            return self.locus[key] == locus && self.kind[key] == kind && length == junction.count
                && bytes.withUnsafeBufferPointer { memcmp($0.baseAddress! + start, junction.baseAddress!, length) == 0 }
        }
    }

    private func insert(_ locus: Locus, _ kind: RearrangementKind, _ junction: UnsafeBufferPointer<UInt8>, hash: UInt64) -> Int {
        let key = self.locus.count
        self.locus.append(locus)
        self.kind.append(kind)
        reads.append(0)
        bytes.append(contentsOf: junction)
        starts.append(Int32(bytes.count))
        table.insert(key, hash: hash)
        return key
    }
}

/// The count kept across epochs: distinct junctions of all workers' tallies together.
final class GroupLimitState: @unchecked Sendable {
    let limit: GroupLimit
    private(set) var distinct = 0
    private(set) var frozen: FrozenGroupKeys?

    init(_ limit: GroupLimit) { self.limit = limit }

    /// At an epoch's end (the workers waiting): adds the junctions new in this epoch to the count
    /// (a junction new in several workers, or already held by another, counted once), and freezes
    /// the keys once the count reaches the limit.
    func epochEnded(_ tallies: UnsafeMutableBufferPointer<BaselineTally>) {
        guard frozen == nil, limit.maxGroups > 0 else { return }
        for w in tallies.indices {
            let tally = tallies[w]
            for g in tally.epochStartGroups..<tally.groups.count {
                let group = tally.groups[g]
                let seen = tally.arena.withBytes(group.junction) { junction in
                    let hash = GroupTable.hash(junction)
                    return tallies.indices.contains { v in
                        guard v != w, let h = tallies[v].groupIndex.find(group.locus, group.kind, junction, hash: hash,
                                                                          in: tallies[v].groups, arena: tallies[v].arena) else { return false }
                        // Held by another worker since an earlier epoch, or new there too and counted there.
                        return h < tallies[v].epochStartGroups || v < w
                    }
                }
                if !seen { distinct += 1 }
            }
        }
        for w in tallies.indices { tallies[w].epochStartGroups = tallies[w].groups.count }
        guard distinct >= limit.maxGroups else { return }
        let keys = FrozenGroupKeys(tallies, expected: distinct)
        frozen = keys
        for w in tallies.indices { tallies[w].frozenKeys = keys }
    }
}
