import Foundation

/// `mrd demo`: the committed TestReads run through `mrd run` (with its spike-ins), its calls next to
/// the simulated truth, the outcome analysis of its calls with the simulated clinical data, and the
/// outcome analysis of the synthetic seed-study cohort (every cohort table).
public enum DemoRun {
    /// TestReads/run: in the working folder, else in the source tree this library was built from.
    public static func locateRun(workingDirectory: String = FileManager.default.currentDirectoryPath) -> String? {
        let sourceTree = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        let candidates = [workingDirectory + "/TestReads/run", sourceTree.appendingPathComponent("TestReads/run").path]
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/sheet.csv") }
    }

    public struct Outcome: Sendable {
        public var run: RunResult
        /// sample, call, call_detail, mrd_level, ci, lod, true_level: one row per follow-up.
        public var table: String
    }

    public static func run(folder: String, outdir: String, threads: Int, decoding: DecoderSettings,
                           log: @escaping @Sendable (String) -> Void) throws -> Outcome {
        let sheet = try SampleSheet(path: folder + "/sheet.csv")
        var options = RunOptions()
        options.decoding = decoding
        options.outdir = outdir
        options.threads = threads
        options.spikeInsPath = folder + "/spikes.tsv"
        let result = try RunAnalysis(sheet: sheet, options: options).run(log: log)
        let truth = (try? TruthFile.read(path: folder + "/truth.tsv")) ?? []
        let trueLevel = Dictionary(truth.map { ($0.sampleID, $0.level) }, uniquingKeysWith: { a, _ in a })
        var table = TableWriter()
        table.row(["sample", "call", "call_detail", "mrd_level", "ci", "lod", "true_level"])
        for row in result.calls {
            let ci = row.ciLow == nil ? "" : "\(TableNumber.g6(row.ciLow))-\(TableNumber.g6(row.ciHigh))"
            table.row([row.sampleID, row.call, row.callDetail, TableNumber.g6(row.mrdLevel), ci, TableNumber.g6(row.lod),
                       (trueLevel[row.sampleID] ?? nil).map(TableNumber.plain) ?? ""])
        }
        // Why each call is what it is (calls.tsv's reason), without the QC notes every call shares.
        var reasons = "\nWhy:\n"
        for row in result.calls {
            let sentence = row.reason.components(separatedBy: " QC: ").first ?? row.reason
            reasons += "  \(row.sampleID): \(sentence)\n"
        }
        var cohortOptions = CohortOptions()
        cohortOptions.groupBy = ["ph_status", "risk_group"]
        let clinical = try ClinicalFile.read(path: folder + "/clinical.csv")
        let cohort = CohortAnalysis.analyse(calls: try CallsTable.read(path: outdir + "/calls.tsv"), clinical: clinical.records, options: cohortOptions,
                                            hasEventType: clinical.hasEventType, hasOverallSurvival: clinical.hasOverallSurvival)
        try CohortReports.write(cohort, options: cohortOptions, to: outdir + "/cohort")
        // The demo run has three patients; the synthetic 161-patient seed-study cohort shows every
        // outcome table (competing risks, Cox with covariates, overall survival).
        let seedStudy = outdir + "/seed-study"
        try CohortSimulator(seed: 1).write(to: seedStudy)
        var studyOptions = CohortOptions()
        studyOptions.groupBy = ["ph_status", "risk_group"]
        studyOptions.covariates = ["ph_status", "risk_group"]
        studyOptions.landmarks = CohortSimulator.landmarks.map { Landmark(label: $0.label, day: Double($0.day)) }
        _ = try CohortAnalysis.run(callsPath: seedStudy + "/calls.tsv", clinicalPath: seedStudy + "/clinical.csv", options: studyOptions,
                                   outdir: seedStudy + "/cohort")
        return Outcome(run: result, table: table.text + reasons)
    }
}
