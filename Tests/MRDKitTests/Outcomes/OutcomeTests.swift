import Foundation
import Testing
@testable import MRDKit

/// Data sets with ties, heavy censoring, censoring at event times and unequal groups.
private func dataSets() -> [(a: [SurvivalRecord], b: [SurvivalRecord])] {
    func records(_ pairs: [(Double, Int)]) -> [SurvivalRecord] { pairs.map { SurvivalRecord(time: $0.0, event: $0.1 == 1) } }
    var sets: [([SurvivalRecord], [SurvivalRecord])] = [
        // Ties of events, and censorings at event times.
        (records([(5, 1), (5, 1), (5, 0), (8, 1), (8, 0), (12, 1), (12, 1), (15, 0), (20, 1), (20, 0)]),
         records([(3, 1), (5, 1), (6, 0), (8, 1), (8, 1), (9, 0), (14, 1), (20, 0)])),
        // Heavy censoring.
        (records([(1, 0), (2, 0), (3, 1), (4, 0), (5, 0), (6, 0), (7, 1), (8, 0), (9, 0), (10, 0), (11, 0), (12, 1)]),
         records([(2, 0), (3, 0), (4, 1), (5, 0), (6, 0), (9, 0), (13, 0)])),
    ]
    var random = SeededRandom(seed: 17, stream: "survival")
    for (n, m, censoring) in [(60, 45, 0.3), (120, 30, 0.7), (25, 80, 0.5)] {
        func draw(_ count: Int, hazard: Double) -> [SurvivalRecord] {
            (0..<count).map { _ in
                let event = (-log(max(random.uniform(), 1e-300)) / hazard).rounded(.up)  // whole days: many ties
                let censor = (random.uniform() * 900 / censoring).rounded(.up)
                return SurvivalRecord(time: min(event, censor), event: event <= censor)
            }
        }
        sets.append((draw(n, hazard: 1.0 / 500), draw(m, hazard: 1.0 / 250)))
    }
    return sets
}

@Suite("Survival: Kaplan-Meier, Greenwood log-log CI and log-rank against lifelines")
struct SurvivalTests {
    @Test("survival to 1e-9, interval to 1e-9, log-rank p to 1e-6, on data with ties and heavy censoring")
    func matchesLifelines() throws {
        let sets = dataSets()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mrd-km-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let input = directory.appendingPathComponent("data.json")
        let json: [[String: [[Double]]]] = sets.map { set in
            ["a": set.a.map { [$0.time, $0.event ? 1 : 0] }, "b": set.b.map { [$0.time, $0.event ? 1 : 0] }]
        }
        try JSONSerialization.data(withJSONObject: json).write(to: input)
        let process = Process()
        process.executableURL = projectTool("python3")
        process.arguments = [packageRoot.appendingPathComponent("Scripts/lifelines-reference").path, input.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "lifelines failed (or is not installed: Scripts/setup)")
        guard process.terminationStatus == 0 else { return }
        let reference = try JSONSerialization.jsonObject(with: output) as! [[String: Any]]
        #expect(reference.count == sets.count)
        for (set, ref) in zip(sets, reference) {
            let curve = KaplanMeier(set.a)
            let times = ref["times"] as! [Double]
            let survival = ref["survival"] as! [Double]
            let low = ref["low"] as! [Any], high = ref["high"] as! [Any]
            #expect(curve.steps.map(\.time) == times)
            for (i, step) in curve.steps.enumerated() where i < times.count {
                #expect(abs(step.survival - survival[i]) < 1e-9, "t=\(step.time): \(step.survival) vs \(survival[i])")
                if let l = low[i] as? Double, let h = high[i] as? Double {
                    #expect(abs(step.ciLow - l) < 1e-9 && abs(step.ciHigh - h) < 1e-9, "t=\(step.time): (\(step.ciLow), \(step.ciHigh)) vs (\(l), \(h))")
                }
            }
            let p = LogRank.test(set.a, set.b)!.p
            #expect(abs(p - (ref["p"] as! Double)) < 1e-6, "log-rank p \(p) vs \(ref["p"]!)")
        }
    }

    @Test("edge cases: no events, everyone censored at once, one subject")
    func edges() {
        let none = KaplanMeier([SurvivalRecord(time: 3, event: false), SurvivalRecord(time: 5, event: false)])
        #expect(none.steps.map(\.survival) == [1, 1, 1])
        #expect(none.at(100).survival == 1)
        let all = KaplanMeier([SurvivalRecord(time: 4, event: true)])
        #expect(all.steps.last!.survival == 0 && all.at(3).survival == 1)
        #expect(LogRank.test([SurvivalRecord(time: 1, event: false)], [SurvivalRecord(time: 2, event: false)]) == nil)
    }
}

@Suite("mrd cohort on the synthetic seed-study cohort")
struct CohortTests {
    /// The published figures (docs/cohort.md) and where the model puts them on average: one cohort
    /// of 161 patients is a random draw (1 of 18 figures outside its own 95% interval is to be
    /// expected), so the model is held to the mean over ten cohorts.
    @Test("over ten seeds every published rate is met on average (negativity within 0.04, 2-year RFS within 0.05); deaths compete; MRD positivity raises the hazard")
    func seedStudy() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mrd-cohort-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var sums: [String: Double] = [:]
        let seeds: [UInt64] = Array(1...10)
        var options = CohortOptions()
        options.groupBy = ["ph_status", "risk_group"]
        options.covariates = ["ph_status", "risk_group"]
        options.landmarks = CohortSimulator.landmarks.map { Landmark(label: $0.label, day: Double($0.day)) }
        for seed in seeds {
            let output = CohortSimulator(seed: seed).simulate()
            try output.calls.write(to: directory.appendingPathComponent("calls.tsv"), atomically: true, encoding: .utf8)
            try output.clinical.write(to: directory.appendingPathComponent("clinical.csv"), atomically: true, encoding: .utf8)
            let calls = try CallsTable.read(path: directory.appendingPathComponent("calls.tsv").path)
            let clinical = try ClinicalFile.read(path: directory.appendingPathComponent("clinical.csv").path)
            #expect(clinical.records.count == 161 && clinical.hasEventType && clinical.hasOverallSurvival)
            let result = CohortAnalysis.analyse(calls: calls, clinical: clinical.records, options: options, hasEventType: true, hasOverallSurvival: true)
            #expect(result.landmarks.map(\.label) == ["induction", "month3", "month6"])
            for row in result.negativity { sums["neg \(row.landmark) \(row.groupBy)=\(row.group)", default: 0] += row.rate! }
            for row in result.rfs { sums["rfs \(row.landmark) \(row.status)", default: 0] += row.rfsAtHorizon! }
            for row in result.cir! { sums["deaths \(row.landmark) \(row.status)", default: 0] += Double(row.deaths) / Double(max(1, row.relapses + row.deaths)) }
            for row in result.cox where row.term == "mrd_positive" { sums["logHR \(row.landmark)", default: 0] += log(row.hr ?? 1) }
        }
        func mean(_ key: String) -> Double { sums[key]! / Double(seeds.count) }
        let published = CohortSimulator.Published()
        for (l, landmark) in ["induction", "month3", "month6"].enumerated() {
            for (group, rate) in [("ph_status=positive", published.negativityPhPositive[l]), ("ph_status=negative", published.negativityPhNegative[l]),
                                  ("risk_group=high", published.negativityHighRisk[l]), ("risk_group=standard", published.negativityStandardRisk[l])] {
                #expect(abs(mean("neg \(landmark) \(group)") - rate) < 0.04, "\(landmark) \(group): \(mean("neg \(landmark) \(group)")) vs \(rate)")
            }
            for (status, rfs) in [("negative", published.rfsNegative[l]), ("positive", published.rfsPositive[l])] {
                #expect(abs(mean("rfs \(landmark) \(status)") - rfs) < 0.05, "\(landmark) \(status): \(mean("rfs \(landmark) \(status)")) vs \(rfs)")
                // A quarter of the events are deaths in remission.
                #expect(abs(mean("deaths \(landmark) \(status)") - 0.25) < 0.08)
            }
            #expect(mean("logHR \(landmark)") > log(1.5), "\(landmark): mean log HR \(mean("logHR \(landmark)"))")
        }
    }
}
