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
    /// Germline bases at the junction's ends on the representative read.
    public var templatedFivePrime = 0
    public var templatedThreePrime = 0
    /// Consensus of the clonotype's reads over the junction and its flanks, and where the junction
    /// starts in it (the target is taken from it).
    public var consensus: [UInt8] = []
    public var consensusJunctionStart = 0
    /// Templates (reads / reads per spike-in copy of the locus; reads without spike-ins).
    public var templates = 0.0
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
    /// Junction bases no germline segment explains (N and P nucleotides, or sequencing errors of
    /// the representative): few of them make a junction that normal cells share.
    public var untemplated = 0

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
    /// Smallest share of the dominant clone's templates (reads per spike-in copy of each locus when
    /// spike-ins are given) for an index clone of the other lineage (TR in a B-ALL, IG in a T-ALL):
    /// every leukemic cell carries each marker, so such a clone far below the dominant one is a
    /// normal expanded clone (a CMV-driven T-cell clone reaching 5% of TRB) or a minor subclone.
    public var minDominance = 0.2
    /// Fewest untemplated junction bases for an index clone of a kind other than VDJ (see
    /// `Clonotype.untemplated`).
    public var minUntemplated = 4
    /// Distinct read sequences memoised per worker (0 turns the memo off; results are the same).
    public var memoCapacity = 1 << 17
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
///
/// Each distinct read sequence is classified once and memoised with the clonotype group it joined;
/// a repeated read then costs a hash, a comparison and its junction qualities. Everything that
/// depends only on the sequence (calls, representative) is applied once per distinct sequence, with
/// the number of reads that used it, which gives the same totals as doing it per read.
struct BaselineTally {
    struct Key: Hashable { var locus: Locus; var kind: RearrangementKind; var junction: Bases }
    /// One read's V, D and J calls.
    struct Calls: Hashable { var v: String; var d: String; var j: String }
    /// The same as ids of this worker's tie lists (`callList`; -1: none): no strings per read.
    struct CallIDs: Hashable { var v: Int32 = -1; var d: Int32 = -1; var j: Int32 = -1 }

    struct Group {
        let key: Key
        var count = 0
        /// Reads per V, D and J call, by the worker's call ids until `settle`, by name after it.
        var callIDs: [CallIDs: Int] = [:]
        var calls: [Calls: Int] = [:]
        /// The representative read, chosen by content (longest, then first in lexicographic order), so
        /// it does not depend on which worker saw which read.
        var representative: ReadAnnotation?
        var junctionQualitySums: [Int]
        /// Base counts (A, C, G, T) over the junction and `BaselineTally.flank` bases each side,
        /// V-to-J: the target is their consensus, so that one read's sequencing error in a flank
        /// never becomes part of it.
        var baseCounts: [Int32]

        init(key: Key) {
            self.key = key
            junctionQualitySums = [Int](repeating: 0, count: key.junction.bytes.count)
            baseCounts = [Int32](repeating: 0, count: (key.junction.bytes.count + 2 * BaselineTally.flank) * 4)
        }

        /// Adds one distinct read's bases around the junction, `weight` times.
        mutating func addBases(_ bytes: UnsafeBufferPointer<UInt8>, reversed: Bool, junctionStart: Int, weight: Int32) {
            let n = bytes.count, span = baseCounts.count / 4
            for q in 0..<span {
                let position = junctionStart - BaselineTally.flank + q
                guard position >= 0 && position < n else { continue }
                let base = reversed ? complementTable[Int(bytes[n - 1 - position])] : bytes[position]
                let code = KmerScanner.code[Int(base)]
                if code < 4 { baseCounts[q * 4 + Int(code)] += weight }
            }
        }

        /// The consensus of the junction and of the flank bases that at least half the reads cover.
        func consensus() -> (bases: [UInt8], junctionOffset: Int) {
            let span = baseCounts.count / 4, flank = BaselineTally.flank
            let letters: [UInt8] = Array("ACGT".utf8)
            func call(_ q: Int) -> UInt8? {
                let counts = baseCounts[(q * 4)..<(q * 4 + 4)]
                let total = counts.reduce(0, +)
                guard total > 0, Int(total) * 2 >= count, let best = counts.indices.max(by: { counts[$0] < counts[$1] || (counts[$0] == counts[$1] && $0 > $1) }) else { return nil }
                return letters[best - q * 4]
            }
            var start = flank
            while start > 0, call(start - 1) != nil { start -= 1 }
            var end = span - flank
            while end < span, call(end) != nil { end += 1 }
            var bases = Array(key.junction.bytes)
            bases = (start..<flank).compactMap(call) + bases + ((span - flank)..<end).compactMap(call)
            return (bases, flank - start)
        }

        mutating func offer(_ candidate: ReadAnnotation) {
            if prefers(candidate.sequence, reversed: candidate.reversed) { representative = candidate }
        }

        /// Whether a read (V-to-J direction) would replace the representative: longer, then first in
        /// lexicographic order, then read forward (two reads can give the same V-to-J sequence).
        func prefers<C: ContiguousBytes>(_ read: C, reversed: Bool) -> Bool {
            guard let current = representative else { return true }
            return read.withUnsafeBytes { candidate in
                current.sequence.withUnsafeBytes { held in
                    if candidate.count != held.count { return candidate.count > held.count }
                    let order = candidate.count == 0 ? 0 : memcmp(candidate.baseAddress!, held.baseAddress!, candidate.count)
                    return order != 0 ? order < 0 : (!reversed && current.reversed)
                }
            }
        }
    }

    /// What the memo keeps per distinct read sequence.
    struct Verdict {
        enum Kind { case spikeIn, unassigned, group }
        var kind: Kind
        /// Spike index, reason index or group index.
        var value: Int
        var calls = CallIDs()
        var junctionStart = 0, junctionEnd = 0
        var reversed = false
        /// Reads whose outcome this verdict gave.
        var used = 0
    }

    var groups: [Group] = []
    var groupIndex: [Key: Int] = [:]
    var memo: SequenceMemo<Verdict>
    var scratch: AnnotationScratch?
    /// Tie lists of elements met by this worker (a call id is an index here), and their ids.
    var callLists: [[Int32]] = []
    var callListIDs: [[Int32]: Int32] = [:]
    var singleCallIDs: [Int32] = []
    var spikeHits: [Int32] = []
    var touchedSpikes: [Int32] = []
    /// Germline bases each side of the junction in an index clone's target.
    static let flank = 10

    init(memoCapacity: Int = 0) {
        memo = SequenceMemo(capacity: memoCapacity)
    }
    var total = 0
    var spikes: [Int: Int] = [:]
    var unassigned = [Int](repeating: 0, count: UnassignedReason.allCases.count)

    /// The id of a list of tied candidates.
    mutating func callID(_ candidates: [Annotator.Placement]) -> Int32 {
        if candidates.count == 1 {
            let e = Int(candidates[0].element)
            if e < singleCallIDs.count, singleCallIDs[e] >= 0 { return singleCallIDs[e] }
        }
        let elements = candidates.map(\.element)
        if let id = callListIDs[elements] { return id }
        let id = Int32(callLists.count)
        callLists.append(elements)
        callListIDs[elements] = id
        if elements.count == 1 {
            let e = Int(elements[0])
            if singleCallIDs.count <= e { singleCallIDs += [Int32](repeating: -1, count: e + 1 - singleCallIDs.count) }
            singleCallIDs[e] = id
        }
        return id
    }

    /// The verdict on one read's bases: memoised, or computed (and memoised while there is room).
    /// Returns the memo entry, or the verdict itself when the memo is full.
    mutating func verdict(_ bases: UnsafeBufferPointer<UInt8>, hash: UInt64, classifier: ReadClassifier) -> (entry: Int?, verdict: Verdict) {
        if let entry = memo.index(of: bases, hash: hash) { return (entry, memo[entry]) }
        let verdict = classify(bases, classifier: classifier)
        return (memo.insert(bases, hash: hash, payload: verdict), verdict)
    }

    /// Spike-ins first (a calibrator never becomes a clonotype), then annotation.
    private mutating func classify(_ bases: UnsafeBufferPointer<UInt8>, classifier: ReadClassifier) -> Verdict {
        if let matcher = classifier.spikes, let spike = matcher.match(bases, hits: &spikeHits, touched: &touchedSpikes) {
            return Verdict(kind: .spikeIn, value: spike)
        }
        let annotator = classifier.annotator
        if scratch == nil { scratch = AnnotationScratch(annotator) }
        let location: Annotator.Location
        switch annotator.locate(bases, &scratch!) {
        case .failure(let reason): return Verdict(kind: .unassigned, value: UnassignedReason.allCases.firstIndex(of: reason)!)
        case .success(let found): location = found
        }
        let read = location.reversed ? scratch!.reverse : nil
        return Self.withOriented(bases, read) { oriented in
            let junction = Array(oriented[location.junctionStart..<location.junctionEnd])
            let key = Key(locus: location.locus, kind: location.kind, junction: Bases(junction))
            let g: Int
            if let known = groupIndex[key] {
                g = known
            } else {
                g = groups.count
                groupIndex[key] = g
                groups.append(Group(key: key))
            }
            // The full annotation (strings, alignments) only for a read that becomes the representative.
            if groups[g].prefers(UnsafeRawBufferPointer(oriented), reversed: location.reversed) {
                groups[g].representative = annotator.annotation(location, read: read ?? Array(bases), scratch: scratch!, callD: false)
            }
            var calls = CallIDs()
            let fields = annotator.callFields(location)
            let five = callID(scratch!.fives), three = callID(scratch!.threes)
            for (field, id) in [(fields.five, five), (fields.three, three)] {
                switch field {
                case .v: calls.v = id
                case .d: calls.d = id
                case .j: calls.j = id
                }
            }
            return Verdict(kind: .group, value: g, calls: calls, junctionStart: location.junctionStart,
                           junctionEnd: location.junctionEnd, reversed: location.reversed)
        }
    }

    private static func withOriented<R>(_ bases: UnsafeBufferPointer<UInt8>, _ reversed: [UInt8]?, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        guard let reversed else { return body(bases) }
        return reversed.withUnsafeBufferPointer(body)
    }

    /// Counts one read under `verdict`.
    mutating func count(_ verdict: Verdict, entry: Int?, bases: UnsafeBufferPointer<UInt8>, quality: UnsafeBufferPointer<UInt8>) {
        let readLength = bases.count
        if let entry { memo[entry].used += 1 }
        switch verdict.kind {
        case .spikeIn: if entry == nil { spikes[verdict.value, default: 0] += 1 }
        case .unassigned: if entry == nil { unassigned[verdict.value] += 1 }
        case .group:
            let g = verdict.value
            groups[g].count += 1
            if entry == nil {
                groups[g].callIDs[verdict.calls, default: 0] += 1
                groups[g].addBases(bases, reversed: verdict.reversed, junctionStart: verdict.junctionStart, weight: 1)
            }
            groups[g].junctionQualitySums.withUnsafeMutableBufferPointer { sums in
                if quality.count == readLength {
                    for p in 0..<(verdict.junctionEnd - verdict.junctionStart) {
                        let inRead = verdict.reversed ? readLength - 1 - (verdict.junctionStart + p) : verdict.junctionStart + p
                        sums[p] += Int(quality[inRead]) &- 33
                    }
                } else {
                    for p in sums.indices { sums[p] += 40 }
                }
            }
        }
    }

    /// Applies the memoised verdicts' read counts (calls, spike-ins, unassigned) and names the
    /// calls; call once, at the end.
    mutating func settle(_ annotator: Annotator) {
        for (entry, verdict) in memo.payloads.enumerated() where verdict.used > 0 {
            switch verdict.kind {
            case .spikeIn: spikes[verdict.value, default: 0] += verdict.used
            case .unassigned: unassigned[verdict.value] += verdict.used
            case .group:
                groups[verdict.value].callIDs[verdict.calls, default: 0] += verdict.used
                memo.withKey(entry) { bytes in
                    groups[verdict.value].addBases(bytes, reversed: verdict.reversed, junctionStart: verdict.junctionStart, weight: Int32(verdict.used))
                }
            }
        }
        memo = SequenceMemo(capacity: 0)
        let names = callLists.map { annotator.calls($0) }
        func name(_ id: Int32) -> String { id < 0 ? "" : names[Int(id)] }
        for g in groups.indices {
            for (ids, n) in groups[g].callIDs {
                groups[g].calls[Calls(v: name(ids.v), d: name(ids.d), j: name(ids.j)), default: 0] += n
            }
            groups[g].callIDs = [:]
        }
    }

    /// Adds a settled tally into this settled one.
    mutating func merge(_ other: BaselineTally) {
        total += other.total
        for (k, v) in other.spikes { spikes[k, default: 0] += v }
        for i in unassigned.indices { unassigned[i] += other.unassigned[i] }
        for group in other.groups {
            guard let g = groupIndex[group.key] else {
                groupIndex[group.key] = groups.count
                groups.append(group)
                continue
            }
            groups[g].count += group.count
            for (calls, n) in group.calls { groups[g].calls[calls, default: 0] += n }
            for p in groups[g].junctionQualitySums.indices { groups[g].junctionQualitySums[p] += group.junctionQualitySums[p] }
            for q in groups[g].baseCounts.indices { groups[g].baseCounts[q] += group.baseCounts[q] }
            if let representative = group.representative { groups[g].offer(representative) }
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
        self.init(annotator: Annotator(germline: germline, loci: options.loci), spikeIns: spikeIns, options: options)
    }

    /// With an annotator built once for many samples (its loci should be `options.loci`).
    public init(annotator: Annotator, spikeIns: [SpikeInCalibrator] = [], options: BaselineOptions = BaselineOptions()) {
        self.annotator = annotator
        spikeMatcher = spikeIns.isEmpty ? nil : SpikeInMatcher(spikes: spikeIns, annotator: annotator)
        self.options = options
    }

    public func run(_ input: SampleInput, sampleID: String) throws -> BaselineResult {
        var timer = PhaseTimer()
        let reader = try SampleReader(input)
        let classifier = ReadClassifier(annotator: annotator, spikes: spikeMatcher)
        let memoCapacity = options.memoCapacity
        // Reads are shared out by content, so each distinct sequence is annotated by one worker.
        let tallies = try BatchPipeline.runPartitioned(reader, workers: max(1, options.threads),
                                                       makeTally: { BaselineTally(memoCapacity: memoCapacity) }) { batch, partition, tally in
            for i in 0..<batch.count {
                var record = batch.read1[i]
                let hash = SequenceMemo<BaselineTally.Verdict>.readHash(record.sequence)
                guard partition.owns(hash) else { continue }
                tally.total += 1
                var (entry, verdict) = tally.verdict(record.sequence, hash: hash, classifier: classifier)
                // Paired-end: use the mate when read 1 does not span the junction.
                if verdict.kind == .unassigned, let mates = batch.read2 {
                    let other = tally.verdict(mates[i].sequence, hash: SequenceMemo<BaselineTally.Verdict>.readHash(mates[i].sequence), classifier: classifier)
                    if other.verdict.kind != .unassigned { (entry, verdict) = other; record = mates[i] }
                }
                tally.count(verdict, entry: entry, bases: record.sequence, quality: record.quality)
            }
        }
        timer.mark("annotate")
        // Each worker's memo counts are applied in parallel; the merge is order-independent.
        var settled = tallies
        let annotator = self.annotator
        settled.withUnsafeMutableBufferPointer { buffer in
            let box = UncheckedBox(buffer)
            DispatchQueue.concurrentPerform(iterations: buffer.count) { box.value[$0].settle(annotator) }
        }
        timer.mark("settle")
        var merged = BaselineTally()
        for tally in settled { merged.merge(tally) }
        timer.mark("merge")
        let result = finish(merged, sampleID: sampleID)
        timer.mark("clonotypes (all)")
        return result
    }

    func finish(_ tally: BaselineTally, sampleID: String) -> BaselineResult {
        var timer = PhaseTimer()
        var result = BaselineResult(sampleID: sampleID)
        result.totalReads = tally.total
        for (i, reason) in UnassignedReason.allCases.enumerated() where tally.unassigned[i] > 0 { result.unassigned[reason] = tally.unassigned[i] }
        result.spikeInReads = tally.spikes.values.reduce(0, +)
        if let matcher = spikeMatcher {
            for (s, n) in tally.spikes { result.spikeInReadsByID[matcher.spikes[s].id] = n }
        }
        var clonotypes = tally.groups.filter { $0.count > 0 }.parallelMap(threads: options.threads) { group -> Clonotype in
            var vCalls: [String: Int] = [:], dCalls: [String: Int] = [:], jCalls: [String: Int] = [:]
            for (calls, n) in group.calls {
                vCalls[calls.v, default: 0] += n
                dCalls[calls.d, default: 0] += n
                jCalls[calls.j, default: 0] += n
            }
            let key = group.key
            let consensus = group.consensus()
            var clonotype = Clonotype(locus: key.locus, kind: key.kind, vCall: majority(vCalls),
                      dCall: majority(dCalls), jCall: majority(jCalls), junction: key.junction.bytes, count: group.count,
                      representative: group.representative!.sequence, representativeReversed: group.representative!.reversed,
                      representativeJunctionStart: group.representative!.junctionStart,
                      templatedFivePrime: group.representative!.templatedFivePrime,
                      templatedThreePrime: group.representative!.templatedThreePrime,
                      vAlignment: group.representative!.vAlignment, jAlignment: group.representative!.jAlignment,
                      junctionQualitySums: group.junctionQualitySums)
            clonotype.consensus = consensus.bases
            clonotype.consensusJunctionStart = consensus.junctionOffset
            return clonotype
        }
        timer.mark("clonotypes: build")
        Self.sortInOrder(&clonotypes)
        timer.mark("clonotypes: sort")
        clonotypes = Self.foldErrors(clonotypes)
        timer.mark("clonotypes: fold")
        // D genes are called once per clonotype, not per read.
        for i in clonotypes.indices where clonotypes[i].kind == .VDJ {
            clonotypes[i].dCall = annotator.dCall(clonotypes[i].locus, clonotypes[i].junction)
        }
        for i in clonotypes.indices {
            let c = clonotypes[i]
            var middle = c.junction.count - c.templatedFivePrime - c.templatedThreePrime
            if c.kind == .VDJ && middle > 0 {
                let inner = Array(c.junction[c.templatedFivePrime..<(c.junction.count - c.templatedThreePrime)])
                middle -= annotator.dMatchLength(c.locus, inner)
            }
            clonotypes[i].untemplated = max(0, middle)
        }
        timer.mark("clonotypes: D calls")
        result.assignedReads = clonotypes.reduce(0) { $0 + $1.count }
        for c in clonotypes { result.readsPerLocus[c.locus, default: 0] += c.count }
        for i in clonotypes.indices {
            clonotypes[i].locusReads = result.readsPerLocus[clonotypes[i].locus] ?? 0
            clonotypes[i].cloneID = "\(sampleID)_\(clonotypes[i].locus.rawValue)_\(i + 1)"
        }
        // Templates per clone: reads over the locus's reads per spike-in copy, when spike-ins allow.
        var readsPerCopy: [Locus: Double] = [:]
        if let matcher = spikeMatcher {
            var reads: [Locus: Double] = [:], copies: [Locus: Double] = [:]
            for (s, spike) in matcher.spikes.enumerated() {
                guard case .success(let annotation) = annotator.annotate(spike.sequence, callD: false) else { continue }
                reads[annotation.locus, default: 0] += Double(tally.spikes[s] ?? 0)
                copies[annotation.locus, default: 0] += spike.copies
            }
            for (locus, n) in reads where n > 0 { readsPerCopy[locus] = n / copies[locus]! }
        }
        for i in clonotypes.indices {
            clonotypes[i].templates = Double(clonotypes[i].count) / (readsPerCopy[clonotypes[i].locus] ?? 1)
        }
        timer.mark("clonotypes: ids, templates")
        selectIndexClones(&clonotypes)
        timer.mark("clonotypes: index clones")
        result.clonotypes = clonotypes
        if result.trackable.isEmpty {
            let dominant = clonotypes.filter { $0.fraction >= options.minFraction }
            result.noTrackableReason = dominant.isEmpty
                ? "no clonotype reaches \(options.minFraction) of its locus reads"
                : dominant.map { "\($0.cloneID): \($0.notTrackableReason)" }.joined(separator: "; ")
        }
        return result
    }

    /// Sorts most reads first, ties by locus, then junction, then kind (deterministic), moving each
    /// clonotype once: sorting the large structs themselves copies them (a dozen reference counts
    /// each) at every step of the sort.
    static func sortInOrder(_ clonotypes: inout [Clonotype]) {
        let counts = clonotypes.map(\.count), loci = clonotypes.map(\.locus), junctions = clonotypes.map(\.junction)
        let kinds = clonotypes.map(\.kind.rawValue)
        let permutation = clonotypes.indices.sorted { a, b in
            if counts[a] != counts[b] { return counts[a] > counts[b] }
            if loci[a] != loci[b] { return loci[a] < loci[b] }
            if junctions[a] != junctions[b] { return junctions[a].lexicographicallyPrecedes(junctions[b]) }
            return kinds[a] < kinds[b]
        }
        permute(&clonotypes, permutation)
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
    /// into a parent only 20x larger.
    static func foldErrors(_ sorted: [Clonotype]) -> [Clonotype] {
        var clonotypes = sorted
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
                    guard Double(clonotypes[kept[p]].count) / Double(count) >= 5000 else { break }
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
            if let parent {
                clonotypes[parent].count += count
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
        return clonotypes
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

    /// Calls `body` with the key (locus and hash) of the junction itself and of each distinct
    /// one-base deletion, from prefix and suffix polynomial hashes (no shortened copies): deleting
    /// base i of s leaves hash(s[..<i]) * B^(n-1-i) + hash(s[i+1...]). Collisions only cost an
    /// edit-distance check.
    static func forEachNeighbourKey(_ s: [UInt8], locus: Locus, prefix: inout [UInt64], _ body: (UInt64) -> Void) {
        let n = s.count
        let base: UInt64 = 0x100_0000_01B3
        if prefix.count < n + 1 { prefix = [UInt64](repeating: 0, count: n + 1) }
        for i in 0..<n { prefix[i + 1] = prefix[i] &* base &+ UInt64(s[i]) }
        let salt = UInt64(Locus.allCases.firstIndex(of: locus)!) << 48
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
        // The dominant clone sets the leukemia's lineage; a marker of the other lineage (TR in a
        // B-ALL, IG in a T-ALL) must reach `minDominance` of its templates. (Within a lineage, long
        // junctions that short reads rarely cover would look small too, so they are not held to it.)
        func isB(_ locus: Locus) -> Bool { locus.rawValue.hasPrefix("IG") }
        let dominantClone = clonotypes.filter { $0.fraction >= options.minFraction }.max { $0.templates < $1.templates }
        for i in clonotypes.indices {
            let c = clonotypes[i]
            guard c.fraction >= options.minFraction else { continue }
            if let dominant = dominantClone, isB(dominant.locus) != isB(c.locus), c.templates < options.minDominance * dominant.templates {
                clonotypes[i].notTrackableReason = String(format: "%@ clone at %.0f%% of the dominant %@ clone's templates (< %.0f%%): a normal expanded clone or a minor subclone",
                                                          c.locus.rawValue, 100 * c.templates / dominant.templates, dominant.locus.rawValue, 100 * options.minDominance)
                continue
            }
            if c.count < options.minReads {
                clonotypes[i].notTrackableReason = "too few reads (\(c.count) < \(options.minReads))"
                continue
            }
            if c.junction.count < options.minJunctionLength {
                clonotypes[i].notTrackableReason = "junction too short (\(c.junction.count) nt < \(options.minJunctionLength))"
                continue
            }
            // One junction side (VJ, DJ, Kde, VD, DD) and few added bases: normal cells make the same
            // junction often enough to be found in follow-ups. VDJ junctions (two N regions and a D
            // trimmed on both sides) stay specific even when nearly germline.
            if c.kind != .VDJ && c.untemplated < options.minUntemplated {
                clonotypes[i].notTrackableReason = "junction nearly germline (\(c.untemplated) untemplated nt < \(options.minUntemplated)): normal cells share such junctions"
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
            // Target: the junction with up to 10 germline bases on each side, from the consensus of
            // the clone's reads (a representative read could carry an error in a flank).
            if !c.consensus.isEmpty {
                clonotypes[i].target = c.consensus
            } else {
                let start = max(0, c.representativeJunctionStart - 10)
                let end = min(c.representative.count, c.representativeJunctionStart + c.junction.count + 10)
                clonotypes[i].target = Array(c.representative[start..<end])
            }
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
