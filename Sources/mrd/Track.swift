import ArgumentParser
import Foundation
import MRDKit

struct Track: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Count the index clones' reads in a follow-up sample, quantify MRD and call it.")

    @OptionGroup var files: ReadFiles
    @Option(name: .long, help: "The index clones: the baseline's ID.clones.tsv, an AIRR Rearrangement TSV or a FASTA of clone sequences.") var clones: String
    @Option(name: .long, help: "Other patients' clones files of the run (repeatable): index clones shared with them are not tracked.") var otherClones: [String] = []
    @Option(name: .long, help: "Follow-up sample id ([A-Za-z0-9._-], 1-64 characters).") var sample: String
    @OptionGroup var output: OutputFolder
    @Option(name: .long, help: "DNA input in ng (6.5 pg per diploid cell).") var dnaNg: Double?
    @Option(name: .long, help: "Cells in the input (instead of --dna-ng).") var cells: Double?
    @OptionGroup var reference: ReferenceOptions
    @OptionGroup var callSettings: CallSettings
    @Flag(name: .long, help: "Do not count VH-replacement (evolved) reads as leukemic.") var noEvolved = false
    @Option(name: .long, help: "Matching tolerance: cost per 50 nt of junction (substitution 1, indel base 2).") var tolerance = MatchTolerance().costPer50
    @Option(name: .long, help: "Detection rule: fewest leukemic reads for a clone to count as detected.") var minReads = DetectionRule().minReads
    @Option(name: .long, help: "Detection rule: also at least this share of one template's reads (reads per template x F).") var templateFraction = DetectionRule().templateFraction
    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws {
        try validateIdentifier(sample, option: "--sample")
        if dnaNg != nil && cells != nil { throw ValidationError("give --dna-ng or --cells, not both") }
        if let dnaNg, !(dnaNg > 0 && dnaNg.isFinite) { throw ValidationError("--dna-ng must be a positive number") }
        if let cells, !(cells > 0 && cells.isFinite) { throw ValidationError("--cells must be a positive number") }
        if tolerance < 1 { throw ValidationError("--tolerance must be at least 1") }
        if minReads < 1 { throw ValidationError("--min-reads must be at least 1") }
        if !(0...10).contains(templateFraction) { throw ValidationError("--template-fraction must be between 0 and 10") }
        if otherClones.contains(clones) { throw ValidationError("--other-clones: \(clones) is this patient's own --clones") }
    }

    func run() throws {
        try runReportingErrors {
            let context = try reference.context()
            var byFile = ["": try IndexClonesInput.load(path: clones, annotator: context.annotator)]
            for (n, path) in otherClones.enumerated() { byFile["\(n)"] = try IndexClonesInput.load(path: path, annotator: context.annotator) }
            SharedClones.mark(&byFile)
            let baseline = byFile[""]!
            var options = callSettings.followUp(threads: threadOptions.threads)
            options.tolerance = MatchTolerance(costPer50: tolerance)
            options.countEvolved = !noEvolved
            options.detection = DetectionRule(minReads: minReads, templateFraction: templateFraction)
            let tracker = FollowUpSample.tracker(clones: baseline, context: context, options: options)
            _ = try FollowUpSample(sampleID: sample, input: files.input(threads: threadOptions.threads), dnaNanograms: dnaNg, cells: cells)
                .run(tracker: tracker, context: context, options: options, directory: output.outdir, commandLine: CommandLine.arguments)
        }
    }
}
