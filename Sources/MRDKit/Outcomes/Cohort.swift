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
    /// Categorical clinical.csv columns adjusted for in the Cox model (reference = first level in sorted order).
    public var covariates: [String] = []
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
    /// Patients censored (no event) before the day of their last MRD sample: followed at least to
    /// that day, so rfs_days is stale or in another unit (months or weeks for days).
    public var censoredBeforeSamples: [(patient: String, rfsDays: Double, lastSampleDay: Int)] = []
    /// Cumulative incidence of relapse (nil without clinical.csv's event_type).
    public var cir: [CIRRow]?
    public var incidenceCurves: [(landmark: String, status: String, curve: CumulativeIncidence)] = []
    public var cox: [CoxRow] = []
    /// Overall survival (nil without os_days/os_event).
    public var os: [RFSRow]?
    public var osCurves: [(landmark: String, status: String, curve: KaplanMeier)] = []
}

extension CohortResult {
    /// Words for `censoredBeforeSamples`, on stderr and in cohort.html (nil when there are none).
    public var censoredBeforeSamplesNote: String? {
        guard !censoredBeforeSamples.isEmpty else { return nil }
        let examples = censoredBeforeSamples.prefix(3).map { "\($0.patient) censored at day \(TableNumber.g6($0.rfsDays)) with an MRD sample at day \($0.lastSampleDay)" }
        return "\(censoredBeforeSamples.count) patient(s) censored before their last MRD sample (" + examples.joined(separator: "; ")
            + (censoredBeforeSamples.count > 3 ? "; ..." : "") + "): rfs_days must be days from diagnosis to relapse, death or last contact; "
            + "months or weeks, or clinical data older than the samples, shorten their follow-up and the survival estimates"
    }
}

/// `mrd cohort`: MRD-negativity rates at landmarks and relapse-free survival by MRD status.
public enum CohortAnalysis {
    /// The MRD status of a call at the analysis threshold: the call itself, or re-derived from
    /// detection, level and LoD (the contract's rule) when a threshold is given.
    static func status(_ call: CallsRow, threshold: Double?) -> String? {
        guard let threshold else { return call.call == MRDCallKind.indeterminate.rawValue ? nil : call.call }
        // `below_threshold_above_lod` depends on the threshold: at another one it is re-derived.
        let thresholdFlag = "below_threshold_above_lod"
        let otherFailing = call.qcFlags.contains { $0 != thresholdFlag && QCCode.failing.contains($0) }
        let qcPass = (call.qcFlags.contains(thresholdFlag) ? !otherFailing : call.qcPass)
            && !CallRule.belowThresholdAboveLoD(detected: call.detected, level: call.mrdLevel, lod: call.lod, threshold: threshold)
        let evidence = CallRule.Evidence(hasMarker: call.callDetail != CallDetail.noMarker.rawValue, detected: call.detected,
                                         level: call.mrdLevel, lod: call.lod, quantifiable: call.quantifiable, qcPass: qcPass,
                                         cellCountKnown: call.callDetail != CallDetail.noCellCount.rawValue && call.callDetail != CallDetail.failed.rawValue)
        let decision = CallRule(threshold: threshold).decide(evidence)
        return decision.call == .indeterminate ? nil : decision.call.rawValue
    }

    public static func analyse(calls: [CallsRow], clinical: [ClinicalRecord], options: CohortOptions,
                               hasEventType: Bool = false, hasOverallSurvival: Bool = false) -> CohortResult {
        var result = CohortResult()
        if hasEventType { result.cir = [] }
        if hasOverallSurvival { result.os = [] }
        // Covariate levels over the whole file: the reference is the first in sorted order.
        let covariateLevels = options.covariates.map { column in
            (column, Set(clinical.map { $0.groups[column] ?? "" }).subtracting([""]).sorted())
        }
        let clinicalByID = Dictionary(uniqueKeysWithValues: clinical.map { ($0.patientID, $0) })
        let callPatients = Set(calls.map(\.patientID))
        result.missingClinical = callPatients.subtracting(clinicalByID.keys).sorted()
        result.missingCalls = Set(clinicalByID.keys).subtracting(callPatients).sorted()
        var lastSampleDay: [String: Int] = [:]
        for call in calls { if let day = call.day { lastSampleDay[call.patientID] = max(lastSampleDay[call.patientID] ?? day, day) } }
        for patient in lastSampleDay.keys.sorted() {
            guard let clinical = clinicalByID[patient], !clinical.event, clinical.rfsDays < Double(lastSampleDay[patient]!) else { continue }
            result.censoredBeforeSamples.append((patient, clinical.rfsDays, lastSampleDay[patient]!))
        }
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
            let eligible = patients.filter { statuses[$0]! != nil && clinicalByID[$0]!.rfsDays > landmark.day }
            if hasEventType { appendIncidence(landmark, eligible, statuses, clinicalByID, options, &result) }
            if hasOverallSurvival { appendOverallSurvival(landmark, patients, statuses, clinicalByID, options, &result) }
            result.cox += coxRows(landmark, eligible, statuses, clinicalByID, covariateLevels)
        }
        return result
    }

    /// Aalen-Johansen curves of relapse and death in remission per MRD status, and Gray's test of
    /// relapse between the statuses.
    static func appendIncidence(_ landmark: Landmark, _ eligible: [String], _ statuses: [String: String?], _ clinical: [String: ClinicalRecord],
                                _ options: CohortOptions, _ result: inout CohortResult) {
        var groups: [String: [CompetingRisksRecord]] = ["negative": [], "positive": []]
        for patient in eligible {
            let record = clinical[patient]!
            let outcome: CompetingRisksRecord.Outcome = !record.event ? .censored : (record.eventType == .death ? .death : .relapse)
            groups[statuses[patient]!!]!.append(CompetingRisksRecord(time: record.rfsDays - landmark.day, outcome: outcome))
        }
        let gray = GrayTest.test([groups["negative"]!, groups["positive"]!])?.p
        for status in ["negative", "positive"] {
            let group = groups[status]!
            var row = CIRRow(landmark: landmark.label, status: status, n: group.count, relapses: group.filter { $0.outcome == .relapse }.count,
                             deaths: group.filter { $0.outcome == .death }.count, grayP: gray)
            if !group.isEmpty {
                let curve = CumulativeIncidence(group)
                let at = curve.at(options.horizonDays)
                row.cirAtHorizon = at.relapse
                row.ciLow = at.relapseCILow
                row.ciHigh = at.relapseCIHigh
                result.incidenceCurves.append((landmark.label, status, curve))
            }
            result.cir!.append(row)
        }
    }

    /// Overall survival from the landmark of the patients alive at it, by MRD status.
    static func appendOverallSurvival(_ landmark: Landmark, _ patients: [String], _ statuses: [String: String?], _ clinical: [String: ClinicalRecord],
                                      _ options: CohortOptions, _ result: inout CohortResult) {
        var records: [String: [SurvivalRecord]] = ["negative": [], "positive": []]
        for patient in patients {
            guard let status = statuses[patient]!, let record = clinical[patient], let days = record.osDays, days > landmark.day else { continue }
            records[status]!.append(SurvivalRecord(time: days - landmark.day, event: record.osEvent ?? false))
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
                result.osCurves.append((landmark.label, status, curve))
            }
            result.os!.append(row)
        }
    }

    /// The Cox model of RFS from the landmark: `mrd_positive` and one indicator per covariate level
    /// but the reference. Patients without a covariate value are left out (said in the note); a level
    /// with no patients here gets a row that says so; a model that cannot be fitted says why on
    /// every term's row.
    static func coxRows(_ landmark: Landmark, _ eligible: [String], _ statuses: [String: String?], _ clinical: [String: ClinicalRecord],
                        _ covariateLevels: [(String, [String])]) -> [CoxRow] {
        let complete = eligible.filter { patient in covariateLevels.allSatisfy { !(clinical[patient]!.groups[$0.0] ?? "").isEmpty } }
        var notes: [String] = []
        if complete.count < eligible.count {
            notes.append("\(eligible.count - complete.count) patient(s) without a value of " + covariateLevels.map(\.0).joined(separator: "/") + " left out")
        }
        var names = ["mrd_positive"]
        var columns: [[Double]] = [complete.map { statuses[$0]!! == "positive" ? 1 : 0 }]
        var absent: [String] = []
        for (column, levels) in covariateLevels {
            for level in levels.dropFirst() {
                let name = Self.termName(column, level)
                let values = complete.map { clinical[$0]!.groups[column] == level ? 1.0 : 0.0 }
                if values.contains(1) { names.append(name); columns.append(values) } else { absent.append(name) }
            }
        }
        let times = complete.map { clinical[$0]!.rfsDays - landmark.day }
        let events = complete.map { clinical[$0]!.event }
        let n = complete.count, eventCount = events.filter { $0 }.count
        let note = notes.joined(separator: "; ")
        var rows: [CoxRow] = []
        do {
            let model = try CoxModel(times: times, events: events, covariates: (0..<n).map { i in columns.map { $0[i] } }, names: names)
            for term in model.terms {
                rows.append(CoxRow(landmark: landmark.label, term: term.name, hr: term.hazardRatio, ciLow: term.ciLow, ciHigh: term.ciHigh, p: term.p,
                                   n: n, events: eventCount, phP: term.proportionalHazardsP, note: note))
            }
        } catch {
            let why = (error as? CoxModel.FitError)?.description ?? "\(error)"
            for name in names {
                rows.append(CoxRow(landmark: landmark.label, term: name, n: n, events: eventCount, note: ([note, "not fitted: " + why]).filter { !$0.isEmpty }.joined(separator: "; ")))
            }
        }
        for name in absent {
            rows.append(CoxRow(landmark: landmark.label, term: name, n: n, events: eventCount, note: "no patient with this level at this landmark: not in the model"))
        }
        return rows
    }

    /// `COL=level`, kept on one table field.
    static func termName(_ column: String, _ level: String) -> String {
        (column + "=" + level).map { $0 == "\t" || $0 == "\n" || $0 == "\r" ? " " : $0 }.reduce(into: "") { $0.append($1) }
    }
}
