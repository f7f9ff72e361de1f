import ArgumentParser
import Foundation
import MRDKit

struct Cohort: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "MRD-negativity rates at landmarks; relapse-free and overall survival (Kaplan-Meier, log-rank), cumulative incidence of relapse (Aalen-Johansen, Gray's test) and Cox hazard ratios by MRD status.")

    @Option(name: .long, help: "calls.tsv of one or more runs.") var calls: String
    @Option(name: .long, help: "clinical.csv: patient_id,rfs_days,rfs_event then group columns.") var clinical: String
    @OptionGroup var output: OutputFolder
    @Option(name: .long, help: "Landmarks as LABEL=DAY,... (default: every timepoint at the median day of its calls).") var landmarks: String?
    @Option(name: .long, help: "RFS horizon in days.") var horizonDays = CohortOptions().horizonDays
    @Option(name: .long, help: "clinical.csv columns to break negativity rates down by, comma-separated.") var by: String?
    @Option(name: .long, help: "Re-derive MRD status at this threshold from level, LoD and detection.") var threshold: Double?
    @Option(name: .long, help: "Categorical clinical.csv columns the Cox model adjusts for, comma-separated (reference: first level in sorted order).") var covariates: String?

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
        for column in covariates?.split(separator: ",", omittingEmptySubsequences: false) ?? [] {
            if column.isEmpty { throw ValidationError("--covariates: an empty column name") }
            if (ClinicalFile.columns + ClinicalFile.outcomeColumns).contains(String(column)) {
                throw ValidationError("--covariates: '\(column)' is an outcome column, not a covariate")
            }
        }
    }

    func run() throws {
        try runReportingErrors {
            var options = CohortOptions()
            options.landmarks = try parsedLandmarks()
            options.horizonDays = horizonDays
            options.groupBy = by?.split(separator: ",").map(String.init) ?? []
            options.threshold = threshold
            options.covariates = covariates?.split(separator: ",").map(String.init) ?? []
            let result = try CohortAnalysis.run(callsPath: calls, clinicalPath: clinical, options: options, outdir: output.outdir)
            if !result.missingClinical.isEmpty {
                printNote("cohort", "\(result.missingClinical.count) patient(s) in calls but not in clinical, left out: "
                          + result.missingClinical.prefix(10).joined(separator: ", "))
            }
            if let note = result.censoredBeforeSamplesNote { printNote("cohort", note) }
            if result.cir == nil {
                printNote("cohort", "clinical.csv has no event_type column: cir.tsv and cif.tsv (relapse with death in remission competing) not written")
            }
            for row in result.cox where row.hr == nil && row.note.contains("not fitted") && row.term == "mrd_positive" {
                printNote("cohort", "Cox model at \(row.landmark): \(row.note)")
            }
            if !result.missingCalls.isEmpty {
                printNote("cohort", "\(result.missingCalls.count) patient(s) in clinical without calls: " + result.missingCalls.prefix(10).joined(separator: ", "))
            }
        }
    }
}
