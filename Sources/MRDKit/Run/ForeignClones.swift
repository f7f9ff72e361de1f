import Foundation

/// The run-level check of follow-ups for other patients' leukemias: a follow-up whose reads carry
/// another patient's index clone at a rate that index hopping cannot explain is that patient's
/// sample (a swapped tube or sheet line) or is contaminated by it. Either way its own call says
/// nothing about its patient: a swapped sample of an MRD-negative patient reads "negative" for
/// the patient whose marker it does not carry.
public enum ForeignClones {
    /// The first this many reads (pairs) of each follow-up are scanned: a rate test needs no more
    /// (the rule's least rate, a few percent of a locus's reads, is then hundreds of reads), and a
    /// run's follow-ups are not read twice in full.
    public static let scannedReads = 50_000
    /// Another patient's clone counts when it has this many reads in the scanned part and this
    /// share of its own diagnosis's rate per locus read: reads hopped between samples of a run
    /// (0.1-2% of a sample's reads, spread over the others) stay below, a swapped or mixed sample
    /// does not. The thresholds of the check of index clones across patients (`SharedClones`).
    public static let minReads = SharedClones.minReads
    public static let minRelativeRate = SharedClones.minRelativeRate

    /// Another patient's index clone found in a follow-up.
    public struct Hit: Sendable, Equatable {
        public var sampleID: String
        public var otherPatientID: String
        public var cloneID: String
        public var locus: Locus
        public var reads: Int
        /// The follow-up's reads of the clone's locus (in the scanned part).
        public var locusReads: Int
        /// The clone's reads per locus read in its own diagnosis (1 for clones files without counts).
        public var diagnosisRate: Double

        public var rate: Double { locusReads > 0 ? Double(reads) / Double(locusReads) : 0 }

        /// "P002's P002_DX_IGH_1 (IGH): 4,210 of 61,035 IGH reads (6.9%; 41% in its diagnosis)".
        public var words: String {
            let fraction = String(format: "%.2g%%", 100 * rate)
            let own = diagnosisRate < 1 ? String(format: "; %.2g%% in its diagnosis", 100 * diagnosisRate) : ""
            return "\(otherPatientID)'s \(cloneID) (\(locus.rawValue)): \(reads) of \(locusReads) \(locus.rawValue) reads (\(fraction)\(own))"
        }
    }

    /// The hits of one follow-up of `patientID`, from a scan (`counts`) by a tracker of every
    /// patient's clones (`owners[t]`: the patient of the scan's tracked clone `t`).
    public static func hits(sampleID: String, patientID: String, counts: FollowUpCounts, owners: [String]) -> [Hit] {
        var found: [Hit] = []
        for (t, count) in counts.clones.enumerated() where owners[t] != patientID {
            let clone = count.clone
            let reads = count.reads + count.evolvedReads
            let locusReads = counts.readsPerLocus[clone.locus] ?? 0
            guard reads >= minReads, locusReads > 0 else { continue }
            let diagnosisRate = clone.locusReads > 0 ? min(1, Double(clone.count) / Double(clone.locusReads)) : 1
            let hit = Hit(sampleID: sampleID, otherPatientID: owners[t], cloneID: clone.cloneID, locus: clone.locus, reads: reads,
                          locusReads: locusReads, diagnosisRate: diagnosisRate)
            if hit.rate >= minRelativeRate * diagnosisRate { found.append(hit) }
        }
        return found.sorted { ($0.reads, $1.cloneID) > ($1.reads, $0.cloneID) }
    }

    /// The calls.tsv row of a follow-up with hits: `other_patient_clone`, and QC fails. A negative
    /// becomes indeterminate (the sample may not be this patient's); a positive keeps its call
    /// with qc_pass F (the reads may be the other patient's).
    public static func flag(_ row: inout CallsRow, hits: [Hit]) {
        guard !hits.isEmpty, row.callDetail != CallDetail.failed.rawValue else { return }
        row.qcFlags.append("other_patient_clone")
        row.qcPass = false
        let seen = hits.prefix(3).map(\.words).joined(separator: "; ")
        if row.call == MRDCallKind.negative.rawValue {
            row.call = MRDCallKind.indeterminate.rawValue
            row.callDetail = CallDetail.qcFail.rawValue
            row.reason = "The sample carries another patient's leukemic clone (\(seen)) at a rate index hopping cannot explain: "
                + "it is that patient's sample (a swapped tube or sheet line) or contaminated by it, so it says nothing of "
                + "\(row.patientID)'s disease. Check the sample's identity and re-run."
        } else {
            row.reason += " The sample also carries another patient's leukemic clone (\(seen)) at a rate index hopping cannot "
                + "explain: a mixed or swapped sample (qc_pass F)."
        }
    }
}
