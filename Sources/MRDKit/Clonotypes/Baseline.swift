import Foundation

/// One clonotype of a diagnostic sample.
public struct Clonotype: Sendable, Equatable {
    public var cloneID = ""
    public var locus: Locus
    public var kind: RearrangementKind
    public var vCall: String
    public var dCall: String
    public var jCall: String
    public var junction: [UInt8]
    public var count: Int
    public var locusReads = 0
    public var trackable = false
    public var target: [UInt8] = []
    /// Why a clone above the fraction threshold is not trackable, else empty.
    public var notTrackableReason = ""
    /// A representative read (V-to-J direction) and whether it was reverse-complemented.
    public var representative: [UInt8]
    public var representativeReversed: Bool
    public var representativeJunctionStart: Int
    /// V and J alignments on the representative read.
    public var vAlignment: SegmentAlignment? = nil
    public var jAlignment: SegmentAlignment? = nil
    /// Phred quality summed over the clonotype's reads at each junction position (reads without
    /// qualities count as Q40): sequencing errors sit at low-quality bases, true variants do not.
    public var junctionQualitySums: [Int] = []
    /// For clones above the fraction threshold: the most similar other clonotype of the locus and
    /// its junction edit distance (up to `BaselineAnalysis.nearestSearchLimit`; nil when none is that close).
    public var nearestCloneID: String?
    public var nearestDistance: Int?

    public var fraction: Double { locusReads == 0 ? 0 : Double(count) / Double(locusReads) }
    public var junctionString: String { String(decoding: junction, as: UTF8.self) }
    public var productive: Bool? { kind.productive(junction) }
    /// Mean Phred quality of the clonotype's reads at one junction position (40 when unknown).
    public func meanQuality(at position: Int) -> Double {
        guard position < junctionQualitySums.count, count > 0 else { return 40 }
        return Double(junctionQualitySums[position]) / Double(count)
    }
    public var junctionAA: String? { kind.junctionAA(junction) }
}

/// Options of `mrd baseline`.
public struct BaselineOptions: Sendable {
    public var loci: [Locus] = Locus.allCases
    public var minFraction = 0.05
    public var minReads = 20
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    /// Shortest junction that can be tracked apart from the background.
    public var minJunctionLength = 18
    public init() {}
}

/// What a diagnostic sample contained.
public struct BaselineResult: Sendable {
    public var sampleID: String
    public var totalReads = 0
    public var assignedReads = 0
    public var spikeInReads = 0
    public var spikeInReadsByID: [String: Int] = [:]
    public var unassigned: [UnassignedReason: Int] = [:]
    public var readsPerLocus: [Locus: Int] = [:]
    public var clonotypes: [Clonotype] = []
    public var trackable: [Clonotype] { clonotypes.filter(\.trackable) }
    /// Why there is no trackable clone, when there is none.
    public var noTrackableReason: String?
}

/// Per-worker tally of a baseline sample.
struct BaselineTally {
    struct Key: Hashable { var locus: Locus; var kind: RearrangementKind; var junction: Bases }
    struct Group {
        var count = 0
        var vCalls: [String: Int] = [:], dCalls: [String: Int] = [:], jCalls: [String: Int] = [:]
        /// The representative read, chosen by content (longest, then first in lexicographic order), so
        /// it does not depend on which worker saw which read.
        var representative: ReadAnnotation?

        var junctionQualitySums: [Int] = []

        mutating func record(_ annotation: ReadAnnotation, quality: UnsafeBufferPointer<UInt8>) {
            count += 1
            let length = annotation.junctionEnd - annotation.junctionStart
            if junctionQualitySums.isEmpty { junctionQualitySums = [Int](repeating: 0, count: length) }
            if quality.count == annotation.sequence.count {
                for p in 0..<length {
                    let inRead = annotation.reversed ? quality.count - 1 - (annotation.junctionStart + p) : annotation.junctionStart + p
                    junctionQualitySums[p] += Int(quality[inRead]) - 33
                }
            } else {
                for p in 0..<length { junctionQualitySums[p] += 40 }
            }
            vCalls[annotation.vCall, default: 0] += 1
            dCalls[annotation.dCall, default: 0] += 1
            jCalls[annotation.jCall, default: 0] += 1
            offer(annotation)
        }

        mutating func offer(_ candidate: ReadAnnotation) {
            if let current = representative, !BaselineTally.prefer(candidate.sequence, over: current.sequence) { return }
            representative = candidate
        }
    }
    var groups: [Key: Group] = [:]
    /// This worker's memo of read outcomes (not merged: it only saves work).
    var cache = ReadOutcomeCache()
    var total = 0
    var spikes: [Int: Int] = [:]
    var unassigned: [UnassignedReason: Int] = [:]

    mutating func add(_ annotation: ReadAnnotation, quality: UnsafeBufferPointer<UInt8>) {
        let key = Key(locus: annotation.locus, kind: annotation.kind, junction: Bases(Array(annotation.junction)))
        // One lookup, updated in place (copying the group out and back copies its call tallies).
        groups[key, default: Group()].record(annotation, quality: quality)
    }

    /// Longer reads first, then lexicographic order.
    static func prefer(_ a: [UInt8], over b: [UInt8]) -> Bool {
        a.count != b.count ? a.count > b.count : a.lexicographicallyPrecedes(b)
    }

    mutating func merge(_ other: BaselineTally) {
        total += other.total
        for (k, v) in other.spikes { spikes[k, default: 0] += v }
        for (k, v) in other.unassigned { unassigned[k, default: 0] += v }
        for (key, group) in other.groups {
            guard var mine = groups[key] else { groups[key] = group; continue }
            mine.count += group.count
            for (k, v) in group.vCalls { mine.vCalls[k, default: 0] += v }
            for (k, v) in group.dCalls { mine.dCalls[k, default: 0] += v }
            for (k, v) in group.jCalls { mine.jCalls[k, default: 0] += v }
            for p in mine.junctionQualitySums.indices { mine.junctionQualitySums[p] += group.junctionQualitySums[p] }
            if let representative = group.representative { mine.offer(representative) }
            groups[key] = mine
        }
    }
}

/// Majority call, ties broken alphabetically.
func majority(_ calls: [String: Int]) -> String {
    calls.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key ?? ""
}

/// `mrd baseline`: annotate a diagnostic sample, build clonotypes (with sequencing errors folded
/// into their parent clone) and mark the trackable index clones.
public struct BaselineAnalysis: Sendable {
    public let annotator: Annotator
    public let spikeMatcher: SpikeInMatcher?
    public let options: BaselineOptions

    public init(germline: GermlineReference, spikeIns: [SpikeInCalibrator] = [], options: BaselineOptions = BaselineOptions()) {
        annotator = Annotator(germline: germline, loci: options.loci)
        spikeMatcher = spikeIns.isEmpty ? nil : SpikeInMatcher(spikes: spikeIns, annotator: annotator)
        self.options = options
    }

    public func run(_ input: SampleInput, sampleID: String) throws -> BaselineResult {
        let reader = try SampleReader(input)
        let annotator = self.annotator, matcher = spikeMatcher
        let tallies = try BatchPipeline.run(reader, workers: max(1, options.threads), makeTally: { BaselineTally() }) { batch, tally in
            for i in 0..<batch.count {
                tally.total += 1
                var record = batch.read1[i]
                var outcome = tally.cache.classify(Array(record.sequence), annotator: annotator, spikes: matcher)
                // Paired-end: use the mate when read 1 does not span the junction.
                if case .unassigned = outcome, let mates = batch.read2 {
                    let other = tally.cache.classify(Array(mates[i].sequence), annotator: annotator, spikes: matcher)
                    switch other {
                    case .spikeIn, .annotated: outcome = other; record = mates[i]
                    case .unassigned: break
                    }
                }
                switch outcome {
                case .spikeIn(let spike): tally.spikes[spike, default: 0] += 1
                case .annotated(let annotation): tally.add(annotation, quality: record.quality)
                case .unassigned(let reason): tally.unassigned[reason, default: 0] += 1
                }
            }
        }
        var merged = BaselineTally()
        for tally in tallies { merged.merge(tally) }
        return finish(merged, sampleID: sampleID)
    }

    func finish(_ tally: BaselineTally, sampleID: String) -> BaselineResult {
        var result = BaselineResult(sampleID: sampleID)
        result.totalReads = tally.total
        result.unassigned = tally.unassigned
        result.spikeInReads = tally.spikes.values.reduce(0, +)
        if let matcher = spikeMatcher {
            for (s, n) in tally.spikes { result.spikeInReadsByID[matcher.spikes[s].id] = n }
        }
        var clonotypes = tally.groups.map { key, group in
            Clonotype(locus: key.locus, kind: key.kind, vCall: majority(group.vCalls),
                      dCall: majority(group.dCalls), jCall: majority(group.jCalls), junction: key.junction.bytes, count: group.count,
                      representative: group.representative!.sequence, representativeReversed: group.representative!.reversed,
                      representativeJunctionStart: group.representative!.junctionStart,
                      vAlignment: group.representative!.vAlignment, jAlignment: group.representative!.jAlignment,
                      junctionQualitySums: group.junctionQualitySums)
        }
        clonotypes.sort(by: Self.order)
        clonotypes = Self.foldErrors(clonotypes)
        // D genes are called once per clonotype, not per read.
        for i in clonotypes.indices where clonotypes[i].kind == .VDJ {
            clonotypes[i].dCall = annotator.dCall(clonotypes[i].locus, clonotypes[i].junction)
        }
        result.assignedReads = clonotypes.reduce(0) { $0 + $1.count }
        for c in clonotypes { result.readsPerLocus[c.locus, default: 0] += c.count }
        for i in clonotypes.indices {
            clonotypes[i].locusReads = result.readsPerLocus[clonotypes[i].locus] ?? 0
            clonotypes[i].cloneID = "\(sampleID)_\(clonotypes[i].locus.rawValue)_\(i + 1)"
        }
        selectIndexClones(&clonotypes)
        result.clonotypes = clonotypes
        if result.trackable.isEmpty {
            let dominant = clonotypes.filter { $0.fraction >= options.minFraction }
            result.noTrackableReason = dominant.isEmpty
                ? "no clonotype reaches \(options.minFraction) of its locus reads"
                : dominant.map { "\($0.cloneID): \($0.notTrackableReason)" }.joined(separator: "; ")
        }
        return result
    }

    /// Most reads first; ties by locus, then junction (deterministic).
    static func order(_ a: Clonotype, _ b: Clonotype) -> Bool {
        if a.count != b.count { return a.count > b.count }
        if a.locus != b.locus { return a.locus < b.locus }
        return a.junction.lexicographicallyPrecedes(b.junction)
    }

    /// Folds sequencing-error satellites into their parent: a clonotype of the same locus whose
    /// junction is 1 substitution or 1-base indel from a clone at least 200x larger (2 differences:
    /// 5000x). Sequencing errors make each specific one-base variant of a junction well under 0.5%
    /// of its parent, while true near-neighbour clones of similar size stay apart. Quality makes the
    /// rule sharper: a substitution whose base has a mean quality under Q20 across the satellite's
    /// reads is an error signature (a real variant is read at the run's usual quality), so it folds
    /// into a parent only 20x larger.
    static func foldErrors(_ sorted: [Clonotype]) -> [Clonotype] {
        var kept: [Clonotype] = []
        // Junctions one edit apart share a key of their deletion neighbourhood (the junction itself
        // and each one-base deletion), so one-difference parents are found by lookup, not by
        // comparing every pair.
        var neighbourhood: [NeighbourKey: [Int]] = [:]
        for clonotype in sorted {
            var candidates: [Int] = []
            for key in NeighbourKey.all(of: clonotype) { candidates += neighbourhood[key] ?? [] }
            // Two differences need a 5000x parent: only the largest clones can be one.
            for p in kept.indices {
                guard Double(kept[p].count) / Double(clonotype.count) >= 5000 else { break }
                candidates.append(p)
            }
            var parent: Int?
            for p in Set(candidates).sorted() where kept[p].locus == clonotype.locus {
                let ratio = Double(kept[p].count) / Double(clonotype.count)
                guard ratio >= lowQualityFoldRatio else { break }  // kept is in decreasing count order
                if folds(clonotype, into: kept[p], ratio: ratio) { parent = p; break }
            }
            if let p = parent {
                kept[p].count += clonotype.count
            } else {
                for key in NeighbourKey.all(of: clonotype) { neighbourhood[key, default: []].append(kept.count) }
                kept.append(clonotype)
            }
        }
        return kept.sorted(by: order)
    }

    private static func folds(_ satellite: Clonotype, into parent: Clonotype, ratio: Double) -> Bool {
        switch boundedEditDistance(parent.junction, satellite.junction, limit: 2) {
        case 1:
            if ratio >= foldRatio { return true }
            guard parent.junction.count == satellite.junction.count,
                  let position = satellite.junction.indices.first(where: { satellite.junction[$0] != parent.junction[$0] }) else { return false }
            return satellite.meanQuality(at: position) < 20
        case 2: return ratio >= 5000
        default: return false
        }
    }

    /// A locus and a junction with at most one base deleted.
    struct NeighbourKey: Hashable {
        var locus: Locus
        var bases: Bases

        static func all(of clonotype: Clonotype) -> [NeighbourKey] {
            let junction = clonotype.junction
            var keys = [NeighbourKey(locus: clonotype.locus, bases: Bases(junction))]
            for i in junction.indices where i == 0 || junction[i] != junction[i - 1] {  // one key per homopolymer run
                var shorter = junction
                shorter.remove(at: i)
                keys.append(NeighbourKey(locus: clonotype.locus, bases: Bases(shorter)))
            }
            return keys
        }
    }

    /// Parent / satellite read ratio above which a one-difference junction is taken as an error.
    static let foldRatio = 200.0
    /// The same when the differing base was read at low quality.
    static let lowQualityFoldRatio = 20.0

    /// Edit distances beyond this are not searched for the nearest clonotype.
    static let nearestSearchLimit = 6

    /// The clonotype of the same locus whose junction is fewest edits from clonotype `i`'s (first in
    /// clone order on ties), if any lies within `nearestSearchLimit`.
    func nearestClonotype(to i: Int, in clonotypes: [Clonotype]) -> (Int, Int)? {
        var best: (Int, Int)?
        for j in clonotypes.indices where j != i && clonotypes[j].locus == clonotypes[i].locus {
            let limit = min(Self.nearestSearchLimit, (best?.1 ?? Self.nearestSearchLimit + 1) - 1)
            guard limit >= 0 else { break }
            let distance = boundedEditDistance(clonotypes[i].junction, clonotypes[j].junction, limit: limit)
            if distance <= limit { best = (j, distance) }
        }
        return best
    }

    func selectIndexClones(_ clonotypes: inout [Clonotype]) {
        for i in clonotypes.indices {
            let c = clonotypes[i]
            guard c.fraction >= options.minFraction else { continue }
            if c.count < options.minReads {
                clonotypes[i].notTrackableReason = "too few reads (\(c.count) < \(options.minReads))"
                continue
            }
            if c.junction.count < options.minJunctionLength {
                clonotypes[i].notTrackableReason = "junction too short (\(c.junction.count) nt < \(options.minJunctionLength))"
                continue
            }
            if c.junction.contains(where: { !"ACGT".utf8.contains($0) }) {
                clonotypes[i].notTrackableReason = "junction has ambiguous bases"
                continue
            }
            // A near neighbour does not stop tracking (`mrd track` counts a read for an index clone
            // only when it is nearer to it than to any other baseline clonotype), an identical
            // junction of another kind does: no read could tell the two apart.
            if let (nearest, distance) = nearestClonotype(to: i, in: clonotypes) {
                clonotypes[i].nearestCloneID = clonotypes[nearest].cloneID
                clonotypes[i].nearestDistance = distance
                if distance == 0 {
                    clonotypes[i].notTrackableReason = "junction shared with \(clonotypes[nearest].cloneID)"
                    continue
                }
            }
            clonotypes[i].trackable = true
            // Target: the junction with up to 10 germline bases on each side, from the representative read.
            let start = max(0, c.representativeJunctionStart - 10)
            let end = min(c.representative.count, c.representativeJunctionStart + c.junction.count + 10)
            clonotypes[i].target = Array(c.representative[start..<end])
        }
    }
}

/// Levenshtein distance, or limit + 1 when it exceeds `limit` (banded).
func boundedEditDistance(_ a: [UInt8], _ b: [UInt8], limit: Int) -> Int {
    if abs(a.count - b.count) > limit { return limit + 1 }
    if a.count == b.count {
        var d = 0
        for i in a.indices where a[i] != b[i] { d += 1; if d > limit { break } }
        if d <= 1 { return d }
    }
    var previous = Array(0...b.count), current = [Int](repeating: 0, count: b.count + 1)
    for i in 1...max(1, a.count) where !a.isEmpty {
        current[0] = i
        var rowMin = current[0]
        for j in 1...max(1, b.count) where !b.isEmpty {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            rowMin = min(rowMin, current[j])
        }
        if rowMin > limit { return limit + 1 }
        swap(&previous, &current)
    }
    return min(previous[b.count], limit + 1)
}
