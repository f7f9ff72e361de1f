import Foundation

/// A synthetic outcome cohort shaped after a published MRD study (docs/cohort.md): 161 B-ALL
/// patients, 32% Ph-positive; MRD negativity after induction / at 3 / at 6 months by Ph status and
/// risk group; 2-year relapse-free survival by MRD status at each landmark. Written as a calls.tsv
/// (the contract's columns) and a clinical.csv, for `mrd cohort`.
///
/// Model: each patient clears MRD at one landmark or not by 6 months (a class); the class
/// probabilities follow the published cumulative negativity of the patient's Ph status, shifted by
/// the risk group's deviation from the overall rate; relapse or death is exponential with a hazard
/// per class, set so that the landmark-conditional 2-year RFS comes out as published (class 0:
/// 94%, 1: 70%, 2: 75%, never: 62%); follow-up is censored uniformly between 1 and 8 years
/// (enrolment 2016-2024). Events are relapses or deaths in remission (a quarter of each class's hazard); Ph-positive
/// and high-risk patients relapse with hazard ratios 1.6 and 1.5; after a relapse, death follows
/// with a median of one year, so clinical.csv carries event_type and os_days/os_event.
public struct CohortSimulator: Sendable {
    public struct Published: Sendable {
        public var negativityPhPositive = [0.38, 0.72, 0.84]
        public var negativityPhNegative = [0.30, 0.63, 0.82]
        public var negativityHighRisk = [0.36, 0.62, 0.85]
        public var negativityStandardRisk = [0.25, 0.64, 0.79]
        public var rfsNegative = [0.94, 0.82, 0.82]
        public var rfsPositive = [0.66, 0.65, 0.62]
        public init() {}
    }

    public var patients = 161
    public var phPositiveShare = 0.32
    public var highRiskShare = 0.6
    public var seed: UInt64 = 1
    /// 2-year RFS per clearance class (induction, 3 months, 6 months, not by 6 months).
    public var classRFS = [0.94, 0.70, 0.75, 0.62]
    /// The share of each class's RFS hazard that is death in remission (the rest is relapse).
    public var deathInRemissionShare = 0.25
    /// Hazard ratios of relapse for Ph-positive and high-risk patients (normalised so that the
    /// cohort's average relapse hazard per class is unchanged).
    public var phPositiveRelapseHR = 1.3
    public var highRiskRelapseHR = 1.3
    /// Median overall survival after relapse, days.
    public var postRelapseMedianDays = 365.0
    public let published = Published()
    public static let landmarks: [(label: String, day: Int)] = [("induction", 35), ("month3", 90), ("month6", 180)]

    public init(seed: UInt64 = 1) { self.seed = seed }

    public struct Output: Sendable {
        public var calls: String
        public var clinical: String
    }

    public func simulate() -> Output {
        var random = SeededRandom(seed: seed, stream: "cohort")
        // Causes and overall survival come from a stream of their own.
        var outcomes = SeededRandom(seed: seed, stream: "cohort-outcomes")
        let meanMultiplier = (1 - phPositiveShare + phPositiveShare * phPositiveRelapseHR) * (1 - highRiskShare + highRiskShare * highRiskRelapseHR)
        let p = published
        let overall = (0..<3).map { phPositiveShare * p.negativityPhPositive[$0] + (1 - phPositiveShare) * p.negativityPhNegative[$0] }
        var calls: [CallsRow] = []
        var clinical: [ClinicalRecord] = []
        for n in 0..<patients {
            let id = String(format: "C%03d", n + 1)
            let phPositive = random.bernoulli(phPositiveShare)
            let highRisk = random.bernoulli(highRiskShare)
            // Cumulative negativity for this patient, monotone and within [0, 1].
            var cumulative: [Double] = []
            for l in 0..<3 {
                let base = phPositive ? p.negativityPhPositive[l] : p.negativityPhNegative[l]
                let shift = (highRisk ? p.negativityHighRisk[l] : p.negativityStandardRisk[l]) - overall[l]
                cumulative.append(min(1, max(cumulative.last ?? 0, base + shift)))
            }
            let u = random.uniform()
            let clearance = cumulative.firstIndex { u < $0 } ?? 3
            let multiplier = (phPositive ? phPositiveRelapseHR : 1) * (highRisk ? highRiskRelapseHR : 1) / meanMultiplier
            let classHazard = -log(classRFS[clearance]) / 730
            let deathHazard = deathInRemissionShare * classHazard
            let relapseHazard = (1 - deathInRemissionShare) * classHazard * multiplier
            let hazard = relapseHazard + deathHazard
            let eventTime = -log(max(random.uniform(), 1e-300)) / hazard
            let censorTime = 365 + random.uniform() * (8 * 365 - 365)
            let rfsDays = Int(min(eventTime, censorTime).rounded(.down)) + 1
            let event = eventTime <= censorTime
            var record = ClinicalRecord(patientID: id, rfsDays: Double(rfsDays), event: event,
                                        groups: ["ph_status": phPositive ? "positive" : "negative", "risk_group": highRisk ? "high" : "standard"])
            let relapsed = outcomes.uniform() < relapseHazard / hazard
            let afterRelapse = -log(max(outcomes.uniform(), 1e-300)) * postRelapseMedianDays / log(2)
            if !event {
                record.osDays = Double(rfsDays)
                record.osEvent = false
            } else if relapsed {
                record.eventType = .relapse
                let death = eventTime + afterRelapse
                record.osDays = Double(max(rfsDays, Int(min(death, censorTime).rounded(.down)) + 1))
                record.osEvent = death <= censorTime
            } else {
                record.eventType = .death
                record.osDays = Double(rfsDays)
                record.osEvent = true
            }
            clinical.append(record)
            for (l, landmark) in Self.landmarks.enumerated() {
                // Every draw is made whatever the outcome, so one patient's outcome never shifts
                // the random numbers of the next.
                let day = landmark.day - 5 + random.below(11)
                let spread = random.normal(mean: 0, sd: 1)
                guard day < rfsDays else { continue }  // no sample after relapse
                let negative = clearance <= l
                let cells = 1_000_000.0
                let lod = 3.2 / cells
                let level = negative ? 0 : pow(10, -4 + 1.5 * spread / 2) + 1e-4
                let detected = !negative
                var row = CallsRow(patientID: id, sampleID: "\(id)_\(landmark.label)", timepoint: landmark.label, day: day,
                                   threshold: CallRule.defaultThreshold, detected: detected, quantifiable: detected,
                                   call: negative ? "negative" : "positive", normalization: "spike_in+dna_input", qcPass: true,
                                   callDetail: negative ? "undetected" : "quantifiable")
                row.totalReads = 1_000_000
                row.cellsAssessed = cells
                row.clonesTracked = 2
                row.clonesDetected = detected ? 2 : 0
                row.leukemicReads = detected ? Int(level * cells * 8) : 0
                row.leukemicTemplates = level * cells
                row.mrdLevel = level
                row.ciLow = level * 0.7
                row.ciHigh = level * 1.4 + lod
                row.lod = lod
                row.loq = 15 / cells
                calls.append(row)
            }
        }
        return Output(calls: CallsTable.text(calls), clinical: ClinicalFile.text(clinical, groupColumns: ["ph_status", "risk_group"]))
    }
}

extension CohortSimulator {
    /// Writes calls.tsv and clinical.csv into `directory`, both or neither.
    public func write(to directory: String) throws {
        let output = simulate()
        try createOutputFolder(directory)
        try OutputSet([((directory as NSString).appendingPathComponent("calls.tsv"), output.calls),
                       ((directory as NSString).appendingPathComponent("clinical.csv"), output.clinical)]).commit()
    }
}
