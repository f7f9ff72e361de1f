/// What one read is: a spike-in calibrator, an annotated rearrangement, or unassigned (with why).
public enum ReadOutcome: Sendable, Equatable {
    case spikeIn(Int)
    case annotated(ReadAnnotation)
    case unassigned(UnassignedReason)
}

/// Spike-in recognition, then annotation: the whole verdict on one read's bases.
public struct ReadClassifier: Sendable {
    public let annotator: Annotator
    public let spikes: SpikeInMatcher?

    public init(annotator: Annotator, spikes: SpikeInMatcher?) {
        self.annotator = annotator
        self.spikes = spikes
    }

    /// Spike-ins are recognised first, so a calibrator never becomes a clonotype.
    public func classify(_ bases: [UInt8]) -> ReadOutcome {
        if let spike = spikes?.match(bases) { return .spikeIn(spike) }
        switch annotator.annotate(bases, callD: false) {
        case .success(let annotation): return .annotated(annotation)
        case .failure(let reason): return .unassigned(reason)
        }
    }
}
