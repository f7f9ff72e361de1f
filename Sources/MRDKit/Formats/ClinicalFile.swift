import Foundation

/// One patient's outcome (clinical.csv: `patient_id,rfs_days,rfs_event` then group columns).
public struct ClinicalRecord: Sendable, Equatable {
    public var patientID: String
    public var rfsDays: Double
    public var event: Bool
    public var groups: [String: String]
    /// Contract v3 (optional columns): what ended relapse-free survival, and overall survival.
    public var eventType: RFSEventType?
    public var osDays: Double?
    public var osEvent: Bool?

    public init(patientID: String, rfsDays: Double, event: Bool, groups: [String: String] = [:]) {
        self.patientID = patientID
        self.rfsDays = rfsDays
        self.event = event
        self.groups = groups
    }
}

/// What ended relapse-free survival (clinical.csv `event_type`): relapse, or death in remission,
/// the competing event of a cumulative incidence of relapse.
public enum RFSEventType: String, Sendable, Equatable { case relapse, death }

/// A read clinical.csv: its records, its group columns in file order, and which optional outcome
/// columns it has.
public struct ClinicalTable: Sendable {
    public var records: [ClinicalRecord]
    public var groupColumns: [String]
    public var hasEventType: Bool
    public var hasOverallSurvival: Bool
}

/// clinical.csv of an outcome study.
public enum ClinicalFile {
    public static let columns = ["patient_id", "rfs_days", "rfs_event"]
    /// Optional columns of contract v3 (not group columns).
    public static let outcomeColumns = ["event_type", "os_days", "os_event"]

    /// The records and the group columns in file order. Every bad row is listed (file:line: what),
    /// and then nothing is returned: a cohort analysed without some of its patients would be wrong.
    public static func read(path: String) throws -> ClinicalTable {
        let table = try DelimitedTable.load(path: path, dialect: .csv, what: "clinical file")
        try table.requireColumns(columns)
        let header = Set(table.header)
        let groupColumns = table.header.filter { !columns.contains($0) && !outcomeColumns.contains($0) }
        let hasEventType = header.contains("event_type")
        let hasOS = header.contains("os_days") || header.contains("os_event")
        if hasOS && !(header.contains("os_days") && header.contains("os_event")) {
            throw ReadError(.malformedRecord, file: path, line: 1, "os_days and os_event go together: give both columns or neither")
        }
        var seen = Set<String>()
        var records: [ClinicalRecord] = []
        var problems: [String] = []
        for r in 0..<table.rowCount {
            let fields = TableFields(table: table, row: r, trimmed: true)
            func problem(_ text: String) { problems.append("\(path):\(fields.line): \(text)") }
            guard table.fieldCount(r) == table.header.count else {
                problem("expected \(table.header.count) fields, found \(table.fieldCount(r))")
                continue
            }
            let count = problems.count
            let id = fields.text("patient_id")
            if !isIdentifier(id) { problem("patient_id '\(printable(id))' is not an identifier") }
            else if !seen.insert(id).inserted { problem("patient_id '\(printable(id))' appears twice") }
            let days = Double(fields.text("rfs_days")).flatMap { $0 >= 0 && $0.isFinite ? $0 : nil }
            if days == nil { problem("rfs_days '\(printable(fields.text("rfs_days")))': expected days >= 0") }
            let eventText = fields.text("rfs_event")
            if !["0", "1"].contains(eventText) { problem("rfs_event '\(printable(eventText))': expected 1 (relapse or death) or 0 (censored)") }
            let event = eventText == "1"
            var eventType: RFSEventType?
            if hasEventType {
                let text = fields.text("event_type")
                if text.isEmpty {
                    if event { problem("event_type is empty but rfs_event is 1: expected relapse or death") }
                } else if let type = RFSEventType(rawValue: text) {
                    if !event { problem("event_type '\(text)' given but rfs_event is 0: an event type needs an event") }
                    eventType = type
                } else {
                    problem("event_type '\(printable(text))': expected relapse, death, or empty when rfs_event is 0")
                }
            }
            var osDays: Double?, osEvent: Bool?
            if hasOS {
                osDays = Double(fields.text("os_days")).flatMap { $0 >= 0 && $0.isFinite ? $0 : nil }
                if osDays == nil { problem("os_days '\(printable(fields.text("os_days")))': expected days >= 0") }
                let text = fields.text("os_event")
                if !["0", "1"].contains(text) { problem("os_event '\(printable(text))': expected 1 (death) or 0 (alive at last follow-up)") }
                osEvent = text == "1"
                if let osDays, let days, osDays < days { problem("os_days \(TableNumber.plain(osDays)) is before rfs_days \(TableNumber.plain(days)): overall survival cannot end first") }
                if eventType == .death, osEvent == false { problem("event_type death but os_event 0") }
            }
            guard problems.count == count, let days else { continue }
            var groups: [String: String] = [:]
            for name in groupColumns { groups[name] = fields.text(name) }
            var record = ClinicalRecord(patientID: id, rfsDays: days, event: event, groups: groups)
            record.eventType = eventType
            record.osDays = osDays
            record.osEvent = osEvent
            records.append(record)
        }
        if !problems.isEmpty { throw SheetError(problems: problems) }
        return ClinicalTable(records: records, groupColumns: groupColumns, hasEventType: hasEventType, hasOverallSurvival: hasOS)
    }

    /// The CSV text: the contract's columns, then `groupColumns` in order.
    /// The optional outcome columns are written when any record has them.
    public static func text(_ records: [ClinicalRecord], groupColumns: [String]) -> String {
        let withType = records.contains { $0.eventType != nil }, withOS = records.contains { $0.osDays != nil }
        let optional = (withType ? ["event_type"] : []) + (withOS ? ["os_days", "os_event"] : [])
        var text = (columns + optional + groupColumns).joined(separator: ",") + "\n"
        for record in records {
            var fields = [record.patientID, TableNumber.plain(record.rfsDays), record.event ? "1" : "0"]
            if withType { fields.append(record.eventType?.rawValue ?? "") }
            if withOS { fields += [record.osDays.map(TableNumber.plain) ?? "", record.osEvent.map { $0 ? "1" : "0" } ?? ""] }
            text += (fields + groupColumns.map { record.groups[$0] ?? "" }).joined(separator: ",") + "\n"
        }
        return text
    }
}
