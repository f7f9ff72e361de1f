import Foundation

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
    /// The MRD status of a call at the analysis threshold: the call itself, or re-derived from
    /// detection, level and LoD (the contract's rule) when a threshold is given.
    static func status(_ call: CallsRow, threshold: Double?) -> String? {
        guard let threshold else { return call.call == MRDCallKind.indeterminate.rawValue ? nil : call.call }
        let evidence = CallRule.Evidence(hasMarker: call.callDetail != CallDetail.noMarker.rawValue, detected: call.detected,
                                         level: call.mrdLevel, lod: call.lod, quantifiable: call.quantifiable, qcPass: call.qcPass,
                                         cellCountKnown: call.callDetail != CallDetail.noCellCount.rawValue && call.callDetail != CallDetail.failed.rawValue)
        let decision = CallRule(threshold: threshold).decide(evidence)
        return decision.call == .indeterminate ? nil : decision.call.rawValue
    }

    public static func analyse(calls: [CallsRow], clinical: [ClinicalRecord], options: CohortOptions) -> CohortResult {
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
            var byPatient: [String: CallsRow] = [:]
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
