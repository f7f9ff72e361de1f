import ArgumentParser
import Foundation
import MRDKit

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Summary statistics of FASTQ/FASTA files (plain, gzip, BGZF or bzip2), like seqkit stats.",
        discussion: """
            One row per file. With --r2 the FILEs are the read-1 lane files of one paired-end sample \
            and the --r2 files their mates (same order): mates are read in lockstep and checked, and \
            the output has one row for read 1 and one for read 2. With --merge, overlapping mates are \
            merged as baseline, track and annotate merge them: a third row (file 'merged:...') describes \
            the merged reads and the columns read_pairs, merged_pairs, unmerged_pairs are appended.
            """
    )

    @OptionGroup var files: ReadFiles
    @Flag(name: .long, help: "Print JSON instead of a TSV table.") var json = false
    @Flag(name: .long, help: "With --r2: merge overlapping mates and report the merged reads and pair counts.") var merge = false
    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws {
        if merge && files.r2.isEmpty { throw ValidationError("--merge needs paired-end input (--r2)") }
    }

    func run() throws {
        try runReportingErrors {
            let whole = files.input(threads: threadOptions.threads)
            let inputs = files.r2.isEmpty ? files.reads.map { SampleInput(read1: [$0], decoding: whole.decoding) } : [whole]
            let rows = try inputs.flatMap { try FileStatistics.compute($0, threads: threadOptions.threads, merge: merge) }
            try writeStandardOutput(json ? StatsReport.json(rows) : StatsReport.table(rows))
        }
    }
}
