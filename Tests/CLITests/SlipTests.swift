import Foundation
import Testing

private let committedRun = packageRoot.appendingPathComponent("TestReads/run")

private func read(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }

/// True MRD level of each follow-up of TestReads/run.
private func truthLevels() throws -> [String: Double] {
    var levels: [String: Double] = [:]
    for row in parseTSV(try read(committedRun.appendingPathComponent("truth.tsv"))) where row["role"] == "followup" {
        levels[row["sample_id"]!] = Double(row["true_mrd_level"]!)!
    }
    return levels
}

/// `mrd run` on TestReads/run (or on `sheet`) with extra arguments; its calls.tsv rows.
private func runCalls(_ arguments: [String], sheet: URL = committedRun.appendingPathComponent("sheet.csv"), in out: URL) throws -> [[String: String]] {
    let result = try runMRD(["run", sheet.path, "-o", out.path, "-t", "2"] + arguments, directory: out.deletingLastPathComponent())
    #expect(result.status == 0, "\(arguments): \(result.stderr)")
    return parseTSV(try read(out.appendingPathComponent("calls.tsv")))
}

/// `mrd baseline` of the committed P001 diagnosis into `out/dx`; returns a function that tracks one
/// of the committed follow-ups (file name) against it with a DNA input (ng, as typed) and gives its call.json.
private func committedFollowUps(in out: URL) throws -> (String, String) throws -> [String: Any] {
    let spikes = committedRun.appendingPathComponent("spikes.tsv").path
    let baseline = try runMRD(["baseline", committedRun.appendingPathComponent("P001_DX_R1.fastq.gz").path, "--sample", "P001_DX",
                               "--spike-ins", spikes, "-o", out.appendingPathComponent("dx").path])
    #expect(baseline.status == 0, "\(baseline.stderr)")
    return { file, dna in
        let sample = "FU_" + file.prefix(8) + "_" + dna.replacingOccurrences(of: ".", with: "_")
        let result = try runMRD(["track", committedRun.appendingPathComponent(file).path,
                                 "--clones", out.appendingPathComponent("dx/P001_DX.clones.tsv").path, "--sample", sample,
                                 "--spike-ins", spikes, "--dna-ng", dna, "-o", out.appendingPathComponent(sample).path])
        #expect(result.status == 0, "\(result.stderr)")
        return try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("\(sample)/\(sample).call.json"))) as! [String: Any]
    }
}

/// The ordinary slips of issue 16 on a real run (spike-ins in every reaction, IGH and TRB markers):
/// none may give a confident wrong answer.
@Suite("Slips: no --spike-ins, no cell count, --umi on reads without UMIs")
struct SlipTests {
    @Test("every call of the run says why, and lists its markers")
    func reasons() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let calls = try runCalls(["--spike-ins", committedRun.appendingPathComponent("spikes.tsv").path], in: out.appendingPathComponent("run"))
        #expect(calls.count == 9)
        for row in calls {
            #expect(row["reason"]!.count > 30, "\(row["sample_id"]!)")
            #expect(row["markers"]!.split(separator: ";").count == Int(row["clones_tracked"]!), "\(row["sample_id"]!)")
        }
        let indeterminate = calls.first { $0["sample_id"] == "P003_FU3" }!
        #expect(indeterminate["call"] == "indeterminate" && indeterminate["call_detail"] == "insufficient_input")
        #expect(indeterminate["reason"]!.contains("ng DNA ("), "the DNA input that would resolve it: \(indeterminate["reason"]!)")
        let negative = calls.first { $0["sample_id"] == "P001_FU3" }!
        #expect(negative["call"] == "negative" && Double(negative["lod"]!)! < 1e-4)
        // The IGH marker is tracked in every patient although only IGH has spike-ins.
        for patient in ["P001", "P002", "P003"] {
            let markers = calls.first { $0["patient_id"] == patient }!["markers"]!
            #expect(markers.contains("_IGH_") && markers.contains("_TRB_"), "\(patient): \(markers)")
        }
    }

    @Test("no --spike-ins: the spike-ins are shared clonotypes, not index clones; no truth-0 sample positive with qc_pass T")
    func noSpikeIns() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let calls = try runCalls([], in: out.appendingPathComponent("run"))
        let truth = try truthLevels()
        #expect(calls.count == 9)
        for row in calls {
            let id = row["sample_id"]!
            #expect(row["qc_flags"]!.split(separator: ";").contains("templates_from_reads"), "\(id)")
            #expect(row["qc_pass"] == "F", "\(id): reads are not templates")
            if truth[id] == 0 { #expect(!(row["call"] == "positive" && row["qc_pass"] == "T"), "\(id)") }
            #expect(row["call"] != "negative", "\(id): no negativity without templates")
        }
        // The calibrators, in every diagnostic sample, are clonotypes there but never index clones
        // (here the cross-lineage rule already keeps them out; SharedCloneTests covers the case it
        // does not).
        let spikes = parseTSV(try read(committedRun.appendingPathComponent("spikes.tsv"))).map { $0["sequence"]! }
        for patient in ["P001", "P002", "P003"] {
            let clones = parseTSV(try read(out.appendingPathComponent("run/samples/\(patient)_DX/\(patient)_DX.clones.tsv")))
            let spikeClones = clones.filter { clone in spikes.contains { $0.contains(clone["junction"]!) } && Double(clone["clone_fraction"]!)! >= 0.05 }
            #expect(!spikeClones.isEmpty, "\(patient): the spike-ins are clonotypes of its diagnostic sample")
            #expect(spikeClones.allSatisfy { $0["trackable"] == "F" }, "\(patient)")
        }
    }

    @Test("no --spike-ins on an IGH-only run: the calibrators become shared_index_clone in every patient, and the workflow's --other-clones agrees")
    func sharedSpikeIns() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let sim = try simulatedRun(["--seed", "21", "--patients", "3", "--loci", "IGH", "--levels", "1e-3,0", "--reads", "4000",
                                    "--no-controls", "-t", "2"], in: out)
        let calls = try runCalls([], sheet: sim.appendingPathComponent("sheet.csv"), in: out.appendingPathComponent("run"))
        #expect(calls.count == 6)
        let spikes = parseTSV(try read(sim.appendingPathComponent("spikes.tsv"))).map { $0["sequence"]! }
        for row in calls {
            #expect(row["qc_flags"]!.split(separator: ";").contains("shared_index_clone"), "\(row["sample_id"]!)")
            #expect(row["reason"]!.contains("shared_index_clone (an index clone of this patient is also in another patient's"))
            if row["sample_id"]!.hasSuffix("FU2") { #expect(!(row["call"] == "positive" && row["qc_pass"] == "T")) }
        }
        for patient in ["P001", "P002", "P003"] {
            let clones = parseTSV(try read(out.appendingPathComponent("run/samples/\(patient)_DX/\(patient)_DX.clones.tsv")))
            let shared = clones.filter { $0["not_trackable_reason"]!.hasPrefix("shared_index_clone: ") }
            #expect(!shared.isEmpty, "\(patient)")
            for clone in shared {
                #expect(clone["trackable"] == "F")
                #expect(spikes.contains { $0.contains(clone["junction"]!) }, "\(clone["clone_id"]!) is a calibrator")
            }
            let trackable = clones.filter { $0["trackable"] == "T" }
            #expect(!trackable.isEmpty && trackable.allSatisfy { clone in !spikes.contains { $0.contains(clone["junction"]!) } }, "\(patient)")
        }
        // mrd track with the other patients' clones files (what the workflow's track jobs pass) marks the same clones.
        let own = out.appendingPathComponent("dx1")
        for patient in ["P001", "P002", "P003"] {
            let result = try runMRD(["baseline", sim.appendingPathComponent("\(patient)_DX_R1.fastq.gz").path, "--sample", "\(patient)_DX",
                                     "-o", own.path, "--quiet"], directory: out)
            #expect(result.status == 0)
        }
        let track = try runMRD(["track", sim.appendingPathComponent("P001_FU1_L001_R1.fastq.gz").path, sim.appendingPathComponent("P001_FU1_L002_R1.fastq.gz").path,
                                "--clones", own.appendingPathComponent("P001_DX.clones.tsv").path,
                                "--other-clones", own.appendingPathComponent("P002_DX.clones.tsv").path,
                                "--other-clones", own.appendingPathComponent("P003_DX.clones.tsv").path,
                                "--sample", "P001_FU1", "-o", own.path, "--dna-ng", "325"], directory: out)
        #expect(track.status == 0, "\(track.stderr)")
        let call = try JSONSerialization.jsonObject(with: Data(contentsOf: own.appendingPathComponent("P001_FU1.call.json"))) as! [String: Any]
        let runCall = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("run/samples/P001_FU1/P001_FU1.call.json"))) as! [String: Any]
        #expect((call["qc_flags"] as! [String]).contains("shared_index_clone"))
        #expect(call["markers"] as? [String] == runCall["markers"] as? [String])
        #expect(call["mrd_level"] as? Double == runCall["mrd_level"] as? Double)
    }

    @Test("no cell count: no level, call indeterminate no_cell_count; --level-basis reads gives the read share on purpose")
    func noCellCount() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        // The sheet with dna_ng and cells emptied, read paths made absolute.
        var lines = try read(committedRun.appendingPathComponent("sheet.csv")).split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        for i in 1..<lines.count {
            var fields = lines[i].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            for column in ["r1", "r2"] {
                let c = header.firstIndex(of: column)!
                fields[c] = fields[c].split(separator: ";").map { committedRun.appendingPathComponent(String($0)).path }.joined(separator: ";")
            }
            fields[header.firstIndex(of: "dna_ng")!] = ""
            fields[header.firstIndex(of: "cells")!] = ""
            lines[i] = fields.joined(separator: ",")
        }
        let sheet = out.appendingPathComponent("sheet.csv")
        try (lines.joined(separator: "\n") + "\n").write(to: sheet, atomically: true, encoding: .utf8)
        let spikes = ["--spike-ins", committedRun.appendingPathComponent("spikes.tsv").path]
        let truth = try truthLevels()

        let calls = try runCalls(spikes, sheet: sheet, in: out.appendingPathComponent("cells"))
        #expect(calls.count == 9)
        for row in calls {
            let id = row["sample_id"]!
            #expect(row["call"] == "indeterminate" && row["call_detail"] == "no_cell_count", "\(id)")
            for column in ["mrd_level", "lod", "mrd_ci_low", "mrd_ci_high", "cells_assessed"] { #expect(row[column] == "", "\(id) \(column)") }
            #expect(row["normalization"] == "spike_in+none")
            #expect(row["reason"]!.contains("Give dna_ng or cells"), "\(id)")
            if truth[id]! > 0 { #expect(Double(row["read_fraction"]!)! > 0, "\(id)") }
        }
        let call = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("cells/samples/P001_FU1/P001_FU1.call.json"))) as! [String: Any]
        #expect(call["mrd_level"] is NSNull)
        #expect((call["read_fraction"] as? Double ?? 0) > 0)

        let reads = try runCalls(spikes + ["--level-basis", "reads"], sheet: sheet, in: out.appendingPathComponent("reads"))
        for row in reads {
            let id = row["sample_id"]!
            #expect(row["normalization"] == "spike_in+none+reads_fraction", "\(id)")
            #expect(row["mrd_level"] == row["read_fraction"], "\(id)")
            #expect(row["lod"] == "", "\(id)")
            if truth[id] == 0 { #expect(row["call"] != "positive", "\(id)") }
            if row["call"] == "positive" { #expect(row["reason"]!.contains("--level-basis reads: a read share, not a level per cell"), "\(id)") }
        }
    }

    @Test("--umi on reads without UMIs: umi_not_random, quantified from the spike-ins, never a confident call")
    func umiOnUMIFreeReads() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let spikes = ["--spike-ins", committedRun.appendingPathComponent("spikes.tsv").path]
        let plain = try runCalls(spikes, in: out.appendingPathComponent("plain"))
        let umi = try runCalls(spikes + ["--umi", "N8"], in: out.appendingPathComponent("umi"))
        let truth = try truthLevels()
        for (a, b) in zip(plain, umi) {
            let id = b["sample_id"]!
            #expect(b["qc_flags"]!.split(separator: ";").contains("umi_not_random"), "\(id)")
            #expect(b["qc_pass"] == "F" && b["normalization"] == "spike_in+dna_input", "\(id)")
            if truth[id] == 0 { #expect(!(b["call"] == "positive" && b["qc_pass"] == "T"), "\(id)") }
            // Positives stay positive at about the level the spike-ins give (8 fewer bases per read).
            if a["call"] == "positive" {
                #expect(b["call"] == "positive", "\(id)")
                let ratio = Double(b["mrd_level"]!)! / Double(a["mrd_level"]!)!
                #expect(ratio > 0.7 && ratio < 1.3, "\(id): \(ratio)")
            }
        }
        let call = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("umi/samples/P001_FU1/P001_FU1.call.json"))) as! [String: Any]
        let check = call["umi_check"] as! [String: Any]
        #expect(check["random"] as? Bool == false)
        #expect((check["top_ten_share"] as! Double) > 0.25)
    }

    @Test("a library that is not human IG/TR: low_assignment, a line on stderr, no negative from it")
    func notAnImmuneLibrary() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        // 3,000 reads of random sequence (a non-human or off-target library).
        var generator = SystemRandomNumberGenerator()
        var text = ""
        for n in 0..<3_000 {
            let bases = String((0..<150).map { _ in "ACGT".randomElement(using: &generator)! })
            text += "@r\(n)\n\(bases)\n+\n\(String(repeating: "I", count: 150))\n"
        }
        let reads = out.appendingPathComponent("other.fastq")
        try text.write(to: reads, atomically: true, encoding: .utf8)
        let baseline = try runMRD(["baseline", reads.path, "--sample", "OTHER", "-o", out.path, "--quiet"], directory: out)
        #expect(baseline.status == 0, "\(baseline.stderr)")
        #expect(baseline.stderr.contains("mrd baseline: OTHER: 0 of 3000 reads assigned (0.0%") && baseline.stderr.contains("low_assignment"),
                "\(baseline.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("OTHER.baseline.json"))) as! [String: Any]
        #expect(summary["qc_flags"] as? [String] == ["low_assignment"])
        // A normal diagnostic sample prints its summary line, without the code.
        let normal = try runMRD(["baseline", committedRun.appendingPathComponent("P001_DX_R1.fastq.gz").path, "--sample", "P001_DX",
                                 "-o", out.appendingPathComponent("dx").path], directory: out)
        #expect(normal.status == 0 && normal.stderr.contains("mrd baseline: P001_DX: ") && !normal.stderr.contains("low_assignment"), "\(normal.stderr)")
        // Tracked as a follow-up of P001: not a negative.
        let track = try runMRD(["track", reads.path, "--clones", out.appendingPathComponent("dx/P001_DX.clones.tsv").path, "--sample", "F",
                                "-o", out.path, "--dna-ng", "975"], directory: out)
        #expect(track.status == 0, "\(track.stderr)")
        let call = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("F.call.json"))) as! [String: Any]
        #expect((call["qc_flags"] as! [String]).contains("low_assignment"))
        #expect(call["call"] as? String == "indeterminate" && call["call_detail"] as? String == "qc_fail")
    }

    /// SplitMix64: the same numbers on every run (the system generator would make the fixture differ).
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// FASTA records of a bundled germline file, by name.
    static func germlineRecords(_ file: String) throws -> [(name: String, bases: [UInt8])] {
        let text = try String(contentsOf: packageRoot.appendingPathComponent("Sources/MRDKit/Resources/germline/human/ogrdb/\(file)"), encoding: .utf8)
        return text.components(separatedBy: ">").dropFirst().map { record in
            let lines = record.split(separator: "\n")
            return (String(lines[0].split(separator: " ")[0]), Array(lines.dropFirst().joined().uppercased().utf8))
        }
    }

    /// A library of another species stands in: human IGHV genes with a quarter of their bases
    /// changed, everywhere (camelid and mouse V genes are about as far from human ones), after a
    /// real human J (the J genes of mammals are nearly alike).
    @Test("a diagnosis past --max-groups: group_limit on stderr even with --quiet and in baseline.json; same index clones and counts; a negative limit refused")
    func groupLimit() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let reads = committedRun.appendingPathComponent("P001_DX_R1.fastq.gz").path
        // 64 KiB batches (MRD_BATCH_KIB): the distinct junctions are counted after each, so a
        // committed 6,000-read diagnosis can reach a limit of 200.
        let environment = ["MRD_BATCH_KIB": "64"]
        let full = try runMRD(["baseline", reads, "--sample", "P001_DX", "-o", out.appendingPathComponent("full").path, "--quiet"],
                              directory: out, environment: environment)
        #expect(full.status == 0 && full.stderr.isEmpty, "\(full.stderr)")
        var limited: [[[String: String]]] = []
        for threads in ["1", "2"] {
            let folder = out.appendingPathComponent("limited-\(threads)")
            let run = try runMRD(["baseline", reads, "--sample", "P001_DX", "-o", folder.path, "--max-groups", "200", "--quiet", "-t", threads],
                                 directory: out, environment: environment)
            #expect(run.status == 0, "\(run.stderr)")
            #expect(run.stderr.contains("group_limit: 293 distinct junctions after 3297 reads") && run.stderr.contains("--max-groups"), "\(run.stderr)")
            let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("P001_DX.baseline.json"))) as! [String: Any]
            #expect(summary["qc_flags"] as? [String] == ["group_limit"])
            #expect(summary["group_limit_groups"] as? Int == 293 && summary["group_limit_reads"] as? Int == 3297)
            #expect((summary["reads_not_kept"] as? Int ?? 0) > 0)
            limited.append(parseTSV(try String(contentsOf: folder.appendingPathComponent("P001_DX.clones.tsv"), encoding: .utf8)))
        }
        let reference = parseTSV(try String(contentsOf: out.appendingPathComponent("full/P001_DX.clones.tsv"), encoding: .utf8))
        #expect(limited[0] == limited[1])
        #expect(limited[0].count < reference.count)
        func index(_ rows: [[String: String]]) -> [String] { rows.filter { $0["trackable"] == "T" }.map { "\($0["junction"]!) \($0["clone_count"]!) \($0["clone_fraction"]!)" } }
        #expect(index(limited[0]) == index(reference) && !index(reference).isEmpty)
        let negative = try runMRD(["baseline", reads, "--sample", "P001_DX", "-o", out.path, "--max-groups=-1"], directory: out)
        #expect(negative.status == 64 && negative.stderr.contains("--max-groups must be 0 (no limit) or more"), "\(negative.stderr)")
    }

    @Test("a library whose V genes are 75% like human ones: low_v_identity, a line on stderr, follow-ups not negative")
    func anotherSpecies() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        var random = SplitMix64(seed: 17)
        let vs = try Self.germlineRecords("IGHV.fasta").filter { $0.bases.count > 280 }.map(\.bases)
        let j = try #require(try Self.germlineRecords("IGHJ.fasta").first { $0.name == "IGHJ4*02" }).bases
        let acgt = Array("ACGT".utf8)
        func diverged(_ bases: [UInt8]) -> [UInt8] {
            bases.map { b in Int.random(in: 0..<4, using: &random) == 0 ? acgt.filter { $0 != b }.randomElement(using: &random)! : b }
        }
        // Three clones (1,500, 900 and 400 reads) and 600 others, 170 nt of V, 8-20 N, the J.
        var text = "", n = 0
        for size in [1500, 900, 400] + Array(repeating: 1, count: 600) {
            let read = Array(diverged(vs.randomElement(using: &random)!).suffix(170))
                + (0..<Int.random(in: 8...20, using: &random)).map { _ in acgt.randomElement(using: &random)! } + j
            for _ in 0..<size {
                text += "@r\(n)\n\(String(decoding: read, as: UTF8.self))\n+\n\(String(repeating: "I", count: read.count))\n"
                n += 1
            }
        }
        let reads = out.appendingPathComponent("other.fastq")
        try text.write(to: reads, atomically: true, encoding: .utf8)
        let baseline = try runMRD(["baseline", reads.path, "--sample", "OTHER", "-o", out.path, "--quiet"], directory: out)
        #expect(baseline.status == 0, "\(baseline.stderr)")
        #expect(baseline.stderr.contains("low_v_identity: the V genes of the assigned reads are a median 7"), "\(baseline.stderr)")
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("OTHER.baseline.json"))) as! [String: Any]
        #expect((summary["qc_flags"] as? [String])?.contains("low_v_identity") == true, "\(summary)")
        let median = try #require(summary["median_v_identity"] as? Double)
        #expect(median > 0.65 && median < 0.8, "\(median)")
        // Assigned all the same (the V rescue finds such V genes): low_assignment cannot tell.
        #expect((summary["assigned_reads"] as! Int) * 10 > n * 8)
        let clones = parseTSV(try String(contentsOf: out.appendingPathComponent("OTHER.clones.tsv"), encoding: .utf8))
        let tracked = clones.filter { $0["trackable"] == "T" }
        #expect(tracked.count >= 2)
        #expect(tracked.allSatisfy { Double($0["v_identity"]!)! < 0.82 }, "\(tracked.map { $0["v_identity"]! })")
        // Its follow-up (the same library) inherits the code: a failing one, so no negative.
        let track = try runMRD(["track", reads.path, "--clones", out.appendingPathComponent("OTHER.clones.tsv").path, "--sample", "F",
                                "-o", out.path, "--dna-ng", "975"], directory: out)
        #expect(track.status == 0, "\(track.stderr)")
        let call = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("F.call.json"))) as! [String: Any]
        #expect((call["qc_flags"] as! [String]).contains("low_v_identity"))
        #expect(call["call"] as? String != "negative" && call["qc_pass"] as? Bool == false, "\(call)")
        // A human diagnosis: median near 1, no code, v_identity in its clones file.
        let normal = try runMRD(["baseline", committedRun.appendingPathComponent("P001_DX_R1.fastq.gz").path, "--sample", "P001_DX",
                                 "-o", out.appendingPathComponent("dx").path], directory: out)
        #expect(normal.status == 0 && !normal.stderr.contains("low_v_identity"), "\(normal.stderr)")
        let human = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("dx/P001_DX.baseline.json"))) as! [String: Any]
        #expect((human["median_v_identity"] as! Double) > 0.97)
        let humanClones = parseTSV(try String(contentsOf: out.appendingPathComponent("dx/P001_DX.clones.tsv"), encoding: .utf8))
        #expect(Double(humanClones[0]["v_identity"]!)! > 0.95)
        // A follow-up of the other library against the human clones: its own reads (1 in 512
        // annotated) give the code; a human follow-up does not.
        var followUp = ""
        for m in 0..<50_000 {
            let read = Array(diverged(vs.randomElement(using: &random)!).suffix(170))
                + (0..<Int.random(in: 8...20, using: &random)).map { _ in acgt.randomElement(using: &random)! } + j
            followUp += "@f\(m)\n\(String(decoding: read, as: UTF8.self))\n+\n\(String(repeating: "I", count: read.count))\n"
        }
        let followUpReads = out.appendingPathComponent("follow.fastq")
        try followUp.write(to: followUpReads, atomically: true, encoding: .utf8)
        for (reads, sample, expected) in [(followUpReads.path, "FO", true),
                                          (committedRun.appendingPathComponent("P001_FU1_L001_R1.fastq.gz").path, "FH", false)] {
            let tracked = try runMRD(["track", reads, "--clones", out.appendingPathComponent("dx/P001_DX.clones.tsv").path, "--sample", sample,
                                      "-o", out.path, "--dna-ng", "975", "--spike-ins", committedRun.appendingPathComponent("spikes.tsv").path],
                                     directory: out)
            #expect(tracked.status == 0, "\(tracked.stderr)")
            let call = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("\(sample).call.json"))) as! [String: Any]
            #expect((call["qc_flags"] as! [String]).contains("low_v_identity") == expected, "\(sample): \(call["qc_flags"]!)")
            if expected { #expect(call["call"] as? String != "negative") }
        }
    }

    @Test("real UMIs pass the UMI check and are what the templates count, when they recover the spike-ins' copies; too few reads for them: spike-ins quantify")
    func randomUMIs() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        func run(_ name: String, _ extra: [String]) throws -> (calls: [[String: String]], truth: [String: Double]) {
            let sim = out.appendingPathComponent(name)
            let made = try runMRD(["simulate", "--out", sim.path, "--seed", "8", "--patients", "2", "--levels", "1e-2,0", "--umi", "8",
                                   "--no-controls", "-t", "2"] + extra, directory: out)
            #expect(made.status == 0, "\(made.stderr)")
            let calls = try runCalls(["--umi", "N8", "--spike-ins", sim.appendingPathComponent("spikes.tsv").path],
                                     sheet: sim.appendingPathComponent("sheet.csv"), in: out.appendingPathComponent(name + "-run"))
            var truth: [String: Double] = [:]
            for row in parseTSV(try read(sim.appendingPathComponent("truth.tsv"))) { truth[row["sample_id"]!] = Double(row["true_mrd_level"]!) }
            return (calls, truth)
        }
        func umiCheck(_ name: String, _ sample: String) throws -> [String: Any] {
            let call = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("\(name)-run/samples/\(sample)/\(sample).call.json"))) as! [String: Any]
            return call["umi_check"] as! [String: Any]
        }
        // Reads enough for the library (5,000 cells, 20,000 reads): UMIs count the templates.
        let deep = try run("deep", ["--reads", "20000", "--cells", "5000", "--spike-copies", "5,20,50"])
        #expect(deep.calls.count == 4)
        for row in deep.calls {
            let sample = row["sample_id"]!
            #expect(!row["qc_flags"]!.contains("umi_not_random") && !row["qc_flags"]!.contains("umi_capture_low"), "\(sample)")
            #expect(row["normalization"] == "umi+dna_input", "\(sample)")
            let check = try umiCheck("deep", sample)
            #expect(check["random"] as? Bool == true && (check["top_ten_share"] as! Double) < 0.05, "\(check)")
            #expect((check["spike_in_capture"] as! Double) > 0.8, "\(check)")
            // 8-nt UMIs tell about 2,600 one-mismatch neighbourhoods apart: a clone with more than 5%
            // of that many UMIs is umi_saturated (its level a lower bound).
            let mrd = parseTSV(try read(out.appendingPathComponent("deep-run/samples/\(sample)/\(sample).mrd.tsv")))
            let most = mrd.compactMap { Int($0["umis"] ?? "") }.max() ?? 0
            #expect(row["qc_flags"]!.contains("umi_saturated") == (most > 131), "\(sample): \(most) UMIs, \(row["qc_flags"]!)")
            if sample.hasSuffix("FU1") {
                let level = Double(row["mrd_level"]!)!
                #expect(abs(level / deep.truth[sample]! - 1) < 0.3, "\(sample): \(level)")
            }
        }
        // 4,000 reads for 50,000 cells: most molecules are never read, the spike-ins' UMIs recover a
        // few percent of their copies, and UMIs would undercount the clone about tenfold.
        let shallow = try run("shallow", ["--reads", "4000"])
        for row in shallow.calls {
            let sample = row["sample_id"]!
            #expect(row["qc_flags"]!.contains("umi_capture_low") && row["normalization"] == "spike_in+dna_input", "\(sample): \(row["qc_flags"]!)")
            #expect((try umiCheck("shallow", sample)["spike_in_capture"] as! Double) < 0.2)
            if sample.hasSuffix("FU1") {
                let level = Double(row["mrd_level"]!)!, truth = shallow.truth[sample]!
                #expect(level > truth / 3 && level < truth * 3, "\(sample): \(level) for \(truth)")
                let mrd = parseTSV(try read(out.appendingPathComponent("shallow-run/samples/\(sample)/\(sample).mrd.tsv")))
                let umis = mrd.compactMap { Int($0["umis"] ?? "") }.max() ?? 0
                #expect(Double(umis) / 50000 < truth / 3, "what the UMIs alone said: \(umis) UMIs")
            }
        }
        // The same without spike-ins: nothing tells how many molecules were missed but the clone's
        // own families (about one read per UMI): umi_undersampled, QC fails.
        let alone = try runCalls(["--umi", "N8"], sheet: out.appendingPathComponent("shallow/sheet.csv"), in: out.appendingPathComponent("alone-run"))
        for row in alone where row["sample_id"]!.hasSuffix("FU1") {
            #expect(row["qc_flags"]!.contains("umi_undersampled") && row["qc_pass"] == "F" && row["normalization"] == "umi+dna_input", "\(row)")
        }
    }

    @Test("index clones given as AIRR TSV or FASTA: the same calls as with clones.tsv")
    func clonesFromElsewhere() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let spikes = committedRun.appendingPathComponent("spikes.tsv").path
        let baseline = try runMRD(["baseline", committedRun.appendingPathComponent("P002_DX_R1.fastq.gz").path, "--r2",
                                   committedRun.appendingPathComponent("P002_DX_R2.fastq.gz").path, "--sample", "P002_DX", "-o", out.path,
                                   "--spike-ins", spikes, "-t", "2"], directory: out)
        #expect(baseline.status == 0, "\(baseline.stderr)")
        let clonesTSV = out.appendingPathComponent("P002_DX.clones.tsv")
        #expect(parseTSV(try read(clonesTSV)).filter { $0["trackable"] == "T" }.count == 2)
        // A FASTA of the index clones' sequences, as a lab would paste them from a report (in
        // lower case, wrapped at 60, one of them reverse-complemented).
        let airrRows = parseTSV(try read(out.appendingPathComponent("P002_DX.airr.tsv"))).filter { $0["mrd_trackable"] == "T" }
        let fasta = out.appendingPathComponent("index.fasta")
        try airrRows.enumerated().map { n, row -> String in
            var sequence = row["sequence"]!
            if n == 1 { sequence = String(sequence.reversed().map { ["A": "T", "C": "G", "G": "C", "T": "A"][$0] ?? $0 }) }
            let wrapped = stride(from: 0, to: sequence.count, by: 60).map { i -> String in
                let start = sequence.index(sequence.startIndex, offsetBy: i)
                return String(sequence[start..<(sequence.index(start, offsetBy: 60, limitedBy: sequence.endIndex) ?? sequence.endIndex)])
            }
            return ">\(row["sequence_id"]!) from the diagnostic report\n" + wrapped.joined(separator: "\n").lowercased() + "\n"
        }.joined().write(to: fasta, atomically: true, encoding: .utf8)
        // A too short sequence is refused with what is needed.
        let short = out.appendingPathComponent("short.fasta")
        try ">c1\nTGTGCGAGAGATTACGGTGACTACTGG\n".write(to: short, atomically: true, encoding: .utf8)
        let refused = try runMRD(["track", committedRun.appendingPathComponent("P002_FU1_R1.fastq.gz").path, "--clones", short.path,
                                  "--sample", "X", "-o", out.appendingPathComponent("short").path], directory: out)
        #expect(refused.status == 65 && refused.stderr.contains("short.fasta:1: record 'c1': no junction found"), "\(refused.stderr)")
        // An AIRR TSV of the index clones only, with a sequence the junction sits in.
        let airr = out.appendingPathComponent("index.airr.tsv")
        try ("sequence_id\tlocus\tv_call\tj_call\tjunction\tsequence\n" + airrRows.map {
            [$0["sequence_id"]!, $0["locus"]!, $0["v_call"]!, $0["j_call"]!, $0["junction"]!, $0["sequence"]!].joined(separator: "\t") + "\n"
        }.joined()).write(to: airr, atomically: true, encoding: .utf8)

        for sample in ["P002_FU1", "P002_FU2", "P002_FU3"] {
            var calls: [[String: Any]] = []
            for (name, clones) in [("tsv", clonesTSV), ("airr-own", out.appendingPathComponent("P002_DX.airr.tsv")), ("airr", airr), ("fasta", fasta)] {
                let dir = out.appendingPathComponent("\(name)-\(sample)")
                let result = try runMRD(["track", committedRun.appendingPathComponent("\(sample)_R1.fastq.gz").path, "--clones", clones.path,
                                         "--sample", sample, "-o", dir.path, "--dna-ng", "975", "--spike-ins", spikes, "-t", "2"], directory: out)
                #expect(result.status == 0, "\(name): \(result.stderr)")
                calls.append(try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("\(sample).call.json"))) as! [String: Any])
            }
            let reference = calls[0]
            for call in calls.dropFirst() {
                #expect(call["call"] as? String == reference["call"] as? String, "\(sample)")
                #expect(call["call_detail"] as? String == reference["call_detail"] as? String, "\(sample)")
                #expect(call["clones_tracked"] as? Int == 2, "\(sample)")
                let (level, expected) = (call["mrd_level"] as? Double ?? -1, reference["mrd_level"] as? Double ?? -1)
                #expect(abs(level - expected) <= 0.1 * expected, "\(sample): \(level) vs \(expected)")
            }
        }
        // A file of none of the three kinds is refused with what was expected.
        try "hello\tworld\n".write(to: out.appendingPathComponent("odd.tsv"), atomically: true, encoding: .utf8)
        let odd = try runMRD(["track", committedRun.appendingPathComponent("P002_FU1_R1.fastq.gz").path, "--clones", "odd.tsv",
                              "--sample", "X", "-o", out.appendingPathComponent("odd").path], directory: out)
        #expect(odd.status == 65)
        #expect(odd.stderr.contains("odd.tsv:1: expected clones.tsv (mrd baseline"), "\(odd.stderr)")
    }

    /// P001's follow-up with the reads of some loci taken out (as `mrd annotate` places them): a
    /// locus whose PCR failed or was not run.
    private func followUp(_ sample: String, without loci: Set<String>, in directory: URL) throws -> URL {
        let reads = committedRun.appendingPathComponent("\(sample)_R1.fastq.gz").path
        let airr = directory.appendingPathComponent("\(sample).airr.tsv")
        #expect(try runMRD(["annotate", reads, "-o", airr.path, "--quiet"]).status == 0)
        let dropped = Set(parseTSV(try read(airr)).filter { loci.contains($0["locus"]!) }.map { $0["sequence_id"]! })
        let lines = try gunzipText(URL(fileURLWithPath: reads)).split(separator: "\n")
        var kept: [Substring] = []
        for start in stride(from: 0, to: lines.count, by: 4) where !dropped.contains(String(lines[start].dropFirst().split(separator: " ")[0])) {
            kept += lines[start..<(start + 4)]
        }
        #expect(kept.count < lines.count && !kept.isEmpty)
        let out = directory.appendingPathComponent("\(sample)_without.fastq")
        try (kept.joined(separator: "\n") + "\n").write(to: out, atomically: true, encoding: .utf8)
        return out
    }

    @Test("a marker's locus without a read (its PCR failed or was not run): flagged; with every marker's locus silent, no negative")
    func markerLocusNotAmplified() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let baseline = try runMRD(["baseline", committedRun.appendingPathComponent("P001_DX_R1.fastq.gz").path, "--sample", "P001_DX",
                                   "--spike-ins", committedRun.appendingPathComponent("spikes.tsv").path, "-o", out.appendingPathComponent("dx").path])
        #expect(baseline.status == 0, "\(baseline.stderr)")
        func call(_ reads: URL, _ sample: String) throws -> [String: Any] {
            let result = try runMRD(["track", reads.path, "--clones", out.appendingPathComponent("dx/P001_DX.clones.tsv").path, "--sample", sample,
                                     "--spike-ins", committedRun.appendingPathComponent("spikes.tsv").path, "--dna-ng", "975",
                                     "-o", out.appendingPathComponent(sample).path])
            #expect(result.status == 0, "\(result.stderr)")
            return try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("\(sample)/\(sample).call.json"))) as! [String: Any]
        }
        // TRB's reads gone (TRB has no spike-ins in this run): the IGH marker still carries the call.
        let partial = try call(try followUp("P001_FU2", without: ["TRB"], in: out), "NO_TRB")
        #expect((partial["qc_flags"] as! [String]).contains("marker_locus_not_amplified"), "\(partial["qc_flags"]!)")
        #expect(partial["qc_pass"] as? Bool == true && partial["call"] as? String == "positive", "\(partial["reason"]!)")
        // A TRG-only diagnosis and a follow-up whose library holds IGH only, with IGH spike-ins
        // (the TRG PCR not run): the TRG marker calibrated by IGH's spike-ins and undetected was
        // a negative with qc_pass T. Nothing shows it would have been seen: indeterminate.
        for (name, seed, loci, level) in [("trg", "31", "TRG", "1e-3"), ("igh", "32", "IGH", "0")] {
            let made = try runMRD(["simulate", "--out", out.appendingPathComponent(name).path, "--seed", seed, "--patients", "1", "--reads", "20000",
                                   "--levels", level, "--cells", "100000", "--loci", loci, "--no-controls", "-t", "2"])
            #expect(made.status == 0, "\(made.stderr)")
        }
        let trg = out.appendingPathComponent("trg"), igh = out.appendingPathComponent("igh")
        let trgBaseline = try runMRD(["baseline", trg.appendingPathComponent("P001_DX_R1.fastq.gz").path, "--sample", "TRG_DX",
                                      "--spike-ins", trg.appendingPathComponent("spikes.tsv").path, "-o", trg.appendingPathComponent("dx").path])
        #expect(trgBaseline.status == 0, "\(trgBaseline.stderr)")
        let track = try runMRD(["track", igh.appendingPathComponent("P001_FU1_L001_R1.fastq.gz").path, igh.appendingPathComponent("P001_FU1_L002_R1.fastq.gz").path,
                                "--clones", trg.appendingPathComponent("dx/TRG_DX.clones.tsv").path, "--sample", "NO_TRG",
                                "--spike-ins", igh.appendingPathComponent("spikes.tsv").path, "--cells", "100000", "-o", out.appendingPathComponent("NO_TRG").path])
        #expect(track.status == 0, "\(track.stderr)")
        let silent = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("NO_TRG/NO_TRG.call.json"))) as! [String: Any]
        #expect(silent["qc_flags"] as? [String] == ["spike_in_locus_fallback", "marker_loci_not_amplified"], "\(silent["qc_flags"]!)")
        #expect(silent["qc_pass"] as? Bool == false)
        #expect(silent["call"] as? String == "indeterminate" && silent["call_detail"] as? String == "qc_fail", "\(silent["reason"]!)")
        #expect((silent["reason"] as! String).contains("its PCR failed or was not run"))
        // The untouched follow-up: neither flag.
        let whole = try call(committedRun.appendingPathComponent("P001_FU3_R1.fastq.gz"), "WHOLE")
        #expect(!(whole["qc_flags"] as! [String]).contains { $0.hasPrefix("marker_loc") })
        #expect(whole["call"] as? String == "negative")
    }

    @Test("DNA input typed in the wrong unit (0.5 for 500 ng): a level above 100% is flagged level_exceeds_cells, qc_pass F")
    func levelAboveOne() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let track = try committedFollowUps(in: out)
        func call(_ dna: String) throws -> [String: Any] { try track("P001_FU2_R1.fastq.gz", dna) }
        let wrongUnit = try call("0.5"), right = try call("975")
        #expect((wrongUnit["mrd_level"] as! Double) > 1)
        #expect((wrongUnit["qc_flags"] as! [String]).contains("level_exceeds_cells") && wrongUnit["qc_pass"] as? Bool == false, "\(wrongUnit["qc_flags"]!)")
        #expect(wrongUnit["call"] as? String == "positive", "detected all the same: \(wrongUnit["reason"]!)")
        #expect((right["mrd_level"] as! Double) < 0.01 && !(right["qc_flags"] as! [String]).contains("level_exceeds_cells") && right["qc_pass"] as? Bool == true)
    }

    @Test("DNA input typed in pg (975000 for 975 ng): input_implausible, no negative with a tiny LoD; 13 ug is no slip")
    func implausibleInput() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let track = try committedFollowUps(in: out)
        func call(_ dna: String) throws -> [String: Any] { try track("P001_FU3_R1.fastq.gz", dna) }
        let picograms = try call("975000"), large = try call("13000")
        #expect((picograms["qc_flags"] as! [String]).contains("input_implausible") && picograms["qc_pass"] as? Bool == false)
        #expect(picograms["call"] as? String == "indeterminate" && picograms["call_detail"] as? String == "qc_fail", "\(picograms["reason"]!)")
        #expect((picograms["reason"] as! String).contains("unit slip"))
        #expect(!(large["qc_flags"] as! [String]).contains("input_implausible") && large["call"] as? String == "negative", "\(large["reason"]!)")
    }

    @Test("two follow-ups' read files swapped on the sheet: the one carrying another patient's leukemia is not called negative; run and aggregate agree")
    func swappedFollowUps() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        // P001_FU3 (truth 0) and P002_FU1 (truth 0.01) trade read files.
        let sheet = out.appendingPathComponent("sheet.csv")
        var lines: [String] = []
        for line in try read(committedRun.appendingPathComponent("sheet.csv")).split(separator: "\n") {
            var fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if fields[1] == "P001_FU3" { fields[5] = "P002_FU1_R1.fastq.gz" } else if fields[1] == "P002_FU1" { fields[5] = "P001_FU3_R1.fastq.gz" }
            // Paths relative to the committed run.
            if fields[0] != "patient_id" {
                for f in [5, 6] {
                    fields[f] = fields[f].split(separator: ";").map { committedRun.appendingPathComponent(String($0)).path }.joined(separator: ";")
                }
            }
            lines.append(fields.joined(separator: ","))
        }
        try (lines.joined(separator: "\n") + "\n").write(to: sheet, atomically: true, encoding: .utf8)
        let spikes = committedRun.appendingPathComponent("spikes.tsv").path
        let straight = try runCalls(["--spike-ins", spikes], in: out.appendingPathComponent("straight"))
        let swapped = try runCalls(["--spike-ins", spikes], sheet: sheet, in: out.appendingPathComponent("swapped"))
        #expect(swapped.count == 9)
        let foreign = swapped.first { $0["sample_id"] == "P001_FU3" }!
        #expect(foreign["call"] == "indeterminate" && foreign["call_detail"] == "qc_fail" && foreign["qc_pass"] == "F", "\(foreign)")
        #expect(foreign["qc_flags"]!.split(separator: ";").contains("other_patient_clone"))
        #expect(foreign["reason"]!.contains("P002's P002_DX_IGH_1 (IGH)"), "\(foreign["reason"]!)")
        // Nothing else is flagged (index hopping between the run's samples stays below the rule),
        // and every other call is as in the straight run.
        for row in swapped where row["sample_id"] != "P001_FU3" {
            #expect(!row["qc_flags"]!.contains("other_patient_clone"), "\(row["sample_id"]!)")
            if row["sample_id"] != "P002_FU1" {
                let before = straight.first { $0["sample_id"] == row["sample_id"] }!
                #expect(row["call"] == before["call"] && row["mrd_level"] == before["mrd_level"] && row["qc_flags"] == before["qc_flags"], "\(row["sample_id"]!)")
            }
        }
        #expect(straight.allSatisfy { !$0["qc_flags"]!.contains("other_patient_clone") })
        // mrd aggregate over the same per-sample outputs writes the same calls.tsv.
        let runTable = try read(out.appendingPathComponent("swapped/calls.tsv"))
        let aggregate = try runMRD(["aggregate", sheet.path, "-o", out.appendingPathComponent("swapped").path, "--spike-ins", spikes, "--quiet"], directory: out)
        #expect(aggregate.status == 0, "\(aggregate.stderr)")
        #expect(try read(out.appendingPathComponent("swapped/calls.tsv")) == runTable)
    }

    /// The sheet and tables as a spreadsheet or Windows editor saves them: a UTF-8 byte order mark
    /// and CRLF line ends read as the plain files; a sheet saved with semicolons (decimal-comma
    /// locales) or a spike-in table saved comma-separated is refused, the message saying so.
    @Test("a byte order mark and CRLF read as plain text; a semicolon sheet is refused with the reason")
    func spreadsheetSavedFiles() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let bom = "\u{FEFF}"
        func windows(_ text: String) -> String { bom + text.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n") }
        var rows: [[String]] = []
        for line in try read(committedRun.appendingPathComponent("sheet.csv")).split(separator: "\n") {
            var fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if fields[0] != "patient_id" {
                for f in [5, 6] {
                    fields[f] = fields[f].split(separator: ";").map { committedRun.appendingPathComponent(String($0)).path }.joined(separator: ";")
                }
            }
            rows.append(fields)
        }
        let sheet = out.appendingPathComponent("sheet.csv"), spikes = out.appendingPathComponent("spikes.tsv")
        try windows(rows.map { $0.joined(separator: ",") }.joined(separator: "\n") + "\n").write(to: sheet, atomically: true, encoding: .utf8)
        let spikeTable = try read(committedRun.appendingPathComponent("spikes.tsv"))
        try windows(spikeTable).write(to: spikes, atomically: true, encoding: .utf8)
        #expect(try Data(contentsOf: sheet).prefix(3) == Data([0xEF, 0xBB, 0xBF]))
        let plain = try runCalls(["--spike-ins", committedRun.appendingPathComponent("spikes.tsv").path], in: out.appendingPathComponent("plain"))
        _ = try runCalls(["--spike-ins", spikes.path], sheet: sheet, in: out.appendingPathComponent("windows"))
        #expect(plain.count == 9)
        #expect(try read(out.appendingPathComponent("windows/calls.tsv")) == read(out.appendingPathComponent("plain/calls.tsv")))
        // clinical.csv likewise, through mrd cohort.
        let clinical = out.appendingPathComponent("clinical.csv")
        try windows(try read(committedRun.appendingPathComponent("clinical.csv"))).write(to: clinical, atomically: true, encoding: .utf8)
        for (name, file) in [("plain", committedRun.appendingPathComponent("clinical.csv")), ("windows", clinical)] {
            let cohort = try runMRD(["cohort", "--calls", out.appendingPathComponent("plain/calls.tsv").path, "--clinical", file.path,
                                     "-o", out.appendingPathComponent("cohort-\(name)").path], directory: out)
            #expect(cohort.status == 0, "\(cohort.stderr)")
        }
        #expect(try read(out.appendingPathComponent("cohort-windows/negativity.tsv")) == read(out.appendingPathComponent("cohort-plain/negativity.tsv")))
        #expect(try read(out.appendingPathComponent("cohort-windows/rfs.tsv")) == read(out.appendingPathComponent("cohort-plain/rfs.tsv")))

        // Semicolons and decimal commas: refused before any sample is read, nothing written.
        let semicolons = out.appendingPathComponent("sheet-semicolons.csv")
        try windows(rows.map { $0.map { $0.replacingOccurrences(of: ".5", with: ",5") }.joined(separator: ";") }.joined(separator: "\n"))
            .write(to: semicolons, atomically: true, encoding: .utf8)
        let refused = try runMRD(["run", semicolons.path, "-o", out.appendingPathComponent("refused").path, "--spike-ins", spikes.path], directory: out)
        #expect(refused.status == 65)
        #expect(refused.stderr.contains("sheet-semicolons.csv:1: missing columns patient_id") && refused.stderr.contains("semicolon-separated"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("refused/calls.tsv").path))
        // A spike-in table saved comma-separated.
        let commaSpikes = out.appendingPathComponent("spikes-commas.tsv")
        try spikeTable.replacingOccurrences(of: "\t", with: ",").write(to: commaSpikes, atomically: true, encoding: .utf8)
        let commas = try runMRD(["run", sheet.path, "-o", out.appendingPathComponent("commas").path, "--spike-ins", commaSpikes.path], directory: out)
        #expect(commas.status == 65)
        #expect(commas.stderr.contains("comma-separated: save it tab-separated"), "\(commas.stderr)")
    }

    @Test("pairs given as one interleaved file: read as the pairs they are, the same clones and calls as from mate files")
    func interleavedPairs() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let r1 = committedRun.appendingPathComponent("P002_DX_R1.fastq.gz").path, r2 = committedRun.appendingPathComponent("P002_DX_R2.fastq.gz").path
        let gzip = URL(fileURLWithPath: "/bin/gzip")
        func lines(_ path: String) throws -> [Substring] {
            try runProgram(gzip, ["-dc", path], directory: out).stdout.split(separator: "\n", omittingEmptySubsequences: false)
        }
        let (first, second) = (try lines(r1), try lines(r2))
        #expect(first.count == second.count && first.count > 4_000)
        var interleaved: [Substring] = []
        for record in stride(from: 0, to: first.count - 1, by: 4) {
            interleaved += first[record..<record + 4] + second[record..<record + 4]
        }
        let plain = out.appendingPathComponent("P002_DX_interleaved.fastq")
        try Data((interleaved.joined(separator: "\n") + "\n").utf8).write(to: plain)
        #expect(try runProgram(gzip, [plain.path], directory: out).status == 0)
        let packed = plain.path + ".gz"
        let spikes = committedRun.appendingPathComponent("spikes.tsv").path
        let mates = try runMRD(["baseline", r1, "--r2", r2, "--sample", "DX", "--spike-ins", spikes, "-o", out.appendingPathComponent("mates").path])
        let single = try runMRD(["baseline", packed, "--sample", "DX", "--spike-ins", spikes, "-o", out.appendingPathComponent("interleaved").path])
        #expect(mates.status == 0 && single.status == 0, "\(single.stderr)")
        for file in ["DX.clones.tsv", "DX.airr.tsv"] {
            let a = try Data(contentsOf: out.appendingPathComponent("mates/\(file)")), b = try Data(contentsOf: out.appendingPathComponent("interleaved/\(file)"))
            #expect(a == b, "\(file)")
        }
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("interleaved/DX.baseline.json"))) as! [String: Any]
        let mateSummary = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("mates/DX.baseline.json"))) as! [String: Any]
        #expect(summary["interleaved"] as? Bool == true && mateSummary["interleaved"] as? Bool == false)
        #expect(summary["read_pairs"] as? Int == first.count / 4 && summary["read_pairs"] as? Int == mateSummary["read_pairs"] as? Int)
        #expect(summary["merged_pairs"] as? Int == mateSummary["merged_pairs"] as? Int)
        #expect(single.stderr.contains("read as \(first.count / 4) pairs (one interleaved file per lane"), "\(single.stderr)")
        // The same file as a follow-up: the same counts as its mate files.
        let clones = out.appendingPathComponent("mates/DX.clones.tsv").path
        for (name, files) in [("FU_mates", [r1, "--r2", r2]), ("FU_interleaved", [packed])] {
            let track = try runMRD(["track"] + files + ["--clones", clones, "--sample", name, "--spike-ins", spikes, "--dna-ng", "500",
                                                        "-o", out.appendingPathComponent(name).path])
            #expect(track.status == 0, "\(track.stderr)")
        }
        let a = try String(contentsOf: out.appendingPathComponent("FU_mates/FU_mates.mrd.tsv"), encoding: .utf8)
        let b = try String(contentsOf: out.appendingPathComponent("FU_interleaved/FU_interleaved.mrd.tsv"), encoding: .utf8)
        #expect(a.replacingOccurrences(of: "FU_mates", with: "FU") == b.replacingOccurrences(of: "FU_interleaved", with: "FU"))
        let call = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("FU_interleaved/FU_interleaved.call.json"))) as! [String: Any]
        #expect(call["interleaved"] as? Bool == true && call["read_pairs"] as? Int == first.count / 4)
    }
}
