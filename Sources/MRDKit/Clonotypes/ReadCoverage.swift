import Foundation

/// How completely a clone's reads can show its junction, from the orientations they were read in.
///
/// Single-end reads of an amplicon start at either end. A spike-in or a short amplicon is spanned
/// from both ends; a long junction (or a long amplicon) only from one, so half of its molecules'
/// reads (the sample's share of the other orientation) can never be counted, while the spike-ins
/// that turn reads into templates lose none. Left alone this biases the clone's templates, and its
/// MRD levels, low by that share. The sample's orientation shares are measured on its spike-in reads
/// (short cores that every read spans), or without spike-ins on its clonotypes (their median
/// forward share: most are spanned from both ends, when reads are long enough); a clone whose reads fall short in
/// one orientation (under a third of what the shares predict, with enough reads to tell) gets
/// coverage = 1 / max over orientations of (observed share / expected share), else 1.
public enum ReadCoverage {
    /// Reads of the diagnostic sample (the first ones) tracked to measure coverage.
    public static let reads = 50_000
    /// Fewest reads of a clone to judge its orientations.
    static let minReads = 20
    /// Fewest spike-in reads to take the sample's orientation shares from them.
    static let minSpikeReads = 50
    /// Fewest clonotypes of a locus (with `minReads`) to take the locus's own shares.
    static let minClonotypes = 5

    /// The forward share of a locus's reads: the median over its clonotypes with enough reads, else
    /// the share over all its reads.
    /// (`members`: indexes into `clonotypes`, read by field: a copy of each whole clonotype would
    /// retain a dozen arrays.)
    static func forwardShare(_ clonotypes: [Clonotype], members: [Int]) -> Double? {
        let judged = members.filter { clonotypes[$0].count >= minReads }
            .map { Double(clonotypes[$0].forwardCount) / Double(clonotypes[$0].count) }.sorted()
        if judged.count >= minClonotypes { return judged[judged.count / 2] }
        let total = members.reduce(0) { $0 + clonotypes[$1].count }
        return total > 0 ? Double(members.reduce(0) { $0 + clonotypes[$1].forwardCount }) / Double(total) : nil
    }

    /// The coverage of one clone given the locus's forward share.
    static func coverage(forward: Int, count: Int, forwardShare share: Double) -> Double {
        // Reads from one end only (directional libraries): nothing to compare.
        guard count >= minReads, share > 0.05, share < 0.95 else { return 1 }
        let observedForward = Double(forward) / Double(count)
        let forwardRatio = observedForward / share, reverseRatio = (1 - observedForward) / (1 - share)
        guard min(forwardRatio, reverseRatio) < 1.0 / 3 else { return 1 }
        return min(1, 1 / max(forwardRatio, reverseRatio))
    }

    /// The forward share of a tracked sample's spike-in reads (short: every read spans them), when
    /// it has `minSpikeReads` of them: what a clone spanned from both ends would show.
    static func spikeInForwardShare(_ counts: FollowUpCounts) -> Double? {
        let reads = counts.spikeInReads.reduce(0, +)
        return reads >= minSpikeReads ? Double(counts.spikeInForwardReads) / Double(reads) : nil
    }

    /// The coverage a follow-up's own reads of a clone show, against the forward share of the
    /// same sample's spike-in reads; nil when its reads cannot tell. The diagnosis measured coverage
    /// with its own read layout: a follow-up read otherwise (single-end after a merged-pair or
    /// longer-read diagnosis, or the reverse) spans a long junction from other ends. With
    /// `minReads` or more, the diagnosis's rule; with fewer (a clone near the LoD), only the clear
    /// cases: every read in one orientation where chance would make that under 0.1% likely (coverage
    /// = that orientation's share), or both orientations read twice or more (spanned from both
    /// ends: 1).
    public static func sampleCoverage(forward: Int, count: Int, forwardShare share: Double) -> Double? {
        guard share > 0.05, share < 0.95, count >= minSampleReads else { return nil }
        if count >= minReads { return coverage(forward: forward, count: count, forwardShare: share) }
        if forward == 0 && pow(1 - share, Double(count)) < 0.001 { return 1 - share }
        if forward == count && pow(share, Double(count)) < 0.001 { return share }
        if forward >= 2 && count - forward >= 2 { return 1 }
        return nil
    }

    /// Fewest reads of a clone in a follow-up to judge its orientations there.
    static let minSampleReads = 6
    /// How far (as a factor) a follow-up's own coverage must differ from its diagnosis's to be used
    /// instead: within it, the diagnosis's (measured on many more reads) stands.
    public static let sampleCoverageFactor = 1.5

    /// Sets `coverage` of every clonotype, locus by locus.
    static func assign(_ clonotypes: inout [Clonotype]) {
        var byLocus: [Locus: [Int]] = [:]
        for i in clonotypes.indices { byLocus[clonotypes[i].locus, default: []].append(i) }
        for (_, members) in byLocus {
            guard let share = forwardShare(clonotypes, members: members) else { continue }
            for i in members {
                clonotypes[i].coverage = coverage(forward: clonotypes[i].forwardCount, count: clonotypes[i].count, forwardShare: share)
            }
        }
    }
}
