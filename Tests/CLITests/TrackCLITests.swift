import Foundation
import Testing

@Suite("mrd track through the real binary")
struct TrackCLITests {
    let run = packageRoot.appendingPathComponent("TestReads/run")

    /// P001's baseline (clones.tsv) in `out`.
    func baseline(_ out: URL) throws {
        let result = try runMRD(["baseline", "P001_DX_R1.fastq.gz", "--sample", "P001_DX", "-o", out.path, "--spike-ins", "spikes.tsv"],
                                directory: run)
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test("the committed run: calls follow the truth; mrd.tsv and call.json carry the contract's fields")
    func committedRun() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        try baseline(out)
        let truth = parseTSV(try String(contentsOf: run.appendingPathComponent("truth.tsv"), encoding: .utf8))
        for (sample, files) in [("P001_FU1", ["P001_FU1_L001_R1.fastq.gz", "P001_FU1_L002_R1.fastq.gz"]), ("P001_FU2", ["P001_FU2_R1.fastq.gz"]),
                                ("P001_FU3", ["P001_FU3_R1.fastq.gz"])] {
            let result = try runMRD(["track"] + files + ["--clones", out.appendingPathComponent("P001_DX.clones.tsv").path, "--sample", sample,
                                     "-o", out.path, "--spike-ins", "spikes.tsv", "--dna-ng", "325"], directory: run)
            #expect(result.status == 0, "\(result.stderr)")
            let rows = parseTSV(try String(contentsOf: out.appendingPathComponent("\(sample).mrd.tsv"), encoding: .utf8))
            #expect(!rows.isEmpty)
            #expect(Array(rows[0].keys).contains("evolved_reads"))
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("\(sample).call.json"))) as! [String: Any]
            for key in ["sample_id", "version", "command_line", "inputs", "total_reads", "reads_per_locus", "spike_in_reads", "template_method",
                        "cells_method", "cells_assessed", "clones_tracked", "clones_detected", "leukemic_reads", "leukemic_templates", "mrd_level",
                        "mrd_ci_low", "mrd_ci_high", "lod", "loq", "threshold", "detected", "quantifiable", "call", "call_detail", "qc_pass", "qc_flags"] {
                #expect(json[key] != nil, "\(sample): call.json lacks \(key)")
            }
            #expect(json["template_method"] as? String == "spike_in" && json["cells_method"] as? String == "dna_input")
            #expect(json["cells_assessed"] as? Double == 50_000)
            let row = truth.first { $0["sample_id"] == sample }!
            let level = Double(row["true_mrd_level"]!)!
            if level > 0 {
                #expect(json["call"] as? String == "positive", "\(sample): \(json["call"]!) \(json["call_detail"]!)")
                let measured = json["mrd_level"] as! Double
                #expect(abs(log10(measured / level)) < 0.5, "\(sample): \(measured) vs \(level)")
                #expect((json["mrd_ci_low"] as! Double) < measured && measured < (json["mrd_ci_high"] as! Double))
            } else {
                // 3,000 reads cannot show 1e-4 in 50,000 cells: nothing detected, LoD above the threshold.
                #expect(json["detected"] as? Bool == false)
                #expect(json["call"] as? String == "indeterminate" && json["call_detail"] as? String == "insufficient_input")
                #expect((json["lod"] as! Double) > 1e-4)
            }
        }
    }

    @Test("same mrd.tsv bytes with 1, 2 and 8 threads")
    func threadsDoNotChangeOutput() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        try baseline(out)
        var outputs: [Data] = []
        for threads in ["1", "2", "8"] {
            let dir = out.appendingPathComponent("t\(threads)")
            let result = try runMRD(["track", "P001_FU1_L001_R1.fastq.gz", "P001_FU1_L002_R1.fastq.gz", "--clones",
                                     out.appendingPathComponent("P001_DX.clones.tsv").path, "--sample", "P001_FU1", "-o", dir.path,
                                     "--spike-ins", "spikes.tsv", "--dna-ng", "325", "-t", threads], directory: run)
            #expect(result.status == 0, "\(result.stderr)")
            outputs.append(try Data(contentsOf: dir.appendingPathComponent("P001_FU1.mrd.tsv")))
        }
        #expect(outputs[0] == outputs[1] && outputs[1] == outputs[2])
    }

    @Test("bad clones.tsv, spike-in table or reads: clear error, contract exit code, no output files")
    func badInput() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        try baseline(out)
        let clones = try String(contentsOf: out.appendingPathComponent("P001_DX.clones.tsv"), encoding: .utf8)
        var lines = clones.split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: "\t").map(String.init)
        // A missing column, a bad value on line 3, a target without its junction.
        let noLocus = lines.map { $0.split(separator: "\t", omittingEmptySubsequences: false).enumerated()
            .filter { header[$0.offset] != "locus" }.map { String($0.element) }.joined(separator: "\t") }
        try (noLocus.joined(separator: "\n") + "\n").write(to: out.appendingPathComponent("nolocus.tsv"), atomically: true, encoding: .utf8)
        var badCount = lines
        var fields = badCount[2].split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        fields[header.firstIndex(of: "clone_count")!] = "many"
        badCount[2] = fields.joined(separator: "\t")
        try (badCount.joined(separator: "\n") + "\n").write(to: out.appendingPathComponent("badcount.tsv"), atomically: true, encoding: .utf8)
        // A trackable row whose target no longer holds its junction.
        let trackableRow = lines.indices.first { $0 > 0 && lines[$0].split(separator: "\t", omittingEmptySubsequences: false)[header.firstIndex(of: "trackable")!] == "T" }!
        var row = lines[trackableRow].split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        row[header.firstIndex(of: "target")!] = String(repeating: "ACGT", count: 20)
        lines[trackableRow] = row.joined(separator: "\t")
        try (lines.joined(separator: "\n") + "\n").write(to: out.appendingPathComponent("badtarget.tsv"), atomically: true, encoding: .utf8)
        try "spike_id\tsequence\tcopies\nS1\tACGT\t10\n".write(to: out.appendingPathComponent("spikes.tsv"), atomically: true, encoding: .utf8)
        let good = out.appendingPathComponent("P001_DX.clones.tsv").path
        let cases: [([String], Int32, String)] = [
            (["--clones", out.appendingPathComponent("nolocus.tsv").path], 65, "nolocus.tsv:1: missing column locus"),
            (["--clones", out.appendingPathComponent("badcount.tsv").path], 65, "badcount.tsv:3: column clone_count: expected a count, found 'many'"),
            (["--clones", out.appendingPathComponent("badtarget.tsv").path], 65, "badtarget.tsv:\(trackableRow + 1): column target"),
            (["--clones", out.appendingPathComponent("absent.tsv").path], 66, "absent.tsv: no such clones file"),
            (["--clones", good, "--spike-ins", out.appendingPathComponent("spikes.tsv").path], 65, "spikes.tsv:2: spike 'S1'"),
        ]
        for (arguments, status, message) in cases {
            let dir = out.appendingPathComponent("fail")
            let result = try runMRD(["track", "P001_FU1_R1.fastq.gz".replacingOccurrences(of: "FU1", with: "FU2"), "--sample", "X", "-o", dir.path]
                                    + arguments, directory: run)
            #expect(result.status == status, "\(arguments): \(result.stderr)")
            #expect(result.stderr.contains("mrd: error: ") && result.stderr.contains(message), "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("X.mrd.tsv").path))
        }
        // Unreadable reads (a truncated gzip) fail with 65 and leave nothing under the final names.
        let truncated = out.appendingPathComponent("cut.fastq.gz")
        let bytes = try Data(contentsOf: run.appendingPathComponent("P001_FU2_R1.fastq.gz"))
        try bytes.prefix(bytes.count / 2).write(to: truncated)
        let dir = out.appendingPathComponent("cut")
        let result = try runMRD(["track", truncated.path, "--clones", good, "--sample", "X", "-o", dir.path], directory: run)
        #expect(result.status == 65, "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("X.mrd.tsv").path))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("X.call.json").path))
        // --dna-ng and --cells together: usage error.
        let usage = try runMRD(["track", "P001_FU2_R1.fastq.gz", "--clones", good, "--sample", "X", "--dna-ng", "1", "--cells", "5"], directory: run)
        #expect(usage.status == 64)
    }

    @Test("a baseline without a trackable clone: the follow-up is indeterminate / no_marker, exit 0")
    func noMarker() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let baseline = try runMRD(["baseline", "P003_DX_R1.fastq.gz", "--sample", "P003_DX", "-o", out.path, "--min-fraction", "0.99"],
                                  directory: run)
        #expect(baseline.status == 0, "\(baseline.stderr)")
        let result = try runMRD(["track", "P003_FU1_R1.fastq.gz", "--clones", out.appendingPathComponent("P003_DX.clones.tsv").path,
                                 "--sample", "P003_FU1", "-o", out.path, "--cells", "50000"], directory: run)
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("P003_FU1.call.json"))) as! [String: Any]
        #expect(json["call"] as? String == "indeterminate" && json["call_detail"] as? String == "no_marker")
        #expect(json["clones_tracked"] as? Int == 0)
        #expect(json["template_method"] as? String == "reads" && (json["qc_flags"] as? [String])?.contains("templates_from_reads") == true)
        let tsv = try String(contentsOf: out.appendingPathComponent("P003_FU1.mrd.tsv"), encoding: .utf8)
        #expect(tsv.split(separator: "\n").count == 1)  // the header only
    }

    @Test("a whole repertoire given as index clones (a foreign AIRR TSV of 101 rows): refused, exit 65, no output")
    func repertoireAsIndexClones() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        // The AIRR Community example: 101 IGH rearrangements of one person, every row to be tracked.
        let airr = out.appendingPathComponent("repertoire.tsv")
        try gunzipText(packageRoot.appendingPathComponent("TestReads/real/airr-standards/rearrangement-example.tsv.gz"))
            .replacingOccurrences(of: "\"", with: "").write(to: airr, atomically: true, encoding: .utf8)
        let reads = packageRoot.appendingPathComponent("TestReads/run/P001_FU1_L001_R1.fastq.gz").path
        let result = try runMRD(["track", reads, "--clones", airr.path, "--sample", "FU", "--dna-ng", "975", "-o", out.appendingPathComponent("fu").path])
        #expect(result.status == 65)
        #expect(result.stderr.contains("repertoire.tsv: 101 rows to track as index clones: expected the leukemia's few index clones (at most 100)"),
                "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("fu").path))
        // The same file cut to its first 5 rows: five index clones, tracked.
        let five = try String(contentsOf: airr, encoding: .utf8).split(separator: "\n").prefix(6).joined(separator: "\n") + "\n"
        try five.write(to: airr, atomically: true, encoding: .utf8)
        let tracked = try runMRD(["track", reads, "--clones", airr.path, "--sample", "FU", "--dna-ng", "975", "-o", out.appendingPathComponent("fu").path])
        #expect(tracked.status == 0, "\(tracked.stderr)")
    }
}
