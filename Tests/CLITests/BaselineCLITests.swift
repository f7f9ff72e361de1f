import Foundation
import Testing

@Suite("mrd baseline through the real binary")
struct BaselineCLITests {
    let run = packageRoot.appendingPathComponent("TestReads/run")

    @Test("writes clones.tsv, airr.tsv (accepted by airr-tools) and baseline.json")
    func outputs() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try runMRD(["baseline", "P002_DX_R1.fastq.gz", "--r2", "P002_DX_R2.fastq.gz", "--sample", "P002_DX",
                                 "-o", out.path, "--spike-ins", "spikes.tsv", "-t", "2"], directory: run)
        #expect(result.status == 0, "\(result.stderr)")
        let clones = try String(contentsOf: out.appendingPathComponent("P002_DX.clones.tsv"), encoding: .utf8)
        #expect(clones.hasPrefix("clone_id\tsample_id\tlocus\tv_call\td_call\tj_call\tjunction\tjunction_aa\tjunction_length\t"
                                 + "productive\tclone_count\tclone_fraction\tlocus_reads\ttrackable\ttarget\trearrangement\t"
                                 + "nearest_clone_id\tnearest_distance\tnot_trackable_reason\tuntemplated_nt\tcoverage\tv_identity\tupstream\n"))
        let rows = parseTSV(clones)
        let trackable = rows.filter { $0["trackable"] == "T" }
        #expect(trackable.count >= 2)
        for row in trackable {
            #expect(row["target"]!.contains(row["junction"]!))
            #expect(Double(row["clone_fraction"]!)! >= 0.05 && Int(row["clone_count"]!)! >= 20)
            #expect(row["not_trackable_reason"] == "")
            // The nearest clonotype, when named, is another row of the same locus.
            if let nearest = row["nearest_clone_id"], !nearest.isEmpty {
                #expect(rows.first { $0["clone_id"] == nearest }?["locus"] == row["locus"])
                #expect(Int(row["nearest_distance"]!)! >= 1)
            }
        }
        // Dominant clones that are not trackable say why.
        for row in rows where row["trackable"] == "F" && Double(row["clone_fraction"]!)! >= 0.05 {
            #expect(!row["not_trackable_reason"]!.isEmpty)
        }
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("P002_DX.baseline.json"))) as! [String: Any]
        #expect(json["sample_id"] as? String == "P002_DX")
        #expect(json["version"] as? String == "0.2.0")
        let total = json["total_reads"] as! Int
        let unassigned = (json["unassigned_reads"] as! [String: Int]).values.reduce(0, +)
        #expect(total == (json["assigned_reads"] as! Int) + (json["spike_in_reads"] as! Int) + unassigned)
        #expect((json["trackable"] as! [String]) == trackable.map { $0["clone_id"]! })

        // The AIRR Community's validator (installed by Scripts/setup).
        let validator = Process()
        validator.executableURL = projectTool("airr-tools")
        validator.arguments = ["validate", "rearrangement", "-a", out.appendingPathComponent("P002_DX.airr.tsv").path]
        validator.standardOutput = FileHandle.nullDevice
        validator.standardError = FileHandle.nullDevice
        try validator.run()
        validator.waitUntilExit()
        #expect(validator.terminationStatus == 0, "airr-tools rejected P002_DX.airr.tsv (or is not installed: Scripts/setup)")
        // Checks of our own: every row's junction lies in its sequence (turned V-to-J) and counts add up.
        let airr = parseTSV(try String(contentsOf: out.appendingPathComponent("P002_DX.airr.tsv"), encoding: .utf8))
        #expect(airr.count == rows.count)
        for row in airr.prefix(200) {
            let sequence = row["sequence"]!
            #expect(sequence.contains(row["junction"]!))
            #expect(Int(row["junction_length"]!) == row["junction"]!.count)
            #expect(row["clone_id"] == row["sequence_id"])
            // Checks the validator does not make: coordinates and CIGARs agree with the sequence,
            // and the junction's conserved codons lie inside the V and J alignments.
            let junctionStart = sequence.range(of: row["junction"]!).map { sequence.distance(from: sequence.startIndex, to: $0.lowerBound) }!
            let junctionEnd = junctionStart + row["junction"]!.count
            for gene in ["v", "j"] where !row["\(gene)_cigar"]!.isEmpty {
                let start = Int(row["\(gene)_sequence_start"]!)!, end = Int(row["\(gene)_sequence_end"]!)!
                let germlineStart = Int(row["\(gene)_germline_start"]!)!, germlineEnd = Int(row["\(gene)_germline_end"]!)!
                #expect(1 <= start && start <= end && end <= sequence.count)
                var counts: [Character: Int] = [:]
                var number = 0
                for ch in row["\(gene)_cigar"]! {
                    if let digit = ch.wholeNumberValue { number = number * 10 + digit } else { counts[ch, default: 0] += number; number = 0 }
                }
                // Read bases are M + I, germline bases M + D (gapped V alignments).
                #expect(counts["M"]! + (counts["I"] ?? 0) == end - start + 1)
                #expect(counts["M"]! + (counts["D"] ?? 0) == germlineEnd - germlineStart + 1)
                #expect((counts["S"] ?? 0) + counts["M"]! + (counts["I"] ?? 0) == sequence.count)
                if gene == "v", let identity = Double(row["v_identity"]!) {
                    #expect(identity > 0.7 && identity <= 1)
                    #expect(row["sequence_alignment"]!.count == row["germline_alignment"]!.count)
                }
                #expect((counts["N"] ?? 0) == germlineStart - 1)
                if gene == "v" { #expect(start <= junctionStart + 1 && end >= junctionStart + 3) }
                if gene == "j" { #expect(start <= junctionEnd - 2 && end >= junctionEnd) }
            }
        }
        #expect(airr.map { Int($0["duplicate_count"]!)! }.reduce(0, +) == json["assigned_reads"] as! Int)
    }

    @Test("bad ids, missing reads and a bad spike table are refused with the contract's exit codes")
    func errors() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        #expect(try runMRD(["baseline", "P001_DX_R1.fastq.gz", "--sample", "../x", "-o", out.path], directory: run).status == 64)
        #expect(try runMRD(["baseline", "P001_DX_R1.fastq.gz", "--sample", "<script>", "-o", out.path], directory: run).status == 64)
        let missing = try runMRD(["baseline", "nope.fastq.gz", "--sample", "S1", "-o", out.path], directory: run)
        #expect(missing.status == 66)
        #expect(missing.stderr.hasPrefix("mrd: error: nope.fastq.gz: no such file"))
        let spikes = out.appendingPathComponent("spikes.tsv")
        try Data("spike_id\tsequence\tcopies\nS1\tACGT\t10\n".utf8).write(to: spikes)
        let bad = try runMRD(["baseline", "P001_DX_R1.fastq.gz", "--sample", "S1", "-o", out.path, "--spike-ins", spikes.path], directory: run)
        #expect(bad.status == 65)
        #expect(bad.stderr.contains("spikes.tsv:2: spike 'S1': expected a sequence of A/C/G/T, 30 nt or longer"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path) == ["spikes.tsv"], "no output on failure")
    }

    @Test("no rearrangement found: baseline.json says why, exit 0; a missing germline folder exits 66")
    func nothingFound() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let reads = out.appendingPathComponent("offtarget.fastq")
        var text = ""
        var state: UInt64 = 7
        for i in 0..<200 {
            var bases = ""
            for _ in 0..<150 {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                bases.append(["A", "C", "G", "T"][Int(state >> 62)])
            }
            text += "@r\(i)\n\(bases)\n+\n\(String(repeating: "I", count: 150))\n"
        }
        try Data(text.utf8).write(to: reads)
        let result = try runMRD(["baseline", reads.path, "--sample", "OFF", "-o", out.path])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("OFF.baseline.json"))) as! [String: Any]
        #expect((json["trackable"] as! [String]).isEmpty)
        #expect((json["no_trackable_reason"] as? String)?.contains("no clonotype reaches") == true)
        #expect((json["unassigned_reads"] as! [String: Int])["no_germline_hit"]! + (json["unassigned_reads"] as! [String: Int]).values.reduce(0, +) > 0)
        #expect(json["total_reads"] as? Int == 200)
        let clones = try String(contentsOf: out.appendingPathComponent("OFF.clones.tsv"), encoding: .utf8)
        #expect(!clones.contains("\tT\t"))
        let germline = try runMRD(["baseline", reads.path, "--sample", "OFF", "-o", out.path, "--germline", "/nonexistent/germline"])
        #expect(germline.status == 66)
        #expect(germline.stderr.hasPrefix("mrd: error: /nonexistent/germline/human/"), "\(germline.stderr)")
    }

    @Test("1x100 reads of FR3 amplicons: reads_short_of_junction in baseline.json and on stderr even with --quiet; 150-nt reads do not")
    func readsShortOfJunction() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        var flags: [Int: [String]] = [:]
        for length in [100, 150] {
            let sim = out.appendingPathComponent("sim\(length)")
            let made = try runMRD(["simulate", "--out", sim.path, "--seed", "112", "--patients", "1", "--levels", "0", "--reads", "6000",
                                   "--read-length", "\(length)", "--no-controls", "--paired-samples", "", "-t", "2"], directory: out)
            #expect(made.status == 0, "\(made.stderr)")
            let result = try runMRD(["baseline", sim.appendingPathComponent("P001_DX_R1.fastq.gz").path, "--sample", "P001_DX",
                                     "--spike-ins", sim.appendingPathComponent("spikes.tsv").path, "-o", out.appendingPathComponent("dx\(length)").path, "--quiet"])
            #expect(result.status == 0, "\(result.stderr)")
            let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("dx\(length)/P001_DX.baseline.json"))) as! [String: Any]
            flags[length] = summary["qc_flags"] as? [String] ?? []
            #expect(result.stderr.contains("reads_short_of_junction") == (length == 100), "\(length): \(result.stderr)")
        }
        #expect(flags[100]!.contains("reads_short_of_junction") && !flags[150]!.contains("reads_short_of_junction"), "\(flags)")
    }

    @Test("2x150 pairs of FR1 amplicons (mates not overlapping): the V-side mates decide the V alleles the junction side left tied")
    func vCalledFromMates() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let sim = try simulatedRun(["--seed", "77", "--patients", "6", "--levels", "1e-2", "--amplicon", "fr1", "--read-length", "150",
                                    "--paired", "--loci", "IGH,IGK,TRB,TRG", "--reads", "6000", "--bzip2-samples", ""], in: out)
        let truth = parseTSV(try String(contentsOf: sim.appendingPathComponent("truth_clones.tsv"), encoding: .utf8))
            .filter { $0["leukemic"] == "T" && !$0["v_call"]!.isEmpty }
        var exact = 0, found = 0
        for patient in 1...6 {
            let id = "P00\(patient)_DX"
            var tables: [String] = []
            for threads in ["1", "2"] {
                let dir = out.appendingPathComponent("\(id)-\(threads)")
                let run = try runMRD(["baseline", sim.appendingPathComponent("\(id)_R1.fastq.gz").path, "--r2", sim.appendingPathComponent("\(id)_R2.fastq.gz").path,
                                      "--sample", id, "--spike-ins", sim.appendingPathComponent("spikes.tsv").path, "-t", threads, "-o", dir.path, "--quiet"])
                #expect(run.status == 0, "\(run.stderr)")
                tables.append(try String(contentsOf: dir.appendingPathComponent("\(id).clones.tsv"), encoding: .utf8))
            }
            #expect(tables[0] == tables[1], "\(id): the same calls whatever the thread count")
            let clones = parseTSV(tables[0])
            for leukemic in truth where leukemic["patient_id"] == "P00\(patient)" {
                guard let clone = clones.first(where: { $0["junction"] == leukemic["junction"] }) else { continue }
                found += 1
                let calls = clone["v_call"]!.split(separator: ",").map(String.init)
                // The true allele stays in the call, alone where the mates tell it.
                #expect(calls.contains(leukemic["v_call"]!), "\(leukemic["clone_id"]!): \(calls)")
                if calls == [leukemic["v_call"]!] { exact += 1 }
            }
        }
        // Measured: 12 clones with a V found, 11-12 called exactly (6 before: IGHV4-30-2*01 was tied
        // with 8 alleles of IGHV4-30-4, 4-39, 4-4 and 4-59 on the 60 nt of V that read 2 holds).
        #expect(found == 12 && exact >= 11, "\(exact) of \(found)")
    }
}
