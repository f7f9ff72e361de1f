/// What decides one read's verdict: spike-in recognition first (so a calibrator never becomes a
/// clonotype), then annotation. `BaselineTally.classify` applies them in that order, with a
/// worker's buffers.
public struct ReadClassifier: Sendable {
    public let annotator: Annotator
    public let spikes: SpikeInMatcher?

    public init(annotator: Annotator, spikes: SpikeInMatcher?) {
        self.annotator = annotator
        self.spikes = spikes
    }
}
