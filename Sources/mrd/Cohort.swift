import ArgumentParser
import Foundation
import MRDKit

struct Cohort: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "MRD-negativity rates at landmarks and relapse-free survival by MRD status (Kaplan-Meier, log-rank).")

    @Option(name: .long, help: "calls.tsv of one or more runs.")
    var calls: String

    @Option(name: .long, help: "clinical.csv: patient_id,rfs_days,rfs_event then group columns.")
    var clinical: String

    @Option(name: [.customShort("o"), .long], help: "Output folder (created if missing).")
    var outdir = "."

    @Option(name: .long, help: "Landmarks as LABEL=DAY,... (default: every timepoint at the median day of its calls).")
    var landmarks: String?

    @Option(name: .long, help: "RFS horizon in days.")
    var horizonDays = 730.0

    @Option(name: .long, help: "clinical.csv columns to break negativity rates down by, comma-separated.")
    var by: String?

    @Option(name: .long, help: "Re-derive MRD status at this threshold from level, LoD and detection.")
    var threshold: Double?

    func parsedLandmarks() throws -> [Landmark]? {
        guard let landmarks else { return nil }
        var parsed: [Landmark] = []
        for item in landmarks.split(separator: ",") {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, let day = Double(parts[1]), day >= 0 else {
                throw ValidationError("--landmarks: '\(printable(item))' is not LABEL=DAY")
            }
            parsed.append(Landmark(label: parts[0], day: day))
        }
        return parsed
    }

    func validate() throws {
        _ = try parsedLandmarks()
        if !(horizonDays > 0) { throw ValidationError("--horizon-days must be positive") }
        if let threshold, !(threshold > 0 && threshold < 1) { throw ValidationError("--threshold must be between 0 and 1") }
    }

    func run() throws {
        try runReportingErrors {
            let callRows = try CohortAnalysis.readCalls(path: calls)
            let clinicalRows = try CohortAnalysis.readClinical(path: clinical)
            var options = CohortOptions()
            options.landmarks = try parsedLandmarks()
            options.horizonDays = horizonDays
            options.groupBy = by?.split(separator: ",").map(String.init) ?? []
            options.threshold = threshold
            let groupColumns = Set(clinicalRows.first?.groups.keys.map { $0 } ?? [])
            for column in options.groupBy where !groupColumns.contains(column) {
                printError("\(clinical):1: --by column '\(printable(column))' is not in the file")
                throw ExitCode(65)
            }
            let result = CohortAnalysis.analyse(calls: callRows, clinical: clinicalRows, options: options)
            if !result.missingClinical.isEmpty {
                FileHandle.standardError.write(Data("mrd cohort: \(result.missingClinical.count) patient(s) in calls but not in clinical, left out: \(result.missingClinical.prefix(10).joined(separator: ", "))\n".utf8))
            }
            if !result.missingCalls.isEmpty {
                FileHandle.standardError.write(Data("mrd cohort: \(result.missingCalls.count) patient(s) in clinical without calls: \(result.missingCalls.prefix(10).joined(separator: ", "))\n".utf8))
            }
            try CohortReports.write(result, options: options, to: outdir)
        }
    }
}
