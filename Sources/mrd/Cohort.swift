import ArgumentParser
import Foundation
import MRDKit

struct Cohort: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "MRD-negativity rates at landmarks and relapse-free survival by MRD status (Kaplan-Meier, log-rank).")

    @Option(name: .long, help: "calls.tsv of one or more runs.") var calls: String
    @Option(name: .long, help: "clinical.csv: patient_id,rfs_days,rfs_event then group columns.") var clinical: String
    @OptionGroup var output: OutputFolder
    @Option(name: .long, help: "Landmarks as LABEL=DAY,... (default: every timepoint at the median day of its calls).") var landmarks: String?
    @Option(name: .long, help: "RFS horizon in days.") var horizonDays = CohortOptions().horizonDays
    @Option(name: .long, help: "clinical.csv columns to break negativity rates down by, comma-separated.") var by: String?
    @Option(name: .long, help: "Re-derive MRD status at this threshold from level, LoD and detection.") var threshold: Double?

    func parsedLandmarks() throws -> [Landmark]? {
        try landmarks.map { text in
            try parseList(text, option: "--landmarks", expected: "LABEL=DAY") { item in
                let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty, let day = Double(parts[1]), day >= 0 else { return nil }
                return Landmark(label: parts[0], day: day)
            }
        }
    }

    func validate() throws {
        _ = try parsedLandmarks()
        if !(horizonDays > 0) { throw ValidationError("--horizon-days must be positive") }
        if let threshold, !CallRule.isValidThreshold(threshold) { throw ValidationError("--threshold must be between 0 and 1") }
    }

    func run() throws {
        try runReportingErrors {
            var options = CohortOptions()
            options.landmarks = try parsedLandmarks()
            options.horizonDays = horizonDays
            options.groupBy = by?.split(separator: ",").map(String.init) ?? []
            options.threshold = threshold
            let result = try CohortAnalysis.run(callsPath: calls, clinicalPath: clinical, options: options, outdir: output.outdir)
            if !result.missingClinical.isEmpty {
                printNote("cohort", "\(result.missingClinical.count) patient(s) in calls but not in clinical, left out: "
                          + result.missingClinical.prefix(10).joined(separator: ", "))
            }
            if !result.missingCalls.isEmpty {
                printNote("cohort", "\(result.missingCalls.count) patient(s) in clinical without calls: " + result.missingCalls.prefix(10).joined(separator: ", "))
            }
        }
    }
}
