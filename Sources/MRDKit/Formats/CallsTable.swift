import Foundation

/// One row of calls.tsv: one follow-up sample of a run.
public struct CallsRow: Sendable, Equatable {
    public var patientID: String
    public var sampleID: String
    public var timepoint: String
    public var day: Int?
    public var totalReads: Int?
    public var cellsAssessed: Double?
    public var clonesTracked: Int?
    public var clonesDetected: Int?
    public var leukemicReads: Int?
    public var leukemicTemplates: Double?
    public var mrdLevel: Double?
    public var ciLow: Double?
    public var ciHigh: Double?
    public var lod: Double?
    public var threshold: Double
    public var detected: Bool
    public var quantifiable: Bool
    public var call: String
    /// `template_method+cells_method`, e.g. `spike_in+dna_input`; empty for a failed sample.
    public var normalization: String
    public var qcPass: Bool
    public var loq: Double?
    public var callDetail: String
    // Contract v3.
    public var reason = ""
    public var readFraction: Double?
    /// Tracked clone ids.
    public var markers: [String] = []
    // Extension.
    public var qcFlags: [String] = []

    public init(patientID: String, sampleID: String, timepoint: String, day: Int?, threshold: Double, detected: Bool = false,
                quantifiable: Bool = false, call: String, normalization: String = "", qcPass: Bool = false, callDetail: String) {
        self.patientID = patientID
        self.sampleID = sampleID
        self.timepoint = timepoint
        self.day = day
        self.threshold = threshold
        self.detected = detected
        self.quantifiable = quantifiable
        self.call = call
        self.normalization = normalization
        self.qcPass = qcPass
        self.callDetail = callDetail
    }

    /// The contract's order: patient_id, day (empty last), sample_id.
    public static func order(_ a: CallsRow, _ b: CallsRow) -> Bool {
        if a.patientID != b.patientID { return a.patientID < b.patientID }
        switch (a.day, b.day) {
        case let (x?, y?) where x != y: return x < y
        case (nil, _?): return false
        case (_?, nil): return true
        default: return a.sampleID < b.sampleID
        }
    }

    /// The row's cells in `CallsTable.columns` order.
    public var fields: [String] {
        func integer(_ value: Int?) -> String { value.map(String.init) ?? "" }
        return [patientID, sampleID, timepoint, integer(day), integer(totalReads), TableNumber.g6(cellsAssessed), integer(clonesTracked),
                integer(clonesDetected), integer(leukemicReads), TableNumber.g6(leukemicTemplates), TableNumber.g6(mrdLevel),
                TableNumber.g6(ciLow), TableNumber.g6(ciHigh), TableNumber.g6(lod), TableNumber.g6(threshold), TableNumber.flag(detected),
                TableNumber.flag(quantifiable), call, normalization, TableNumber.flag(qcPass), TableNumber.g6(loq), callDetail,
                reason, TableNumber.g6(readFraction), markers.joined(separator: ";"), qcFlags.joined(separator: ";")]
    }
}

/// calls.tsv: the contract's columns in their order.
public enum CallsTable {
    public static let columns = ["patient_id", "sample_id", "timepoint", "day", "total_reads", "cells_assessed", "clones_tracked",
                                 "clones_detected", "leukemic_reads", "leukemic_templates", "mrd_level", "mrd_ci_low", "mrd_ci_high", "lod",
                                 "threshold", "detected", "quantifiable", "call", "normalization", "qc_pass", "loq", "call_detail",
                                 // Contract v3, in its order; then mrd's extension.
                                 "reason", "read_fraction", "markers", "qc_flags"]
    /// What an outcome analysis needs; other columns are read when present (calls of older runs).
    static let required = ["patient_id", "sample_id", "timepoint", "day", "call", "detected", "mrd_level", "lod"]
    public static let calls = ["positive", "negative", "indeterminate"]

    public static func text(_ rows: [CallsRow]) -> String {
        ([columns] + rows.map(\.fields)).map { $0.joined(separator: "\t") }.joined(separator: "\n") + "\n"
    }

    /// Reads a calls.tsv (one run's, or several runs' concatenated by a study), checking each value.
    public static func read(path: String) throws -> [CallsRow] {
        let table = try DelimitedTable.load(path: path, dialect: .tsv, what: "calls table")
        try table.requireColumns(required)
        var rows: [CallsRow] = []
        for r in 0..<table.rowCount {
            let fields = TableFields(table: table, row: r, trimmed: true)
            guard table.fieldCount(r) == table.header.count else {
                throw ReadError(.malformedRecord, file: path, line: fields.line, "expected \(table.header.count) fields, found \(table.fieldCount(r))")
            }
            let day = try fields.optionalCount("day")
            guard calls.contains(fields.text("call")) else { throw fields.error("call", "positive, negative or indeterminate") }
            var row = CallsRow(patientID: fields.text("patient_id"), sampleID: fields.text("sample_id"), timepoint: fields.text("timepoint"),
                               day: day, threshold: try fields.optionalNumber("threshold") ?? 0, detected: try fields.flag("detected") ?? false,
                               quantifiable: try fields.flag("quantifiable") ?? false, call: fields.text("call"),
                               normalization: fields.text("normalization"),
                               // Without the column (a table from elsewhere) QC is taken as passed.
                               qcPass: table.column("qc_pass") == nil ? true : try fields.flag("qc_pass") ?? false,
                               callDetail: fields.text("call_detail"))
            row.totalReads = try fields.optionalCount("total_reads")
            row.cellsAssessed = try fields.optionalNumber("cells_assessed")
            row.clonesTracked = try fields.optionalCount("clones_tracked")
            row.clonesDetected = try fields.optionalCount("clones_detected")
            row.leukemicReads = try fields.optionalCount("leukemic_reads")
            row.leukemicTemplates = try fields.optionalNumber("leukemic_templates")
            row.mrdLevel = try fields.optionalNumber("mrd_level")
            row.ciLow = try fields.optionalNumber("mrd_ci_low")
            row.ciHigh = try fields.optionalNumber("mrd_ci_high")
            row.lod = try fields.optionalNumber("lod")
            row.loq = try fields.optionalNumber("loq")
            row.reason = fields.text("reason")
            row.readFraction = try fields.optionalNumber("read_fraction")
            row.markers = fields.text("markers").split(separator: ";").map(String.init)
            row.qcFlags = fields.text("qc_flags").split(separator: ";").map(String.init)
            rows.append(row)
        }
        return rows
    }
}
