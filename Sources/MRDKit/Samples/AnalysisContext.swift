import Foundation

/// What every sample of a command or a run shares: the germline set and its k-mer index (built
/// once: start-up is a noticeable part of a small sample), and the spike-in calibrators.
public struct AnalysisContext: Sendable {
    public let germline: GermlineReference
    public let annotator: Annotator
    public let spikeIns: [SpikeInCalibrator]

    public init(germline: GermlineReference, loci: [Locus] = Locus.allCases, spikeIns: [SpikeInCalibrator] = []) {
        self.germline = germline
        annotator = Annotator(germline: germline, loci: loci)
        self.spikeIns = spikeIns
    }

    /// The bundled germline set (or the folder given, in the same layout) and the spike-in table, if any.
    public static func load(germlineDirectory: String? = nil, loci: [Locus] = Locus.allCases, spikeInsPath: String? = nil) throws -> AnalysisContext {
        let germline = try germlineDirectory.map { try GermlineReference(directory: URL(fileURLWithPath: $0)) } ?? GermlineReference.bundled()
        return AnalysisContext(germline: germline, loci: loci, spikeIns: try spikeInsPath.map(SpikeInsFile.read) ?? [])
    }
}

/// Options of a follow-up's tracking and call: one set for `mrd track` and for every follow-up
/// of `mrd run` (the per-sample cell count comes from the sample).
public struct FollowUpOptions: Sendable, Equatable {
    public var threshold = CallRule.defaultThreshold
    /// UMI length at the start of read 1 (0: no UMIs).
    public var umiLength = 0
    public var tolerance = MatchTolerance()
    /// Count VH-replacement reads as leukemic.
    public var countEvolved = true
    public var detection = DetectionRule()
    /// Without a cell count, `reads` reports the read fraction as the level (on purpose only).
    public var levelBasis = LevelBasis.cells
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    /// Distinct reads memoised per worker; nil keeps the tracker's default.
    public var memoCapacity: Int?

    public init() {}

    public var track: TrackOptions {
        var track = TrackOptions()
        track.threads = threads
        track.tolerance = tolerance
        track.countEvolved = countEvolved
        track.umiLength = umiLength
        if let memoCapacity { track.memoCapacity = memoCapacity }
        return track
    }

    /// The call's options for a sample with this DNA input or cell count (at most one).
    public func call(dnaNanograms: Double?, cells: Double?) -> CallOptions {
        var call = CallOptions()
        call.threshold = threshold
        call.dnaNanograms = dnaNanograms
        call.cells = cells
        call.useUMIs = umiLength > 0
        call.countEvolved = countEvolved
        call.detection = detection
        call.levelBasis = levelBasis
        return call
    }

    /// The settings that change a follow-up's outputs, for completion records.
    public var fingerprint: String {
        "threshold=\(threshold) tolerance=\(tolerance.costPer50) umi=\(umiLength) evolved=\(countEvolved) "
            + "detection=\(detection.minReads)/\(detection.templateFraction) basis=\(levelBasis.rawValue)"
    }
}
