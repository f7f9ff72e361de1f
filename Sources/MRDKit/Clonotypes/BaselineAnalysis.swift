import Foundation

/// A baseline group as the fold sees it, before its clonotype is made.
struct GroupClone: FoldableClone {
    var group: Int32
    var count: Int
    var forwardCount: Int
    var locus: Locus
    var kind: RearrangementKind
    var junction: [UInt8]
    /// The junction's mean qualities, at `qualityOffset` in the items' shared store (an array each
    /// cost ~80 bytes a group at the fold, the command's peak on a noisy diagnosis).
    let qualities: FoldQualities
    let qualityOffset: Int32

    func meanQuality(at position: Int) -> Double {
        guard position < junction.count, count > 0 else { return 40 }
        return Double(qualities.bytes[Int(qualityOffset) + position])
    }
}

/// The fold items' junction mean qualities, one after another.
final class FoldQualities {
    var bytes: [UInt8] = []
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
        // Annotation is several times slower than decoding: two 2 MiB chunks ahead keep the
        // workers fed (three 4 MiB ones held 8 MiB more at the command's peak).
        let reader = try SampleReader(input.readingAhead(chunks: 2, of: 2 << 20))
        let classifier = ReadClassifier(annotator: annotator, spikes: spikeMatcher)
        let memoCapacity = options.memoCapacity
        // Reads are shared out by content, so each distinct sequence is annotated by one worker.
        // The workers meet every few batches to count the distinct junctions (the group limit).
        let limit = GroupLimitState(options.groupLimit)
        var settled = try BatchPipeline.runPartitioned(reader, workers: max(1, options.threads), batchCapacity: options.batchCapacity,
                                                       epochBatches: options.groupLimit.maxGroups > 0 ? options.groupLimit.epochBatches : 0,
                                                       atEpochEnd: { limit.epochEnded($0) },
                                                       makeTally: { BaselineTally(memoCapacity: memoCapacity) }) { batch, partition, tally in
            for i in 0..<batch.count {
                var record = batch.read1[i]
                let hash = SequenceMemo<BaselineTally.Verdict>.readHash(record.sequence)
                guard partition.owns(hash) else { continue }
                tally.total += 1
                // Paired-end: overlapping mates are one read, the whole amplicon.
                if let merged = tally.merger.merged(batch, i, counts: &tally.pairs) {
                    let (entry, verdict) = tally.verdict(merged.sequence, hash: SequenceMemo<BaselineTally.Verdict>.readHash(merged.sequence),
                                                         classifier: classifier)
                    tally.count(verdict, entry: entry, bases: merged.sequence, quality: merged.quality)
                    continue
                }
                var (entry, verdict) = tally.verdict(record.sequence, hash: hash, classifier: classifier)
                // Paired-end, mates that do not overlap by the merge's rule: the mate when read 1
                // does not span the junction; when both do, the one that read it at the better
                // quality (a pair refused for the mismatches of two poor tails: read 1 reads the
                // junction in its tail, read 2 in its first cycles).
                if verdict.kind == .unassigned || verdict.kind == .group, let mates = batch.read2 {
                    let mate = mates[i]
                    let other = tally.verdict(mate.sequence, hash: SequenceMemo<BaselineTally.Verdict>.readHash(mate.sequence), classifier: classifier)
                    if verdict.kind == .unassigned ? other.verdict.kind != .unassigned
                        : other.verdict.kind == .group
                            && BaselineTally.expectedJunctionErrors(other.verdict, quality: mate.quality, readLength: mate.sequence.count)
                            < BaselineTally.expectedJunctionErrors(verdict, quality: record.quality, readLength: record.sequence.count) {
                        (entry, verdict) = other
                        record = mate
                    }
                }
                tally.count(verdict, entry: entry, bases: record.sequence, quality: record.quality)
            }
        }
        timer.mark("annotate")
        // Each worker's memo counts are applied in parallel; the merge is order-independent. The
        // workers' tallies are consumed as they go (a second copy of every group would double the peak).
        let annotator = self.annotator
        settled.withUnsafeMutableBufferPointer { buffer in
            let box = UncheckedBox(buffer)
            DispatchQueue.concurrentPerform(iterations: buffer.count) { box.value[$0].settle(annotator) }
        }
        timer.mark("settle")
        for tally in settled { timer.note("worker groups", tally.groups.count) }
        var merged = settled.removeFirst()
        while !settled.isEmpty { merged.merge(settled.removeFirst()) }
        MemoryPolicy.releaseFreeMemory()
        timer.mark("merge")
        timer.note("groups", merged.groups.count)
        var result = finish(consume merged, sampleID: sampleID)
        result.pairs?.interleaved = reader.interleaved
        if let frozen = limit.frozen { result.groupLimitReached = (frozen.count, frozen.readsBefore) }
        timer.mark("clonotypes (all)")
        return result
    }

    func finish(_ tally: consuming BaselineTally, sampleID: String) -> BaselineResult {
        var timer = PhaseTimer()
        var result = BaselineResult(sampleID: sampleID)
        result.totalReads = tally.total
        if tally.pairs.readPairs > 0 { result.pairs = tally.pairs }
        for (i, reason) in UnassignedReason.allCases.enumerated() where tally.unassigned[i] > 0 { result.unassigned[reason] = tally.unassigned[i] }
        result.spikeInReads = tally.spikes.values.reduce(0, +)
        if let matcher = spikeMatcher {
            for (s, n) in tally.spikes { result.spikeInReadsByID[matcher.spikes[s].id] = n }
        }
        let names = tally.callNames
        func callNames(_ id: Int32) -> String { id < 0 ? "" : names[Int(id)] }
        func clonotype(_ group: BaselineTally.Group, _ folded: GroupClone) -> Clonotype {
            var vCalls: [String: Int] = [:], dCalls: [String: Int] = [:], jCalls: [String: Int] = [:]
            group.callIDs.forEach { ids, n in
                vCalls[callNames(ids.v), default: 0] += n
                dCalls[callNames(ids.d), default: 0] += n
                jCalls[callNames(ids.j), default: 0] += n
            }
            let representative = group.representative!
            var clonotype = Clonotype(locus: group.locus, kind: group.kind, vCall: majority(vCalls),
                      dCall: majority(dCalls), jCall: majority(jCalls), junction: folded.junction, count: folded.count,
                      representative: representative.bases(arena), representativeReversed: representative.reversed,
                      representativeJunctionStart: Int(representative.junctionStart),
                      templatedFivePrime: Int(representative.templatedFivePrime),
                      templatedThreePrime: Int(representative.templatedThreePrime),
                      vAlignment: representative.v?.alignment, jAlignment: representative.j?.alignment,
                      junctionMeanQualities: group.meanQualities(arena))
            clonotype.forwardCount = folded.forwardCount
            // The consensus is only ever an index clone's target: made for the clonotypes that
            // reach the fraction and read thresholds (the rest never need it).
            let locusReads = readsPerLocus[group.locus] ?? 0
            let fraction = locusReads == 0 ? 0 : Double(folded.count) / Double(locusReads)
            if fraction >= options.minFraction && folded.count >= options.minReads {
                let consensus = group.consensus(arena)
                clonotype.consensus = consensus.bases
                clonotype.consensusJunctionStart = consensus.junctionOffset
                clonotype.consensusUpstream = consensus.upstream
            }
            return clonotype
        }
        // Folded as groups, before any clonotype is made: most groups of a noisy diagnosis are
        // one-read satellites that only add their reads to a parent, and need never become a
        // whole clonotype.
        var groups = tally.groups
        var arena = tally.arena
        tally.groups = ChunkedArray()
        tally.arena = ByteArena()
        let qualities = FoldQualities()
        // Past the group limit, reads of satellites met late were folded into their clone's key:
        // added to its count here (not to its group's, whose qualities and bases are its own reads').
        var foldedEarly: [Int: (reads: Int, forward: Int)] = [:]
        if let frozen = tally.frozenKeys {
            for (key, counts) in tally.foldedEarly {
                let junction = Array(frozen.junction(key))
                let found = junction.withUnsafeBufferPointer { junction in
                    tally.groupIndex.find(frozen.locus[key], frozen.kind[key], junction, hash: GroupTable.hash(junction), in: groups, arena: arena)
                }
                // Every frozen key has its group (groups are never dropped while reads come in);
                // were one missing, its reads would still be counted, as not kept.
                if let g = found { foldedEarly[g] = counts } else { tally.notKept[frozen.locus[key].order] += counts.reads }
            }
        }
        tally.groupIndex = GroupTable()
        var order = groups.indices.filter { groups[$0].count > 0 }.map { g in
            let offset = Int32(qualities.bytes.count)
            qualities.bytes += groups[g].meanQualities(arena)
            let early = foldedEarly[g] ?? (0, 0)
            return GroupClone(group: Int32(g), count: groups[g].count + early.reads, forwardCount: groups[g].forward + early.forward,
                              locus: groups[g].locus, kind: groups[g].kind, junction: arena.array(groups[g].junction), qualities: qualities,
                              qualityOffset: offset)
        }
        timer.mark("clonotypes: fold items")
        ErrorFolding.sortInOrder(&order)
        timer.mark("clonotypes: sort")
        ErrorFolding.fold(inPlace: &order)
        var readsPerLocus: [Locus: Int] = [:]
        for item in order { readsPerLocus[item.locus, default: 0] += item.count }
        // Reads not kept (past the group limit) are reads of their locus all the same: fractions
        // keep the locus's whole read count as denominator.
        for locus in Locus.allCases where tally.notKept[locus.order] > 0 { readsPerLocus[locus, default: 0] += tally.notKept[locus.order] }
        // The satellites' groups are released now (their reads are in their parents' counts).
        var survives = [Bool](repeating: false, count: groups.count)
        for item in order { survives[Int(item.group)] = true }
        for g in groups.indices where !survives[g] { groups[g] = .released }
        MemoryPolicy.releaseFreeMemory()
        timer.mark("clonotypes: fold")
        // Built in group order, a chunk of groups at a time, so that each chunk of groups and
        // each arena chunk no later group needs are released as soon as their clonotypes exist
        // (groups, arena and clonotypes are never all whole at once); then put in clone order.
        let byGroup = order.indices.sorted { order[$0].group < order[$1].group }
        var arenaLastUse = [Int](repeating: -1, count: arena.chunkCount)
        for item in order {
            groups[Int(item.group)].forEachSpan { span in arenaLastUse[Int(span.chunk)] = max(arenaLastUse[Int(span.chunk)], Int(item.group)) }
        }
        var clonotypes: [Clonotype] = []
        clonotypes.reserveCapacity(order.count)
        var next = 0
        for groupChunk in 0..<groups.chunkCount {
            let end = min(groups.count, (groupChunk + 1) * ChunkedArray<BaselineTally.Group>.chunkLength)
            let first = next
            while next < byGroup.count && Int(order[byGroup[next]].group) < end { next += 1 }
            let items = byGroup[first..<next].map { order[$0] }
            clonotypes += items.parallelMap(threads: options.threads, minimumCount: 256) { item in clonotype(groups[Int(item.group)], item) }
            groups.releaseChunk(groupChunk)
            for c in arenaLastUse.indices where arenaLastUse[c] >= 0 && arenaLastUse[c] < end {
                arena.releaseChunk(c)
                arenaLastUse[c] = -1
            }
        }
        // clonotypes[k] is survivor byGroup[k]: clone order puts survivor i at i.
        var permutation = [Int](repeating: 0, count: byGroup.count)
        for (k, i) in byGroup.enumerated() { permutation[i] = k }
        ErrorFolding.permute(&clonotypes, permutation)
        groups = ChunkedArray()
        arena = ByteArena()
        order = []
        timer.mark("clonotypes: build")
        // Gapped V alignments of the representatives (AIRR v_identity, alignments), once per clonotype.
        let annotator = self.annotator
        let gapped = clonotypes.parallelMap(threads: options.threads) { c -> (GeneAlignment, [UInt8])? in
            guard let v = c.vAlignment, let allele = c.vCall.split(separator: ",").first else { return nil }
            return annotator.gappedV(read: c.representative, junctionStart: c.representativeJunctionStart, ungapped: v, allele: String(allele))
        }
        for i in clonotypes.indices { if let (v, germline) = gapped[i] { clonotypes[i].vGapped = v; clonotypes[i].vGermline = germline } }
        timer.mark("clonotypes: V alignments")
        // D genes are called once per clonotype, not per read; with the J germline and the
        // untemplated bases, per clonotype in parallel (each reads only its own clonotype).
        struct GermlineParts { var d: (calls: String, placed: PlacedGermline?)?; var j: [UInt8]?; var untemplated: Int }
        // Read through the array's buffer: a second reference to the array would make the writes
        // below copy every clonotype.
        let threads = options.threads
        let parts = clonotypes.withUnsafeBufferPointer { snapshot in Array(snapshot.indices).parallelMap(threads: threads) { i -> GermlineParts in
            let c = snapshot[i]
            var d: (calls: String, placed: PlacedGermline?)?
            if c.kind == .VDJ {
                if let place = annotator.dPlacement(c.locus, c.junction) {
                    var placed: PlacedGermline?
                    if let gene = annotator.dGene(c.locus, allele: String(place.calls.split(separator: ",")[0])) {
                        placed = PlacedGermline(start: c.representativeJunctionStart + place.junctionStart,
                                                bases: Array(gene[place.germlineStart..<(place.germlineStart + place.length)]))
                    }
                    d = (place.calls, placed)
                } else {
                    d = ("", nil)
                }
            }
            let j = c.jCall.split(separator: ",").first.flatMap { annotator.jGene(String($0)) }
            var middle = c.junction.count - c.templatedFivePrime - c.templatedThreePrime
            if c.kind == .VDJ && middle > 0 {
                let inner = Array(c.junction[c.templatedFivePrime..<(c.junction.count - c.templatedThreePrime)])
                middle -= annotator.dMatchLength(c.locus, inner)
            }
            return GermlineParts(d: d, j: j, untemplated: max(0, middle))
        } }
        for i in clonotypes.indices {
            if let d = parts[i].d {
                clonotypes[i].dCall = d.calls
                if let placed = d.placed { clonotypes[i].dOnRepresentative = placed }
            }
            if let j = parts[i].j { clonotypes[i].jGermline = j }
            clonotypes[i].untemplated = parts[i].untemplated
        }
        timer.mark("clonotypes: D calls")
        result.notKeptReads = tally.notKept.reduce(0, +)
        result.assignedReads = clonotypes.reduce(0) { $0 + $1.count } + result.notKeptReads
        // The fold's reads per locus: the clonotypes' counts (one per fold survivor) and the reads not kept.
        result.readsPerLocus = readsPerLocus
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
        ReadCoverage.assign(&clonotypes)
        for i in clonotypes.indices {
            let perCopy = readsPerCopy[clonotypes[i].locus]
            clonotypes[i].templates = Double(clonotypes[i].count) / ((perCopy ?? 1) * clonotypes[i].coverage)
            clonotypes[i].templatesCalibrated = perCopy != nil
        }
        timer.mark("clonotypes: ids, templates")
        IndexCloneSelection(options: options).select(&clonotypes)
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
}
