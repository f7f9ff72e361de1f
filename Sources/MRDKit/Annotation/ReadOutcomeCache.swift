/// What one read is: a spike-in calibrator, an annotated rearrangement, or unassigned (with why).
public enum ReadOutcome: Sendable, Equatable {
    case spikeIn(Int)
    case annotated(ReadAnnotation)
    case unassigned(UnassignedReason)
}

/// A per-worker memo from read sequence to outcome.
///
/// Amplicon libraries are dominated by PCR copies of few molecules, so most reads of a diagnostic
/// sample repeat a sequence already seen (often 80% or more of them); annotating each distinct
/// sequence once is the main reason annotation runs at hundreds of thousands of reads per second.
/// The outcome is a pure function of the bases, so the memo cannot change any result, and it is
/// bounded: once `capacity` sequences are held, new ones are annotated without being kept.
public struct ReadOutcomeCache: Sendable {
    private var outcomes: [Bases: ReadOutcome] = [:]
    public let capacity: Int
    public private(set) var lookups = 0
    public private(set) var hits = 0

    public init(capacity: Int = 1 << 18) {
        self.capacity = capacity
    }

    /// The read's outcome: spike-ins are recognised first, so a calibrator never becomes a clonotype.
    public mutating func classify(_ bases: [UInt8], annotator: Annotator, spikes: SpikeInMatcher?) -> ReadOutcome {
        lookups += 1
        if let known = outcomes[Bases(bases)] { hits += 1; return known }
        let outcome: ReadOutcome
        if let spike = spikes?.match(bases) {
            outcome = .spikeIn(spike)
        } else {
            switch annotator.annotate(bases, callD: false) {
            case .success(let annotation): outcome = .annotated(annotation)
            case .failure(let reason): outcome = .unassigned(reason)
            }
        }
        if outcomes.count < capacity { outcomes[Bases(bases)] = outcome }
        return outcome
    }
}

/// A byte sequence as a dictionary key, hashed in one call over its bytes (an `[UInt8]` key is
/// hashed byte by byte, which dominated the cost of a lookup).
public struct Bases: Hashable, Sendable {
    public var bytes: [UInt8]
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
