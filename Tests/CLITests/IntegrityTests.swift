import Foundation
import Testing

private func json(_ url: URL) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
}

/// Provenance: how and when a result was made, not what it is.
private let provenanceKeys: Set<String> = ["command_line", "outdir", "inputs", "sheet", "finished", "seconds"]

/// A JSON value without its provenance fields, at any depth, for comparing runs.
private func withoutProvenance(_ value: Any) -> Any {
    if let object = value as? [String: Any] {
        return object.filter { !provenanceKeys.contains($0.key) }.mapValues(withoutProvenance)
    }
    if let array = value as? [Any] { return array.map(withoutProvenance) }
    return value
}

private func canonical(_ value: Any) throws -> Data {
    try JSONSerialization.data(withJSONObject: withoutProvenance(value), options: [.sortedKeys])
}

@Suite("integrity: every read counted, outputs independent of threads, hostile strings refused")
struct IntegrityTests {
    let run = packageRoot.appendingPathComponent("TestReads/run")

    /// A scratch copy of the committed run with `sheet` as its sheet.csv.
    func runWithSheet(_ sheet: String) throws -> URL {
        let out = try temporaryDirectory()
        let copy = out.appendingPathComponent("run")
        try FileManager.default.copyItem(at: run, to: copy)
        try Data(sheet.utf8).write(to: copy.appendingPathComponent("sheet.csv"))
        return copy
    }

    @Test("every read of every sample is assigned, unassigned with a reason, or a spike-in; totals equal mrd stats")
    func everyReadCounted() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try runMRD(["run", "sheet.csv", "-o", out.path, "--spike-ins", "spikes.tsv"], directory: run)
        #expect(result.status == 0, "\(result.stderr)")
        let sheet = try String(contentsOf: run.appendingPathComponent("sheet.csv"), encoding: .utf8)
        var checked = 0
        for line in sheet.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let (sample, role) = (fields[1], fields[2])
            let files = fields[5].split(separator: ";").map { run.appendingPathComponent(String($0)).path }
            let stats = parseTSV(try runMRD(["stats"] + files).stdout)
            let reads = stats.reduce(0) { $0 + Int($1["reads"]!)! }
            let folder = out.appendingPathComponent("samples/\(sample)")
            if role == "control" {
                let runJSON = try json(out.appendingPathComponent("run.json"))
                let entry = (runJSON["samples"] as! [[String: Any]]).first { $0["sample_id"] as? String == sample }!
                #expect(entry["total_reads"] as? Int == reads, "\(sample)")
                #expect((entry["read_accounting"] as! [String: Int]).values.reduce(0, +) == reads, "\(sample)")
            } else if role == "baseline" {
                let baseline = try json(folder.appendingPathComponent("\(sample).baseline.json"))
                let unassigned = (baseline["unassigned_reads"] as! [String: Int]).values.reduce(0, +)
                #expect(baseline["total_reads"] as? Int == reads, "\(sample)")
                #expect((baseline["assigned_reads"] as! Int) + (baseline["spike_in_reads"] as! Int) + unassigned == reads, "\(sample)")
                let perLocus = (baseline["reads_per_locus"] as! [String: Int]).values.reduce(0, +)
                #expect(perLocus == baseline["assigned_reads"] as? Int, "\(sample)")
            } else {
                let call = try json(folder.appendingPathComponent("\(sample).call.json"))
                let perLocus = (call["reads_per_locus"] as! [String: Int]).values.reduce(0, +)
                let unassigned = (call["unassigned_reads"] as! [String: Int]).values.reduce(0, +)
                #expect(call["total_reads"] as? Int == reads, "\(sample)")
                #expect(perLocus + (call["spike_in_reads"] as! Int) + unassigned == reads, "\(sample)")
            }
            checked += 1
        }
        #expect(checked == 14)
    }

    @Test("--threads 1, 2 and 8: identical TSV bytes; JSON identical but for provenance")
    func threadsDoNotChangeOutputs() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        var runs: [URL] = []
        for threads in ["1", "2", "8"] {
            let folder = out.appendingPathComponent("t\(threads)")
            let result = try runMRD(["run", "sheet.csv", "-o", folder.path, "--spike-ins", "spikes.tsv", "-t", threads], directory: run)
            #expect(result.status == 0, "\(result.stderr)")
            runs.append(folder)
        }
        let files = try FileManager.default.subpathsOfDirectory(atPath: runs[0].path).sorted()
        let tables = files.filter { $0.hasSuffix(".tsv") }
        let objects = files.filter { $0.hasSuffix(".json") }
        #expect(tables.count >= 18 && objects.count >= 26, "\(tables.count) TSV, \(objects.count) JSON")
        for other in runs.dropFirst() {
            #expect(try FileManager.default.subpathsOfDirectory(atPath: other.path).sorted() == files)
            for name in tables {
                #expect(try Data(contentsOf: other.appendingPathComponent(name)) == Data(contentsOf: runs[0].appendingPathComponent(name)),
                        "\(other.lastPathComponent)/\(name)")
            }
            for name in objects {
                let a = try json(runs[0].appendingPathComponent(name)), b = try json(other.appendingPathComponent(name))
                #expect(try canonical(a) == canonical(b), "\(other.lastPathComponent)/\(name)")
            }
        }
    }

    @Test("ids outside [A-Za-z0-9._-]{1,64} are refused with their line; control characters anywhere in the sheet too")
    func hostileIdentifiers() throws {
        let header = "patient_id,sample_id,role,timepoint,day,r1,r2,dna_ng,cells\n"
        let rows = [
            "P001,<script>,baseline,diagnosis,0,P001_DX_R1.fastq.gz,,32.5,",       // line 2
            "P001,\"a\"\"b\",followup,m1,35,P001_FU2_R1.fastq.gz,,325,",          // 3: a quote
            "P001,\"a\tb\",followup,m1,35,P001_FU2_R1.fastq.gz,,325,",            // 4: a tab
            "P001,\"a\nb\",followup,m1,35,P001_FU2_R1.fastq.gz,,325,",            // 5-6: a newline
            "P001,../x,followup,m1,35,P001_FU2_R1.fastq.gz,,325,",                // 7
            "Pé,P9_FU,followup,m1,35,P001_FU2_R1.fastq.gz,,325,",                 // 8: unicode
            "P001,P001_FU9,followup,\"m\t1\",35,P001_FU2_R1.fastq.gz,,325,",      // 9: tab in free text
            "P001,..,followup,m1,35,P001_FU2_R1.fastq.gz,,325,",                  // 10
            "P001,\(String(repeating: "x", count: 65)),followup,m1,35,P001_FU2_R1.fastq.gz,,325,",  // 11
        ]
        let copy = try runWithSheet(header + rows.joined(separator: "\n") + "\n")
        defer { try? FileManager.default.removeItem(at: copy.deletingLastPathComponent()) }
        let out = copy.deletingLastPathComponent().appendingPathComponent("out")
        let result = try runMRD(["run", "sheet.csv", "-o", out.path, "--spike-ins", "spikes.tsv"], directory: copy)
        #expect(result.status == 65)
        for expected in ["sheet.csv:2: sample_id '<script>' is not an identifier", "sheet.csv:3: sample_id 'a\"b' is not an identifier",
                         "sheet.csv:4: sample_id 'a\\x09b': control characters", "sheet.csv:5: sample_id 'a\\x0ab': control characters",
                         "sheet.csv:7: sample_id '../x' is not an identifier", "sheet.csv:8: patient_id 'P\\xc3\\xa9' is not an identifier",
                         "sheet.csv:9: timepoint 'm\\x091': control characters", "sheet.csv:10: sample_id '..' is not an identifier",
                         "sheet.csv:11: sample_id 'xxxxxxxx"] {
            #expect(result.stderr.contains(expected), "missing: \(expected)\n\(result.stderr)")
        }
        #expect(!result.stderr.contains("\t") && result.stderr.split(separator: "\n").allSatisfy { $0.hasPrefix("mrd: error:") || $0.hasPrefix("/") || $0.hasPrefix("sheet.csv") })
        #expect(!FileManager.default.fileExists(atPath: out.path), "nothing written")

        for bad in ["a\tb", "a\nb", "a\"b", "Pé", "..", "", String(repeating: "x", count: 65), "a/b"] {
            let baseline = try runMRD(["baseline", "P001_DX_R1.fastq.gz", "--sample", bad, "-o", out.path], directory: run)
            #expect(baseline.status == 64, "'\(bad)'")
            let track = try runMRD(["track", "P001_FU2_R1.fastq.gz", "--clones", "x.tsv", "--sample", bad, "-o", out.path], directory: run)
            #expect(track.status == 64, "'\(bad)'")
        }
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    @Test("free text (timepoints, group names) is escaped in HTML and never becomes a path")
    func freeTextEscapedNotAPath() throws {
        let sheet = try String(contentsOf: run.appendingPathComponent("sheet.csv"), encoding: .utf8)
            .replacingOccurrences(of: ",induction,", with: ",../../evil <img src=x onerror=alert(1)>,")
        let copy = try runWithSheet(sheet)
        let scratch = copy.deletingLastPathComponent()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let clinical = try String(contentsOf: run.appendingPathComponent("clinical.csv"), encoding: .utf8)
            .replacingOccurrences(of: ",standard\n", with: ",<b>../grpx9</b>\n")
        try Data(clinical.utf8).write(to: copy.appendingPathComponent("clinical.csv"))
        let out = scratch.appendingPathComponent("out")
        let result = try runMRD(["run", "sheet.csv", "-o", out.path, "--spike-ins", "spikes.tsv"], directory: copy)
        #expect(result.status == 0, "\(result.stderr)")
        let report = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        #expect(report.contains("../../evil &lt;img src=x onerror=alert(1)&gt;"))
        #expect(!report.contains("<img"))
        let calls = parseTSV(try String(contentsOf: out.appendingPathComponent("calls.tsv"), encoding: .utf8))
        #expect(calls.contains { $0["timepoint"] == "../../evil <img src=x onerror=alert(1)>" }, "kept verbatim in TSV")
        let cohort = try runMRD(["cohort", "--calls", out.appendingPathComponent("calls.tsv").path, "--clinical", "clinical.csv",
                                 "-o", out.appendingPathComponent("cohort").path, "--by", "risk_group"], directory: copy)
        #expect(cohort.status == 0, "\(cohort.stderr)")
        let page = try String(contentsOf: out.appendingPathComponent("cohort/cohort.html"), encoding: .utf8)
        #expect(page.contains("&lt;b&gt;../grpx9&lt;/b&gt;") && !page.contains("<b>../grpx9"))
        // Nothing was created from the free text, inside the output folder or above it.
        let everything = (try FileManager.default.subpathsOfDirectory(atPath: scratch.path))
            + (try FileManager.default.contentsOfDirectory(atPath: scratch.deletingLastPathComponent().path))
        #expect(!everything.contains { $0.contains("evil") || $0.contains("grpx9") }, "\(everything.filter { $0.contains("evil") })")
    }
}
