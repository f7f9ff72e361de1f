import ArgumentParser
import Foundation
import MRDKit

struct Baseline: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find the clonotypes of a diagnostic sample and mark the trackable index clones.")

    @Argument(help: "Read files (lanes); '-' is standard input.")
    var reads: [String]

    @Option(name: .long, help: "Mate files of paired-end data, one per read file.")
    var r2: [String] = []

    @Option(name: .long, help: "Sample id ([A-Za-z0-9._-], 1-64 characters).")
    var sample: String

    @Option(name: [.customShort("o"), .long], help: "Output folder (created if missing).")
    var outdir = "."

    @Option(name: .long, help: "Loci to analyse, comma-separated.")
    var loci = "IGH,IGK,IGL,TRB,TRG,TRD"

    @Option(name: .long, help: "Smallest share of its locus reads for an index clone.")
    var minFraction = 0.05

    @Option(name: .long, help: "Fewest reads for an index clone.")
    var minReads = 20

    @Option(name: .long, help: "Smallest share of the dominant clone's templates for an index clone.")
    var minDominance = BaselineOptions().minDominance

    @Option(name: .long, help: "Fewest untemplated junction bases for a non-VDJ index clone.")
    var minUntemplated = BaselineOptions().minUntemplated

    @Option(name: .long, help: "Spike-in table (spike_id, sequence, copies).")
    var spikeIns: String?

    @Option(name: .long, help: "Germline folder in the layout of the bundled one (default: bundled).")
    var germline: String?

    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws {
        try validateIdentifier(sample, option: "--sample")
        if !r2.isEmpty && r2.count != reads.count { throw ValidationError("--r2 must be given once per read file") }
        if !(0...1).contains(minFraction) { throw ValidationError("--min-fraction must be between 0 and 1") }
        if minReads < 1 { throw ValidationError("--min-reads must be at least 1") }
        if minUntemplated < 0 { throw ValidationError("--min-untemplated must be 0 or more") }
        if !(0...1).contains(minDominance) { throw ValidationError("--min-dominance must be between 0 and 1") }
        for locus in loci.split(separator: ",") where Locus(rawValue: String(locus)) == nil {
            throw ValidationError("--loci: '\(printable(locus))' is not one of IGH, IGK, IGL, TRB, TRG, TRD")
        }
    }

    func run() throws {
        try runReportingErrors {
            var timer = PhaseTimer()
            var options = BaselineOptions()
            options.loci = loci.split(separator: ",").compactMap { Locus(rawValue: String($0)) }
            options.minFraction = minFraction
            options.minReads = minReads
            options.minUntemplated = minUntemplated
            options.minDominance = minDominance
            options.threads = threadOptions.threads
            // MRD_READ_MEMO=0 annotates every read (for benchmarks; results are the same).
            if let memo = ProcessInfo.processInfo.environment["MRD_READ_MEMO"], let capacity = Int(memo) { options.memoCapacity = capacity }
            let reference = try germline.map { try GermlineReference(directory: URL(fileURLWithPath: $0)) } ?? GermlineReference.bundled()
            let spikes = try spikeIns.map(readSpikeIns) ?? []
            let analysis = BaselineAnalysis(germline: reference, spikeIns: spikes, options: options)
            timer.mark("germline index")
            let result = try analysis.run(SampleInput(read1: reads, read2: r2), sampleID: sample)
            timer = PhaseTimer()
            try BaselineReports.write(result, to: outdir, inputs: reads + r2, commandLine: CommandLine.arguments)
            timer.mark("outputs")
        }
    }
}

/// The contract's identifier rule: [A-Za-z0-9._-]{1,64}.
func validateIdentifier(_ value: String, option: String) throws {
    guard isIdentifier(value) else {
        throw ValidationError("\(option): '\(printable(value))' is not an identifier (1-64 characters of A-Z a-z 0-9 . _ -)")
    }
}
