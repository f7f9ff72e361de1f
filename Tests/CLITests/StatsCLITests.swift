import Foundation
import Testing

/// Manifest rows, read here without the library so the CLI is checked against the file alone.
private let manifest: [[String: String]] = {
    let text = try! String(contentsOf: specimenDirectory.appendingPathComponent("manifest.tsv"), encoding: .utf8)
    return parseTSV(text)
}()

private struct Row: CustomStringConvertible, Sendable {
    let fields: [String: String]
    subscript(key: String) -> String { fields[key] ?? "" }
    var description: String { self["file"] }
}

private let validRows = manifest.filter { $0["expect"] == "valid" && $0["mate"] == "" }.map(Row.init)
private let invalidRows = manifest.filter { $0["expect"] == "invalid" }.map(Row.init)

@Suite("mrd stats through the real binary")
struct StatsCLITests {
    @Test("--version prints the bare version")
    func version() throws {
        let result = try runMRD(["--version"])
        #expect(result.status == 0)
        #expect(result.stdout == "0.2.0\n")
    }

    @Test("valid files: counts and labels in the TSV", arguments: validRows)
    fileprivate func validFile(_ row: Row) throws {
        let result = try runMRD(["stats", row["file"]])
        #expect(result.status == 0, "\(result.stderr)")
        let table = parseTSV(result.stdout)
        #expect(table.count == 1)
        #expect(table.first?["reads"] == row["reads"])
        #expect(table.first?["bases"] == row["bases"])
        #expect(table.first?["format"] == row["format"])
        #expect(table.first?["compression"] == row["compression"])
    }

    @Test("invalid files: contract message, line and exit code", arguments: invalidRows)
    fileprivate func invalidFile(_ row: Row) throws {
        let arguments = row["mate"].isEmpty ? ["stats", row["file"]] : ["stats", row["mate"], "--r2", row["file"]]
        let result = try runMRD(arguments)
        #expect(result.status == Int32(row["exit_code"])!)
        #expect(result.stdout.isEmpty, "no partial table on failure")
        let place = row["line"].isEmpty ? "\(row["file"])" : "\(row["file"]):\(row["line"]): "
        #expect(result.stderr.hasPrefix("mrd: error: \(place)"), "\(result.stderr)")
        #expect(result.stderr.contains(row["error"]), "\(result.stderr)")
        #expect(result.stderr.hasSuffix("\n") && result.stderr.split(separator: "\n").count == 1)
    }

    @Test("standard input: plain, gzip and bzip2 read from '-'")
    func standardInput() throws {
        for file in ["reads.fastq", "reads.members.fastq.gz", "reads.streams.fastq.bz2", "reads.wrapped.fasta"] {
            let data = try Data(contentsOf: specimenDirectory.appendingPathComponent(file))
            let result = try runMRD(["stats", "-"], stdin: data)
            #expect(result.status == 0, "\(result.stderr)")
            let row = try #require(parseTSV(result.stdout).first)
            #expect(row["file"] == "<stdin>")
            #expect(row["reads"] == (file.hasSuffix("fasta") ? "240" : "241"))
        }
        let broken = try Data(contentsOf: specimenDirectory.appendingPathComponent("truncated.fastq.gz"))
        let result = try runMRD(["stats", "-"], stdin: broken)
        #expect(result.status == 65)
        #expect(result.stderr.hasPrefix("mrd: error: <stdin>:"))
    }

    @Test("several files: one row each, in order; equal stats for equal content")
    func severalFiles() throws {
        let files = ["reads.fastq", "reads.fastq.gz", "reads.bgzf.fastq.gz", "reads.fastq.bz2"]
        let result = try runMRD(["stats"] + files)
        #expect(result.status == 0)
        let rows = parseTSV(result.stdout)
        #expect(rows.map { $0["file"]! } == files)
        let numbers = ["reads", "bases", "min_len", "mean_len", "max_len", "mean_qual", "q30_percent", "gc_percent"]
        for row in rows { #expect(numbers.map { row[$0] } == numbers.map { rows[0][$0] }) }
        #expect(rows[0]["min_len"] == "0")
        #expect(rows[0]["max_len"] == "300")
    }

    @Test("paired lanes with --r2: one row per mate; --json carries the same numbers")
    func pairedJSON() throws {
        let arguments = ["stats", "pair_L1_R1.fastq.gz", "pair_L2_R1.fastq.gz",
                         "--r2", "pair_L1_R2.fastq.bz2", "--r2", "pair_L2_R2.fastq.bz2"]
        let table = try runMRD(arguments)
        #expect(table.status == 0)
        let rows = parseTSV(table.stdout)
        #expect(rows.map { $0["reads"]! } == ["150", "150"])
        #expect(rows[1]["compression"] == "bzip2")
        let json = try runMRD(arguments + ["--json", "--threads", "1"])
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(objects.count == 2)
        #expect(objects[0]["reads"] as? Int == 150)
        #expect((objects[0]["files"] as? [[String: Any]])?.map { $0["reads"] as? Int } == [70, 80])
        #expect(objects[1]["format"] as? String == "FASTQ")
    }

    @Test("same output bytes whatever --threads")
    func threadsDoNotChangeOutput() throws {
        let files = ["reads.fastq", "reads.members.fastq.gz", "reads.streams.fastq.bz2"]
        let one = try runMRD(["stats", "-t", "1"] + files)
        for threads in ["2", "4"] {
            #expect(try runMRD(["stats", "-t", threads] + files).stdout == one.stdout)
        }
    }

    @Test("usage errors exit 64")
    func usageErrors() throws {
        #expect(try runMRD(["stats"]).status == 64)
        #expect(try runMRD(["stats", "reads.fastq", "--threads", "0"]).status == 64)
        #expect(try runMRD(["stats", "a.fq", "b.fq", "--r2", "c.fq"]).status == 64)
        #expect(try runMRD(["stats", "-", "-"]).status == 64)
        #expect(try runMRD(["frobnicate"]).status == 64)
    }

    @Test("zlib and ISA-L backends give identical output")
    func inflateBackends() throws {
        let files = ["reads.fastq.gz", "reads.members.fastq.gz", "reads.bgzf.fastq.gz", "reads.padded.fastq.gz"]
        let zlib = try runMRD(["stats"] + files, environment: ["MRD_INFLATE": "zlib"])
        let automatic = try runMRD(["stats"] + files)
        #expect(zlib.status == 0)
        #expect(zlib.stdout == automatic.stdout)
    }
}
