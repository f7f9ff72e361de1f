import Foundation

extension CohortAnalysis {
    /// `mrd cohort`: reads calls.tsv and clinical.csv, analyses them and writes negativity.tsv,
    /// rfs.tsv, km.tsv, cox.tsv, cir.tsv and cif.tsv (with event_type), os.tsv and os_km.tsv (with os
    /// columns) and cohort.html into `outdir`.
    public static func run(callsPath: String, clinicalPath: String, options: CohortOptions, outdir: String) throws -> CohortResult {
        let calls = try CallsTable.read(path: callsPath)
        let clinical = try ClinicalFile.read(path: clinicalPath)
        for column in options.groupBy where !clinical.groupColumns.contains(column) {
            throw ReadError(.malformedRecord, file: clinicalPath, line: 1, "--by column '\(printable(column))' is not in the file")
        }
        for column in options.covariates where !clinical.groupColumns.contains(column) {
            throw ReadError(.malformedRecord, file: clinicalPath, line: 1, "--covariates column '\(printable(column))' is not a group column of the file")
        }
        // Not one patient in both files: every table would be empty, and an exit 0 would hide the
        // slip (ids spelled differently, the clinical file of another cohort).
        let callPatients = Set(calls.map(\.patientID)), clinicalPatients = Set(clinical.records.map(\.patientID))
        if !callPatients.isEmpty && !clinicalPatients.isEmpty && callPatients.isDisjoint(with: clinicalPatients) {
            let folded = Set(clinicalPatients.map { $0.uppercased() })
            let caseOnly = callPatients.filter { folded.contains($0.uppercased()) }.count
            let examples = "calls.tsv has \(callPatients.sorted().prefix(3).joined(separator: ", ")), clinical.csv \(clinicalPatients.sorted().prefix(3).joined(separator: ", "))"
            throw ReadError(.malformedRecord, file: clinicalPath,
                            "no patient_id of the file is in \(callsPath) (\(examples))"
                            + (caseOnly > 0 ? "; \(caseOnly) differ only in upper/lower case, and ids are compared exactly" : "")
                            + "; expected the clinical data of the same patients")
        }
        let result = analyse(calls: calls, clinical: clinical.records, options: options, hasEventType: clinical.hasEventType,
                             hasOverallSurvival: clinical.hasOverallSurvival)
        try CohortReports.write(result, options: options, to: outdir)
        return result
    }
}
