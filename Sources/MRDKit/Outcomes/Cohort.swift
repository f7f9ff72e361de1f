import Foundation

/// One patient's outcome (clinical.csv: `patient_id,rfs_days,rfs_event` then group columns).
public struct ClinicalRecord: Sendable, Equatable {
    public var patientID: String
    public var rfsDays: Double
    public var event: Bool
    public var groups: [String: String]
}

/// The calls.tsv fields a cohort analysis needs.
public struct CohortCall: Sendable, Equatable {
    public var patientID: String
    public var sampleID: String
    public var timepoint: String
    public var day: Int?
    public var call: String
    public var detected: Bool
    public var mrdLevel: Double?
    public var lod: Double?
}

/// A landmark: a timepoint label of calls.tsv and its day since diagnosis.
public struct Landmark: Sendable, Equatable {
    public var label: String
    public var day: Double
    public init(label: String, day: Double) {
        self.label = label
        self.day = day
    }
}

public struct CohortOptions: Sendable {
    public var landmarks: [Landmark]?
    public var horizonDays = 730.0
    public var groupBy: [String] = []
    /// Re-derive positive / negative at this threshold from level, LoD and detection.
    public var threshold: Double?
    public init() {}
}

public struct NegativityRow: Sendable, Equatable {
    public var landmark: String, groupBy: String, group: String
    public var n: Int, negative: Int
    public var rate: Double?, ciLow: Double?, ciHigh: Double?
    public var indeterminate: Int
}

public struct RFSRow: Sendable, Equatable {
    public var landmark: String, status: String
    public var n: Int, events: Int
    public var rfsAtHorizon: Double?, ciLow: Double?, ciHigh: Double?
    public var logrankP: Double?
}

public struct CohortResult: Sendable {
    public var landmarks: [Landmark] = []
    public var negativity: [NegativityRow] = []
    public var rfs: [RFSRow] = []
    /// Per landmark and status: the Kaplan-Meier curve from the landmark day.
    public var curves: [(landmark: String, status: String, curve: KaplanMeier)] = []
    /// Patients in calls.tsv but not in clinical.csv, and the reverse.
    public var missingClinical: [String] = []
    public var missingCalls: [String] = []
}

/// `mrd cohort`: MRD-negativity rates at landmarks and relapse-free survival by MRD status.
public enum CohortAnalysis {
    /// Reads calls.tsv (the contract's columns; others ignored).
    public static func readCalls(path: String) throws -> [CohortCall] {
        let rows = try readTable(path: path, separator: "\t", required: ["patient_id", "sample_id", "timepoint", "day", "call", "detected", "mrd_level", "lod"])
        return try rows.map { line, value in
            var day: Int?
            if !value("day").isEmpty {
                guard let d = Int(value("day")), d >= 0 else { throw ReadError(.malformedRecord, file: path, line: line, "day '\(printable(value("day")))': expected whole days >= 0") }
                day = d
            }
            guard ["positive", "negative", "indeterminate"].contains(value("call")) else {
                throw ReadError(.malformedRecord, file: path, line: line, "call '\(printable(value("call")))': expected positive, negative or indeterminate")
            }
            guard ["T", "F", ""].contains(value("detected")) else { throw ReadError(.malformedRecord, file: path, line: line, "detected: expected T or F") }
            func number(_ name: String) throws -> Double? {
                if value(name).isEmpty { return nil }
                guard let x = Double(value(name)), x >= 0 else { throw ReadError(.malformedRecord, file: path, line: line, "\(name) '\(printable(value(name)))': expected a number >= 0") }
                return x
            }
            return CohortCall(patientID: value("patient_id"), sampleID: value("sample_id"), timepoint: value("timepoint"), day: day,
                              call: value("call"), detected: value("detected") == "T", mrdLevel: try number("mrd_level"), lod: try number("lod"))
        }
    }

    /// Reads clinical.csv: `patient_id,rfs_days,rfs_event` then any group columns.
    public static func readClinical(path: String) throws -> [ClinicalRecord] {
        var header: [String] = []
        let rows = try readTable(path: path, separator: ",", required: ["patient_id", "rfs_days", "rfs_event"]) { header = $0 }
        var seen = Set<String>()
        return try rows.map { line, value in
            let id = value("patient_id")
            guard isIdentifier(id) else { throw ReadError(.malformedRecord, file: path, line: line, "patient_id '\(printable(id))' is not an identifier") }
            guard seen.insert(id).inserted else { throw ReadError(.malformedRecord, file: path, line: line, "patient_id '\(printable(id))' appears twice") }
            guard let days = Double(value("rfs_days")), days >= 0, days.isFinite else {
                throw ReadError(.malformedRecord, file: path, line: line, "rfs_days '\(printable(value("rfs_days")))': expected days >= 0")
            }
            guard ["0", "1"].contains(value("rfs_event")) else {
                throw ReadError(.malformedRecord, file: path, line: line, "rfs_event '\(printable(value("rfs_event")))': expected 1 (relapse or death) or 0 (censored)")
            }
            var groups: [String: String] = [:]
            for name in header where !["patient_id", "rfs_days", "rfs_event"].contains(name) { groups[name] = value(name) }
            return ClinicalRecord(patientID: id, rfsDays: days, event: value("rfs_event") == "1", groups: groups)
        }
    }

    /// Rows of a delimited table with a header, as (line, value-by-column).
    static func readTable(path: String, separator: Character, required: [String], header headerOut: ([String]) -> Void = { _ in })
        throws -> [(Int, (String) -> String)] {
        guard FileManager.default.fileExists(atPath: path) else { throw ReadError(.missingInput, file: path, "no such file") }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ReadError(.unreadableInput, file: path, "cannot read the file as UTF-8 text") }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        guard let first = lines.first, !first.isEmpty else { throw ReadError(.emptyInput, file: path, line: 1, "expected a header line") }
        let header = first.split(separator: separator, omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        let missing = required.filter { !header.contains($0) }
        guard missing.isEmpty else { throw ReadError(.malformedRecord, file: path, line: 1, "missing column(s) \(missing.joined(separator: ", "))") }
        headerOut(header)
        var index: [String: Int] = [:]
        for (i, name) in header.enumerated() where index[name] == nil { index[name] = i }
        var rows: [(Int, (String) -> String)] = []
        for (n, line) in lines.enumerated().dropFirst() where !line.isEmpty {
            let fields = line.split(separator: separator, omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard fields.count == header.count else {
                throw ReadError(.malformedRecord, file: path, line: n + 1, "expected \(header.count) fields, found \(fields.count)")
            }
            rows.append((n + 1, { name in index[name].map { fields[$0] } ?? "" }))
        }
        return rows
    }

    /// The MRD status of a call at the analysis threshold: the call itself, or re-derived from
    /// detection, level and LoD (the contract's rule) when a threshold is given.
    static func status(_ call: CohortCall, threshold: Double?) -> String? {
        guard let threshold else { return call.call == "indeterminate" ? nil : call.call }
        if call.call == "indeterminate" && call.mrdLevel == nil { return nil }
        if call.detected, let level = call.mrdLevel { return level >= threshold ? "positive" : "negative" }
        if let lod = call.lod, lod <= threshold { return "negative" }
        return nil
    }

    public static func analyse(calls: [CohortCall], clinical: [ClinicalRecord], options: CohortOptions) -> CohortResult {
        var result = CohortResult()
        let clinicalByID = Dictionary(uniqueKeysWithValues: clinical.map { ($0.patientID, $0) })
        let callPatients = Set(calls.map(\.patientID))
        result.missingClinical = callPatients.subtracting(clinicalByID.keys).sorted()
        result.missingCalls = Set(clinicalByID.keys).subtracting(callPatients).sorted()
        // Landmarks: given, or every timepoint label with the median day of its calls, in day order.
        if let given = options.landmarks {
            result.landmarks = given
        } else {
            var days: [String: [Int]] = [:]
            for call in calls { if let day = call.day { days[call.timepoint, default: []].append(day) } }
            result.landmarks = days.map { label, values in
                let sorted = values.sorted()
                let median = sorted.count % 2 == 1 ? Double(sorted[sorted.count / 2]) : Double(sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
                return Landmark(label: label, day: median)
            }.sorted { ($0.day, $0.label) < ($1.day, $1.label) }
        }
        for landmark in result.landmarks {
            // One call per patient at this timepoint (the earliest sample).
            var byPatient: [String: CohortCall] = [:]
            for call in calls where call.timepoint == landmark.label && clinicalByID[call.patientID] != nil {
                if let current = byPatient[call.patientID], (current.day ?? Int.max, current.sampleID) <= (call.day ?? Int.max, call.sampleID) { continue }
                byPatient[call.patientID] = call
            }
            let statuses = byPatient.mapValues { status($0, threshold: options.threshold) }
            func negativity(_ groupBy: String, _ group: String, _ members: [String]) -> NegativityRow {
                let evaluable = members.filter { statuses[$0]! != nil }
                let negative = evaluable.filter { statuses[$0]! == "negative" }.count
                var row = NegativityRow(landmark: landmark.label, groupBy: groupBy, group: group, n: evaluable.count, negative: negative,
                                        indeterminate: members.count - evaluable.count)
                if !evaluable.isEmpty {
                    row.rate = Double(negative) / Double(evaluable.count)
                    let ci = Statistics.wilsonInterval(successes: negative, trials: evaluable.count)
                    row.ciLow = ci.low
                    row.ciHigh = ci.high
                }
                return row
            }
            let patients = byPatient.keys.sorted()
            result.negativity.append(negativity("all", "all", patients))
            for column in options.groupBy {
                let groups = Set(patients.map { clinicalByID[$0]!.groups[column] ?? "" }).sorted()
                for group in groups {
                    result.negativity.append(negativity(column, group, patients.filter { (clinicalByID[$0]!.groups[column] ?? "") == group }))
                }
            }
            // Landmark RFS: event-free at the landmark day, classified by the landmark call, timed from it.
            var records: [String: [SurvivalRecord]] = ["negative": [], "positive": []]
            for patient in patients {
                guard let status = statuses[patient]!, let clinical = clinicalByID[patient], clinical.rfsDays > landmark.day else { continue }
                records[status]!.append(SurvivalRecord(time: clinical.rfsDays - landmark.day, event: clinical.event))
            }
            let p = LogRank.test(records["negative"]!, records["positive"]!)?.p
            for status in ["negative", "positive"] {
                let group = records[status]!
                var row = RFSRow(landmark: landmark.label, status: status, n: group.count, events: group.filter(\.event).count, logrankP: p)
                if !group.isEmpty {
                    let curve = KaplanMeier(group)
                    let at = curve.at(options.horizonDays)
                    row.rfsAtHorizon = at.survival
                    row.ciLow = at.ciLow
                    row.ciHigh = at.ciHigh
                    result.curves.append((landmark.label, status, curve))
                }
                result.rfs.append(row)
            }
        }
        return result
    }
}
