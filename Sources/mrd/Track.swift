import ArgumentParser
import Foundation
import MRDKit

struct Track: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Count the index clones' reads in a follow-up sample, quantify MRD and call it.")

    @Argument(help: "Read files (lanes); '-' is standard input.")
    var reads: [String]

    @Option(name: .long, help: "Mate files of paired-end data, one per read file.")
    var r2: [String] = []

    @Option(name: .long, help: "The baseline's ID.clones.tsv (from mrd baseline).")
    var clones: String

    @Option(name: .long, help: "Follow-up sample id ([A-Za-z0-9._-], 1-64 characters).")
    var sample: String

    @Option(name: [.customShort("o"), .long], help: "Output folder (created if missing).")
    var outdir = "."

    @Option(name: .long, help: "DNA input in ng (6.5 pg per diploid cell).")
    var dnaNg: Double?

    @Option(name: .long, help: "Cells in the input (instead of --dna-ng).")
    var cells: Double?

    @Option(name: .long, help: "Spike-in table (spike_id, sequence, copies).")
    var spikeIns: String?

    @Option(name: .long, help: "UMI at the start of read 1: N12 or NNNNNNNNNNNN (12 bases).")
    var umi: String?

    @Option(name: .long, help: "MRD threshold for the call.")
    var threshold = 1e-4

    @Flag(name: .long, help: "Do not count VH-replacement (evolved) reads as leukemic.")
    var noEvolved = false

    @Option(name: .long, help: "Matching tolerance: cost per 50 nt of junction (substitution 1, indel base 2).")
    var tolerance = 2

    @Option(name: .long, help: "Detection rule: fewest leukemic reads for a clone to count as detected.")
    var minReads = DetectionRule().minReads

    @Option(name: .long, help: "Detection rule: also at least this share of one template's reads (reads per template x F).")
    var templateFraction = DetectionRule().templateFraction

    @Option(name: .long, help: "Germline folder in the layout of the bundled one (default: bundled).")
    var germline: String?

    @OptionGroup var threadOptions: ThreadOptions

    /// UMI length from the pattern, nil when malformed.
    static func umiLength(_ pattern: String) -> Int? {
        if pattern.hasPrefix("N"), let n = Int(pattern.dropFirst()), n > 0 { return n }
        if !pattern.isEmpty, pattern.allSatisfy({ $0 == "N" }) { return pattern.count }
        return nil
    }

    func validate() throws {
        try validateIdentifier(sample, option: "--sample")
        if !r2.isEmpty && r2.count != reads.count { throw ValidationError("--r2 must be given once per read file") }
        if dnaNg != nil && cells != nil { throw ValidationError("give --dna-ng or --cells, not both") }
        if let dnaNg, !(dnaNg > 0 && dnaNg.isFinite) { throw ValidationError("--dna-ng must be a positive number") }
        if let cells, !(cells > 0 && cells.isFinite) { throw ValidationError("--cells must be a positive number") }
        if !(threshold > 0 && threshold < 1) { throw ValidationError("--threshold must be between 0 and 1") }
        if let umi, Self.umiLength(umi) == nil { throw ValidationError("--umi: expected N<length> or a run of N, e.g. N12") }
        if tolerance < 1 { throw ValidationError("--tolerance must be at least 1") }
        if minReads < 1 { throw ValidationError("--min-reads must be at least 1") }
        if !(0...10).contains(templateFraction) { throw ValidationError("--template-fraction must be between 0 and 10") }
    }

    func run() throws {
        try runReportingErrors {
            let baseline = try readBaselineClones(path: clones)
            let reference = try germline.map { try GermlineReference(directory: URL(fileURLWithPath: $0)) } ?? GermlineReference.bundled()
            let spikes = try spikeIns.map(readSpikeIns) ?? []
            var options = TrackOptions()
            options.threads = threadOptions.threads
            options.tolerance = MatchTolerance(costPer50: tolerance)
            options.countEvolved = !noEvolved
            options.umiLength = umi.flatMap(Self.umiLength) ?? 0
            let annotator = Annotator(germline: reference)
            let tracker = FollowUpTracker(clones: baseline, germline: reference, annotator: annotator, spikeIns: spikes, options: options)
            let counts = try tracker.run(SampleInput(read1: reads, read2: r2), sampleID: sample)
            var callOptions = CallOptions()
            callOptions.threshold = threshold
            callOptions.dnaNanograms = dnaNg
            callOptions.cells = cells
            callOptions.useUMIs = umi != nil
            callOptions.countEvolved = !noEvolved
            callOptions.detection = DetectionRule(minReads: minReads, templateFraction: templateFraction)
            let call = Quantifier.call(counts, spikes: spikes, spikeLoci: tracker.index.spikeLoci, options: callOptions)
            try TrackReports.write(call, spikes: spikes, spikeReads: counts.spikeInReads, detection: callOptions.detection,
                                   to: outdir, inputs: reads + r2, commandLine: CommandLine.arguments)
        }
    }
}
