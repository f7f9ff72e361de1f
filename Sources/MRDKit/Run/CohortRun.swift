import Foundation

extension CohortAnalysis {
    /// `mrd cohort`: reads calls.tsv and clinical.csv, analyses them and writes negativity.tsv,
    /// rfs.tsv, km.tsv and cohort.html into `outdir`.
    public static func run(callsPath: String, clinicalPath: String, options: CohortOptions, outdir: String) throws -> CohortResult {
        let calls = try CallsTable.read(path: callsPath)
        let clinical = try ClinicalFile.read(path: clinicalPath)
        for column in options.groupBy where !clinical.groupColumns.contains(column) {
            throw ReadError(.malformedRecord, file: clinicalPath, line: 1, "--by column '\(printable(column))' is not in the file")
        }
        let result = analyse(calls: calls, clinical: clinical.records, options: options)
        try CohortReports.write(result, options: options, to: outdir)
        return result
    }
}
