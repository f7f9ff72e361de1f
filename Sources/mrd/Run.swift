import ArgumentParser
import Foundation
import MRDKit

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Process a whole sequencing run from its sample sheet: baselines, follow-up calls, controls, report.")

    @Argument(help: "The sample sheet (CSV: patient_id,sample_id,role,timepoint,day,r1,r2,dna_ng,cells[,clones]).") var sheet: String
    @OptionGroup var output: OutputFolder
    @OptionGroup var callSettings: CallSettings
    @OptionGroup var reference: ReferenceOptions
    @Flag(name: .long, help: "Skip samples whose outputs are complete and whose inputs and options are unchanged.") var resume = false
    @Flag(name: .long, help: "No progress lines on standard error.") var quiet = false
    @Flag(name: .long, help: "Throughput and ETA on each progress line even when standard error is not a terminal.") var progress = false
    @Flag(name: .long, help: "Check the sheet, print its samples as JSON (paths resolved) and stop: what a workflow plans its jobs from.") var plan = false
    @Flag(name: .long, help: "Also print each patient page to DIR/patients/<patient_id>.pdf (headless Chromium; exit 69 up front when missing).") var pdf = false
    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        try runReportingErrors {
            let renderer = pdf ? try PDFRenderer.locate() : nil
            let checked = try SampleSheet(path: sheet)
            if plan { return try writeStandardOutput(SheetPlan(checked).text) }
            var options = runOptions(callSettings: callSettings, reference: reference, outdir: output.outdir, threads: threadOptions.threads)
            options.pdfRenderer = renderer
            options.resume = resume
            options.progress = progress || isatty(STDERR_FILENO) == 1
            let quiet = self.quiet
            let result = try RunAnalysis(sheet: checked, options: options).run { line in
                if !quiet { printNote("run", line) }
            }
            try exitIfFailed(result)
        }
    }
}

struct Aggregate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build a run's calls.tsv, controls.tsv, report.html, multiqc/ and run.json from per-sample outputs (workflow use).")

    @Argument(help: "The run's sample sheet.") var sheet: String
    @Option(name: [.customShort("o"), .long], help: "The run folder: per-sample outputs under DIR/samples/<sample_id>/; run-level files written here.") var outdir = "."
    @OptionGroup var callSettings: CallSettings
    @OptionGroup var reference: ReferenceOptions
    @Flag(name: .long, help: "No progress lines on standard error.") var quiet = false
    @Flag(name: .long, help: "Also print each patient page to DIR/patients/<patient_id>.pdf (headless Chromium; exit 69 up front when missing).") var pdf = false
    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        try runReportingErrors {
            var options = runOptions(callSettings: callSettings, reference: reference, outdir: outdir, threads: threadOptions.threads)
            options.pdfRenderer = pdf ? try PDFRenderer.locate() : nil
            let quiet = self.quiet
            let result = try RunAnalysis(sheet: try SampleSheet(path: sheet), options: options).aggregate { line in
                if !quiet { printNote("aggregate", line) }
            }
            try exitIfFailed(result)
        }
    }
}

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the committed TestReads run end to end (mrd run, mrd cohort) and print its calls next to the truth.")

    @Option(name: [.customShort("o"), .long], help: "Output folder (default: a new temporary folder).") var outdir: String?
    @OptionGroup var threadOptions: ThreadOptions

    func run() throws {
        try runReportingErrors {
            guard let folder = DemoRun.locateRun() else {
                printError("TestReads/run/sheet.csv: not found (run mrd demo from the package folder)")
                throw ExitCode(66)
            }
            let out = outdir ?? (NSTemporaryDirectory() as NSString).appendingPathComponent("mrd-demo-\(ProcessInfo.processInfo.processIdentifier)")
            let demo = try DemoRun.run(folder: folder, outdir: out, threads: threadOptions.threads,
                                       decoding: Tuning.decoding(threads: threadOptions.threads)) { printNote("run", $0) }
            try writeStandardOutput(demo.table)
            try writeStandardOutput("\nOutputs (calls.tsv, report.html, patients/, multiqc/, run.json, samples/, cohort/, seed-study/cohort/) in \(out)\n")
            try exitIfFailed(demo.run)
        }
    }
}

/// The options of `mrd run` and `mrd aggregate` from their shared groups.
func runOptions(callSettings: CallSettings, reference: ReferenceOptions, outdir: String, threads: Int) -> RunOptions {
    var options = RunOptions()
    options.outdir = outdir
    options.threads = threads
    options.spikeInsPath = reference.spikeIns
    options.germlineDirectory = reference.germline
    options.followUp = callSettings.followUp(threads: threads)
    if let memo = Tuning.readMemo { options.baseline.memoCapacity = memo }
    if let batch = Tuning.batchKiB { options.baseline.batchCapacity = batch << 10 }
    options.decoding = Tuning.decoding(threads: threads)
    options.commandLine = CommandLine.arguments
    return options
}

/// Exit 3 when some samples failed (the others' outputs are written).
func exitIfFailed(_ result: RunResult) throws {
    guard !result.failed.isEmpty else { return }
    printError("\(result.failed.count) sample(s) failed: " + result.failed.map(\.sample.sampleID).joined(separator: ", ") + " (see run.json)")
    throw ExitCode(3)
}
