import Foundation

/// Matching tolerance of `mrd track`: a cost budget per 50 nt of junction, where a substitution costs
/// 1 and each inserted or deleted base 2 (the default 2 allows 2 substitutions or 1 indel per 50 nt).
public struct MatchTolerance: Sendable, Equatable {
    public var costPer50 = 2

    public init(costPer50: Int = 2) { self.costPer50 = costPer50 }

    static let substitutionCost = 1
    static let gapCost = 2

    /// The budget for a junction (or D-N-J part) of `length` nt: never below one substitution.
    public func budget(junctionLength length: Int) -> Int {
        max(1, Int((Double(costPer50) * Double(length) / 50).rounded()))
    }
}

/// One sequence `mrd track` looks for: an index clone's target (junction plus germline flanks), or
/// for IGH VDJ clones also its D-N-J part with the J flank (VH replacements keep it behind a new V).
public struct TrackedTarget: Sendable {
    /// Index into the tracked clones.
    public let clone: Int
    public let evolved: Bool
    /// V-to-J direction.
    public let sequence: [UInt8]
    /// Bases before and after the junction part; only these may be cut off by a read's end.
    public let leftFlank: Int
    public let rightFlank: Int
    public let budget: Int
    /// The same region of baseline clonotypes a read might be nearer to (same flanks, their junction).
    public var competitors: [[UInt8]] = []
    /// The clone's V bases just before `sequence` (V-to-J; its own from the baseline, else its
    /// germline V's), and the clone's D-N-J target: a read that matches this target but carries
    /// another V upstream is a VH replacement. On a D-N-J target: the clone's V before its junction,
    /// `upstreamGap` bases (the junction's V end) before the part, which a read that matches only the
    /// D-N-J part must not carry there to be a replacement.
    public var upstream: [UInt8] = []
    public var upstreamGap = 0
    public var evolvedTarget: Int?
    /// The clone's V genes (its V call's alleles without the allele number): a read taken for a
    /// VH replacement by its upstream bases is one only when its own V gene is none of these.
    public var vGenes: Set<String> = []
}

/// A read region aligned to a target, turned to the target's V-to-J direction.
public struct TargetWindow: Hashable, Sendable {
    public var target: Int32
    /// Target bases beyond the read's ends (flank only).
    public var clipLeft: Int16
    public var clipRight: Int16
    public var bases: Bases
}

/// The index of one follow-up's search: target k-mers (both strands), J-side germline k-mers (for
/// reads per locus) and spike-specific k-mers in one flat table, so a read is classified by one pass of
/// lookups over every other 12-mer. A read with no target k-mer costs only those lookups.
public struct TargetIndex: Sendable {
    public let targets: [TrackedTarget]
    public let spikes: [SpikeInCalibrator]
    /// Locus of each spike (from its V and J), nil when not recognised.
    public let spikeLoci: [Locus?]
    /// Target and spike k-mers: small, so the lookups every read makes stay in the fastest cache.
    let table: KmerTable<Hit>
    /// J-side germline k-mers -> locus index.
    let locusTable: KmerTable<Int32>
    let filter: KmerFilter
    let locusFilter: KmerFilter
    /// Sampled spike-specific k-mers a spike read must show.
    let spikeRequired: [Int32]
    /// Targets in both orientations: `oriented[2 t]` = target t, `oriented[2 t + 1]` its reverse complement.
    let oriented: [[UInt8]]
    /// Annotates the few reads whose upstream bases say VH replacement, to confirm another V gene.
    let annotator: Annotator
    static let k = 12
    static let stride = 2
    /// Locus k-mers are looked up at every 8th position (a J gene in a read spans several) until
    /// this many votes.
    static let locusStride = 8
    static let locusVotes = 3

    struct Hit: Sendable {
        enum Kind: UInt8, Sendable { case target, spike }
        var kind: Kind
        /// Oriented target or spike index.
        var id: Int32
        var offset: Int32
    }

    public init(targets: [TrackedTarget], annotator: Annotator, spikes: [SpikeInCalibrator]) {
        self.targets = targets
        self.spikes = spikes
        let scanner = KmerScanner(k: Self.k)
        var entries: [(UInt32, Hit)] = []
        var oriented: [[UInt8]] = []
        for target in targets {
            oriented.append(target.sequence)
            oriented.append(reverseComplement(target.sequence))
        }
        // Reads per locus: 3' elements (J, Kde, TRDD3), which every amplicon of the locus carries.
        var germlineKmers = Set<UInt32>()
        var locusEntries = Set<UInt64>()
        for element in annotator.elements {
            let locus = UInt64(Locus.allCases.firstIndex(of: element.locus)!)
            for strand in [element.sequence, reverseComplement(element.sequence)] {
                scanner.forEach(strand) { _, kmer in
                    germlineKmers.insert(kmer)
                    if !element.isFivePrime { locusEntries.insert(UInt64(kmer) << 8 | locus) }
                }
            }
        }
        locusTable = KmerTable(locusEntries.sorted().map { (UInt32($0 >> 8), Int32($0 & 0xFF)) })
        for (o, sequence) in oriented.enumerated() {
            // Germline k-mers of a target (its flanks, the V and J ends of the junction) are left
            // out: every read with the same V or J has them, and only the junction tells clones apart.
            scanner.forEach(sequence) { position, kmer in
                guard !germlineKmers.contains(kmer) else { return }
                entries.append((kmer, Hit(kind: .target, id: Int32(o), offset: Int32(position))))
            }
        }
        locusFilter = KmerFilter(locusEntries.map { UInt32($0 >> 8) }, bits: 18)
        let specific = spikeSpecificKmers(spikes, excluding: germlineKmers, scanner: scanner)
        let owners = specific.owners
        // One strand's specific k-mers, sampled at every other position: half of those.
        let required = specific.perSpike.map { Int32(max(2, $0 / (2 * Self.stride))) }
        // A spike hit's offset is its strand: 1 for a k-mer of the reverse strand only (the read's orientation).
        var forwardKmers = Set<UInt32>()
        for spike in spikes { scanner.forEach(spike.sequence) { _, kmer in forwardKmers.insert(kmer) } }
        for (kmer, s) in owners.sorted(by: { $0.key < $1.key }) {
            entries.append((kmer, Hit(kind: .spike, id: Int32(s), offset: forwardKmers.contains(kmer) ? 0 : 1)))
        }
        table = KmerTable(entries)
        filter = KmerFilter(entries.map(\.0), bits: 16)
        spikeRequired = required
        self.oriented = oriented
        self.annotator = annotator
        spikeLoci = spikes.map { spike in
            if case .success(let annotation) = annotator.annotate(spike.sequence, callD: false) { return annotation.locus }
            return nil
        }
    }

    /// What one read is.
    public enum Verdict: Sendable, Equatable {
        /// `reversed`: the read is the spike-in's reverse complement.
        case spikeIn(Int, reversed: Bool)
        /// `reversed`: the read is the target's reverse complement.
        case matched(target: Int, cost: Int, window: TargetWindow, qualities: [UInt8], reversed: Bool)
        case unmatched
    }

    /// Per-worker scratch space, so that scanning a read allocates nothing.
    public struct Scratch: Sendable {
        var spikeHits: [Int32]
        /// Of those, hits by k-mers of the spike-in's reverse strand only.
        var spikeReverseHits: [Int32]
        var touchedSpikes: [Int32] = []
        var locusVotes = [Int32](repeating: 0, count: Locus.allCases.count)
        var candidates: [(oriented: Int32, diagonal: Int32, hits: Int32)] = []
        var costs: [Int32] = []
        var starts: [Int32] = []
        /// For the annotation of candidate VH replacements (made at the first one).
        var annotation: AnnotationScratch?

        public init(index: TargetIndex) {
            spikeHits = [Int32](repeating: 0, count: index.spikes.count)
            spikeReverseHits = [Int32](repeating: 0, count: index.spikes.count)
        }
    }

    /// Classifies one read: spike-in, matched to a target (the cheapest; full targets before D-N-J
    /// ones), or neither; `locus` gets the locus its J-side k-mers vote for.
    public func classify(_ read: UnsafeBufferPointer<UInt8>, quality: UnsafeBufferPointer<UInt8>, scratch: inout Scratch,
                         locus: inout Int?) -> Verdict {
        let found = classifyBases(read, scratch: &scratch)
        locus = found.locus
        return found.verdict(quality: quality, readLength: read.count)
    }

    /// `classify` through a per-worker memo of distinct read sequences: amplicon libraries repeat
    /// the same molecules, and a repeated read then costs a hash and a compare. Same verdicts.
    public func classify(_ read: UnsafeBufferPointer<UInt8>, quality: UnsafeBufferPointer<UInt8>, scratch: inout Scratch,
                         memo: inout SequenceMemo<BasesVerdict>, locus: inout Int?) -> Verdict {
        let hash = SequenceMemo<BasesVerdict>.readHash(read)
        let found: BasesVerdict
        if let entry = memo.index(of: read, hash: hash) {
            found = memo[entry]
        } else {
            found = classifyBases(read, scratch: &scratch)
            _ = memo.insert(read, hash: hash, payload: found)
        }
        locus = found.locus
        return found.verdict(quality: quality, readLength: read.count)
    }

    /// What a read's bases decide (its qualities only follow along): the verdict, the locus, and
    /// where in the read a match lies.
    public struct BasesVerdict: Sendable {
        enum Kind: Sendable {
            case spikeIn(Int, reversed: Bool)
            case matched(target: Int, cost: Int, window: TargetWindow, start: Int, end: Int, reversed: Bool)
            case unmatched
        }
        var kind: Kind
        var locus: Int?

        func verdict(quality: UnsafeBufferPointer<UInt8>, readLength: Int) -> Verdict {
            switch kind {
            case .spikeIn(let spike, let reversed): return .spikeIn(spike, reversed: reversed)
            case .unmatched: return .unmatched
            case .matched(let target, let cost, let window, let start, let end, let reversed):
                var qualities = quality.count == readLength ? Array(quality[start..<end]) : []
                if reversed { qualities.reverse() }
                return .matched(target: target, cost: cost, window: window, qualities: qualities, reversed: reversed)
            }
        }
    }

    func classifyBases(_ read: UnsafeBufferPointer<UInt8>, scratch: inout Scratch) -> BasesVerdict {
        var locus: Int?
        let kind = classifyBases(read, scratch: &scratch, locus: &locus)
        return BasesVerdict(kind: kind, locus: locus)
    }

    private func classifyBases(_ read: UnsafeBufferPointer<UInt8>, scratch: inout Scratch, locus: inout Int?) -> BasesVerdict.Kind {
        scratch.candidates.removeAll(keepingCapacity: true)
        for i in scratch.locusVotes.indices { scratch.locusVotes[i] = 0 }
        let scanner = KmerScanner(k: Self.k)
        var locusVotesLeft = Self.locusVotes
        let loci = locusTable, filter = self.filter, locusFilter = self.locusFilter
        table.hits.withUnsafeBufferPointer { hits in
            scanner.forEach(read) { position, kmer in
                guard position % Self.stride == 0 else { return }
                // The locus needs a few votes, not every k-mer.
                if locusVotesLeft > 0 && position % Self.locusStride == 0 && locusFilter.mayContain(kmer) {
                    for h in loci.range(kmer) {
                        scratch.locusVotes[Int(loci.hits[h])] += 1
                        locusVotesLeft -= 1
                    }
                }
                guard filter.mayContain(kmer) else { return }
                for h in table.range(kmer) {
                    let hit = hits[h]
                    switch hit.kind {
                    case .spike:
                        if scratch.spikeHits[Int(hit.id)] == 0 { scratch.touchedSpikes.append(hit.id) }
                        scratch.spikeHits[Int(hit.id)] += 1
                        scratch.spikeReverseHits[Int(hit.id)] += hit.offset
                    case .target:
                        let diagonal = Int32(position) - hit.offset
                        if let c = scratch.candidates.firstIndex(where: { $0.oriented == hit.id && abs($0.diagonal - diagonal) <= 3 }) {
                            scratch.candidates[c].hits += 1
                        } else {
                            scratch.candidates.append((hit.id, diagonal, 1))
                        }
                    }
                }
            }
        }
        var bestVotes: Int32 = 0
        locus = nil
        for (l, votes) in scratch.locusVotes.enumerated() where votes > bestVotes { bestVotes = votes; locus = l }
        var spike: Int?, spikeReversed = false
        for s in scratch.touchedSpikes {
            if scratch.spikeHits[Int(s)] >= spikeRequired[Int(s)], spike == nil || scratch.spikeHits[Int(s)] > scratch.spikeHits[spike!] {
                spike = Int(s)
                spikeReversed = 2 * scratch.spikeReverseHits[Int(s)] > scratch.spikeHits[Int(s)]
            }
            scratch.spikeHits[Int(s)] = 0
            scratch.spikeReverseHits[Int(s)] = 0
        }
        scratch.touchedSpikes.removeAll(keepingCapacity: true)
        if let spike { return .spikeIn(spike, reversed: spikeReversed) }
        guard !scratch.candidates.isEmpty else { return .unmatched }

        typealias Found = (target: Int, cost: Int, oriented: Int, start: Int, end: Int, clipLeft: Int, clipRight: Int)
        // Within budget: full targets first, then D-N-J parts. Failing both, the cheapest match in
        // the halo (one substitution past the budget): never counted, but its window tells the
        // clustering of a normal near-neighbour the baseline did not see (`FollowUp.cluster`).
        var best: Found?, halo: Found?
        for pass in [false, true] {
            for candidate in scratch.candidates {
                let o = Int(candidate.oriented), t = o / 2
                guard targets[t].evolved == pass else { continue }
                guard let found = align(o, diagonal: Int(candidate.diagonal), read, scratch: &scratch) else { continue }
                let entry: Found = (t, found.cost, o, found.start, found.end, found.clipLeft, found.clipRight)
                if found.cost <= targets[t].budget {
                    if best == nil || found.cost < best!.cost || (found.cost == best!.cost && t < best!.target) { best = entry }
                } else if halo == nil || (found.cost, t) < (halo!.cost, halo!.target) {
                    // (Full targets are all seen before D-N-J ones: a later pass never displaces them.)
                    if halo == nil || targets[halo!.target].evolved == pass { halo = entry }
                }
            }
            if best != nil { break }
        }
        // A VH replacement can keep the old V's last bases and differ from the target by little
        // more than sequencing errors; the V upstream of the target tells it apart.
        if let found = best, let evolved = targets[found.target].evolvedTarget,
           upstreamComparison(read, target: found.target, reversed: found.oriented % 2 == 1, start: found.start, end: found.end).anotherV,
           !carriesCloneV(read, target: found.target, scratch: &scratch) {
            for candidate in scratch.candidates where Int(candidate.oriented) / 2 == evolved {
                let o = Int(candidate.oriented)
                guard let match = align(o, diagonal: Int(candidate.diagonal), read, scratch: &scratch),
                      match.cost <= targets[evolved].budget else { continue }
                best = (evolved, match.cost, o, match.start, match.end, match.clipLeft, match.clipRight)
                break
            }
        }
        guard let best = best ?? halo else { return .unmatched }
        // A read that matched only a D-N-J part is a VH replacement only if the bases before that
        // part are not the clone's own: the clone's V there makes it the clone's read with too many
        // errors in its target, or a normal clone's a substitution or two from it (same V, same
        // D-N-J): neither is counted.
        if targets[best.target].evolved,
           upstreamComparison(read, target: best.target, reversed: best.oriented % 2 == 1, start: best.start, end: best.end).sameV
            || carriesCloneV(read, target: best.target, scratch: &scratch) {
            return .unmatched
        }
        var bases = Array(read[best.start..<best.end])
        var clipLeft = best.clipLeft, clipRight = best.clipRight
        let reversed = best.oriented % 2 == 1
        if reversed {
            bases = reverseComplement(bases)
            swap(&clipLeft, &clipRight)
        }
        let window = TargetWindow(target: Int32(best.target), clipLeft: Int16(clipLeft), clipRight: Int16(clipRight), bases: Bases(bases))
        return .matched(target: best.target, cost: best.cost, window: window, start: best.start, end: best.end, reversed: reversed)
    }

    /// Fewest upstream bases compared for a read to be called a VH replacement.
    static let upstreamCompared = 20
    /// Cost past a target's budget up to which a read is still aligned (its window tallied and
    /// rejected): one substitution.
    static let halo = MatchTolerance.substitutionCost

    /// Whether a verdict is a match in the halo (past its target's budget: tallied, never counted).
    public func isHalo(_ verdict: Verdict) -> Bool {
        if case .matched(let target, let cost, _, _, _) = verdict { return cost > targets[target].budget }
        return false
    }

    /// The read's bases before a match (V side) against the target's `upstream` (the clone's own V
    /// from the diagnosis, else its germline allele's): another V (at least 4 mismatches of 20 or
    /// more compared: more than sequencing errors would make), the same V (fewer), or neither
    /// (under 20 compared). The upstream is compared at shifts of up to `upstreamShift` bases and
    /// the best one counts: an inserted or deleted base between it and the match (a sequencing
    /// slip in the junction's V end or N region) must not make the clone's own V look like another.
    func upstreamComparison(_ read: UnsafeBufferPointer<UInt8>, target t: Int, reversed: Bool, start: Int, end: Int)
        -> (anotherV: Bool, sameV: Bool) {
        let upstream = targets[t].upstream, gap = targets[t].upstreamGap
        guard !upstream.isEmpty else { return (false, false) }
        var fewest = Int.max
        for shift in -Self.upstreamShift...Self.upstreamShift {
            var compared = 0, mismatches = 0
            for (i, base) in upstream.enumerated() {
                // Forward: the bases before `start`; reversed: after `end`, complemented, in reverse order.
                let position = reversed ? end + gap + shift + (upstream.count - 1 - i) : start - gap + shift - upstream.count + i
                guard position >= 0 && position < read.count else { continue }
                compared += 1
                let observed = reversed ? complementTable[Int(read[position])] : read[position]
                if observed != base { mismatches += 1 }
            }
            if compared >= Self.upstreamCompared { fewest = min(fewest, mismatches) }
        }
        guard fewest < Int.max else { return (false, false) }
        return (fewest >= 4, fewest < 4)
    }

    /// Bases by which the upstream comparison may slide (sequencing indels between it and the match).
    static let upstreamShift = 2

    /// Whether the read, annotated as a baseline read is, has one of the clone's V genes: then it is
    /// no VH replacement, whatever its upstream bases (a noisy read, the tail of a poor mate, can
    /// differ from the clone's V in 4 of 30 bases by sequencing errors alone; the V gene is called
    /// over the whole V the read holds). Reads without a V call, or of a clone without V genes,
    /// are left to the upstream comparison.
    func carriesCloneV(_ read: UnsafeBufferPointer<UInt8>, target t: Int, scratch: inout Scratch) -> Bool {
        let genes = targets[t].vGenes
        guard !genes.isEmpty else { return false }
        if scratch.annotation == nil { scratch.annotation = AnnotationScratch(annotator) }
        guard case .success(let annotation) = annotator.annotate(read, scratch: &scratch.annotation!, callD: false),
              !annotation.vCall.isEmpty else { return false }
        return annotation.vCall.split(separator: ",").contains { genes.contains(GermlineSegment.gene(of: $0)) }
    }

    /// Semi-global banded alignment of oriented target `o` on the read around `diagonal` (read
    /// position of the target's first base): the whole target must align, except flank bases beyond
    /// the read's ends; the read is free on both sides. Returns the cheapest alignment within budget
    /// plus the halo.
    func align(_ o: Int, diagonal: Int, _ read: UnsafeBufferPointer<UInt8>, scratch: inout Scratch)
        -> (cost: Int, start: Int, end: Int, clipLeft: Int, clipRight: Int)? {
        let target = targets[o / 2]
        let sequence = oriented[o]
        // Flanks in this orientation.
        let (flankBefore, flankAfter) = o % 2 == 0 ? (target.leftFlank, target.rightFlank) : (target.rightFlank, target.leftFlank)
        let budget = target.budget + Self.halo
        let band = budget / MatchTolerance.gapCost
        let clipLeft = max(0, -diagonal)  // target bases before read position 0
        let clipRight = max(0, diagonal + sequence.count - read.count)
        guard clipLeft <= flankBefore, clipRight <= flankAfter, clipLeft + clipRight < sequence.count else { return nil }
        let m = sequence.count - clipLeft - clipRight
        let first = diagonal + clipLeft  // read position of the first aligned target base (band centre)
        let width = 2 * band + 1
        // Row i: target bases aligned so far; column c: read position first + i + (c - band).
        let infinity = Int32.max / 4
        if scratch.costs.count < width * 2 {
            scratch.costs = [Int32](repeating: infinity, count: width * 2)
            scratch.starts = [Int32](repeating: 0, count: width * 2)
        }
        let gap = Int32(MatchTolerance.gapCost)
        return sequence.withUnsafeBufferPointer { targetBases in
            scratch.costs.withUnsafeMutableBufferPointer { costs in
                scratch.starts.withUnsafeMutableBufferPointer { starts in
                    // Row 0: the alignment may start at any read position in the band (read is free).
                    for c in 0..<width {
                        costs[c] = infinity
                        let j = first + c - band
                        if j >= 0 && j <= read.count { costs[c] = 0; starts[c] = Int32(j) }
                    }
                    var previous = 0, current = width
                    for i in 1...m {
                        let base = targetBases[clipLeft + i - 1]
                        var rowMin = infinity
                        for c in 0..<width {
                            let j = first + i + c - band  // read bases consumed after this cell
                            var best = infinity, start: Int32 = 0
                            if j >= 1 && j <= read.count {
                                // Diagonal: previous row, same column (both advance by one).
                                let diagonalCost = costs[previous + c]
                                if diagonalCost < infinity {
                                    let cost = diagonalCost + (read[j - 1] == base ? 0 : 1)
                                    if cost < best { best = cost; start = starts[previous + c] }
                                }
                                // Read base inserted: same row, previous column.
                                if c > 0, costs[current + c - 1] < infinity, costs[current + c - 1] + gap < best {
                                    best = costs[current + c - 1] + gap; start = starts[current + c - 1]
                                }
                            }
                            // Target base deleted: previous row, next column (same read position).
                            if c + 1 < width, j >= 0, j <= read.count, costs[previous + c + 1] < infinity, costs[previous + c + 1] + gap < best {
                                best = costs[previous + c + 1] + gap; start = starts[previous + c + 1]
                            }
                            costs[current + c] = best
                            starts[current + c] = start
                            rowMin = min(rowMin, best)
                        }
                        if rowMin > Int32(budget) { return nil }
                        swap(&previous, &current)
                    }
                    var bestCost = infinity, bestColumn = -1
                    for c in 0..<width where costs[previous + c] < bestCost { bestCost = costs[previous + c]; bestColumn = c }
                    guard bestCost <= Int32(budget), bestColumn >= 0 else { return nil }
                    let end = first + m + bestColumn - band
                    return (Int(bestCost), Int(starts[previous + bestColumn]), end, clipLeft, clipRight)
                }
            }
        }
    }
}
