import ArgumentParser
import Foundation
import MRDKit

struct Stats: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Summary statistics of FASTQ/FASTA files (plain, gzip, BGZF or bzip2), like seqkit stats.",
        discussion: """
            One row per file. With --r2 the FILEs are the read-1 lane files of one paired-end sample \
            and the --r2 files their mates (same order): mates are read in lockstep and checked, and \
            the output has one row for read 1 and one for read 2.
            """
    )

    @Argument(help: "Read files; '-' is standard input.")
    var files: [String]

    @Option(name: .long, help: "Mate file of paired-end data (repeat for lanes).")
    var r2: [String] = []

    @Flag(name: .long, help: "Print JSON instead of a TSV table.")
    var json = false

    @OptionGroup var threadOptions: ThreadOptions

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one read file") }
        if !r2.isEmpty && r2.count != files.count {
            throw ValidationError("--r2 given \(r2.count) times for \(files.count) read-1 files; expected one mate file per file")
        }
        if files.filter({ $0 == "-" }).count + r2.filter({ $0 == "-" }).count > 1 {
            throw ValidationError("standard input ('-') can be read only once")
        }
    }

    func run() throws {
        try runReportingErrors {
            let inputs = r2.isEmpty ? files.map { SampleInput(read1: [$0]) } : [SampleInput(read1: files, read2: r2)]
            var rows: [FileStatistics] = []
            for input in inputs {
                rows += try FileStatistics.compute(input, threads: threadOptions.threads)
            }
            let text = json ? Self.json(rows) : Self.table(rows)
            try writeStandardOutput(text)
        }
    }

    static let columns = ["file", "format", "compression", "reads", "bases", "min_len", "mean_len", "max_len",
                          "mean_qual", "q30_percent", "gc_percent"]

    static func table(_ rows: [FileStatistics]) -> String {
        var text = columns.joined(separator: "\t") + "\n"
        for row in rows {
            let s = row.statistics
            let fields: [String] = [
                row.fileLabel, row.formatLabel, row.compressionLabel, String(s.reads), String(s.bases),
                s.reads == 0 ? "" : String(s.minLength), fixed(s.meanLength), String(s.maxLength),
                s.meanQuality.map(fixed) ?? "", s.q30Percent.map(fixed) ?? "", fixed(s.gcPercent),
            ]
            text += fields.joined(separator: "\t") + "\n"
        }
        return text
    }

    static func json(_ rows: [FileStatistics]) -> String {
        let objects: [[String: Any]] = rows.map { row in
            let s = row.statistics
            var object: [String: Any] = [
                "file": row.fileLabel, "format": row.formatLabel, "compression": row.compressionLabel,
                "reads": s.reads, "bases": s.bases, "max_len": s.maxLength,
                "mean_len": rounded(s.meanLength), "gc_percent": rounded(s.gcPercent),
                "files": row.files.map { ["file": $0.file, "format": $0.format?.rawValue ?? "",
                                          "compression": $0.compression.rawValue, "reads": $0.records] as [String: Any] },
            ]
            object["min_len"] = s.reads == 0 ? NSNull() : s.minLength
            object["mean_qual"] = s.meanQuality.map(rounded) ?? NSNull()
            object["q30_percent"] = s.q30Percent.map(rounded) ?? NSNull()
            return object
        }
        let data = try! JSONSerialization.data(withJSONObject: objects, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    static func fixed(_ value: Double) -> String { String(format: "%.2f", value) }
    static func rounded(_ value: Double) -> Double { (value * 100).rounded() / 100 }
}
