import Foundation

/// One sample of a simulated run as the simulator made it (truth.tsv, truth_counts.tsv).
public struct SampleTruth: Sendable, Equatable {
    public var sampleID: String, patientID: String, role: String, timepoint: String
    public var day: Int?
    public var cells: Int
    public var level: Double?
    public var leukemicCells: Int
    public var leukemicTemplates: Int
    public var evolvedTemplates: Int
    public var leukemicReads: Int
    public var evolvedReads: Int
    public var hoppedInReads: Int
    public var spikeInReads: Int
    public var totalReads: Int
    public var files: [String]
    public var mateFiles: [String]
    /// Per index clone (by its position in the patient's clone list).
    public var clones: [CloneTruth] = []
}

public struct CloneTruth: Sendable, Equatable {
    public var clone: Int
    public var templates = 0, reads = 0, evolvedTemplates = 0, evolvedReads = 0
}


/// truth.tsv (one row per sample) and truth_counts.tsv (one row per sample and index clone) of
/// `mrd simulate`: what validation and the demo compare calls with.
public enum TruthFile {
    public static let columns = ["sample_id", "patient_id", "role", "timepoint", "day", "cells", "dna_ng", "true_mrd_level",
                                 "leukemic_cells", "leukemic_templates", "evolved_templates", "leukemic_reads", "evolved_reads",
                                 "hopped_in_reads", "spike_in_reads", "total_reads"]
    public static let countColumns = ["sample_id", "clone_id", "templates", "reads", "evolved_templates", "evolved_reads"]

    public static func text(_ truth: [SampleTruth]) -> String {
        var tsv = TableWriter()
        tsv.row(columns)
        for t in truth {
            tsv.row([t.sampleID, t.patientID, t.role, t.timepoint, t.day.map(String.init) ?? "", String(t.cells),
                     t.cells > 0 ? TableNumber.plain(Double(t.cells) * 6.5 / 1000) : "", t.level.map(TableNumber.plain) ?? "",
                     String(t.leukemicCells), String(t.leukemicTemplates), String(t.evolvedTemplates), String(t.leukemicReads),
                     String(t.evolvedReads), String(t.hoppedInReads), String(t.spikeInReads), String(t.totalReads)])
        }
        return tsv.text
    }

    /// truth_counts.tsv; `cloneIDs` names each patient's clones by position.
    public static func countsText(_ truth: [SampleTruth], cloneIDs: [String: [String]]) -> String {
        var tsv = TableWriter()
        tsv.row(countColumns)
        for t in truth {
            guard let ids = cloneIDs[t.patientID] else { continue }
            for c in t.clones {
                tsv.row([t.sampleID, ids[c.clone], String(c.templates), String(c.reads), String(c.evolvedTemplates), String(c.evolvedReads)])
            }
        }
        return tsv.text
    }

    /// The samples of a truth.tsv (files and per-clone counts are not in it).
    public static func read(path: String) throws -> [SampleTruth] {
        let table = try DelimitedTable.load(path: path, dialect: .tsv, what: "truth table of mrd simulate")
        try table.requireColumns(columns)
        return try (0..<table.rowCount).map { r in
            let f = TableFields(table: table, row: r)
            return SampleTruth(sampleID: f.text("sample_id"), patientID: f.text("patient_id"), role: f.text("role"), timepoint: f.text("timepoint"),
                               day: try f.optionalCount("day"), cells: try f.count("cells"), level: try f.optionalNumber("true_mrd_level"),
                               leukemicCells: try f.count("leukemic_cells"), leukemicTemplates: try f.count("leukemic_templates"),
                               evolvedTemplates: try f.count("evolved_templates"), leukemicReads: try f.count("leukemic_reads"),
                               evolvedReads: try f.count("evolved_reads"), hoppedInReads: try f.count("hopped_in_reads"),
                               spikeInReads: try f.count("spike_in_reads"), totalReads: try f.count("total_reads"), files: [], mateFiles: [])
        }
    }
}
