import Foundation

/// A follow-up sample: its reads tracked against the patient's index clones, quantified and
/// called, and its files (FID.mrd.tsv, FID.call.json) written together. `mrd track`, `mrd run`
/// and the workflow's track jobs all go through here.
public struct FollowUpSample: Sendable {
    public var sampleID: String
    public var input: SampleInput
    public var dnaNanograms: Double?
    public var cells: Double?

    public init(sampleID: String, input: SampleInput, dnaNanograms: Double? = nil, cells: Double? = nil) {
        self.sampleID = sampleID
        self.input = input
        self.dnaNanograms = dnaNanograms
        self.cells = cells
    }

    public static func callPath(in directory: String, sampleID: String) -> String {
        (directory as NSString).appendingPathComponent("\(sampleID).call.json")
    }

    public static func outputPaths(in directory: String, sampleID: String) -> [String] {
        ["mrd.tsv", "call.json"].map { (directory as NSString).appendingPathComponent("\(sampleID).\($0)") }
    }

    /// A tracker for a patient's clones (one per patient: its target index serves every follow-up).
    public static func tracker(clones: [BaselineClone], context: AnalysisContext, options: FollowUpOptions) -> FollowUpTracker {
        FollowUpTracker(clones: clones, germline: context.germline, annotator: context.annotator, spikeIns: context.spikeIns,
                        options: options.track)
    }

    /// Tracks, calls and writes the sample's files into `directory`, both or none.
    public func run(tracker: FollowUpTracker, context: AnalysisContext, options: FollowUpOptions, directory: String,
                    commandLine: [String]) throws -> CallRecord {
        let counts = try tracker.run(input, sampleID: sampleID)
        var callOptions = options.call(dnaNanograms: dnaNanograms, cells: cells)
        callOptions.inheritedFlags = Self.inheritedFlags(tracker.clones)
        callOptions.noMarkerDetail = Self.noMarkerDetail(tracker.clones)
        let call = Quantifier.call(counts, spikes: context.spikeIns, spikeLoci: tracker.index.spikeLoci, options: callOptions)
        var record = Self.record(call, spikes: context.spikeIns, spikeReads: counts.spikeInReads, detection: callOptions.detection,
                                 inputs: input.allFiles, commandLine: commandLine)
        if let pairs = counts.pairs {
            (record.readPairs, record.mergedPairs, record.unmergedPairs) = (pairs.readPairs, pairs.mergedPairs, pairs.unmergedPairs)
            record.interleaved = pairs.interleaved
        }
        try createOutputFolder(directory)
        let paths = Self.outputPaths(in: directory, sampleID: sampleID)
        try OutputSet([(paths[0], MRDTable.text(Self.rows(call))), (paths[1], record.text)]).commit()
        return record
    }

    /// QC codes a follow-up inherits from its patient's clones.
    static func inheritedFlags(_ clones: [BaselineClone]) -> [String] {
        var flags: [String] = []
        if clones.contains(where: { $0.notTrackableReason.hasPrefix(SharedClones.reasonPrefix) }) { flags.append("shared_index_clone") }
        // The tracked clones' V unlike human germline: their median identity, by reads (clones files
        // of other tools carry no identity).
        let tracked = clones.filter(\.trackable).compactMap { c in c.vIdentity.map { (value: $0, weight: max(1, c.count)) } }
        if let median = weightedMedian(tracked), median < BaselineSummary.minMedianVIdentity { flags.append("low_v_identity") }
        return flags
    }

    /// Why none of the clones is trackable (nil when one is).
    static func noMarkerDetail(_ clones: [BaselineClone]) -> String? {
        guard !clones.contains(where: \.trackable) else { return nil }
        let reasons = clones.filter { !$0.notTrackableReason.isEmpty }.prefix(3).map { "\($0.cloneID): \($0.notTrackableReason)" }
        return reasons.isEmpty ? "no clonotype of the diagnostic sample reached the index-clone thresholds" : reasons.joined(separator: "; ")
    }

    /// mrd.tsv rows, one per tracked clone.
    static func rows(_ call: MRDCall) -> [MRDRow] {
        call.clones.map { level in
            let c = level.count
            return MRDRow(sampleID: call.sampleID, cloneID: c.clone.cloneID, locus: c.clone.locus.rawValue, junction: c.clone.junctionString,
                          reads: c.reads, evolvedReads: c.evolvedReads, templates: level.templates, mrdLevel: level.level,
                          detected: level.detected, exactReads: c.exactReads, rejectedReads: c.rejectedReads,
                          umis: call.templateMethod == .umi ? c.umis : nil, readsPerTemplate: level.readsPerTemplate,
                          expectedBleedReads: c.expectedBleedReads, readFraction: level.readFraction,
                          umiRecovery: call.templateMethod == .umi && call.umiCapture != nil ? level.umiRecovery : nil)
        }
    }

    static func record(_ call: MRDCall, spikes: [SpikeInCalibrator], spikeReads: [Int], detection: DetectionRule, inputs: [String],
                       commandLine: [String]) -> CallRecord {
        var perLocus: [String: Int] = [:]
        for (locus, n) in call.readsPerLocus { perLocus[locus.rawValue] = n }
        var perCopy: [String: Double]?
        if let fit = call.fit {
            var rates: [String: Double] = ["all": fit.overallReadsPerCopy]
            for (locus, rate) in fit.readsPerCopy { rates[locus.rawValue] = rate }
            perCopy = rates
        }
        return CallRecord(sampleID: call.sampleID, version: MRD.version, commandLine: commandLine, inputs: inputs, totalReads: call.totalReads,
                          readsPerLocus: perLocus, spikeInReads: call.spikeInReads, templateMethod: call.templateMethod.rawValue,
                          cellsMethod: call.cellsMethod.rawValue, cellsAssessed: call.cellsAssessed, clonesTracked: call.clonesTracked,
                          clonesDetected: call.clonesDetected, leukemicReads: call.leukemicReads, leukemicTemplates: call.leukemicTemplates,
                          mrdLevel: call.mrdLevel, mrdCILow: call.ciLow, mrdCIHigh: call.ciHigh, lod: call.lod, loq: call.loq,
                          threshold: call.threshold, detected: call.detected, quantifiable: call.quantifiable, call: call.call.rawValue,
                          callDetail: call.callDetail.rawValue, qcPass: call.qcPass, qcFlags: call.qcFlags, topClone: call.topClone,
                          evolvedReads: call.evolvedReads, unassignedReads: ["no_locus": call.readsWithoutLocus],
                          detectionRule: .init(minReads: detection.minReads, templateFraction: detection.templateFraction,
                                               bleedSignificance: detection.bleedSignificance),
                          spikeInReadsByID: Dictionary(uniqueKeysWithValues: zip(spikes.map(\.id), spikeReads)),
                          readsPerCopy: perCopy, spikeInOutliers: call.fit?.outliers, readFraction: call.readFraction,
                          levelBasis: call.levelBasis.rawValue, reason: call.reason, markers: call.markers,
                          umiCheck: call.umiProfile.map { .init(length: $0.length, reads: $0.reads, topTenShare: $0.topTenShare,
                                                                meanTopBaseShare: $0.meanTopBaseShare, random: $0.looksRandom,
                                                                spikeInCapture: call.umiCapture) })
    }
}
