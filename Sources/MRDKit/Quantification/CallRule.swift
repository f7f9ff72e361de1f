/// The call of a follow-up sample.
public enum MRDCallKind: String, Sendable, CaseIterable {
    case positive, negative, indeterminate
}

/// Why the call is what it is.
public enum CallDetail: String, Sendable, CaseIterable {
    /// Positive, at or above the LoQ.
    case quantifiable
    /// Positive, below the LoQ.
    case notQuantifiable = "not_quantifiable"
    /// Negative: nothing detected, and the sample's LoD reaches the threshold.
    case undetected
    /// Negative: detected, below the threshold.
    case detectedBelowThreshold = "detected_below_threshold"
    /// Indeterminate: nothing detected, and the LoD is above the threshold (or unknown).
    case insufficientInput = "insufficient_input"
    /// Indeterminate: QC failed and nothing was detected at or above the threshold.
    case qcFail = "qc_fail"
    /// Indeterminate: the patient has no trackable clone.
    case noMarker = "no_marker"
    /// Indeterminate: no DNA input or cell count, so no level per cell (contract v3).
    case noCellCount = "no_cell_count"
    /// Indeterminate: the sample could not be processed.
    case failed
}

/// The contract's one rule from measurements to a call, used by `mrd track` and by `mrd cohort`
/// when it re-derives calls at another threshold.
public struct CallRule: Sendable, Equatable {
    /// The contract's default MRD threshold.
    public static let defaultThreshold = 1e-4

    public var threshold: Double

    public init(threshold: Double = CallRule.defaultThreshold) { self.threshold = threshold }

    /// Whether a threshold is usable: a level strictly between 0 and 1.
    public static func isValidThreshold(_ value: Double) -> Bool { value > 0 && value < 1 }

    /// What one sample measured, as the rule sees it.
    public struct Evidence: Sendable, Equatable {
        /// A marker was tracked (else the call is `no_marker`).
        public var hasMarker = true
        public var detected: Bool
        /// The sample's level (its highest detected clone's); nil when not known.
        public var level: Double?
        /// The sample's own limit of detection; nil without a cell count.
        public var lod: Double?
        public var quantifiable: Bool
        public var qcPass: Bool
        /// The level is per cell assessed (or a read fraction asked for on purpose).
        public var cellCountKnown: Bool

        public init(hasMarker: Bool = true, detected: Bool, level: Double?, lod: Double?, quantifiable: Bool, qcPass: Bool,
                    cellCountKnown: Bool = true) {
            self.hasMarker = hasMarker
            self.cellCountKnown = cellCountKnown
            self.detected = detected
            self.level = level
            self.lod = lod
            self.quantifiable = quantifiable
            self.qcPass = qcPass
        }
    }

    /// Detected below `threshold` while the LoD is above it (QC code `below_threshold_above_lod`,
    /// which fails the sample): the evidence of a sample that could not have called negative had
    /// nothing been detected.
    public static func belowThresholdAboveLoD(detected: Bool, level: Double?, lod: Double?, threshold: Double) -> Bool {
        guard detected, let level, level < threshold, let lod else { return false }
        return lod > threshold
    }

    /// - indeterminate `no_cell_count` without a cell count (and no read-fraction basis asked for);
    /// - positive when detected at or above the threshold (even when QC failed: `qc_pass` says so);
    /// - else indeterminate `qc_fail` when QC failed;
    /// - negative `detected_below_threshold` when detected below it;
    /// - negative `undetected` when nothing was detected and the LoD is at or below the threshold;
    /// - else indeterminate `insufficient_input` (the LoD is above the threshold, or unknown).
    public func decide(_ evidence: Evidence) -> (call: MRDCallKind, detail: CallDetail) {
        guard evidence.hasMarker else { return (.indeterminate, .noMarker) }
        guard evidence.cellCountKnown else { return (.indeterminate, .noCellCount) }
        if evidence.detected, let level = evidence.level, level >= threshold {
            return (.positive, evidence.quantifiable ? .quantifiable : .notQuantifiable)
        }
        if !evidence.qcPass { return (.indeterminate, .qcFail) }
        if evidence.detected && evidence.level != nil { return (.negative, .detectedBelowThreshold) }
        if let lod = evidence.lod, lod <= threshold { return (.negative, .undetected) }
        return (.indeterminate, .insufficientInput)
    }
}
