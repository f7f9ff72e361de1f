import Foundation

/// One patient's outcome (clinical.csv: `patient_id,rfs_days,rfs_event` then group columns).
public struct ClinicalRecord: Sendable, Equatable {
    public var patientID: String
    public var rfsDays: Double
    public var event: Bool
    public var groups: [String: String]

    public init(patientID: String, rfsDays: Double, event: Bool, groups: [String: String] = [:]) {
        self.patientID = patientID
        self.rfsDays = rfsDays
        self.event = event
        self.groups = groups
    }
}

/// clinical.csv of an outcome study.
public enum ClinicalFile {
    public static let columns = ["patient_id", "rfs_days", "rfs_event"]

    /// The records and the group columns in file order.
    public static func read(path: String) throws -> (records: [ClinicalRecord], groupColumns: [String]) {
        let table = try DelimitedTable.load(path: path, dialect: .csv, what: "clinical file")
        try table.requireColumns(columns)
        let groupColumns = table.header.filter { !columns.contains($0) }
        var seen = Set<String>()
        var records: [ClinicalRecord] = []
        for r in 0..<table.rowCount {
            let fields = TableFields(table: table, row: r, trimmed: true)
            guard table.fieldCount(r) == table.header.count else {
                throw ReadError(.malformedRecord, file: path, line: fields.line, "expected \(table.header.count) fields, found \(table.fieldCount(r))")
            }
            let id = fields.text("patient_id")
            guard isIdentifier(id) else { throw ReadError(.malformedRecord, file: path, line: fields.line, "patient_id '\(printable(id))' is not an identifier") }
            guard seen.insert(id).inserted else { throw ReadError(.malformedRecord, file: path, line: fields.line, "patient_id '\(printable(id))' appears twice") }
            guard let days = Double(fields.text("rfs_days")), days >= 0, days.isFinite else { throw fields.error("rfs_days", "days >= 0") }
            guard ["0", "1"].contains(fields.text("rfs_event")) else { throw fields.error("rfs_event", "1 (relapse or death) or 0 (censored)") }
            var groups: [String: String] = [:]
            for name in groupColumns { groups[name] = fields.text(name) }
            records.append(ClinicalRecord(patientID: id, rfsDays: days, event: fields.text("rfs_event") == "1", groups: groups))
        }
        return (records, groupColumns)
    }

    /// The CSV text: the contract's columns, then `groupColumns` in order.
    public static func text(_ records: [ClinicalRecord], groupColumns: [String]) -> String {
        var text = (columns + groupColumns).joined(separator: ",") + "\n"
        for record in records {
            text += ([record.patientID, TableNumber.plain(record.rfsDays), record.event ? "1" : "0"] + groupColumns.map { record.groups[$0] ?? "" })
                .joined(separator: ",") + "\n"
        }
        return text
    }
}
