import Foundation

/// One row of negativity.tsv: MRD negativity at a landmark, overall (`group_by` = `all`) or in one group.
public struct NegativityRow: Sendable, Equatable {
    public var landmark: String, groupBy: String, group: String
    public var n: Int, negative: Int
    public var rate: Double?, ciLow: Double?, ciHigh: Double?
    public var indeterminate: Int

    public init(landmark: String, groupBy: String, group: String, n: Int, negative: Int, rate: Double? = nil, ciLow: Double? = nil,
                ciHigh: Double? = nil, indeterminate: Int) {
        self.landmark = landmark
        self.groupBy = groupBy
        self.group = group
        self.n = n
        self.negative = negative
        self.rate = rate
        self.ciLow = ciLow
        self.ciHigh = ciHigh
        self.indeterminate = indeterminate
    }
}

/// One row of rfs.tsv: relapse-free survival at the horizon for one landmark and MRD status.
public struct RFSRow: Sendable, Equatable {
    public var landmark: String, status: String
    public var n: Int, events: Int
    public var rfsAtHorizon: Double?, ciLow: Double?, ciHigh: Double?
    public var logrankP: Double?

    public init(landmark: String, status: String, n: Int, events: Int, rfsAtHorizon: Double? = nil, ciLow: Double? = nil,
                ciHigh: Double? = nil, logrankP: Double? = nil) {
        self.landmark = landmark
        self.status = status
        self.n = n
        self.events = events
        self.rfsAtHorizon = rfsAtHorizon
        self.ciLow = ciLow
        self.ciHigh = ciHigh
        self.logrankP = logrankP
    }
}

/// One row of km.tsv: a step of a Kaplan-Meier curve.
public struct KMRow: Sendable, Equatable {
    public var landmark: String, status: String
    public var time: Double
    public var atRisk: Int, events: Int
    public var survival: Double, ciLow: Double, ciHigh: Double

    public init(landmark: String, status: String, time: Double, atRisk: Int, events: Int, survival: Double, ciLow: Double, ciHigh: Double) {
        self.landmark = landmark
        self.status = status
        self.time = time
        self.atRisk = atRisk
        self.events = events
        self.survival = survival
        self.ciLow = ciLow
        self.ciHigh = ciHigh
    }
}

/// negativity.tsv, rfs.tsv and km.tsv of `mrd cohort`.
public enum CohortTables {
    public static let negativityColumns = ["landmark", "group_by", "group", "n", "negative", "rate", "ci_low", "ci_high", "indeterminate"]
    public static let rfsColumns = ["landmark", "mrd_status", "n", "events", "rfs_at_horizon", "ci_low", "ci_high", "logrank_p"]
    public static let kmColumns = ["landmark", "mrd_status", "time", "at_risk", "events", "survival", "ci_low", "ci_high"]

    public static func negativityText(_ rows: [NegativityRow]) -> String {
        var tsv = TableWriter()
        tsv.row(negativityColumns)
        for r in rows {
            tsv.row([r.landmark, r.groupBy, r.group, String(r.n), String(r.negative), TableNumber.g10(r.rate), TableNumber.g10(r.ciLow),
                     TableNumber.g10(r.ciHigh), String(r.indeterminate)])
        }
        return tsv.text
    }

    public static func rfsText(_ rows: [RFSRow]) -> String {
        var tsv = TableWriter()
        tsv.row(rfsColumns)
        for r in rows {
            tsv.row([r.landmark, r.status, String(r.n), String(r.events), TableNumber.g10(r.rfsAtHorizon), TableNumber.g10(r.ciLow),
                     TableNumber.g10(r.ciHigh), TableNumber.g10(r.logrankP)])
        }
        return tsv.text
    }

    public static func kmText(_ rows: [KMRow]) -> String {
        var tsv = TableWriter()
        tsv.row(kmColumns)
        for r in rows {
            tsv.row([r.landmark, r.status, TableNumber.g10(r.time), String(r.atRisk), String(r.events), TableNumber.g10(r.survival),
                     TableNumber.g10(r.ciLow), TableNumber.g10(r.ciHigh)])
        }
        return tsv.text
    }

    public static func readNegativity(path: String) throws -> [NegativityRow] {
        let table = try DelimitedTable.load(path: path, dialect: .tsv, what: "negativity table")
        try table.requireColumns(negativityColumns)
        return try (0..<table.rowCount).map { r in
            let f = TableFields(table: table, row: r)
            return NegativityRow(landmark: f.text("landmark"), groupBy: f.text("group_by"), group: f.text("group"), n: try f.count("n"),
                                 negative: try f.count("negative"), rate: try f.optionalNumber("rate"), ciLow: try f.optionalNumber("ci_low"),
                                 ciHigh: try f.optionalNumber("ci_high"), indeterminate: try f.count("indeterminate"))
        }
    }

    public static func readRFS(path: String) throws -> [RFSRow] {
        let table = try DelimitedTable.load(path: path, dialect: .tsv, what: "RFS table")
        try table.requireColumns(rfsColumns)
        return try (0..<table.rowCount).map { r in
            let f = TableFields(table: table, row: r)
            return RFSRow(landmark: f.text("landmark"), status: f.text("mrd_status"), n: try f.count("n"), events: try f.count("events"),
                          rfsAtHorizon: try f.optionalNumber("rfs_at_horizon"), ciLow: try f.optionalNumber("ci_low"),
                          ciHigh: try f.optionalNumber("ci_high"), logrankP: try f.optionalNumber("logrank_p"))
        }
    }

    public static func readKM(path: String) throws -> [KMRow] {
        let table = try DelimitedTable.load(path: path, dialect: .tsv, what: "Kaplan-Meier table")
        try table.requireColumns(kmColumns)
        return try (0..<table.rowCount).map { r in
            let f = TableFields(table: table, row: r)
            return KMRow(landmark: f.text("landmark"), status: f.text("mrd_status"), time: try f.number("time"), atRisk: try f.count("at_risk"),
                         events: try f.count("events"), survival: try f.number("survival"), ciLow: try f.number("ci_low"),
                         ciHigh: try f.number("ci_high"))
        }
    }
}

/// One row of cir.tsv: the cumulative incidence of relapse at the horizon (death in remission
/// competing) for one landmark and MRD status, and Gray's test between the statuses.
public struct CIRRow: Sendable, Equatable {
    public var landmark: String, status: String
    public var n: Int, relapses: Int, deaths: Int
    public var cirAtHorizon: Double?, ciLow: Double?, ciHigh: Double?
    public var grayP: Double?
}

/// One row of cif.tsv: a step of the two cumulative incidence curves.
public struct CIFRow: Sendable, Equatable {
    public var landmark: String, status: String
    public var time: Double
    public var relapse: Double, death: Double
    public var atRisk: Int
    public var relapseCILow: Double, relapseCIHigh: Double
}

/// One row of cox.tsv: a term of the Cox model of RFS from one landmark, or why it has no estimate.
public struct CoxRow: Sendable, Equatable {
    public var landmark: String, term: String
    public var hr: Double?, ciLow: Double?, ciHigh: Double?, p: Double?
    public var n: Int, events: Int
    public var phP: Double?
    /// Why the row has no number, or what was left out (empty when nothing to say).
    public var note: String = ""
}

/// cir.tsv, cif.tsv, cox.tsv and os.tsv of `mrd cohort` (contract v3).
extension CohortTables {
    public static let cirColumns = ["landmark", "mrd_status", "n", "relapses", "deaths", "cir_at_horizon", "ci_low", "ci_high", "gray_p"]
    /// The contract's columns, then the number at risk and the relapse curve's interval.
    public static let cifColumns = ["landmark", "mrd_status", "time", "cif_relapse", "cif_death", "at_risk", "cif_relapse_ci_low", "cif_relapse_ci_high"]
    /// The contract's columns, `ph_p`, then `note` (why a row has no estimate).
    public static let coxColumns = ["landmark", "term", "hr", "ci_low", "ci_high", "p", "n", "events", "ph_p", "note"]
    public static let osColumns = ["landmark", "mrd_status", "n", "events", "os_at_horizon", "ci_low", "ci_high", "logrank_p"]

    public static func cirText(_ rows: [CIRRow]) -> String {
        var tsv = TableWriter()
        tsv.row(cirColumns)
        for r in rows {
            tsv.row([r.landmark, r.status, String(r.n), String(r.relapses), String(r.deaths), TableNumber.g10(r.cirAtHorizon),
                     TableNumber.g10(r.ciLow), TableNumber.g10(r.ciHigh), TableNumber.g10(r.grayP)])
        }
        return tsv.text
    }

    public static func cifText(_ rows: [CIFRow]) -> String {
        var tsv = TableWriter()
        tsv.row(cifColumns)
        for r in rows {
            tsv.row([r.landmark, r.status, TableNumber.g10(r.time), TableNumber.g10(r.relapse), TableNumber.g10(r.death), String(r.atRisk),
                     TableNumber.g10(r.relapseCILow), TableNumber.g10(r.relapseCIHigh)])
        }
        return tsv.text
    }

    public static func coxText(_ rows: [CoxRow]) -> String {
        var tsv = TableWriter()
        tsv.row(coxColumns)
        for r in rows {
            tsv.row([r.landmark, r.term, TableNumber.g10(r.hr), TableNumber.g10(r.ciLow), TableNumber.g10(r.ciHigh), TableNumber.g10(r.p),
                     String(r.n), String(r.events), TableNumber.g10(r.phP), r.note])
        }
        return tsv.text
    }

    /// os.tsv: rfs.tsv's shape for overall survival.
    public static func osText(_ rows: [RFSRow]) -> String {
        var tsv = TableWriter()
        tsv.row(osColumns)
        for r in rows {
            tsv.row([r.landmark, r.status, String(r.n), String(r.events), TableNumber.g10(r.rfsAtHorizon), TableNumber.g10(r.ciLow),
                     TableNumber.g10(r.ciHigh), TableNumber.g10(r.logrankP)])
        }
        return tsv.text
    }
}
