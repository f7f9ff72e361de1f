import CSequenceKernels
import Foundation

/// Writes the files of `mrd baseline` as the contract fixes them.
public enum BaselineReports {
    public static let clonesColumns = ["clone_id", "sample_id", "locus", "v_call", "d_call", "j_call", "junction", "junction_aa",
                                       "junction_length", "productive", "clone_count", "clone_fraction", "locus_reads",
                                       "trackable", "target", "rearrangement",
                                       // Extensions (appended, as the contract allows).
                                       "nearest_clone_id", "nearest_distance", "not_trackable_reason", "untemplated_nt"]

    public static func clonesTSV(_ result: BaselineResult) -> String {
        var tsv = TSVBuilder()
        tsv.row(clonesColumns)
        for c in result.clonotypes {
            tsv.field(c.cloneID); tsv.field(result.sampleID); tsv.field(c.locus.rawValue)
            tsv.field(c.vCall); tsv.field(c.dCall); tsv.field(c.jCall); tsv.field(c.junction)
            tsv.field(c.junctionAA ?? ""); tsv.field(c.junction.count); tsv.field(flag(c.productive))
            tsv.field(c.count); tsv.field(number(c.fraction)); tsv.field(c.locusReads); tsv.field(c.trackable ? "T" : "F")
            tsv.field(c.target); tsv.field(c.kind.rawValue)
            tsv.field(c.nearestCloneID ?? ""); tsv.field(c.nearestDistance.map(String.init) ?? ""); tsv.field(c.notTrackableReason)
            tsv.last(c.untemplated)
        }
        return tsv.text
    }

    static let airrColumns = ["sequence_id", "sequence", "rev_comp", "productive", "v_call", "d_call", "j_call", "sequence_alignment",
                              "germline_alignment", "junction", "junction_aa", "v_cigar", "d_cigar", "j_cigar", "locus",
                              "junction_length", "duplicate_count", "clone_id", "v_sequence_start", "v_sequence_end",
                              "v_germline_start", "v_germline_end", "j_sequence_start", "j_sequence_end", "j_germline_start",
                              "j_germline_end"]

    /// AIRR Rearrangement TSV, one row per clonotype representative.
    public static func airrTSV(_ result: BaselineResult) -> String {
        var tsv = TSVBuilder()
        tsv.row(airrColumns)
        for c in result.clonotypes {
            let length = c.representative.count
            tsv.field(c.cloneID); tsv.field(c.representative); tsv.field(c.representativeReversed ? "T" : "F")
            tsv.field(flag(c.productive)); tsv.field(c.vCall); tsv.field(c.dCall); tsv.field(c.jCall)
            tsv.field(""); tsv.field(""); tsv.field(c.junction); tsv.field(c.junctionAA ?? "")
            tsv.field(c.vAlignment?.cigar(readLength: length) ?? ""); tsv.field("")
            tsv.field(c.jAlignment?.cigar(readLength: length) ?? ""); tsv.field(c.locus.rawValue); tsv.field(c.junction.count)
            tsv.field(c.count); tsv.field(c.cloneID)
            // AIRR coordinates are 1-based and closed, on `sequence` (the read turned V-to-J).
            for alignment in [c.vAlignment, c.jAlignment] {
                if let a = alignment {
                    tsv.field(a.readStart + 1); tsv.field(a.readEnd); tsv.field(a.germlineStart + 1); tsv.field(a.germlineEnd)
                } else {
                    for _ in 0..<4 { tsv.field("") }
                }
            }
            tsv.endRow()
        }
        return tsv.text
    }

    private static func flag(_ value: Bool?) -> String { value.map { $0 ? "T" : "F" } ?? "" }

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
        // The two tables of a large sample take a while to format: side by side.
        let tables = UnsafeMutableBufferPointer<String>.allocate(capacity: 2)
        tables.initialize(repeating: "")
        defer { tables.deinitialize().deallocate() }
        let box = UncheckedBox(tables)
        DispatchQueue.concurrentPerform(iterations: 2) { table in
            box.value[table] = table == 0 ? clonesTSV(result) : airrTSV(result)
        }
        try OutputSet([(base + ".clones.tsv", tables[0]), (base + ".airr.tsv", tables[1]),
                       (base + ".baseline.json", baselineJSON(result, inputs: inputs, commandLine: commandLine))]).commit()
    }

    /// Six significant digits, plain or scientific notation as printf's `%.6g`.
    static func number(_ value: Double) -> String {
        if value == 0 { return "0" }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 32) { buffer in
            let length = Int(mrd_format_g6(value, buffer.baseAddress!, 32))
            return String(decoding: UnsafeRawBufferPointer(start: buffer.baseAddress!, count: length), as: UTF8.self)
        }
    }
}

/// A tab-separated table built as bytes (formatting each row through `[String].joined` costs
/// more than the analysis for samples with tens of thousands of clonotypes).
struct TSVBuilder {
    private var bytes: [UInt8] = []

    mutating func row(_ fields: [String]) {
        for (i, field) in fields.enumerated() {
            if i > 0 { bytes.append(9) }
            append(field)
        }
        bytes.append(10)
    }

    private mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    mutating func field(_ text: String) { append(text); bytes.append(9) }
    mutating func field(_ letters: [UInt8]) { bytes.append(contentsOf: letters); bytes.append(9) }
    mutating func field(_ value: Int) { append(String(value)); bytes.append(9) }
    /// The row's last field, then the line end.
    mutating func last(_ value: Int) { append(String(value)); bytes.append(10) }
    /// Ends a row whose last field was added with `field` (turns its tab into the line end).
    mutating func endRow() { bytes[bytes.count - 1] = 10 }

    var text: String { String(decoding: bytes, as: UTF8.self) }
}
