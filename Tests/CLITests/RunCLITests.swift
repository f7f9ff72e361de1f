import Foundation
import Testing

/// A copy of TestReads/run in a scratch folder (tests damage or edit it).
private func copyOfRun() throws -> URL {
    let out = try temporaryDirectory()
    let source = packageRoot.appendingPathComponent("TestReads/run")
    let copy = out.appendingPathComponent("run")
    try FileManager.default.copyItem(at: source, to: copy)
    return copy
}

private func read(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }

@Suite("mrd run and mrd demo through the real binary")
struct RunCLITests {
    @Test("a deeper simulated run: each follow-up gets its truth call unless its level is within 2x of the threshold")
    func truthCalls() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let sim = out.appendingPathComponent("sim")
        let simulate = try runMRD(["simulate", "--out", sim.path, "--patients", "3", "--levels", "0,1e-3,1e-5,5e-4,0", "--cells", "200000",
                                   "--reads", "40000", "--loci", "IGH,IGK,TRB", "--seed", "3", "--paired-samples", "", "--bzip2-samples", "",
                                   "--lane-split-samples", "P001_FU2"], directory: out)
        #expect(simulate.status == 0, "\(simulate.stderr)")
        let result = try runMRD(["run", sim.appendingPathComponent("sheet.csv").path, "-o", out.appendingPathComponent("out").path,
                                 "--spike-ins", sim.appendingPathComponent("spikes.tsv").path], directory: out)
        #expect(result.status == 0, "\(result.stderr)")
        let calls = parseTSV(try read(out.appendingPathComponent("out/calls.tsv")))
        let truth = parseTSV(try read(sim.appendingPathComponent("truth.tsv")))
        var checked = 0
        for row in calls where row["call_detail"] != "no_marker" {
            let level = Double(truth.first { $0["sample_id"] == row["sample_id"] }!["true_mrd_level"]!)!
            if level >= 2e-4 {
                #expect(row["call"] == "positive", "\(row["sample_id"]!): \(level) -> \(row["call"]!) \(row["call_detail"]!)")
            } else if level <= 5e-5 {
                // Negative, unless the sample's own LoD is above the threshold (then indeterminate,
                // with the input that would resolve it; a detection under the threshold there is
                // `below_threshold_above_lod`): never a positive.
                let lod = Double(row["lod"]!)!
                let expected = lod <= 1e-4 ? "negative" : "indeterminate"
                #expect(row["call"] == expected, "\(row["sample_id"]!): \(level) -> \(row["call"]!) \(row["call_detail"]!) lod \(row["lod"]!)")
                if expected == "indeterminate" {
                    let detected = row["detected"] == "T"
                    #expect(row["call_detail"] == (detected ? "qc_fail" : "insufficient_input") && lod < 2e-4)
                    #expect(!detected || row["qc_flags"]!.split(separator: ";").contains("below_threshold_above_lod"), "\(row["qc_flags"]!)")
                }
            } else { continue }
            checked += 1
        }
        #expect(checked >= 8)
        // Sorted by patient, day, sample; the contract's columns.
        let header = try read(out.appendingPathComponent("out/calls.tsv")).split(separator: "\n")[0]
        #expect(header == "patient_id\tsample_id\ttimepoint\tday\ttotal_reads\tcells_assessed\tclones_tracked\tclones_detected\tleukemic_reads\t"
                + "leukemic_templates\tmrd_level\tmrd_ci_low\tmrd_ci_high\tlod\tthreshold\tdetected\tquantifiable\tcall\tnormalization\tqc_pass\tloq\tcall_detail"
                + "\treason\tread_fraction\tmarkers\tqc_flags")
        let keys = calls.map { ($0["patient_id"]!, Int($0["day"]!) ?? Int.max, $0["sample_id"]!) }
        #expect(zip(keys, keys.dropFirst()).allSatisfy { $0 <= $1 })
        #expect(calls.count == 15)
    }

    @Test("killed mid-run and resumed: the same calls.tsv; unchanged samples are kept, a changed one is redone")
    func killAndResume() throws {
        let run = try copyOfRun()
        defer { try? FileManager.default.removeItem(at: run.deletingLastPathComponent()) }
        let complete = run.deletingLastPathComponent().appendingPathComponent("complete")
        let first = try runMRD(["run", "sheet.csv", "-o", complete.path, "--spike-ins", "spikes.tsv"], directory: run)
        #expect(first.status == 0, "\(first.stderr)")
        let expected = try read(complete.appendingPathComponent("calls.tsv"))

        // Kill the run once its first baseline is recorded.
        let out = run.deletingLastPathComponent().appendingPathComponent("killed")
        let process = Process()
        process.executableURL = mrdBinary
        process.arguments = ["run", "sheet.csv", "-o", out.path, "--spike-ins", "spikes.tsv", "-t", "1"]
        process.currentDirectoryURL = run
        process.standardError = FileHandle.nullDevice
        try process.run()
        let record = out.appendingPathComponent("samples/P001_DX/P001_DX.run.json").path
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: record) && process.isRunning && Date() < deadline { usleep(2_000) }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let resumed = try runMRD(["run", "sheet.csv", "-o", out.path, "--spike-ins", "spikes.tsv", "--resume"], directory: run)
        #expect(resumed.status == 0, "\(resumed.stderr)")
        #expect(try read(out.appendingPathComponent("calls.tsv")) == expected)
        #expect(resumed.stderr.contains("P001_DX (baseline): ok (unchanged, kept)"))

        // Resume again after changing one follow-up's reads: only that sample is redone.
        let again = try runMRD(["run", "sheet.csv", "-o", out.path, "--spike-ins", "spikes.tsv", "--resume"], directory: run)
        #expect(again.stderr.components(separatedBy: "(unchanged, kept)").count - 1 == 12, "\(again.stderr)")
        try FileManager.default.copyItem(at: run.appendingPathComponent("P002_FU1_R1.fastq.gz"), to: run.appendingPathComponent("tmp.gz"))
        try FileManager.default.removeItem(at: run.appendingPathComponent("P002_FU1_R1.fastq.gz"))
        try FileManager.default.copyItem(at: run.appendingPathComponent("P002_FU2_R1.fastq.gz"), to: run.appendingPathComponent("P002_FU1_R1.fastq.gz"))
        let changed = try runMRD(["run", "sheet.csv", "-o", out.path, "--spike-ins", "spikes.tsv", "--resume"], directory: run)
        #expect(changed.stderr.contains("P002_FU1 (followup): ok,"), "\(changed.stderr)")
        #expect(changed.stderr.components(separatedBy: "(unchanged, kept)").count - 1 == 11)
    }

    @Test("a corrupted read file fails only its sample: exit 3, run.json says why, its calls.tsv row is indeterminate/failed")
    func corruptedSampleFailsAlone() throws {
        let run = try copyOfRun()
        defer { try? FileManager.default.removeItem(at: run.deletingLastPathComponent()) }
        let good = run.deletingLastPathComponent().appendingPathComponent("good")
        #expect(try runMRD(["run", "sheet.csv", "-o", good.path, "--spike-ins", "spikes.tsv"], directory: run).status == 0)
        let file = run.appendingPathComponent("P003_FU1_R1.fastq.gz")
        let bytes = try Data(contentsOf: file)
        try bytes.prefix(bytes.count * 2 / 3).write(to: file)
        let out = run.deletingLastPathComponent().appendingPathComponent("out")
        let result = try runMRD(["run", "sheet.csv", "-o", out.path, "--spike-ins", "spikes.tsv"], directory: run)
        #expect(result.status == 3, "\(result.stderr)")
        #expect(result.stderr.contains("P003_FU1"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("run.json"))) as! [String: Any]
        let samples = json["samples"] as! [[String: Any]]
        let failed = samples.filter { $0["status"] as? String == "failed" }
        #expect(failed.map { $0["sample_id"] as! String } == ["P003_FU1"])
        #expect((failed.first?["error"] as? String)?.contains("P003_FU1_R1.fastq.gz") == true)
        let calls = parseTSV(try read(out.appendingPathComponent("calls.tsv")))
        let goodCalls = parseTSV(try read(good.appendingPathComponent("calls.tsv")))
        #expect(calls.count == goodCalls.count)
        for (row, reference) in zip(calls, goodCalls) {
            if row["sample_id"] == "P003_FU1" {
                #expect(row["call"] == "indeterminate" && row["call_detail"] == "failed")
            } else {
                #expect(row == reference)
            }
        }
    }

    @Test("a malformed sheet is refused before any work, every problem listed with its line (exit 65)")
    func badSheet() throws {
        let run = try copyOfRun()
        defer { try? FileManager.default.removeItem(at: run.deletingLastPathComponent()) }
        var lines = try read(run.appendingPathComponent("sheet.csv")).split(separator: "\n").map(String.init)
        lines[2] = lines[2].replacingOccurrences(of: "P001_FU1", with: "P001_DX")  // duplicate sample id
        lines[3] = lines[3].replacingOccurrences(of: ",month3,", with: ",month3,-4").replacingOccurrences(of: "-490", with: "-4")
        lines[4] = lines[4].replacingOccurrences(of: "P001_FU3", with: "bad/id")
        lines[6] = lines[6].replacingOccurrences(of: "followup", with: "follow-up")
        lines = lines.filter { !$0.hasPrefix("P003,P003_DX") }  // P003 without baseline
        try (lines.joined(separator: "\n") + "\n").write(to: run.appendingPathComponent("bad.csv"), atomically: true, encoding: .utf8)
        let out = run.deletingLastPathComponent().appendingPathComponent("out")
        let result = try runMRD(["run", "bad.csv", "-o", out.path], directory: run)
        #expect(result.status == 65)
        for expected in ["bad.csv:3: sample_id 'P001_DX' already used on line 2", "bad.csv:5: sample_id 'bad/id' is not an identifier",
                         "bad.csv:7: role 'follow-up'", "patient 'P003' has no baseline row and no clones path"] {
            #expect(result.stderr.contains(expected), "missing '\(expected)' in:\n\(result.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("calls.tsv").path))
    }

    @Test("two samples of a sheet on one read file (whatever the path's spelling): refused before any work (exit 65)")
    func sharedReadFile() throws {
        let run = try copyOfRun()
        defer { try? FileManager.default.removeItem(at: run.deletingLastPathComponent()) }
        // P002_FU2's row names P002_FU1's file, spelled ./ (a copy-paste slip: the month-3 call
        // would be made on the induction sample's reads).
        let sheet = try read(run.appendingPathComponent("sheet.csv")).split(separator: "\n").map { line -> String in
            guard line.hasPrefix("P002,P002_FU2,") else { return String(line) }
            return line.replacingOccurrences(of: "P002_FU2_R1.fastq.gz", with: "./P002_FU1_R1.fastq.gz")
        }.joined(separator: "\n") + "\n"
        try sheet.write(to: run.appendingPathComponent("slip.csv"), atomically: true, encoding: .utf8)
        let out = run.deletingLastPathComponent().appendingPathComponent("out")
        let result = try runMRD(["run", "slip.csv", "-o", out.path, "--spike-ins", "spikes.tsv"], directory: run)
        #expect(result.status == 65)
        #expect(result.stderr.contains("read file './P002_FU1_R1.fastq.gz' is also a read file of sample 'P002_FU1' (line "), "\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }

    @Test("report.html escapes every sheet string; MultiQC (the real one) shows both custom-content sections")
    func reportAndMultiQC() throws {
        let run = try copyOfRun()
        defer { try? FileManager.default.removeItem(at: run.deletingLastPathComponent()) }
        let sheet = try read(run.appendingPathComponent("sheet.csv")).replacingOccurrences(of: ",month3,", with: ",<script>alert(1)</script>&,")
        try sheet.write(to: run.appendingPathComponent("sheet.csv"), atomically: true, encoding: .utf8)
        let out = run.deletingLastPathComponent().appendingPathComponent("out")
        let result = try runMRD(["run", "sheet.csv", "-o", out.path, "--spike-ins", "spikes.tsv"], directory: run)
        #expect(result.status == 0, "\(result.stderr)")
        let html = try read(out.appendingPathComponent("report.html"))
        #expect(!html.contains("<script"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&amp;"))
        #expect(html.contains("<svg") && !html.contains("http://") || html.contains("xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(!html.contains("src=\"http") && !html.contains("href=\"http"))

        // One page per patient: the latest result in words, its markers, each follow-up's reason, the review block.
        for patient in ["P001", "P002", "P003"] {
            let page = try read(out.appendingPathComponent("patients/\(patient).html"))
            #expect(!page.contains("<script") && !page.contains("src=\"http"))
            #expect(page.contains("MRD report &middot; patient \(patient)") && page.contains("Reviewed by:") && page.contains("@page"))
            #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&amp;"), "the month-3 timepoint, escaped")
            let calls = parseTSV(try read(out.appendingPathComponent("calls.tsv"))).filter { $0["patient_id"] == patient }
            for row in calls {
                #expect(page.contains(row["reason"]!.replacingOccurrences(of: "'", with: "&#39;")), "\(row["sample_id"]!)'s reason")
                for marker in row["markers"]!.split(separator: ";") { #expect(page.contains("<td>\(marker)</td>")) }
            }
            #expect(page.contains("Latest (\(calls.last!["sample_id"]!)"))
        }
        let p003 = try read(out.appendingPathComponent("patients/P003.html"))
        #expect(p003.contains("MRD <b>indeterminate</b> (insufficient input)") && p003.contains("219 ng DNA (33,719 cells)"))
        let p001 = try read(out.appendingPathComponent("patients/P001.html"))
        #expect(p001.contains("MRD <b>negative</b> at 10<sup>-4</sup>; sensitivity (LoD) 5.6 &times; 10<sup>-5</sup>"), "\(p001.prefix(2000))")

        let multiqc = Process()
        multiqc.executableURL = projectTool("multiqc")
        multiqc.arguments = ["-q", "-f", "-o", out.appendingPathComponent("mqc").path, out.appendingPathComponent("multiqc").path]
        multiqc.standardOutput = FileHandle.nullDevice
        multiqc.standardError = FileHandle.nullDevice
        try multiqc.run()
        multiqc.waitUntilExit()
        #expect(multiqc.terminationStatus == 0, "multiqc failed (or is not installed: Scripts/setup)")
        let report = try read(out.appendingPathComponent("mqc/multiqc_report.html"))
        #expect(report.contains("mrd_calls") && report.contains("MRD calls"))
        #expect(report.contains("mrd_kinetics") && report.contains("MRD kinetics"))
        // General Statistics: each follow-up's level, call and LoD, the level equal to calls.tsv's.
        let general = parseTSV(try read(out.appendingPathComponent("mqc/multiqc_data/multiqc_general_stats.txt")))
        let calls = parseTSV(try read(out.appendingPathComponent("calls.tsv")))
        for call in calls {
            let row = try #require(general.first { $0["Sample"] == call["sample_id"] }, "\(call["sample_id"]!) in general stats")
            let level = row.first { $0.key.hasSuffix("mrd_level") }?.value ?? ""
            if call["detected"] == "T" {
                #expect(abs(Double(level)! - Double(call["mrd_level"]!)!) <= 1e-6 * Double(call["mrd_level"]!)!, "\(call["sample_id"]!): \(level)")
            }
            #expect(row.contains { $0.key.hasSuffix("mrd_call") && $0.value.hasPrefix(call["call"]!) })
            #expect(row.contains { $0.key.hasSuffix("mrd_lod") && !$0.value.isEmpty })
        }
    }

    @Test("mrd demo runs the committed run and prints its calls")
    func demo() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try runMRD(["demo", "-o", out.path], directory: packageRoot)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("sample\tcall\tcall_detail\tmrd_level\tci\tlod\ttrue_level\n"))
        #expect(result.stdout.contains("P001_FU1\tpositive"))
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("report.html").path))
    }

    @Test("a patient whose baseline came from an earlier run (clones column): follow-ups called against that clones.tsv")
    func baselineFromEarlierRun() throws {
        let run = try copyOfRun()
        defer { try? FileManager.default.removeItem(at: run.deletingLastPathComponent()) }
        let earlier = run.deletingLastPathComponent().appendingPathComponent("earlier")
        #expect(try runMRD(["run", "sheet.csv", "-o", earlier.path, "--spike-ins", "spikes.tsv", "--quiet"], directory: run).status == 0)
        let expected = parseTSV(try read(earlier.appendingPathComponent("calls.tsv"))).filter { $0["patient_id"] == "P002" }
        // P002 without its baseline row, pointing at the earlier run's clones.tsv instead.
        let clones = earlier.appendingPathComponent("samples/P002_DX/P002_DX.clones.tsv").path
        var lines = try read(run.appendingPathComponent("sheet.csv")).split(separator: "\n").map(String.init)
        lines[0] += ",clones"
        lines = lines.filter { !$0.hasPrefix("P002,P002_DX,") }.enumerated().map { i, line in
            i == 0 ? line : line + (line.hasPrefix("P002,") ? "," + clones : ",")
        }
        try (lines.joined(separator: "\n") + "\n").write(to: run.appendingPathComponent("later.csv"), atomically: true, encoding: .utf8)
        let out = run.deletingLastPathComponent().appendingPathComponent("later")
        let result = try runMRD(["run", "later.csv", "-o", out.path, "--spike-ins", "spikes.tsv"], directory: run)
        #expect(result.status == 0, "\(result.stderr)")
        let calls = parseTSV(try read(out.appendingPathComponent("calls.tsv"))).filter { $0["patient_id"] == "P002" }
        #expect(calls == expected)
        #expect(calls.count == 3)
    }

    @Test("a control carrying a patient's index-clone reads: controls.tsv shows them and the run is flagged")
    func contaminatedControl() throws {
        let run = try copyOfRun()
        defer { try? FileManager.default.removeItem(at: run.deletingLastPathComponent()) }
        // The polyclonal control's reads replaced by a copy of a leukemic follow-up's (the same
        // file named by both rows is refused as a sheet slip).
        let control = run.appendingPathComponent("POLYCLONAL_R1.fastq.gz")
        try FileManager.default.removeItem(at: control)
        try FileManager.default.copyItem(at: run.appendingPathComponent("P002_FU1_R1.fastq.gz"), to: control)
        let out = run.deletingLastPathComponent().appendingPathComponent("out")
        let result = try runMRD(["run", "sheet.csv", "-o", out.path, "--spike-ins", "spikes.tsv", "--quiet"], directory: run)
        #expect(result.status == 0, "\(result.stderr)")
        let controls = parseTSV(try read(out.appendingPathComponent("controls.tsv")))
        let hits = controls.filter { $0["control_id"] == "POLYCLONAL" && $0["patient_id"] == "P002" }
        #expect(!hits.isEmpty && hits.allSatisfy { Int($0["reads"]!)! >= 2 && $0["contaminated"] == "T" }, "\(hits)")
        #expect(controls.filter { $0["control_id"] == "NTC" }.allSatisfy { $0["contaminated"] == "F" })
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("run.json"))) as! [String: Any]
        #expect((json["qc_flags"] as? [String])?.contains("control_contamination") == true)
        // The run flag names the calls it reaches, and those calls carry it (failing QC when the
        // control's reads could explain their detection; a detection far beyond keeps its call).
        let report = try read(out.appendingPathComponent("report.html"))
        #expect(report.contains("Run QC: <code>control_contamination</code>"))
        let affected = parseTSV(try read(out.appendingPathComponent("calls.tsv"))).filter { $0["qc_flags"]!.contains("control_contamination") }
        #expect(!affected.isEmpty && affected.allSatisfy { $0["patient_id"] == "P002" && $0["reason"]!.contains("control") })
        #expect(report.contains("affects the calls of " + affected.map { $0["sample_id"]! }.joined(separator: ", ")))
    }
}
