import Foundation

/// A diagnostic sample: its reads annotated into clonotypes, index clones chosen, and its files
/// (ID.clones.tsv, ID.airr.tsv, ID.baseline.json) written together. `mrd baseline`, `mrd run` and
/// the workflow's baseline jobs all go through here.
public struct BaselineSample: Sendable {
    public var sampleID: String
    public var input: SampleInput

    public init(sampleID: String, input: SampleInput) {
        self.sampleID = sampleID
        self.input = input
    }

    /// What a finished baseline gives the run.
    public struct Outcome: Sendable {
        public var clones: [BaselineClone]
        public var summary: BaselineSummary
    }

    public static func clonesPath(in directory: String, sampleID: String) -> String {
        (directory as NSString).appendingPathComponent("\(sampleID).clones.tsv")
    }

    public static func summaryPath(in directory: String, sampleID: String) -> String {
        (directory as NSString).appendingPathComponent("\(sampleID).baseline.json")
    }

    /// Analyses the sample and writes its files into `directory`, all or none.
    public func run(context: AnalysisContext, options: BaselineOptions, directory: String, commandLine: [String]) throws -> Outcome {
        let analysis = BaselineAnalysis(annotator: context.annotator, spikeIns: context.spikeIns, options: options)
        var timer = PhaseTimer()
        // The clones that may be tracked: their reads' consensus as their sequence (v_identity,
        // AIRR alignments), not one read's errors. (A `let` result: its clonotypes are released
        // after their last use below, before clones.tsv is formatted; a `var` kept them to the end.)
        let result = try { () throws -> BaselineResult in
            var result = try analysis.run(input, sampleID: sampleID)
            timer = PhaseTimer()
            try CloneSequenceConsensus.refine(&result.clonotypes, input: input, annotator: context.annotator, threads: options.threads)
            timer.mark("clonotypes: sequence consensus")
            return result
        }()
        var clones = Self.clones(result)
        try createOutputFolder(directory)
        let base = (directory as NSString).appendingPathComponent(sampleID)
        // clones.tsv whole; airr.tsv (long rows: sequence and alignments) written in chunks of rows
        // formatted side by side, so that a diagnosis with many clonotypes never holds it whole as text.
        // airr.tsv does not depend on coverage: it is written while the coverage pass (one worker
        // and its reader) runs beside it.
        let airrFile = try AtomicFile(path: base + ".airr.tsv")
        let coverage = CoverageTask(clones: clones, clonotypes: result.clonotypes, input: input, context: context, threads: options.threads,
                                    sampleReads: result.totalReads)
        let airrError = Result { try Self.writeAIRR(result, to: airrFile, threads: options.threads) }
        timer.mark("outputs: airr (beside coverage)")
        for (c, value) in try coverage.wait() { clones[c].coverage = value }
        timer.mark("coverage")
        try airrError.get()
        let outcome = Outcome(clones: clones, summary: Self.summary(result, inputs: input.allFiles, commandLine: commandLine))
        timer.mark("outputs: summary")
        var outputs = OutputSet([(base + ".clones.tsv", ClonesFile.text(outcome.clones, threads: options.threads))])
        timer.mark("outputs: clones")
        outputs.add(written: airrFile)
        outputs.add(outcome.summary.text, to: base + ".baseline.json")
        try outputs.commit()
        timer.mark("outputs: commit")
        return outcome
    }

    /// Workers of the coverage pass: tracking 50,000 reads takes 0.15 s on one (0.10 s on two),
    /// and a second one's tally and batches set the command's peak on a noisy diagnosis.
    static let coverageThreads = 1

    /// The coverage pass on a thread of its own, started at once; `wait()` gives its result.
    final class CoverageTask: @unchecked Sendable {
        private typealias Inputs = (clones: [BaselineClone], clonotypes: [Clonotype], input: SampleInput, context: AnalysisContext, sampleReads: Int)
        private var inputs: Inputs?
        private var result: Result<[(Int, Double)], Error> = .success([])
        private let finished = DispatchSemaphore(value: 0)

        init(clones: [BaselineClone], clonotypes: [Clonotype], input: SampleInput, context: AnalysisContext, threads: Int, sampleReads: Int) {
            inputs = (clones, clonotypes, input, context, sampleReads)
            let thread = Thread { [self] in
                result = measure(threads: threads)
                finished.signal()
            }
            thread.name = "mrd-coverage"
            thread.stackSize = 8 << 20
            thread.start()
        }

        /// Takes the inputs out, so that this thread holds no reference to the clone rows once done
        /// (the caller then sets their coverage without copying them).
        private func measure(threads: Int) -> Result<[(Int, Double)], Error> {
            let inputs = self.inputs!
            self.inputs = nil
            return Result { try BaselineSample.measureCoverage(inputs.clones, clonotypes: inputs.clonotypes, input: inputs.input,
                                                               context: inputs.context, threads: threads, sampleReads: inputs.sampleReads) }
        }

        /// Each measured index clone's position in the clone rows and its coverage.
        func wait() throws -> [(Int, Double)] {
            finished.wait()
            return try result.get()
        }
    }

    /// Each index clone's `coverage` (see `ReadCoverage`), measured with the tracker's own rule: the
    /// diagnostic reads are tracked against the index clones as a follow-up's would be, and the
    /// orientations of the counted reads compared with the sample's (its clonotypes' median).
    /// Returned as (row, coverage) pairs for the caller to set.
    ///
    /// An index clone expected to have under a quarter of `ReadCoverage.minReads` reads among the
    /// reads tracked (its count scaled to them) could not be judged (coverage 1) and is not
    /// tracked here, only kept as a competitor: with `--min-fraction 0` every clonotype is an index
    /// clone, and tracking 8,000 of them took 15 s of a 700k-read diagnosis.
    static func measureCoverage(_ clones: [BaselineClone], clonotypes: [Clonotype], input: SampleInput, context: AnalysisContext,
                                threads: Int, sampleReads: Int) throws -> [(Int, Double)] {
        guard clones.contains(where: \.trackable) else { return [] }
        let scale = min(1, Double(ReadCoverage.reads) / Double(max(1, sampleReads)))
        let unjudged = clones.indices.filter { clones[$0].trackable && Double(clones[$0].count) * scale * 4 < Double(ReadCoverage.minReads) }
        if !unjudged.isEmpty {
            // A copy only then (a copy of every row is memory at the command's peak).
            var judged = clones
            for c in unjudged { judged[c].trackable = false }
            guard judged.contains(where: \.trackable) else { return unjudged.map { ($0, 1.0) } }
            return try measureCoverage(judged, clonotypes: clonotypes, input: input, context: context, threads: threads,
                                       sampleReads: sampleReads) + unjudged.map { ($0, 1.0) }
        }
        var t = PhaseTimer()
        var track = TrackOptions()
        track.threads = min(threads, Self.coverageThreads)
        let tracker = FollowUpTracker(clones: clones, germline: context.germline, annotator: context.annotator,
                                      spikeIns: context.spikeIns, options: track)
        t.mark("coverage: tracker")
        // The first reads are plenty for orientation shares (an index clone is >= 5% of its locus).
        // Its 50,000 reads need no deep read-ahead (each chunk ahead is memory at the command's peak).
        let counts = try tracker.run(input.readingAhead(chunks: 2, of: 1 << 20), sampleID: "coverage",
                                     recordLimit: ReadCoverage.reads, batchCapacity: 1 << 20)
        let tracked = tracker.tracked
        t.mark("coverage: run")
        // The sample's forward share: from its spike-ins (short: every read spans them) when it has
        // enough of them, else from its clonotypes (most of which are spanned from both ends).
        var shares: [Locus: Double] = [:]
        let spikeShare = ReadCoverage.spikeInForwardShare(counts)
        for locus in Set(tracked.map { clones[$0].locus }) {
            shares[locus] = spikeShare
                ?? ReadCoverage.forwardShare(clonotypes, members: clonotypes.indices.filter { clonotypes[$0].locus == locus })
        }
        var coverage: [(Int, Double)] = []
        for (t, c) in tracked.enumerated() {
            guard let share = shares[clones[c].locus] else { continue }
            let count = counts.clones[t]
            coverage.append((c, ReadCoverage.coverage(forward: count.forwardReads, count: count.reads, forwardShare: share)))
        }
        return coverage
    }

    /// Rewrites clones.tsv and the index clones of baseline.json after a run-level check changed
    /// which clones are trackable (both files, or neither).
    public static func rewriteIndexClones(_ clones: [BaselineClone], directory: String, sampleID: String) throws {
        let summaryPath = Self.summaryPath(in: directory, sampleID: sampleID)
        var summary = try BaselineSummary.read(path: summaryPath)
        summary.trackable = clones.filter(\.trackable).map(\.cloneID)
        for clone in clones where !clone.notTrackableReason.isEmpty { summary.notTrackable[clone.cloneID] = clone.notTrackableReason }
        for clone in clones where clone.notTrackableReason.isEmpty { summary.notTrackable[clone.cloneID] = nil }
        if summary.trackable.isEmpty {
            summary.noTrackableReason = clones.filter { !$0.notTrackableReason.isEmpty }.map { "\($0.cloneID): \($0.notTrackableReason)" }
                .joined(separator: "; ")
        } else {
            summary.noTrackableReason = nil
        }
        try OutputSet([(clonesPath(in: directory, sampleID: sampleID), ClonesFile.text(clones)), (summaryPath, summary.text)]).commit()
    }

    /// clones.tsv rows, one per clonotype, in clone order.
    static func clones(_ result: BaselineResult) -> [BaselineClone] {
        result.clonotypes.map { c in
            var clone = BaselineClone(cloneID: c.cloneID, sampleID: result.sampleID, locus: c.locus, kind: c.kind, vCall: c.vCall,
                                      dCall: c.dCall, jCall: c.jCall, junction: c.junction, count: c.count, trackable: c.trackable,
                                      target: c.target)
            clone.junctionAA = c.junctionAA
            clone.productive = c.productive
            clone.fraction = c.fraction
            clone.locusReads = c.locusReads
            clone.nearestCloneID = c.nearestCloneID
            clone.nearestDistance = c.nearestDistance
            clone.notTrackableReason = c.notTrackableReason
            clone.untemplated = c.untemplated
            clone.coverage = c.coverage
            clone.vIdentity = c.vGapped?.identity
            if c.trackable && !c.consensus.isEmpty {
                // The consensus of the clone's reads before its target (a representative read may
                // carry a sequencing indel there, and the longest read is likelier to).
                clone.upstream = c.consensusUpstream
            } else if c.trackable, let offset = c.target.firstRange(of: c.junction)?.lowerBound {
                // The representative read's bases before the target (V-to-J, as the target).
                let targetStart = c.representativeJunctionStart - offset
                if targetStart > 0 && targetStart <= c.representative.count {
                    clone.upstream = BaselineClone.upstream(of: c.representative, before: targetStart)
                }
            }
            return clone
        }
    }

    /// Rows of airr.tsv per chunk formatted at once, a chunk per thread in flight (about 2.5 KB a
    /// row as rows and text: chunks of 2,048 held 10 MiB at a noisy diagnosis's peak).
    static let airrChunk = 512

    /// The clonotypes as airr.tsv rows into `file` (header first), chunk by chunk, `threads` chunks at a time.
    static func writeAIRR(_ result: BaselineResult, to file: AtomicFile, threads: Int) throws {
        try file.write(AIRRFile.text([], header: true))
        let clonotypes = result.clonotypes
        let chunks = stride(from: 0, to: clonotypes.count, by: airrChunk).map { $0..<min($0 + airrChunk, clonotypes.count) }
        for first in stride(from: 0, to: chunks.count, by: max(1, threads)) {
            let group = Array(chunks[first..<min(first + max(1, threads), chunks.count)])
            let texts = group.parallelMap(threads: threads, minimumCount: 2) { range in
                AIRRFile.text(airr(clonotypes[range]), header: false)
            }
            for text in texts { try file.write(text) }
        }
    }

    /// The airr.tsv rows of a result's clonotypes.
    static func airr(_ result: BaselineResult) -> [AIRRRearrangement] { airr(result.clonotypes) }

    /// AIRR rows, one per clonotype representative (the read turned V-to-J).
    static func airr<C: Collection>(_ clonotypes: C) -> [AIRRRearrangement] where C.Element == Clonotype {
        clonotypes.map { c in
            let length = c.representative.count
            var row = AIRRRearrangement(sequenceID: c.cloneID, sequence: String(decoding: c.representative, as: UTF8.self))
            row.revComp = c.representativeReversed
            row.productive = c.productive
            row.vCall = c.vCall; row.dCall = c.dCall; row.jCall = c.jCall
            row.junction = c.junctionString
            row.mrdTrackable = c.trackable
            row.mrdNotTrackableReason = c.notTrackableReason
            row.junctionAA = c.junctionAA ?? ""
            row.vCigar = c.vGapped?.cigar(readLength: length) ?? c.vAlignment?.cigar(readLength: length) ?? ""
            row.vIdentity = c.vGapped?.identity
            if let v = c.vGapped, let j = c.jAlignment, !c.jGermline.isEmpty {
                row.setAlignments(sequence: c.representative, v: v, vGermline: c.vGermline, j: j, jGermline: c.jGermline, d: c.dOnRepresentative)
            }
            if let d = c.dOnRepresentative {
                (row.dSequenceStart, row.dSequenceEnd) = (d.start + 1, d.start + d.bases.count)
            }
            row.jCigar = c.jAlignment?.cigar(readLength: length) ?? ""
            row.locus = c.locus.rawValue
            row.junctionLength = c.junction.count
            row.duplicateCount = c.count
            row.consensusCount = c.consensusReads > 0 ? c.consensusReads : nil
            row.cloneID = c.cloneID
            if let v = c.vGapped {
                (row.vSequenceStart, row.vSequenceEnd, row.vGermlineStart, row.vGermlineEnd) = (v.readStart + 1, v.readEnd, v.germlineStart + 1, v.germlineEnd)
            } else if let v = c.vAlignment {
                (row.vSequenceStart, row.vSequenceEnd, row.vGermlineStart, row.vGermlineEnd) = (v.readStart + 1, v.readEnd, v.germlineStart + 1, v.germlineEnd)
            }
            if let j = c.jAlignment {
                (row.jSequenceStart, row.jSequenceEnd, row.jGermlineStart, row.jGermlineEnd) = (j.readStart + 1, j.readEnd, j.germlineStart + 1, j.germlineEnd)
            }
            return row
        }
    }

    /// The median, over the reads of clonotypes with a V alignment, of their V's identity to its
    /// germline allele (each clonotype's representative speaks for its reads), and how many reads
    /// that is; nil without any.
    static func medianVIdentity(_ clonotypes: [Clonotype]) -> (median: Double?, reads: Int) {
        let weighted = clonotypes.compactMap { c in c.vGapped.map { (value: $0.identity, weight: c.count) } }
        return (weightedMedian(weighted), weighted.reduce(0) { $0 + $1.weight })
    }

    static func summary(_ result: BaselineResult, inputs: [String], commandLine: [String]) -> BaselineSummary {
        var unassigned: [String: Int] = [:]
        for reason in UnassignedReason.allCases { unassigned[reason.rawValue] = result.unassigned[reason] ?? 0 }
        var perLocus: [String: Int] = [:]
        for (locus, n) in result.readsPerLocus { perLocus[locus.rawValue] = n }
        var notTrackable: [String: String] = [:]
        for i in result.clonotypes.indices where !result.clonotypes[i].notTrackableReason.isEmpty {
            notTrackable[result.clonotypes[i].cloneID] = result.clonotypes[i].notTrackableReason
        }
        var summary = BaselineSummary(sampleID: result.sampleID, version: MRD.version, commandLine: commandLine, inputs: inputs,
                                      totalReads: result.totalReads, assignedReads: result.assignedReads, unassignedReads: unassigned,
                                      spikeInReads: result.spikeInReads, spikeInReadsByID: result.spikeInReadsByID, readsPerLocus: perLocus,
                                      clonotypes: result.clonotypes.count, trackable: result.trackable.map(\.cloneID),
                                      noTrackableReason: result.noTrackableReason, notTrackable: notTrackable)
        if let pairs = result.pairs {
            (summary.readPairs, summary.mergedPairs, summary.unmergedPairs) = (pairs.readPairs, pairs.mergedPairs, pairs.unmergedPairs)
            summary.interleaved = pairs.interleaved
        }
        if result.totalReads > 0 && Double(result.assignedReads + result.spikeInReads) < BaselineSummary.minAssignedShare * Double(result.totalReads) {
            summary.qcFlags.append("low_assignment")
        }
        // Reads that hold one side of a rearrangement and end before the other: reads shorter than
        // the amplicon (1x100 on FR3 amplicons with long junctions), or single-end reads of the
        // V side of long ones. A clone whose junction the reads rarely span is then missed.
        if !summary.qcFlags.contains("low_assignment"), result.totalReads > 0,
           Double(summary.partialReads) >= BaselineSummary.maxPartialShare * Double(result.totalReads) {
            summary.qcFlags.append("reads_short_of_junction")
        }
        if let reached = result.groupLimitReached {
            (summary.groupLimitGroups, summary.groupLimitReads, summary.readsNotKept) = (reached.groups, reached.reads, result.notKeptReads)
            summary.qcFlags.append("group_limit")
        }
        let (median, reads) = medianVIdentity(result.clonotypes)
        summary.medianVIdentity = median
        if let median, reads >= BaselineSummary.minReadsForVIdentity, median < BaselineSummary.minMedianVIdentity {
            summary.qcFlags.append("low_v_identity")
        }
        return summary
    }
}
