import ArgumentParser
import Foundation
import MRDKit

struct Baseline: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Find the clonotypes of a diagnostic sample and mark the trackable index clones.")

    @OptionGroup var files: ReadFiles
    @Option(name: .long, help: "Sample id ([A-Za-z0-9._-], 1-64 characters).") var sample: String
    @OptionGroup var output: OutputFolder
    @Option(name: .long, help: "Loci to analyse, comma-separated.") var loci = Locus.allCases.map(\.rawValue).joined(separator: ",")
    @Option(name: .long, help: "Smallest share of its locus reads for an index clone.") var minFraction = BaselineOptions().minFraction
    @Option(name: .long, help: "Fewest reads for an index clone.") var minReads = BaselineOptions().minReads
    @Option(name: .long, help: "Smallest share of the dominant clone's templates for an index clone of the other lineage.") var minDominance = BaselineOptions().minDominance
    @Option(name: .long, help: "Fewest untemplated junction bases for a non-VDJ index clone.") var minUntemplated = BaselineOptions().minUntemplated
    @Option(name: .long, help: "Distinct junctions held at most (0: no limit); past it, reads of new junctions are counted in their locus but in no clonotype (QC code group_limit).") var maxGroups = BaselineOptions().groupLimit.maxGroups
    @OptionGroup var reference: ReferenceOptions
    @OptionGroup var threadOptions: ThreadOptions
    @Flag(name: .long, help: "No summary line on stderr (a low_assignment, low_v_identity or group_limit warning is still printed).") var quiet = false

    func parsedLoci() throws -> [Locus] {
        try parseList(loci, option: "--loci", expected: "one of IGH, IGK, IGL, TRB, TRG, TRD", Locus.init(rawValue:))
    }

    func validate() throws {
        try validateIdentifier(sample, option: "--sample")
        if !(0...1).contains(minFraction) { throw ValidationError("--min-fraction must be between 0 and 1") }
        if minReads < 1 { throw ValidationError("--min-reads must be at least 1") }
        if minUntemplated < 0 { throw ValidationError("--min-untemplated must be 0 or more") }
        if !(0...1).contains(minDominance) { throw ValidationError("--min-dominance must be between 0 and 1") }
        if maxGroups < 0 { throw ValidationError("--max-groups must be 0 (no limit) or more") }
        _ = try parsedLoci()
    }

    func run() throws {
        try runReportingErrors {
            var timer = PhaseTimer()
            var options = BaselineOptions()
            options.loci = try parsedLoci()
            options.minFraction = minFraction
            options.minReads = minReads
            options.minUntemplated = minUntemplated
            options.minDominance = minDominance
            options.threads = threadOptions.threads
            options.groupLimit.maxGroups = maxGroups
            if let batch = Tuning.batchKiB { options.batchCapacity = batch << 10 }
            if let memo = Tuning.readMemo { options.memoCapacity = memo }
            let context = try reference.context(loci: options.loci)
            timer.mark("germline index")
            let outcome = try BaselineSample(sampleID: sample, input: files.input(threads: threadOptions.threads))
                .run(context: context, options: options, directory: output.outdir, commandLine: CommandLine.arguments)
            if !quiet || outcome.summary.warns { printNote("baseline", outcome.summary.summaryLine) }
        }
    }
}
