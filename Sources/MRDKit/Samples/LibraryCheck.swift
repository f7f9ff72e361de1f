import Foundation

/// Is a library human IG/TR at all? Its reads' V genes are compared with the human germline: a
/// library of another species (or the wrong `--germline`) has its V genes a median under 85%
/// identical, while its J genes read as human ones (`low_v_identity`; `BaselineSummary`).
public struct VIdentityHistogram: Sendable, Equatable {
    /// Reads by V identity in whole percent (0...100).
    public private(set) var counts = [Int](repeating: 0, count: 101)

    public init() {}

    public mutating func add(_ identity: Double) { counts[min(100, max(0, Int(identity * 100)))] += 1 }

    public mutating func merge(_ other: VIdentityHistogram) {
        for i in counts.indices { counts[i] += other.counts[i] }
    }

    /// The (lower) median identity, when at least `minimumReads` reads were added.
    public func median(minimumReads: Int = BaselineSummary.minReadsForVIdentity) -> Double? {
        weightedMedian(counts.enumerated().map { (value: Double($0.offset) / 100, weight: $0.element) }, minimumWeight: max(1, minimumReads))
    }

    /// Whether the median says the library is not human IG/TR.
    public var isLow: Bool { median().map { $0 < BaselineSummary.minMedianVIdentity } ?? false }
}

/// The lower median of `items`, each counted `weight` times; nil when the weights add up to less
/// than `minimumWeight`.
func weightedMedian(_ items: [(value: Double, weight: Int)], minimumWeight: Int = 1) -> Double? {
    let total = items.reduce(0) { $0 + $1.weight }
    guard total >= max(1, minimumWeight) else { return nil }
    var seen = 0
    for item in items.sorted(by: { $0.value < $1.value }) {
        seen += item.weight
        if 2 * seen >= total { return item.value }
    }
    return nil
}
