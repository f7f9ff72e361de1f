import Foundation

/// Writes the files of `mrd baseline` as the contract fixes them.
public enum BaselineReports {
    public static let clonesColumns = ["clone_id", "sample_id", "locus", "v_call", "d_call", "j_call", "junction", "junction_aa",
                                       "junction_length", "productive", "clone_count", "clone_fraction", "locus_reads",
                                       "trackable", "target", "rearrangement",
                                       // Extensions (appended, as the contract allows).
                                       "nearest_clone_id", "nearest_distance", "not_trackable_reason", "untemplated_nt"]

    public static func clonesTSV(_ result: BaselineResult) -> String {
        var text = clonesColumns.joined(separator: "\t") + "\n"
        for c in result.clonotypes {
            let fields = [c.cloneID, result.sampleID, c.locus.rawValue, c.vCall, c.dCall, c.jCall, c.junctionString,
                          c.junctionAA ?? "", String(c.junction.count), c.productive.map { $0 ? "T" : "F" } ?? "",
                          String(c.count), number(c.fraction), String(c.locusReads), c.trackable ? "T" : "F",
                          String(decoding: c.target, as: UTF8.self), c.kind.rawValue,
                          c.nearestCloneID ?? "", c.nearestDistance.map(String.init) ?? "", c.notTrackableReason,
                          String(c.untemplated)]
            text += fields.joined(separator: "\t") + "\n"
        }
        return text
    }

    /// AIRR Rearrangement TSV, one row per clonotype representative.
    public static func airrTSV(_ result: BaselineResult) -> String {
        let columns = ["sequence_id", "sequence", "rev_comp", "productive", "v_call", "d_call", "j_call", "sequence_alignment",
                       "germline_alignment", "junction", "junction_aa", "v_cigar", "d_cigar", "j_cigar", "locus",
                       "junction_length", "duplicate_count", "clone_id", "v_sequence_start", "v_sequence_end",
                       "v_germline_start", "v_germline_end", "j_sequence_start", "j_sequence_end", "j_germline_start",
                       "j_germline_end"]
        var text = columns.joined(separator: "\t") + "\n"
        for c in result.clonotypes {
            // AIRR coordinates are 1-based and closed, on `sequence` (the read turned V-to-J).
            func coordinates(_ a: SegmentAlignment?) -> [String] {
                guard let a else { return ["", "", "", ""] }
                return [String(a.readStart + 1), String(a.readEnd), String(a.germlineStart + 1), String(a.germlineEnd)]
            }
            let length = c.representative.count
            let fields = [c.cloneID, String(decoding: c.representative, as: UTF8.self), c.representativeReversed ? "T" : "F",
                          c.productive.map { $0 ? "T" : "F" } ?? "", c.vCall, c.dCall, c.jCall, "", "", c.junctionString,
                          c.junctionAA ?? "", c.vAlignment?.cigar(readLength: length) ?? "", "",
                          c.jAlignment?.cigar(readLength: length) ?? "", c.locus.rawValue, String(c.junction.count),
                          String(c.count), c.cloneID] + coordinates(c.vAlignment) + coordinates(c.jAlignment)
            text += fields.joined(separator: "\t") + "\n"
        }
        return text
    }

    public static func baselineJSON(_ result: BaselineResult, inputs: [String], commandLine: [String]) -> String {
        var unassigned: [String: Int] = [:]
        for reason in UnassignedReason.allCases { unassigned[reason.rawValue] = result.unassigned[reason] ?? 0 }
        var perLocus: [String: Int] = [:]
        for (locus, n) in result.readsPerLocus { perLocus[locus.rawValue] = n }
        var object: [String: Any] = [
            "sample_id": result.sampleID, "version": MRD.version, "command_line": commandLine, "inputs": inputs,
            "total_reads": result.totalReads, "assigned_reads": result.assignedReads, "unassigned_reads": unassigned,
            "spike_in_reads": result.spikeInReads, "spike_in_reads_by_id": result.spikeInReadsByID,
            "reads_per_locus": perLocus, "clonotypes": result.clonotypes.count,
            "trackable": result.trackable.map(\.cloneID),
        ]
        object["no_trackable_reason"] = result.noTrackableReason ?? NSNull()
        object["not_trackable"] = Dictionary(uniqueKeysWithValues: result.clonotypes.filter { !$0.notTrackableReason.isEmpty }
            .map { ($0.cloneID, $0.notTrackableReason) })
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Writes ID.clones.tsv, ID.airr.tsv and ID.baseline.json into `directory`, all or none.
    public static func write(_ result: BaselineResult, to directory: String, inputs: [String], commandLine: [String]) throws {
        try createOutputFolder(directory)
        let base = (directory as NSString).appendingPathComponent(result.sampleID)
        try OutputSet([(base + ".clones.tsv", clonesTSV(result)), (base + ".airr.tsv", airrTSV(result)),
                       (base + ".baseline.json", baselineJSON(result, inputs: inputs, commandLine: commandLine))]).commit()
    }

    /// Plain or scientific notation, shortest round-trip form.
    static func number(_ value: Double) -> String {
        if value == 0 { return "0" }
        return String(format: "%.6g", value)
    }
}
