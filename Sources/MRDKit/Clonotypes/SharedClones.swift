import Foundation

/// The run-level check of index clones across patients: a leukemia's junction belongs to one
/// patient, so an index clone whose junction is also a real clonotype of another patient's
/// diagnostic sample is a spike-in (a run analysed without `--spike-ins`), a contamination or a
/// public clonotype, and tracking it would call every patient positive.
public enum SharedClones {
    /// `not_trackable_reason` of a clone this check turned off (how a re-check recognises its own marks).
    public static let reasonPrefix = "shared_index_clone: "

    /// Another patient's reads of the junction count when they reach this share of the index
    /// patient's rate (per locus read) and `minReads`: reads hopped between samples of a run
    /// (0.1-2% of a clone's reads) stay below it, a spike-in (the same copies in every sample) or a
    /// real contamination does not.
    public static let minRelativeRate = 0.05
    public static let minReads = 3

    struct Key: Hashable { var locus: Locus; var junction: [UInt8] }

    /// Marks the shared index clones of every patient (`clonesByPatient`: each patient's baseline
    /// clonotypes, as in clones.tsv) as not trackable, and restores clones an earlier check marked
    /// that are no longer shared. Returns the patients whose clones changed.
    @discardableResult
    public static func mark(_ clonesByPatient: inout [String: [BaselineClone]]) -> Set<String> {
        // Rate of each junction per patient: reads / locus reads (the highest, if listed twice).
        // (Clones read by index and field: a copy of each whole clone retains a dozen strings and
        // arrays, which on tables of tens of thousands of clonotypes was most of a track's start.)
        var rates: [Key: [String: (rate: Double, reads: Int)]] = [:]
        // With one patient no junction can be another's: only earlier marks are re-checked.
        for (patient, clones) in clonesByPatient where clonesByPatient.count > 1 {
            for i in clones.indices {
                // Index clones from an AIRR TSV or FASTA have no locus reads: taken as index-level.
                let counted = clones[i].locusReads > 0
                let rate = counted ? Double(clones[i].count) / Double(clones[i].locusReads) : (clones[i].trackable ? 1 : 0)
                guard rate > 0 else { continue }
                let key = Key(locus: clones[i].locus, junction: clones[i].junction)
                if let old = rates[key]?[patient], old.rate >= rate { continue }
                rates[key, default: [:]][patient] = (rate, counted ? clones[i].count : minReads)
            }
        }
        var changed = Set<String>()
        for patient in clonesByPatient.keys.sorted() {
            var clones = clonesByPatient[patient]!
            var touched = false
            for i in clones.indices {
                let wasShared = clones[i].notTrackableReason.hasPrefix(reasonPrefix)
                guard clones[i].trackable || wasShared else { continue }
                let key = Key(locus: clones[i].locus, junction: clones[i].junction)
                let own = rates[key]?[patient]?.rate ?? 0
                let others = (rates[key] ?? [:]).filter { other, entry in
                    other != patient && entry.reads >= minReads && entry.rate >= minRelativeRate * own
                }.keys.sorted()
                if !others.isEmpty {
                    let reason = reasonPrefix + "the junction is also a clonotype of the diagnostic sample of "
                        + others.joined(separator: ", ") + " (a spike-in, a contamination or a public clonotype, not this leukemia's own marker)"
                    if clones[i].trackable || clones[i].notTrackableReason != reason {
                        clones[i].trackable = false
                        clones[i].notTrackableReason = reason
                        touched = true
                    }
                } else if wasShared && !clones[i].target.isEmpty {
                    clones[i].trackable = true
                    clones[i].notTrackableReason = ""
                    touched = true
                }
            }
            if touched {
                clonesByPatient[patient] = clones
                changed.insert(patient)
            }
        }
        return changed
    }
}
