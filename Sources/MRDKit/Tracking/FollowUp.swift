import Foundation
import CSequenceKernels

/// Options of `mrd track`'s counting stage.
public struct TrackOptions: Sendable {
    public var tolerance = MatchTolerance()
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    /// Count VH-replacement reads (index D-N-J behind another V) as leukemic.
    public var countEvolved = true
    /// UMI length at the start of read 1 (0 = no UMIs).
    public var umiLength = 0
    /// Distinct read sequences memoised per worker (0 turns the memo off; results are the same).
    /// 2^13: classifying a follow-up read is cheap (most carry no target k-mer), so a larger memo
    /// (about 700 bytes an entry with its read) bought no speed on a 4M-read follow-up: 2^14 took
    /// 6 MB more per worker for the same time, 2^12 cost 12% of the time (docs/benchmarks.md).
    public var memoCapacity = 1 << 13
    public init() {}
}

/// Reads of one tracked clone in a follow-up sample.
public struct TrackedCloneCount: Sendable, Equatable {
    public var clone: BaselineClone
    /// Reads of the index clone (exact, or within tolerance and judged sequencing error).
    public var reads = 0
    /// Of those, reads identical to the target.
    public var exactReads = 0
    /// Of those, reads on the target's own strand (V-to-J).
    public var forwardReads = 0
    /// Reads with the clone's D-N-J part behind another V (VH replacement).
    public var evolvedReads = 0
    /// Reads within tolerance that were nearer to another baseline clonotype, or to a variant
    /// abundant enough to be a clone of its own: not counted.
    public var rejectedReads = 0
    /// Error-corrected distinct UMIs of the counted reads (evolved included when counted).
    public var umis = 0
    public var evolvedUMIs = 0
    /// Reads of the clone's most-read UMI (its own or, when counted, its evolved reads').
    public var largestUMIFamily = 0
    /// Reads expected to be counted although they came from an abundant neighbour: its reads
    /// misread, at the one base where it differs from the target, into the target's base.
    public var expectedBleedReads = 0.0
}

/// What a follow-up sample contained.
public struct FollowUpCounts: Sendable {
    public var sampleID: String
    public var totalReads = 0
    /// Paired-end input: pairs read and merged (nil for single-end).
    public var pairs: PairCounts?
    public var spikeInReads: [Int] = []
    /// With UMIs: each spike-in's distinct UMIs after error correction (nil without UMIs).
    public var spikeInUMIs: [Int]?
    public var readsPerLocus: [Locus: Int] = [:]
    /// Reads with no J-side germline k-mer (primer dimers, off-target).
    public var readsWithoutLocus = 0
    public var clones: [TrackedCloneCount] = []
    /// Spike-in reads read on the spike's own strand.
    public var spikeInForwardReads = 0
    /// What the UMI bases of the reads look like (with UMIs only).
    public var umiProfile: UMIProfile?
    /// V identities of the reads annotated in full for the library check (`FollowUpTracker.librarySample`).
    public var vIdentity = VIdentityHistogram()
}

/// The UMI bases of a sample's reads, to tell random UMIs from a `--umi` given on reads without
/// them (whose first bases are then primer or germline sequence, shared by most reads).
public struct UMIProfile: Sendable, Equatable {
    /// Reads hashed by UMI into this many buckets (merging is addition: independent of threads).
    static let buckets = 1 << 16
    public var length: Int
    public var reads = 0
    /// Per UMI position, counts of A, C, G, T (other bases not counted).
    var baseCounts: [Int]
    var bucketCounts: [UInt32]

    init(length: Int) {
        self.length = length
        baseCounts = [Int](repeating: 0, count: 4 * length)
        bucketCounts = [UInt32](repeating: 0, count: Self.buckets)
    }

    mutating func add(_ umi: UnsafeBufferPointer<UInt8>) {
        reads += 1
        var hash: UInt64 = 0xcbf29ce484222325
        for (p, base) in umi.enumerated() {
            hash = (hash ^ UInt64(base)) &* 0x100000001b3
            switch base | 0x20 {
            case UInt8(ascii: "a"): baseCounts[4 * p] += 1
            case UInt8(ascii: "c"): baseCounts[4 * p + 1] += 1
            case UInt8(ascii: "g"): baseCounts[4 * p + 2] += 1
            case UInt8(ascii: "t"): baseCounts[4 * p + 3] += 1
            default: break
            }
        }
        bucketCounts[Int(truncatingIfNeeded: hash >> 48)] &+= 1
    }

    mutating func merge(_ other: UMIProfile) {
        reads += other.reads
        for i in baseCounts.indices { baseCounts[i] += other.baseCounts[i] }
        for i in bucketCounts.indices { bucketCounts[i] &+= other.bucketCounts[i] }
    }

    /// Share of the reads in the ten commonest UMIs (an upper bound: UMIs sharing a hash bucket
    /// add up). Random UMIs spread over 4^length values; primer bases pile up on a few.
    public var topTenShare: Double {
        guard reads > 0 else { return 0 }
        return Double(bucketCounts.sorted(by: >).prefix(10).reduce(0) { $0 + Int($1) }) / Double(reads)
    }

    /// Mean over positions of the commonest base's share (random: about 0.25-0.3).
    public var meanTopBaseShare: Double {
        guard length > 0 else { return 0 }
        var sum = 0.0
        for p in 0..<length {
            let counts = baseCounts[(4 * p)..<(4 * p + 4)]
            let total = counts.reduce(0, +)
            if total > 0 { sum += Double(counts.max()!) / Double(total) }
        }
        return sum / Double(length)
    }

    /// Fewest reads to judge from.
    public static let minReads = 500

    /// UMIs are taken as not random when the ten commonest values carry a quarter of the reads:
    /// each value is one molecule's family, and a quarter of a sample's reads in ten molecules means
    /// under about 40 molecules in all (a sample too empty to quantify anyway), while the first
    /// bases of UMI-free amplicon reads (primers, V and J starts) pile up on a few values.
    /// (`meanTopBaseShare` is reported alongside.)
    public var looksRandom: Bool {
        reads < Self.minReads || topTenShare < 0.25
    }
}

/// Per-worker tally of a follow-up.
struct TrackTally {
    struct WindowTally {
        var count = 0
        /// Reads matched on the target's own strand.
        var forward = 0
        /// A lone read's qualities as read (Phred+33; empty when it had none): most windows of a
        /// noisy follow-up full of leukemic reads are one read each, and two arrays of sums per
        /// base took 1.3 KB a window. The sums are made when a second read comes, with the same
        /// additions in the same order as before.
        private var firstQualities: [UInt8] = []
        private var qualitySums: [Int] = []
        /// Sum over the reads of each base's error probability (from its quality).
        private var errorSums: [Double] = []
        var umis: [Bases: Int] = [:]

        /// Adds a read of `length` bases with these qualities (none: Q40 each).
        mutating func add(qualities: [UInt8], length: Int) {
            count += 1
            if count == 1 && qualitySums.isEmpty {
                firstQualities = qualities.count == length ? qualities : []
                return
            }
            makeSums(length: length)
            if qualities.count == length {
                for p in qualities.indices {
                    let q = Int(qualities[p]) &- 33
                    qualitySums[p] += q
                    errorSums[p] += Self.errorProbability(score: q)
                }
            } else {
                for p in 0..<length { qualitySums[p] += Self.missingScore; errorSums[p] += Self.missingError }
            }
        }

        /// The sums of the reads so far (the lone read's values, added to zeros as before).
        private mutating func makeSums(length: Int) {
            guard qualitySums.isEmpty else { return }
            qualitySums = [Int](repeating: 0, count: length)
            errorSums = [Double](repeating: 0, count: length)
            for p in 0..<length {
                qualitySums[p] += firstQuality(at: p)
                errorSums[p] += firstError(at: p)
            }
            firstQualities = []
        }

        private func firstQuality(at p: Int) -> Int { firstQualities.isEmpty ? Self.missingScore : Int(firstQualities[p]) &- 33 }
        private func firstError(at p: Int) -> Double {
            firstQualities.isEmpty ? Self.missingError : Self.errorProbability(score: Int(firstQualities[p]) &- 33)
        }

        /// What a read without qualities (FASTA) counts as at each base: Q40.
        private static let missingScore = 40
        private static let missingError = 1e-4
        private static func errorProbability(score q: Int) -> Double { phredErrorProbability[max(0, min(q, 93))] }

        /// Sum of the reads' qualities at base p.
        func qualitySum(at p: Int) -> Int { qualitySums.isEmpty ? firstQuality(at: p) : qualitySums[p] }
        /// Sum of the reads' error probabilities at base p.
        func errorSum(at p: Int) -> Double { errorSums.isEmpty ? firstError(at: p) : errorSums[p] }

        /// Adds another worker's tally of the same window (`length` bases).
        mutating func merge(_ other: WindowTally, length: Int) {
            var other = other
            makeSums(length: length)
            other.makeSums(length: length)
            count += other.count
            forward += other.forward
            for p in qualitySums.indices where p < other.qualitySums.count { qualitySums[p] += other.qualitySums[p] }
            for p in errorSums.indices where p < other.errorSums.count { errorSums[p] += other.errorSums[p] }
            for (umi, n) in other.umis { umis[umi, default: 0] += n }
        }
    }
    var total = 0
    var spikes: [Int]
    /// With UMIs: each spike-in's UMIs and their reads (how many of its known copies the UMIs recover).
    var spikeUMIs: [[Bases: Int]] = []
    /// Spike-in reads on the spike's own strand: the sample's forward share, from molecules every
    /// read spans.
    var spikeForward = 0
    /// Per locus, and one more for reads without a locus.
    var loci = [Int](repeating: 0, count: Locus.allCases.count + 1)
    var windows: [TargetWindow: WindowTally] = [:]
    var umiProfile: UMIProfile?
    var scratch: TargetIndex.Scratch
    var memo: SequenceMemo<TargetIndex.BasesVerdict>
    /// The library check's annotations (`FollowUpCounts.vIdentity`).
    var vIdentity = VIdentityHistogram()
    var annotation: AnnotationScratch?
    /// Paired-end: overlapping mates merged before tracking.
    let merger = PairMerger()
    var pairs = PairCounts()

    init(index: TargetIndex, memoCapacity: Int = 0, umiLength: Int = 0) {
        spikes = [Int](repeating: 0, count: index.spikes.count)
        if umiLength > 0 {
            umiProfile = UMIProfile(length: umiLength)
            spikeUMIs = [[Bases: Int]](repeating: [:], count: index.spikes.count)
        }
        scratch = TargetIndex.Scratch(index: index)
        memo = SequenceMemo(capacity: memoCapacity)
    }

    mutating func merge(_ other: TrackTally) {
        total += other.total
        pairs.add(other.pairs)
        spikeForward += other.spikeForward
        if let theirs = other.umiProfile { umiProfile?.merge(theirs) }
        for i in spikes.indices { spikes[i] += other.spikes[i] }
        for i in spikeUMIs.indices where i < other.spikeUMIs.count {
            for (umi, n) in other.spikeUMIs[i] { spikeUMIs[i][umi, default: 0] += n }
        }
        for i in loci.indices { loci[i] += other.loci[i] }
        vIdentity.merge(other.vIdentity)
        for (key, tally) in other.windows {
            guard windows[key] != nil else { windows[key] = tally; continue }
            windows[key]!.merge(tally, length: key.bases.bytes.count)
        }
    }
}

/// `mrd track`'s counting: every read of a follow-up against the patient's index clones.
public struct FollowUpTracker: Sendable {
    public let clones: [BaselineClone]
    /// Indices (into `clones`) of the trackable ones, in file order.
    public let tracked: [Int]
    public let index: TargetIndex
    public let options: TrackOptions
    let annotator: Annotator
    /// Reads whose content hash is 0 modulo this are annotated in full, for the library check: is
    /// it human IG/TR at all (their median V identity; `low_v_identity`)? Chosen by content, the
    /// sample is the same whatever the thread count; 1 in 512 costs nothing measurable (1,000,000
    /// reads: 1.10-1.13 s with it, 1.09-1.23 s without).
    static let librarySample: UInt64 = 512

    /// Parent / variant read ratio above which a variant within tolerance is taken as sequencing
    /// error of the index clone (the baseline's folding rule), and the same for a variant whose
    /// differing bases were read at mean quality under Q20.
    static let foldRatio = 200
    static let lowQualityFoldRatio = 20
    /// A near-neighbour's reads per read of one of its third-base windows, at least (`cluster`).
    static let thirdBaseRatio = 10

    public init(clones: [BaselineClone], germline: GermlineReference, annotator: Annotator, spikeIns: [SpikeInCalibrator],
                options: TrackOptions = TrackOptions()) {
        self.clones = clones
        self.options = options
        self.annotator = annotator
        let tracked = clones.indices.filter { clones[$0].trackable }
        self.tracked = tracked
        var targets: [TrackedTarget] = []
        for (t, c) in tracked.enumerated() {
            let clone = clones[c]
            let junctionStart = clone.target.firstRange(of: clone.junction)!.lowerBound
            let left = Array(clone.target[..<junctionStart]), right = Array(clone.target[(junctionStart + clone.junction.count)...])
            let budget = options.tolerance.budget(junctionLength: clone.junction.count)
            var target = TrackedTarget(clone: t, evolved: false, sequence: clone.target, leftFlank: left.count,
                                       rightFlank: right.count, budget: budget)
            // Baseline clonotypes a read within budget could be nearer to: junctions within twice the budget.
            // (Rows of the same baseline sample only: a table that merges patients' baselines must
            // not let one patient's clonotypes shadow another's leukemia.)
            // (By index and field: copying each whole clone retains a dozen strings and arrays.)
            for o in clones.indices where o != c && clones[o].locus == clone.locus && clones[o].sampleID == clone.sampleID {
                let limit = 2 * budget
                if boundedEditDistance(clones[o].junction, clone.junction, limit: limit) <= limit {
                    target.competitors.append(left + clones[o].junction + right)
                }
            }
            if clone.locus == .IGH && clone.kind == .VDJ, let dnj = Self.dnjPart(clone, germline: germline) {
                target.evolvedTarget = targets.count + 1
                target.vGenes = Set(clone.vCall.split(separator: ",").map { GermlineSegment.gene(of: $0) })
                // The clone's own V before its target where the baseline gave it (a hypermutated V, or an
                // allele missing from the germline set, differs from every germline one), else its germline V.
                target.upstream = clone.upstream.count >= TargetIndex.upstreamCompared
                    ? clone.upstream : Self.upstreamOfTarget(clone, leftFlank: left.count, germline: germline)
                targets.append(target)
                let dnjBudget = options.tolerance.budget(junctionLength: dnj.count)
                var evolved = TrackedTarget(clone: t, evolved: true, sequence: dnj + right, leftFlank: 0, rightFlank: right.count,
                                            budget: dnjBudget)
                // The clone's V before its junction (its upstream bases and the target's left flank),
                // the junction's V end between it and the D-N-J part: a read carrying that V there is
                // no replacement.
                evolved.upstream = Array((target.upstream + left).suffix(BaselineClone.upstreamLength))
                evolved.upstreamGap = clone.junction.count - dnj.count
                evolved.vGenes = target.vGenes
                // Other baseline clonotypes ending like the D-N-J part compete for its reads: a
                // normal near-neighbour that differs in its V bases must not pass as a VH replacement
                // (on a tie nothing is counted).
                for o in clones.indices where o != c && clones[o].locus == clone.locus && clones[o].sampleID == clone.sampleID
                    && clones[o].junction.count >= dnj.count {
                    let suffix = Array(clones[o].junction.suffix(dnj.count))
                    if alignmentCost(suffix[...], dnj[...], gap: MatchTolerance.gapCost, limit: 2 * dnjBudget) <= 2 * dnjBudget { evolved.competitors.append(suffix + right) }
                }
                targets.append(evolved)
            } else {
                targets.append(target)
            }
        }
        index = TargetIndex(targets: targets, annotator: annotator, spikes: spikeIns)
    }

    /// Up to 30 germline bases of the clone's V before its target (which starts `leftFlank` bases
    /// before the Cys codon), or none when the V is not in the germline set.
    static func upstreamOfTarget(_ clone: BaselineClone, leftFlank: Int, germline: GermlineReference) -> [UInt8] {
        guard let first = clone.vCall.split(separator: ",").first,
              let v = germline.segment(named: first), let anchor = v.anchor else { return [] }
        let end = anchor - leftFlank
        guard end > 0 else { return [] }
        return Array(v.sequence[max(0, end - 30)..<end])
    }

    /// The junction after the V gene's contribution (N1-D-N2-J; at the earliest from its 7th base),
    /// when it holds at least 10 nt that are not J germline: what a VH replacement keeps.
    static func dnjPart(_ clone: BaselineClone, germline: GermlineReference) -> [UInt8]? {
        let junction = clone.junction
        func segment(_ calls: String) -> GermlineSegment? {
            guard let first = calls.split(separator: ",").first else { return nil }
            return germline.segment(named: first)
        }
        var vPart = 10
        if let v = segment(clone.vCall), let anchor = v.anchor {
            vPart = 0
            while vPart < junction.count, anchor + vPart < v.sequence.count, v.sequence[anchor + vPart] == junction[vPart] { vPart += 1 }
        }
        var jPart = 10
        if let j = segment(clone.jCall), let anchor = j.anchor {
            jPart = 0
            let end = anchor + 3  // last base of the Trp/Phe codon, exclusive
            while jPart < junction.count, end - 1 - jPart >= 0, j.sequence[end - 1 - jPart] == junction[junction.count - 1 - jPart] { jPart += 1 }
        }
        // A replacement keeps the old V's last bases (its footprint) but may cut into the first
        // bases after the Cys codon when the old V was trimmed short: start after both.
        let start = max(vPart, 6)
        guard junction.count - start - jPart >= 10 else { return nil }
        return Array(junction[start...])
    }

    /// - Parameter recordLimit: track only the first this many reads (pairs) of the sample.
    /// (`batchCapacity`: bytes of reads per batch; a run of a few reads, as a baseline's coverage
    /// pass, needs no 4 MiB batches in flight.)
    public func run(_ input: SampleInput, sampleID: String, recordLimit: Int = .max, batchCapacity: Int = 4 << 20) throws -> FollowUpCounts {
        let reader = try SampleReader(input)
        reader.recordLimit = recordLimit
        let index = self.index
        let umiLength = options.umiLength
        let memoCapacity = options.memoCapacity
        let annotator = self.annotator
        let tallies = try BatchPipeline.run(reader, workers: max(1, options.threads), batchCapacity: batchCapacity,
                                            makeTally: { TrackTally(index: index, memoCapacity: memoCapacity, umiLength: umiLength) }) { batch, tally in
            for i in 0..<batch.count {
                tally.total += 1
                // Paired-end: overlapping mates are one read, the whole amplicon (read 1 first, so
                // a UMI at its start stays at the start).
                let mergedRead = tally.merger.merged(batch, i, counts: &tally.pairs)
                let merged = mergedRead != nil
                let first = mergedRead ?? batch.read1[i]
                let umiCount = min(umiLength, first.sequence.count)
                let umi = umiCount > 0 ? Bases(Array(first.sequence.prefix(umiCount))) : nil
                if umiCount == umiLength && umiCount > 0 { tally.umiProfile?.add(UnsafeBufferPointer(rebasing: first.sequence.prefix(umiCount))) }
                func strip(_ b: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
                    guard umiCount > 0, b.count >= umiCount else { return b }
                    return UnsafeBufferPointer(rebasing: b[umiCount...])
                }
                let read = strip(first.sequence)
                if mrd_hash_bytes(read.baseAddress, read.count) % Self.librarySample == 0 {
                    if tally.annotation == nil { tally.annotation = AnnotationScratch(annotator) }
                    if case .success(let annotation) = annotator.annotate(read, scratch: &tally.annotation!, callD: false, gapped: true),
                       let v = annotation.vGapped {
                        tally.vIdentity.add(v.identity)
                    }
                }
                var locus: Int?
                var verdict = index.classify(read, quality: first.hasQuality ? strip(first.quality) : UnsafeBufferPointer(start: nil, count: 0),
                                             scratch: &tally.scratch, memo: &tally.memo, locus: &locus)
                // Paired-end: the mate, when read 1 is neither a spike-in nor a match within budget
                // (a match in the halo yields to the mate's within budget); and when read 1 matched
                // with differences, the mate's match (within budget or in the halo) when the mate
                // read the window at the better quality: a pair not merged reads the junction in
                // read 1's tail and in read 2's first cycles, and a near-miss normal read misread
                // into the clone's junction by read 1 is then the near miss it is.
                let readOneHalo = index.isHalo(verdict)
                let readOneInexact: Bool
                if case .matched(_, let cost, _, _, _) = verdict, cost > 0, !readOneHalo { readOneInexact = true } else { readOneInexact = false }
                // The orientation counted is the pair's, read 1's: a match on read 2 is on the other
                // strand. (Counted as the mate's own, every pair of a long junction read from the J
                // side looked like one orientation: coverage 0.5 and twice the templates, where
                // every pair has a mate across the junction.)
                var onMate = false
                if verdict == .unmatched || readOneHalo || readOneInexact, !merged, let mates = batch.read2 {
                    var mateLocus: Int?
                    let mate = mates[i]
                    let other = index.classify(mate.sequence, quality: mate.quality, scratch: &tally.scratch, memo: &tally.memo, locus: &mateLocus)
                    if readOneInexact {
                        if Self.windowReadBetter(other, than: verdict) { verdict = other; onMate = true }
                    } else if readOneHalo ? (other != .unmatched && !index.isHalo(other)) : other != .unmatched {
                        verdict = other
                        onMate = true
                    }
                    if locus == nil { locus = mateLocus }
                }
                switch verdict {
                case .spikeIn(let s, let reversed):
                    tally.spikes[s] += 1
                    if let umi, s < tally.spikeUMIs.count { tally.spikeUMIs[s][umi, default: 0] += 1 }
                    if reversed == onMate { tally.spikeForward += 1 }
                    continue
                case .matched(_, _, let window, let qualities, let reversed):
                    let length = window.bases.bytes.count
                    // Changed in place (a copy taken out and put back copied its arrays each read).
                    tally.windows[window, default: TrackTally.WindowTally()].add(qualities: qualities, length: length)
                    if reversed == onMate { tally.windows[window]!.forward += 1 }
                    if let umi { tally.windows[window]!.umis[umi, default: 0] += 1 }
                case .unmatched: break
                }
                tally.loci[locus ?? Locus.allCases.count] += 1
            }
        }
        var merged = TrackTally(index: index, umiLength: umiLength)
        for tally in tallies { merged.merge(tally) }
        var counts = finish(merged, sampleID: sampleID)
        counts.pairs?.interleaved = reader.interleaved
        return counts
    }

    /// Whether `other` (the mate's verdict) is a match whose window was read at the better quality
    /// than `verdict`'s (fewer expected errors; not on a tie, nor without qualities).
    static func windowReadBetter(_ other: TargetIndex.Verdict, than verdict: TargetIndex.Verdict) -> Bool {
        guard case .matched(_, _, _, let otherQualities, _) = other, case .matched(_, _, _, let qualities, _) = verdict,
              !otherQualities.isEmpty, !qualities.isEmpty else { return false }
        func expectedErrors(_ q: [UInt8]) -> Double {
            q.withUnsafeBufferPointer { expectedJunctionErrors($0, readLength: $0.count, reversed: false, junctionStart: 0, junctionEnd: $0.count) }
        }
        return expectedErrors(otherQualities) < expectedErrors(qualities)
    }

    func finish(_ tally: TrackTally, sampleID: String) -> FollowUpCounts {
        var counts = FollowUpCounts(sampleID: sampleID)
        counts.totalReads = tally.total
        if tally.pairs.readPairs > 0 { counts.pairs = tally.pairs }
        counts.spikeInReads = tally.spikes
        if !tally.spikeUMIs.isEmpty { counts.spikeInUMIs = tally.spikeUMIs.map(Self.distinctUMIs) }
        for (l, locus) in Locus.allCases.enumerated() where tally.loci[l] > 0 { counts.readsPerLocus[locus] = tally.loci[l] }
        counts.readsWithoutLocus = tally.loci[Locus.allCases.count]
        counts.umiProfile = tally.umiProfile
        counts.vIdentity = tally.vIdentity
        counts.spikeInForwardReads = tally.spikeForward
        counts.clones = tracked.map { TrackedCloneCount(clone: clones[$0]) }
        var windowsByTarget: [Int32: [(TargetWindow, TrackTally.WindowTally)]] = [:]
        for (window, entry) in tally.windows { windowsByTarget[window.target, default: []].append((window, entry)) }
        for (t, target) in index.targets.enumerated() {
            let (reads, exact, rejected, umis, bleed, forward) = Self.cluster(target, windows: windowsByTarget[Int32(t)] ?? [],
                                                                              threads: options.threads)
            if target.evolved {
                counts.clones[target.clone].evolvedReads += reads
                counts.clones[target.clone].evolvedUMIs = Self.distinctUMIs(umis)
                if options.countEvolved {
                    counts.clones[target.clone].largestUMIFamily = max(counts.clones[target.clone].largestUMIFamily, umis.values.max() ?? 0)
                }
            } else {
                counts.clones[target.clone].reads += reads
                counts.clones[target.clone].forwardReads += forward
                counts.clones[target.clone].exactReads += exact
                counts.clones[target.clone].umis = Self.distinctUMIs(umis)
                counts.clones[target.clone].largestUMIFamily = max(counts.clones[target.clone].largestUMIFamily, umis.values.max() ?? 0)
                counts.clones[target.clone].expectedBleedReads = bleed
            }
            counts.clones[target.clone].rejectedReads += rejected
        }
        if options.countEvolved {
            // UMIs of evolved reads are templates of the leukemia too.
            for i in counts.clones.indices { counts.clones[i].umis += counts.clones[i].evolvedUMIs }
        }
        return counts
    }

    /// Decides which reads within tolerance of a target are the index clone's: windows are taken
    /// from the most read down; one counts when the target is strictly nearer than every baseline
    /// competitor and every variant already found to be a clone of its own, and when it is the
    /// target itself, a single read, or rare enough next to the reads already counted to be
    /// sequencing error (200x, or 20x when its differing bases were read under Q20). A variant that
    /// fails the last test is a clone of its own (a normal near-neighbour the baseline did not see)
    /// and competes for the windows after it.
    ///
    /// Every rejected window one substitution from the target adds to the expected bleed: each of
    /// its reads had the chance its base quality gives of being misread there, a third of the time
    /// into the target's base.
    static func cluster(_ target: TrackedTarget, windows: [(TargetWindow, TrackTally.WindowTally)], threads: Int = 1)
        -> (reads: Int, exact: Int, rejected: Int, umis: [Bases: Int], bleed: Double, forward: Int) {
        let sorted = windows.sorted { a, b in
            if a.1.count != b.1.count { return a.1.count > b.1.count }
            if a.0.clipLeft != b.0.clipLeft { return a.0.clipLeft < b.0.clipLeft }
            if a.0.clipRight != b.0.clipRight { return a.0.clipRight < b.0.clipRight }
            return a.0.bases.bytes.lexicographicallyPrecedes(b.0.bases.bytes)
        }
        func trimmed(_ sequence: [UInt8], _ window: TargetWindow) -> ArraySlice<UInt8> {
            let left = Int(window.clipLeft), right = Int(window.clipRight)
            guard left + right < sequence.count else { return [] }
            return sequence[left..<(sequence.count - right)]
        }
        var reads = 0, exact = 0, rejected = 0, bleed = 0.0, forward = 0
        var umis: [Bases: Int] = [:]
        /// The one position (from the start of `bases`) where two sequences of the same length
        /// differ, nil when they differ in another number of positions or lengths.
        func onlyDifference(_ bases: ArraySlice<UInt8>, _ other: ArraySlice<UInt8>) -> Int? {
            guard bases.count == other.count else { return nil }
            var position: Int?
            for (p, (a, b)) in zip(bases, other).enumerated() where a != b {
                if position != nil { return nil }
                position = p
            }
            return position
        }
        /// The expected misreads into the target of a window one substitution from it.
        func bleedOf(_ bases: ArraySlice<UInt8>, _ reference: ArraySlice<UInt8>, _ entry: TrackTally.WindowTally) -> Double {
            onlyDifference(bases, reference).map { entry.errorSum(at: $0) / 3 } ?? 0
        }
        func addBleed(_ bases: ArraySlice<UInt8>, _ reference: ArraySlice<UInt8>, _ entry: TrackTally.WindowTally) {
            bleed += bleedOf(bases, reference, entry)
        }
        // Each window's cost to the target and whether a baseline competitor is as near depend on
        // the window alone: computed side by side (a diagnosis tracked for its coverage has 10^4
        // distinct windows and, around a large clone, 10^3 unfolded satellites as competitors).
        // Windows beyond the budget are rejected whatever their competitors.
        let limit = target.budget + MatchTolerance.gapCost
        // The competitors end to end in one buffer: an array each would be retained and released
        // at every one of the 10^7 comparisons of a large noisy diagnosis.
        var competitorBytes: [UInt8] = [], competitorStarts: [Int] = [0]
        competitorStarts.reserveCapacity(target.competitors.count + 1)
        for competitor in target.competitors {
            competitorBytes += competitor
            competitorStarts.append(competitorBytes.count)
        }
        let costs = sorted.parallelMap(threads: threads, minimumCount: 256) { window, _ -> (toIndex: Int, nearerCompetitor: Bool) in
            let bases = window.bases.bytes[...]
            let toIndex = alignmentCost(bases, trimmed(target.sequence, window), gap: MatchTolerance.gapCost, limit: limit)
            guard toIndex <= target.budget else { return (toIndex, false) }
            let nearer = competitorStarts.count > 1 && bases.withUnsafeBufferPointer { read in
                competitorBytes.withUnsafeBufferPointer { all in
                    competitorStarts.withUnsafeBufferPointer { starts in
                        mrd_any_within(read.baseAddress, read.count, all.baseAddress, starts.baseAddress, starts.count - 1, Int(window.clipLeft),
                                       Int(window.clipRight), MatchTolerance.gapCost, toIndex) != 0
                    }
                }
            }
            return (toIndex, nearer)
        }
        /// A variant taken for a clone of its own (a normal near-neighbour): reads as near to it as
        /// to the target are not counted. When it differs from the target by one substitution
        /// (`difference`, target coordinates), its reads misread there are the target's: its expected
        /// misreads into the target are taken two ways, from the qualities of its reads that carry
        /// its base there (`modelBleed`; a merged pair's consensus quality understates how often
        /// one mate's error wins), and from its reads that show neither its base nor the target's
        /// there (`thirdBaseReads`: a substitution gives the target's base about half as often as
        /// the two others together; third-base reads of the target's own are as likely, so the
        /// neighbour's share of the two clones' reads is its part of them). The larger counts.
        struct Neighbour {
            var window: TargetWindow
            var difference: Int?
            var modelBleed = 0.0
            var thirdBaseReads = 0
            var reads: Int
        }
        var neighbours: [Neighbour] = []
        /// A neighbour's one differing position from the target, in target coordinates.
        func singleDifference(_ window: TargetWindow, _ bases: ArraySlice<UInt8>, _ reference: ArraySlice<UInt8>) -> Int? {
            onlyDifference(bases, reference).map { $0 + Int(window.clipLeft) }
        }
        for ((window, entry), cost) in zip(sorted, costs) {
            let bases = window.bases.bytes[...]
            let reference = trimmed(target.sequence, window)
            let toIndex = cost.toIndex
            var nearer = cost.nearerCompetitor
            if !nearer && toIndex <= target.budget {
                for o in neighbours.indices where alignmentCost(bases, commonPart(neighbours[o].window, window), gap: MatchTolerance.gapCost,
                                                               limit: toIndex) <= toIndex {
                    nearer = true
                    neighbours[o].reads += entry.count
                    // A read of that clone with other errors besides: misread at the clone's one
                    // differing base it would be nearer to the target (bleed the window alone misses).
                    let other = neighbours[o].window
                    if let q = neighbours[o].difference, bases.count == reference.count {
                        let p = q - Int(window.clipLeft), c = q - Int(other.clipLeft)
                        if p >= 0 && p < bases.count && c >= 0 && c < other.bases.bytes.count
                            && bases[bases.startIndex + p] != reference[reference.startIndex + p]
                            && bases[bases.startIndex + p] == other.bases.bytes[c] {
                            neighbours[o].modelBleed += entry.errorSum(at: p) / 3
                        }
                    }
                    break
                }
            }
            if nearer || toIndex > target.budget {
                rejected += entry.count
                // A clone of its own that a baseline clonotype is as near to (the diagnosis's
                // satellite of the index clone there): its misreads are followed as an own clone's.
                if cost.nearerCompetitor, toIndex <= target.budget, entry.count >= 2, entry.count * foldRatio > reads {
                    neighbours.append(Neighbour(window: window, difference: singleDifference(window, bases, reference),
                                                modelBleed: bleedOf(bases, reference, entry), reads: entry.count))
                    continue
                }
                addBleed(bases, reference, entry)
                // A read of a one-substitution clone with a third base where it differs from the
                // target, and nothing else (whichever clonotype it was then nearest to); a window
                // of more than a tenth of the clone's reads is no error of it (another neighbour
                // differing at the same base).
                if bases.count == reference.count {
                    for o in neighbours.indices {
                        let other = neighbours[o].window
                        guard let q = neighbours[o].difference, window.clipLeft == other.clipLeft, window.clipRight == other.clipRight,
                              entry.count * Self.thirdBaseRatio <= neighbours[o].reads else { continue }
                        let p = q - Int(window.clipLeft)
                        guard onlyDifference(bases, other.bases.bytes[...]) == p,
                              bases[bases.startIndex + p] != reference[reference.startIndex + p] else { continue }
                        neighbours[o].thirdBaseReads += entry.count
                        break
                    }
                }
                // A window in the halo (one substitution past the budget) with more reads than errors
                // of the counted ones explain is a normal near-neighbour the baseline did not see:
                // its misreads toward the target (a short junction's budget is one substitution)
                // are as near to it and are not counted.
                if !nearer, toIndex > target.budget, entry.count >= 2, entry.count * foldRatio > reads {
                    neighbours.append(Neighbour(window: window, difference: nil, reads: entry.count))
                }
                continue
            }
            var counts = toIndex == 0 || entry.count == 1 || entry.count * foldRatio <= reads
            if !counts, entry.count * lowQualityFoldRatio <= reads, reference.count == bases.count {
                // Mean quality of the differing bases across the variant's reads.
                var sum = 0, positions = 0
                for (p, (a, b)) in zip(bases, reference).enumerated() where a != b {
                    sum += entry.qualitySum(at: p)
                    positions += 1
                }
                counts = positions > 0 && Double(sum) / Double(positions * entry.count) < 20
            }
            if counts {
                reads += entry.count
                forward += entry.forward
                if toIndex == 0 { exact += entry.count }
                for (umi, n) in entry.umis { umis[umi, default: 0] += n }
            } else {
                rejected += entry.count
                neighbours.append(Neighbour(window: window, difference: singleDifference(window, bases, reference),
                                            modelBleed: bleedOf(bases, reference, entry), reads: entry.count))
            }
        }
        for neighbour in neighbours {
            let share = Double(neighbour.reads) / Double(neighbour.reads + reads)
            bleed += max(neighbour.modelBleed, Double(neighbour.thirdBaseReads) * share / 2)
        }
        return (reads, exact, rejected, umis, bleed, forward)
    }

    /// A variant clone's bases over the part of the target another window also covers.
    static func commonPart(_ clone: TargetWindow, _ window: TargetWindow) -> ArraySlice<UInt8> {
        let bytes = clone.bases.bytes
        let dropLeft = max(0, Int(window.clipLeft) - Int(clone.clipLeft))
        let dropRight = max(0, Int(window.clipRight) - Int(clone.clipRight))
        guard dropLeft + dropRight < bytes.count else { return [] }
        return bytes[dropLeft..<(bytes.count - dropRight)]
    }

    /// Distinct UMIs after directional error correction (UMI-tools' rule): a UMI one mismatch from a
    /// UMI with at least 2n - 1 reads is that UMI read with an error.
    static func distinctUMIs(_ umis: [Bases: Int]) -> Int {
        let sorted = umis.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.bytes.lexicographicallyPrecedes($1.key.bytes) }
        // The UMIs kept so far, looked up by their one-mismatch variants over the bytes the UMIs use
        // (a spike-in's tens of thousands of UMIs: a scan of every kept one per UMI was quadratic).
        var alphabet = Set<UInt8>()
        for umi in umis.keys { alphabet.formUnion(umi.bytes) }
        let letters = alphabet.sorted()
        var parents: [[UInt8]: Int] = [:]
        for (umi, count) in sorted {
            var variant = umi.bytes
            var absorbed = false
            search: for p in variant.indices {
                let original = variant[p]
                for letter in letters where letter != original {
                    variant[p] = letter
                    if let parentCount = parents[variant], parentCount >= 2 * count - 1 { absorbed = true; break search }
                }
                variant[p] = original
            }
            if !absorbed { parents[umi.bytes] = count }
        }
        return parents.count
    }
}
