import Foundation

/// One row of an AIRR Rearrangement TSV: the fields mrd writes (one per clonotype representative)
/// and reads (index clones from other tools). Coordinates are AIRR's: 1-based, closed, on `sequence`.
public struct AIRRRearrangement: Sendable, Equatable {
    public var sequenceID: String
    public var sequence: String
    public var revComp: Bool?
    public var productive: Bool?
    public var vCall = ""
    public var dCall = ""
    public var jCall = ""
    public var sequenceAlignment = ""
    public var germlineAlignment = ""
    public var junction = ""
    public var junctionAA = ""
    public var vCigar = ""
    public var dCigar = ""
    public var jCigar = ""
    public var locus = ""
    public var junctionLength: Int?
    public var duplicateCount: Int?
    public var cloneID = ""
    public var vSequenceStart: Int?, vSequenceEnd: Int?, vGermlineStart: Int?, vGermlineEnd: Int?
    public var jSequenceStart: Int?, jSequenceEnd: Int?, jGermlineStart: Int?, jGermlineEnd: Int?
    /// Fractional identity (0-1) of the V alignment, gaps counting as differences.
    public var vIdentity: Double?
    public var dSequenceStart: Int?, dSequenceEnd: Int?, dGermlineStart: Int?, dGermlineEnd: Int?
    /// mrd's custom fields: whether the clonotype is an index clone, and why not; why a read got no
    /// annotation (`mrd annotate`).
    public var mrdTrackable: Bool?
    public var mrdNotTrackableReason = ""
    public var mrdUnassignedReason = ""
    /// Reads whose consensus `sequence` is (nil: `sequence` is one read).
    public var consensusCount: Int?

    public init(sequenceID: String, sequence: String) {
        self.sequenceID = sequenceID
        self.sequence = sequence
    }
}

/// ID.airr.tsv, in the AIRR Community's Rearrangement schema (`airr-tools validate rearrangement`
/// accepts it); the reader takes any AIRR TSV with at least `sequence_id` and `sequence`.
public enum AIRRFile {
    public static let columns = ["sequence_id", "sequence", "rev_comp", "productive", "v_call", "d_call", "j_call", "sequence_alignment",
                                 "germline_alignment", "junction", "junction_aa", "v_cigar", "d_cigar", "j_cigar", "locus",
                                 "junction_length", "duplicate_count", "clone_id", "v_sequence_start", "v_sequence_end",
                                 "v_germline_start", "v_germline_end", "j_sequence_start", "j_sequence_end", "j_germline_start",
                                 "j_germline_end",
                                 // Custom fields (AIRR allows them after the schema's).
                                 "mrd_trackable", "mrd_not_trackable_reason",
                                 // Added in 0.3 (schema fields after the custom ones: columns only ever get appended).
                                 "v_identity", "d_sequence_start", "d_sequence_end", "d_germline_start", "d_germline_end",
                                 "mrd_unassigned_reason",
                                 // Added in 0.4: the reads whose consensus `sequence` is (index clones; empty: one read).
                                 "consensus_count"]

    public static func text(_ rows: [AIRRRearrangement], header: Bool = true) -> String {
        var tsv = TableWriter()
        if header { tsv.row(columns) }
        func number(_ value: Int?) -> String { value.map(String.init) ?? "" }
        for r in rows {
            tsv.field(r.sequenceID); tsv.field(r.sequence); tsv.field(TableNumber.flag(r.revComp)); tsv.field(TableNumber.flag(r.productive))
            tsv.field(r.vCall); tsv.field(r.dCall); tsv.field(r.jCall); tsv.field(r.sequenceAlignment); tsv.field(r.germlineAlignment)
            tsv.field(r.junction); tsv.field(r.junctionAA); tsv.field(r.vCigar); tsv.field(r.dCigar); tsv.field(r.jCigar)
            tsv.field(r.locus); tsv.field(number(r.junctionLength)); tsv.field(number(r.duplicateCount)); tsv.field(r.cloneID)
            for value in [r.vSequenceStart, r.vSequenceEnd, r.vGermlineStart, r.vGermlineEnd,
                          r.jSequenceStart, r.jSequenceEnd, r.jGermlineStart, r.jGermlineEnd] { tsv.field(number(value)) }
            tsv.field(TableNumber.flag(r.mrdTrackable)); tsv.field(r.mrdNotTrackableReason)
            tsv.field(r.vIdentity.map { TableNumber.fixed($0, decimals: 4) } ?? "")
            for value in [r.dSequenceStart, r.dSequenceEnd, r.dGermlineStart, r.dGermlineEnd] { tsv.field(number(value)) }
            tsv.field(r.mrdUnassignedReason)
            tsv.field(number(r.consensusCount))
            tsv.endRow()
        }
        return tsv.text
    }

    public static func read(path: String) throws -> [AIRRRearrangement] {
        try parse(table: try DelimitedTable.load(path: path, dialect: .tsv, what: "AIRR rearrangement table"))
    }

    public static func parse(bytes: [UInt8], path: String) throws -> [AIRRRearrangement] {
        try parse(table: try DelimitedTable.parse(bytes: bytes, path: path, dialect: .tsv, what: "AIRR rearrangement table"))
    }

    static func parse(table: DelimitedTable) throws -> [AIRRRearrangement] {
        try table.requireColumns(["sequence_id"])
        if table.column("sequence") == nil && table.column("junction") == nil { try table.requireColumns(["sequence"]) }
        var rows: [AIRRRearrangement] = []
        for r in 0..<table.rowCount {
            let line = table.line(r)
            guard table.fieldCount(r) == table.header.count else {
                throw ReadError(.malformedRecord, file: table.path, line: line,
                                "expected \(table.header.count) tab-separated fields, found \(table.fieldCount(r))")
            }
            func flag(_ name: String) throws -> Bool? {
                switch value(name) {
                case "T", "TRUE", "true", "True": return true
                case "F", "FALSE", "false", "False": return false
                case "": return nil
                default: throw ReadError(.malformedRecord, file: table.path, line: line, "column \(name): expected T or F, found '\(printable(value(name)))'")
                }
            }
            func integer(_ name: String) throws -> Int? {
                let text = value(name)
                if text.isEmpty { return nil }
                // Some tools write whole numbers as decimals (`12.0`).
                guard let number = Int(text) ?? Double(text).flatMap({ $0 == $0.rounded() && abs($0) < 1e15 ? Int($0) : nil }) else {
                    throw ReadError(.malformedRecord, file: table.path, line: line, "column \(name): expected a whole number, found '\(printable(text))'")
                }
                return number
            }
            func value(_ name: String) -> String { table.column(name) == nil ? "" : table.value(r, name) }
            var row = AIRRRearrangement(sequenceID: value("sequence_id"), sequence: value("sequence"))
            row.revComp = try flag("rev_comp")
            row.productive = try flag("productive")
            row.vCall = value("v_call"); row.dCall = value("d_call"); row.jCall = value("j_call")
            row.sequenceAlignment = value("sequence_alignment"); row.germlineAlignment = value("germline_alignment")
            row.junction = value("junction"); row.junctionAA = value("junction_aa")
            row.vCigar = value("v_cigar"); row.dCigar = value("d_cigar"); row.jCigar = value("j_cigar")
            row.locus = value("locus")
            row.junctionLength = try integer("junction_length")
            row.duplicateCount = try integer("duplicate_count")
            row.cloneID = value("clone_id")
            row.vSequenceStart = try integer("v_sequence_start"); row.vSequenceEnd = try integer("v_sequence_end")
            row.vGermlineStart = try integer("v_germline_start"); row.vGermlineEnd = try integer("v_germline_end")
            row.jSequenceStart = try integer("j_sequence_start"); row.jSequenceEnd = try integer("j_sequence_end")
            row.jGermlineStart = try integer("j_germline_start"); row.jGermlineEnd = try integer("j_germline_end")
            let identity = value("v_identity")
            if !identity.isEmpty {
                guard let number = Double(identity), number.isFinite else {
                    throw ReadError(.malformedRecord, file: table.path, line: line, "column v_identity: expected a number, found '\(printable(identity))'")
                }
                row.vIdentity = number
            }
            row.consensusCount = try integer("consensus_count")
            rows.append(row)
        }
        return rows
    }
}
