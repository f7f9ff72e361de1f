import ArgumentParser
import Foundation
import MRDKit

/// -t/--threads, shared by every command that reads sequencing files.
struct ThreadOptions: ParsableArguments {
    @Option(name: [.customShort("t"), .long], help: "Worker threads (default: all cores).") var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }
}

/// The read files of one sample: lanes as arguments, their mates with --r2.
struct ReadFiles: ParsableArguments {
    @Argument(help: "Read files (lanes); '-' is standard input.") var reads: [String]
    @Option(name: .long, help: "Mate files of paired-end data, one per read file.") var r2: [String] = []

    func validate() throws {
        if reads.isEmpty { throw ValidationError("give at least one read file") }
        if !r2.isEmpty && r2.count != reads.count {
            throw ValidationError("--r2 given \(r2.count) times for \(reads.count) read files; expected one mate file per read file")
        }
        if reads.filter({ $0 == "-" }).count + r2.filter({ $0 == "-" }).count > 1 {
            throw ValidationError("standard input ('-') can be read only once")
        }
    }

    func input(threads: Int) -> SampleInput { SampleInput(read1: reads, read2: r2, decoding: Tuning.decoding(threads: threads)) }
}

/// -o/--outdir.
struct OutputFolder: ParsableArguments {
    @Option(name: [.customShort("o"), .long], help: "Output folder (created if missing).") var outdir = "."
}

/// --spike-ins and --germline: the shared inputs of an analysis.
struct ReferenceOptions: ParsableArguments {
    @Option(name: .long, help: "Spike-in table (spike_id, sequence, copies), added to every reaction.") var spikeIns: String?
    @Option(name: .long, help: "Germline folder in the layout of the bundled one (default: bundled).") var germline: String?

    func context(loci: [Locus] = Locus.allCases) throws -> AnalysisContext {
        try AnalysisContext.load(germlineDirectory: germline, loci: loci, spikeInsPath: spikeIns)
    }
}

/// --threshold and --umi: the call settings `mrd track`, `mrd run` and `mrd aggregate` share.
struct CallSettings: ParsableArguments {
    @Option(name: .long, help: "MRD threshold for the calls.") var threshold = CallRule.defaultThreshold
    @Option(name: .long, help: "UMI at the start of read 1: N12 or NNNNNNNNNNNN (12 bases).") var umi: String?
    @Option(name: .long, help: "Without a cell count: 'cells' (no level; call indeterminate no_cell_count) or 'reads' (the marker's share of its locus reads, on purpose).") var levelBasis: String = LevelBasis.cells.rawValue

    /// UMI length from the pattern, nil when malformed.
    static func umiLength(_ pattern: String) -> Int? {
        if pattern.hasPrefix("N"), let n = Int(pattern.dropFirst()), n > 0 { return n }
        if !pattern.isEmpty, pattern.allSatisfy({ $0 == "N" }) { return pattern.count }
        return nil
    }

    func validate() throws {
        if !CallRule.isValidThreshold(threshold) { throw ValidationError("--threshold must be between 0 and 1") }
        if let umi, Self.umiLength(umi) == nil { throw ValidationError("--umi: expected N<length> or a run of N, e.g. N12") }
        if LevelBasis(rawValue: levelBasis) == nil { throw ValidationError("--level-basis: expected cells or reads") }
    }

    func followUp(threads: Int) -> FollowUpOptions {
        var options = FollowUpOptions()
        options.threshold = threshold
        options.umiLength = umi.flatMap(Self.umiLength) ?? 0
        options.levelBasis = LevelBasis(rawValue: levelBasis) ?? .cells
        options.threads = threads
        options.memoCapacity = Tuning.readMemo
        return options
    }
}

/// The contract's identifier rule: [A-Za-z0-9._-]{1,64}.
func validateIdentifier(_ value: String, option: String) throws {
    guard isIdentifier(value) else {
        throw ValidationError("\(option): '\(printable(value))' is not an identifier (1-64 characters of A-Z a-z 0-9 . _ -)")
    }
}

/// A comma-separated list, each item parsed or refused with the option's name.
func parseList<T>(_ text: String, option: String, expected: String, _ parse: (String) -> T?) throws -> [T] {
    try text.split(separator: ",").map {
        let item = $0.trimmingCharacters(in: .whitespaces)
        guard let value = parse(item) else { throw ValidationError("\(option): '\(printable(item))' is not \(expected)") }
        return value
    }
}
