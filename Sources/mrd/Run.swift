import ArgumentParser
import Foundation
import MRDKit

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Process a whole sequencing run from its sample sheet: baselines, follow-up calls, controls, report.")

    @Argument(help: "The sample sheet (CSV: patient_id,sample_id,role,timepoint,day,r1,r2,dna_ng,cells[,clones]).")
    var sheet: String

    @Option(name: [.customShort("o"), .long], help: "Output folder (created if missing).")
    var outdir = "."

    @Option(name: .long, help: "MRD threshold for the calls.")
    var threshold = 1e-4

    @Option(name: .long, help: "Spike-in table (spike_id, sequence, copies), added to every reaction.")
    var spikeIns: String?

    @Option(name: .long, help: "UMI at the start of read 1: N12 or NNNNNNNNNNNN (12 bases).")
    var umi: String?

    @Flag(name: .long, help: "Skip samples whose outputs are complete and whose inputs and options are unchanged.")
    var resume = false

    @Flag(name: .long, help: "No progress lines on standard error.")
    var quiet = false

    @Flag(name: .long, help: "Throughput and ETA on each progress line even when standard error is not a terminal.")
    var progress = false

    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws {
        if !(threshold > 0 && threshold < 1) { throw ValidationError("--threshold must be between 0 and 1") }
        if let umi, Track.umiLength(umi) == nil { throw ValidationError("--umi: expected N<length> or a run of N, e.g. N12") }
    }

    func run() throws {
        try runReportingErrors {
            let result = try Self.process(sheet: sheet, outdir: outdir, threshold: threshold, spikeIns: spikeIns, umi: umi,
                                          resume: resume, threads: threadOptions.threads, quiet: quiet, progress: progress)
            if !result.failed.isEmpty {
                printError("\(result.failed.count) sample(s) failed: " + result.failed.map(\.sample.sampleID).joined(separator: ", ")
                           + " (see run.json)")
                throw ExitCode(3)
            }
        }
    }

    static func process(sheet path: String, outdir: String, threshold: Double, spikeIns: String?, umi: String?, resume: Bool,
                        threads: Int, quiet: Bool, progress: Bool = false) throws -> RunResult {
        let sheet = try loadSheet(path)
        var options = RunOptions()
        options.outdir = outdir
        options.threads = threads
        options.threshold = threshold
        options.spikeInsPath = spikeIns
        options.umiLength = umi.flatMap(Track.umiLength) ?? 0
        options.resume = resume
        options.commandLine = CommandLine.arguments
        options.progress = progress || isatty(STDERR_FILENO) == 1
        return try RunAnalysis(sheet: sheet, options: options).run { line in
            if !quiet { FileHandle.standardError.write(Data("mrd run: \(line)\n".utf8)) }
        }
    }
}

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the committed TestReads run end to end (mrd run) and print its calls.")

    @Option(name: [.customShort("o"), .long], help: "Output folder (default: a new temporary folder).")
    var outdir: String?

    @OptionGroup var threadOptions: ThreadOptions

    /// TestReads/run: next to the working directory, else in the source tree this binary was built from.
    static func runFolder() -> String? {
        let candidates = [FileManager.default.currentDirectoryPath + "/TestReads/run",
                          URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                              .deletingLastPathComponent().appendingPathComponent("TestReads/run").path]
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/sheet.csv") }
    }

    func run() throws {
        try runReportingErrors {
            guard let folder = Self.runFolder() else {
                printError("TestReads/run/sheet.csv: not found (run mrd demo from the package folder)")
                throw ExitCode(66)
            }
            let out = outdir ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("mrd-demo-\(ProcessInfo.processInfo.processIdentifier)")
            let result = try Run.process(sheet: folder + "/sheet.csv", outdir: out, threshold: 1e-4, spikeIns: folder + "/spikes.tsv",
                                         umi: nil, resume: false, threads: threadOptions.threads, quiet: false)
            let truth = (try? String(contentsOfFile: folder + "/truth.tsv", encoding: .utf8)) ?? ""
            var trueLevel: [String: String] = [:]
            for line in truth.split(separator: "\n").dropFirst() {
                let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
                if fields.count > 7 { trueLevel[String(fields[0])] = String(fields[7]) }
            }
            var table = "sample\tcall\tcall_detail\tmrd_level\tci\tlod\ttrue_level\n"
            for row in result.calls {
                let ci = row.value("mrd_ci_low").isEmpty ? "" : "\(row.value("mrd_ci_low"))-\(row.value("mrd_ci_high"))"
                table += [row.sampleID, row.value("call"), row.value("call_detail"), row.value("mrd_level"), ci, row.value("lod"),
                          trueLevel[row.sampleID] ?? ""].joined(separator: "\t") + "\n"
            }
            try writeStandardOutput(table)
            // The outcome analysis of the run's calls with the simulated clinical data.
            var cohortOptions = CohortOptions()
            cohortOptions.groupBy = ["ph_status", "risk_group"]
            let cohort = CohortAnalysis.analyse(calls: try CohortAnalysis.readCalls(path: out + "/calls.tsv"),
                                                clinical: try CohortAnalysis.readClinical(path: folder + "/clinical.csv"), options: cohortOptions)
            try CohortReports.write(cohort, options: cohortOptions, to: out + "/cohort")
            try writeStandardOutput("\nOutputs (calls.tsv, report.html, multiqc/, run.json, samples/, cohort/) in \(out)\n")
            if !result.failed.isEmpty { throw ExitCode(3) }
        }
    }
}

struct Aggregate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build a run's calls.tsv, controls.tsv, report.html, multiqc/ and run.json from per-sample outputs (workflow use).")

    @Argument(help: "The run's sample sheet.")
    var sheet: String

    @Option(name: [.customShort("o"), .long], help: "The run folder: per-sample outputs under DIR/samples/<sample_id>/; run-level files written here.")
    var outdir = "."

    @Option(name: .long, help: "MRD threshold (as given to the samples' mrd track).")
    var threshold = 1e-4

    @Option(name: .long, help: "Spike-in table, for scanning the control samples.")
    var spikeIns: String?

    @Option(name: .long, help: "UMI at the start of read 1 (as given to mrd track).")
    var umi: String?

    @Flag(name: .long, help: "No progress lines on standard error.")
    var quiet = false

    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws {
        if !(threshold > 0 && threshold < 1) { throw ValidationError("--threshold must be between 0 and 1") }
        if let umi, Track.umiLength(umi) == nil { throw ValidationError("--umi: expected N<length> or a run of N, e.g. N12") }
    }

    func run() throws {
        try runReportingErrors {
            let parsed = try loadSheet(sheet)
            var options = RunOptions()
            options.outdir = outdir
            options.threads = threadOptions.threads
            options.threshold = threshold
            options.spikeInsPath = spikeIns
            options.umiLength = umi.flatMap(Track.umiLength) ?? 0
            options.commandLine = CommandLine.arguments
            let quiet = self.quiet
            let result = try RunAnalysis(sheet: parsed, options: options).aggregate { line in
                if !quiet { FileHandle.standardError.write(Data("mrd aggregate: \(line)\n".utf8)) }
            }
            if !result.failed.isEmpty {
                printError("\(result.failed.count) sample(s) failed: " + result.failed.map(\.sample.sampleID).joined(separator: ", ") + " (see run.json)")
                throw ExitCode(3)
            }
        }
    }
}

/// The checked sample sheet, or every problem of it on stderr and exit 65.
func loadSheet(_ path: String) throws -> SampleSheet {
    do {
        return try SampleSheet(path: path)
    } catch let error as SheetError {
        for problem in error.problems { printError(problem) }
        throw ExitCode(65)
    }
}
