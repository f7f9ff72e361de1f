import Foundation

/// One row of controls.tsv: one control sample's reads of one index clone of the run.
public struct ControlHit: Sendable, Equatable {
    public var controlID: String
    public var patientID: String
    public var cloneID: String
    public var locus: Locus
    public var reads: Int
    /// At least the detection rule's fewest reads: the control is contaminated with this clone.
    public var contaminated: Bool

    public init(controlID: String, patientID: String, cloneID: String, locus: Locus, reads: Int, contaminated: Bool) {
        self.controlID = controlID
        self.patientID = patientID
        self.cloneID = cloneID
        self.locus = locus
        self.reads = reads
        self.contaminated = contaminated
    }
}

/// controls.tsv: `control_id patient_id clone_id locus reads contaminated`, sorted by control, patient, clone.
public enum ControlsTable {
    public static let columns = ["control_id", "patient_id", "clone_id", "locus", "reads", "contaminated"]

    public static func text(_ hits: [ControlHit]) -> String {
        var tsv = TableWriter()
        tsv.row(columns)
        for hit in hits.sorted(by: { ($0.controlID, $0.patientID, $0.cloneID) < ($1.controlID, $1.patientID, $1.cloneID) }) {
            tsv.row([hit.controlID, hit.patientID, hit.cloneID, hit.locus.rawValue, String(hit.reads), TableNumber.flag(hit.contaminated)])
        }
        return tsv.text
    }

    public static func read(path: String) throws -> [ControlHit] {
        let table = try DelimitedTable.load(path: path, dialect: .tsv, what: "controls table")
        try table.requireColumns(columns)
        return try (0..<table.rowCount).map { r in
            let fields = TableFields(table: table, row: r)
            guard let locus = Locus(rawValue: fields.text("locus")) else { throw fields.error("locus", "one of IGH, IGK, IGL, TRB, TRG, TRD") }
            return ControlHit(controlID: fields.text("control_id"), patientID: fields.text("patient_id"), cloneID: fields.text("clone_id"),
                              locus: locus, reads: try fields.count("reads"), contaminated: try fields.flag("contaminated") ?? false)
        }
    }
}
