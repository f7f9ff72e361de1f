import Foundation

/// One row of FID.mrd.tsv: one tracked clone in a follow-up.
public struct MRDRow: Sendable, Equatable {
    public var sampleID: String
    public var cloneID: String
    public var locus: String
    public var junction: String
    public var reads: Int
    public var evolvedReads: Int
    public var templates: Double
    /// Empty without a cell count (contract v3).
    public var mrdLevel: Double?
    // Extensions.
    public var detected: Bool
    public var exactReads: Int
    public var rejectedReads: Int
    /// Distinct error-corrected UMIs; nil when the follow-up had no UMIs.
    public var umis: Int?
    public var readsPerTemplate: Double
    public var expectedBleedReads: Double
    /// Net reads / reads of the clone's locus (contract v3).
    public var readFraction: Double?
    /// UMIs with spike-ins: the share of the clone's molecules expected to have yielded a counted
    /// UMI (templates = UMIs / it); nil otherwise.
    public var umiRecovery: Double?

    public init(sampleID: String, cloneID: String, locus: String, junction: String, reads: Int, evolvedReads: Int, templates: Double,
                mrdLevel: Double?, detected: Bool, exactReads: Int, rejectedReads: Int, umis: Int?, readsPerTemplate: Double,
                expectedBleedReads: Double, readFraction: Double? = nil, umiRecovery: Double? = nil) {
        self.readFraction = readFraction
        self.umiRecovery = umiRecovery
        self.sampleID = sampleID
        self.cloneID = cloneID
        self.locus = locus
        self.junction = junction
        self.reads = reads
        self.evolvedReads = evolvedReads
        self.templates = templates
        self.mrdLevel = mrdLevel
        self.detected = detected
        self.exactReads = exactReads
        self.rejectedReads = rejectedReads
        self.umis = umis
        self.readsPerTemplate = readsPerTemplate
        self.expectedBleedReads = expectedBleedReads
    }
}

/// FID.mrd.tsv: the contract's columns, then mrd's extensions.
public enum MRDTable {
    public static let columns = ["sample_id", "clone_id", "locus", "junction", "reads", "evolved_reads", "templates", "mrd_level",
                                 // Extensions (appended, as the contract allows).
                                 "detected", "exact_reads", "rejected_reads", "umis", "reads_per_template",
                                 "expected_bleed_reads", "read_fraction", "umi_recovery"]

    public static func text(_ rows: [MRDRow]) -> String {
        var tsv = TableWriter()
        tsv.row(columns)
        for r in rows {
            tsv.row([r.sampleID, r.cloneID, r.locus, r.junction, String(r.reads), String(r.evolvedReads), TableNumber.g6(r.templates),
                     TableNumber.g6(r.mrdLevel), TableNumber.flag(r.detected), String(r.exactReads), String(r.rejectedReads),
                     r.umis.map(String.init) ?? "", TableNumber.g6(r.readsPerTemplate), TableNumber.g6(r.expectedBleedReads),
                     TableNumber.g6(r.readFraction), TableNumber.g6(r.umiRecovery)])
        }
        return tsv.text
    }

    public static func read(path: String) throws -> [MRDRow] {
        try parse(table: try DelimitedTable.load(path: path, dialect: .tsv, what: "mrd.tsv of mrd track"))
    }

    static func parse(table: DelimitedTable) throws -> [MRDRow] {
        try table.requireColumns(Array(columns.prefix(8)))
        var rows: [MRDRow] = []
        for r in 0..<table.rowCount {
            let fields = TableFields(table: table, row: r)
            rows.append(MRDRow(sampleID: fields.text("sample_id"), cloneID: fields.text("clone_id"), locus: fields.text("locus"),
                               junction: fields.text("junction"), reads: try fields.count("reads"),
                               evolvedReads: try fields.count("evolved_reads"), templates: try fields.number("templates"),
                               mrdLevel: try fields.optionalNumber("mrd_level"), detected: try fields.flag("detected") ?? false,
                               exactReads: try fields.optionalCount("exact_reads") ?? 0,
                               rejectedReads: try fields.optionalCount("rejected_reads") ?? 0, umis: try fields.optionalCount("umis"),
                               readsPerTemplate: try fields.optionalNumber("reads_per_template") ?? 1,
                               expectedBleedReads: try fields.optionalNumber("expected_bleed_reads") ?? 0,
                               readFraction: try fields.optionalNumber("read_fraction"),
                               umiRecovery: try fields.optionalNumber("umi_recovery")))
        }
        return rows
    }
}

/// Typed access to the fields of one table row, with the contract's errors (file, line, column,
/// what was expected).
struct TableFields {
    let table: DelimitedTable
    let row: Int
    var trimmed = false

    init(table: DelimitedTable, row: Int, trimmed: Bool = false) {
        self.table = table
        self.row = row
        self.trimmed = trimmed
    }

    var line: Int { table.line(row) }

    func text(_ name: String) -> String {
        let value = table.value(row, name)
        return trimmed ? value.trimmingCharacters(in: .whitespaces) : value
    }

    func error(_ name: String, _ expected: String) -> ReadError {
        ReadError(.malformedRecord, file: table.path, line: line, "\(name) '\(printable(text(name)))': expected \(expected)")
    }

    func optionalCount(_ name: String) throws -> Int? {
        let value = text(name)
        if value.isEmpty { return nil }
        guard let n = Int(value), n >= 0 else { throw error(name, "a count") }
        return n
    }

    func count(_ name: String) throws -> Int {
        guard let n = try optionalCount(name) else { throw error(name, "a count") }
        return n
    }

    func optionalNumber(_ name: String, atLeast minimum: Double = 0) throws -> Double? {
        let value = text(name)
        if value.isEmpty { return nil }
        guard let x = Double(value), x.isFinite, x >= minimum else { throw error(name, "a number >= \(TableNumber.plain(minimum))") }
        return x
    }

    func number(_ name: String) throws -> Double {
        guard let x = try optionalNumber(name) else { throw error(name, "a number") }
        return x
    }

    /// T / F, nil when empty.
    func flag(_ name: String) throws -> Bool? {
        switch text(name) {
        case "T": return true
        case "F": return false
        case "": return nil
        default: throw error(name, "T or F")
        }
    }
}
