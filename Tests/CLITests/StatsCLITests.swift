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

    @Test("--merge on real 2x309 MiSeq pairs: the merged row equals `mrd stats` of fastp's merged reads; counts add up")
    func mergedPairs() throws {
        let fastp = URL(fileURLWithPath: "/usr/bin/fastp")
        try #require(FileManager.default.isExecutableFile(atPath: fastp.path), "fastp missing: run Scripts/setup")
        let presto = packageRoot.appendingPathComponent("TestReads/real/presto")
        let r1 = presto.appendingPathComponent("set413_R1.fq.gz").path, r2 = presto.appendingPathComponent("set413_R2.fq.gz").path
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let merged = directory.appendingPathComponent("merged.fq")
        let process = Process()
        process.executableURL = fastp
        process.arguments = ["-i", r1, "-I", r2, "--merge", "--merged_out", merged.path, "-A", "-Q", "-L", "-G", "-w", "1",
                             "-j", directory.appendingPathComponent("fastp.json").path, "-h", directory.appendingPathComponent("fastp.html").path,
                             "--out1", directory.appendingPathComponent("u1.fq").path, "--out2", directory.appendingPathComponent("u2.fq").path]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)

        let ours = try runMRD(["stats", r1, "--r2", r2, "--merge"])
        #expect(ours.status == 0, "\(ours.stderr)")
        let rows = parseTSV(ours.stdout)
        #expect(rows.count == 3)
        #expect(ours.stdout.hasPrefix("file\tformat\tcompression\treads\tbases\tmin_len\tmean_len\tmax_len\tmean_qual\tq30_percent\tgc_percent\tread_pairs\tmerged_pairs\tunmerged_pairs\n"))
        for row in rows { #expect(row["read_pairs"] == "2500" && row["merged_pairs"] == "2031" && row["unmerged_pairs"] == "469") }
        #expect(rows[0]["reads"] == "2500" && rows[1]["reads"] == "2500")
        #expect(rows[2]["file"] == "merged:\(r1)")
        let theirs = try #require(parseTSV(try runMRD(["stats", merged.path]).stdout).first)
        // Same reads, same lengths (bases, min, max); bases and qualities of disagreeing columns follow
        // different consensus rules (README), so GC may differ in the second decimal.
        for column in ["reads", "bases", "min_len", "mean_len", "max_len"] {
            #expect(rows[2][column] == theirs[column], "\(column): mrd \(rows[2][column] ?? "") fastp \(theirs[column] ?? "")")
        }
        #expect(abs(Double(rows[2]["gc_percent"]!)! - Double(theirs["gc_percent"]!)!) < 0.05)
        // JSON: the same counts, the merged row marked; thread count changes nothing.
        let json = try runMRD(["stats", r1, "--r2", r2, "--merge", "--json", "-t", "1"])
        let objects = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect(objects.map { $0["merged"] as? Bool } == [false, false, true])
        #expect(objects[2]["reads"] as? Int == 2031 && objects[2]["unmerged_pairs"] as? Int == 469)
        #expect(try runMRD(["stats", r1, "--r2", r2, "--merge", "-t", "1"]).stdout == ours.stdout)
        // --merge without mates is a usage error.
        #expect(try runMRD(["stats", r1, "--merge"]).status == 64)
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
