import Foundation
import Testing

/// Whole simulated runs outside the committed designs, each of which once gave a confident wrong
/// answer (or failed): `mrd simulate` then `mrd run`, every follow-up's call held to the truth. No
/// positive with qc_pass T at truth 0; no negative with qc_pass T over 10 true leukemic reads (a
/// detection below the threshold is a negative by the contract); no quantifiable level with
/// qc_pass T more than 3x off (the one known exception is named).
@Suite("Simulated runs of other designs: no confident wrong call")
struct DesignSweepTests {
    struct Design: Sendable, CustomStringConvertible {
        var name: String
        var arguments: [String]
        /// Follow-ups whose level is allowed off by more than 3x, and why.
        var knownLevelOff: [String: String] = [:]
        var description: String { name }
    }

    static let designs: [Design] = [
        // A normal TRB clone (8.4% of TRB) beside a B-ALL whose TRG marker out-shared its IGH one,
        // and another (25% of the IGH templates) in a second patient; paired lanes and bzip2.
        Design(name: "paired lanes, bzip2, normal T-cell clones",
               arguments: ["--seed", "120", "--paired", "--lane-split-samples", "P001_DX,P002_FU1,P003_FU2",
                           "--bzip2-samples", "P001_FU1,P002_DX"],
               knownLevelOff: ["P003_FU1": "the normal TRB clone outreads the leukemia at induction; the call (positive) is right"]),
        // A normal IGH clone beside a B-ALL whose IGK and TRG markers are nearly germline; 2x250 FR2.
        Design(name: "IGK first, FR2 2x250, normal IGH clone", arguments: ["--seed", "204", "--loci", "IGK,TRG,IGH", "--read-length", "250",
                                                                        "--paired", "--amplicon", "fr2"]),
        // A normal TRD clone beside a T-ALL; poor qualities.
        Design(name: "T-ALL, Q34-14, normal TRD clone", arguments: ["--seed", "205", "--loci", "TRB,TRG,TRD", "--quality", "34-14"]),
        // A paired diagnosis whose read 2 ran longer than read 1 over a batch (the sample failed).
        Design(name: "TRB first, paired diagnosis", arguments: ["--seed", "104", "--loci", "TRB,IGH", "--locus-efficiency", "TRB=3"]),
        Design(name: "FR2 2x250", arguments: ["--seed", "106", "--amplicon", "fr2", "--read-length", "250", "--paired", "--loci", "IGH,TRB"]),
        // 30,000 cells and 12,000 reads (half a read per template): two reads hopped from the
        // patient's own samples were a positive at 1.3e-4 with qc_pass T, truth 0.
        Design(name: "low input, shallow", arguments: ["--seed", "603", "--cells", "30000", "--reads", "12000"]),
        // A normal IGK clone (15% of IGK, 40% of the IGH marker's templates) beside a B-ALL; FR1 2x300, SHM.
        Design(name: "FR1 2x300 with SHM, normal IGK clone",
               arguments: ["--seed", "402", "--amplicon", "fr1", "--read-length", "300", "--paired", "--shm", "0.9", "--loci", "IGH,IGK,TRG"],
               knownLevelOff: ["P002_FU2": "the normal IGK clone outreads the leukemia's 1e-3; the call (positive) is right"]),
        // A normal TRD clone (TRAV23/DV6-TRDJ4, 18% of TRD) beside a T-ALL's TRB marker: at 4.9% it
        // set the induction level 4.8x high (the TRB marker at 1.1%, 12-fold from their diagnosis
        // ratio); FR1 2x300.
        Design(name: "T-ALL, FR1 2x300, normal TRD clone",
               arguments: ["--seed", "1022", "--reads", "40000", "--cells", "300000", "--amplicon", "fr1", "--read-length", "300",
                           "--loci", "TRB,TRG,TRD", "--index-hopping", "0.001", "--paired"]),
    ]

    @Test("every follow-up against the truth", arguments: designs)
    func noConfidentWrongCall(_ design: Design) throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let sim = out.appendingPathComponent("sim")
        let made = try runMRD(["simulate", "--out", sim.path, "--patients", "4", "--levels", "1e-2,1e-3,1e-4,0", "--reads", "20000",
                               "--cells", "200000", "-t", "2"] + design.arguments, directory: out)
        // (A later --cells or --reads in the design's arguments wins.)
        #expect(made.status == 0, "\(made.stderr)")
        let run = try runMRD(["run", sim.appendingPathComponent("sheet.csv").path, "-o", out.appendingPathComponent("run").path,
                              "--spike-ins", sim.appendingPathComponent("spikes.tsv").path, "-t", "2", "--quiet"], directory: out)
        #expect(run.status == 0, "\(run.stderr)")
        var truth: [String: [String: String]] = [:]
        for row in parseTSV(try String(contentsOf: sim.appendingPathComponent("truth.tsv"), encoding: .utf8)) { truth[row["sample_id"]!] = row }
        let calls = parseTSV(try String(contentsOf: out.appendingPathComponent("run/calls.tsv"), encoding: .utf8))
        #expect(calls.count == 16)
        var positives = 0
        for call in calls {
            let sample = call["sample_id"]!, t = truth[sample]!
            let level = Double(t["true_mrd_level"]!) ?? 0
            let trueReads = Int(t["leukemic_reads"]!)! + Int(t["evolved_reads"]!)!
            let confident = call["qc_pass"] == "T"
            let what = "\(sample): truth \(level) (\(trueReads) reads), \(call["call"]!)/\(call["call_detail"]!) at \(call["mrd_level"]!), flags \(call["qc_flags"]!)"
            if call["call"] == "positive" { positives += 1 }
            #expect(!(confident && call["call"] == "positive" && level == 0), "false positive: \(what)")
            #expect(!(confident && call["call"] == "negative" && call["call_detail"] != "detected_below_threshold" && trueReads >= 10),
                    "false negative: \(what)")
            if confident, call["call_detail"] == "quantifiable", level > 0, let measured = Double(call["mrd_level"]!),
               design.knownLevelOff[sample] == nil {
                #expect(measured / level < 3 && measured / level > 1.0 / 3, "level off: \(what)")
            }
        }
        // The 1e-2 and 1e-3 follow-ups of patients with a trackable marker are found (some designs
        // leave a patient without one: its leukemic junctions nearly germline).
        #expect(positives >= 4, "\(positives) positives")
    }

    /// P002's diagnosis is read as merged 2x150 pairs (the simulator's default paired sample) and
    /// its follow-ups single-end: its IGH marker's 85-nt junction is spanned whole at diagnosis
    /// (coverage 1) but only from the J end in the follow-ups, which read 2x low (0.0046 for 0.0098,
    /// qc_pass T) until the follow-up checked coverage with its own reads.
    @Test("a diagnosis of merged pairs, single-end follow-ups, a long IGH junction: levels by the follow-up's own coverage")
    func singleEndAfterPairs() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let sim = try simulatedRun(["--seed", "1007", "--patients", "2", "--levels", "1e-2,1e-3", "--reads", "40000", "--cells", "100000",
                                    "--index-hopping", "0", "-t", "2"], in: out)
        let run = try runMRD(["run", sim.appendingPathComponent("sheet.csv").path, "-o", out.appendingPathComponent("run").path,
                              "--spike-ins", sim.appendingPathComponent("spikes.tsv").path, "-t", "2", "--quiet"], directory: out)
        #expect(run.status == 0, "\(run.stderr)")
        let clones = parseTSV(try String(contentsOf: out.appendingPathComponent("run/samples/P002_DX/P002_DX.clones.tsv"), encoding: .utf8))
        let marker = try #require(clones.first { $0["trackable"] == "T" && $0["locus"] == "IGH" })
        #expect(marker["junction"]!.count == 85 && marker["coverage"] == "1", "\(marker)")
        var truth: [String: Double] = [:]
        for row in parseTSV(try String(contentsOf: sim.appendingPathComponent("truth.tsv"), encoding: .utf8)) where row["role"] == "followup" {
            truth[row["sample_id"]!] = Double(row["leukemic_cells"]!)! / Double(row["cells"]!)!
        }
        let calls = parseTSV(try String(contentsOf: out.appendingPathComponent("run/calls.tsv"), encoding: .utf8))
        #expect(calls.count == 4)
        for call in calls {
            let sample = call["sample_id"]!, level = Double(call["mrd_level"]!)!, flagged = call["qc_flags"]!.contains("coverage_from_sample")
            #expect(call["call"] == "positive" && call["qc_pass"] == "T", "\(sample): \(call)")
            // P002's follow-ups are corrected (the induction sample within 1.5x of its true level);
            // P001's diagnosis and follow-ups agree, and are left alone.
            #expect(flagged == sample.hasPrefix("P002"), "\(sample): \(call["qc_flags"]!)")
            if call["call_detail"] == "quantifiable" {
                #expect(level / truth[sample]! < 1.5 && level / truth[sample]! > 1 / 1.5, "\(sample): \(level) for \(truth[sample]!)")
            }
        }
        #expect(calls.first { $0["sample_id"] == "P002_FU1" }?["call_detail"] == "quantifiable")
    }

    /// IGH FR2 amplicons read 2x150 (mates do not overlap): an 87-nt junction is read by the J-side
    /// mate of every pair, in either orientation of the pair. Counted in the mate's own orientation,
    /// every such read looked like one orientation (coverage 0.5): the IGH marker's templates 2x
    /// those of the TRB marker of the same cells (a sweep of quality-trimmed reads: 3.9e-3 for 1.3e-3,
    /// qc_pass T). In the pair's orientation the clone has coverage 1 and the two markers agree.
    @Test("2x150 pairs of FR2 amplicons, a long IGH junction read only by the J-side mate: coverage 1, the markers agree")
    func mateOrientation() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let sim = try simulatedRun(["--seed", "3018", "--patients", "4", "--levels", "1e-2,1e-3,1e-4,0", "--cells", "20000", "--reads", "4000",
                                    "--read-length", "150", "--amplicon", "fr2", "--loci", "IGH,TRB", "--paired", "--paired-samples", "",
                                    "--bzip2-samples", "", "-t", "2"], in: out)
        func path(_ name: String) -> String { sim.appendingPathComponent(name).path }
        let baseline = try runMRD(["baseline", path("P002_DX_R1.fastq.gz"), "--r2", path("P002_DX_R2.fastq.gz"), "--sample", "P002_DX",
                                   "--spike-ins", path("spikes.tsv"), "-o", out.appendingPathComponent("dx").path, "--quiet"], directory: out)
        #expect(baseline.status == 0, "\(baseline.stderr)")
        let clones = parseTSV(try String(contentsOf: out.appendingPathComponent("dx/P002_DX.clones.tsv"), encoding: .utf8))
        let igh = try #require(clones.first { $0["trackable"] == "T" && $0["locus"] == "IGH" })
        #expect(igh["junction"]!.count == 87 && igh["coverage"] == "1", "\(igh)")
        let track = try runMRD(["track", path("P002_FU1_R1.fastq.gz"), "--r2", path("P002_FU1_R2.fastq.gz"), "--clones",
                                out.appendingPathComponent("dx/P002_DX.clones.tsv").path, "--sample", "FU1", "--spike-ins", path("spikes.tsv"),
                                "--cells", "20000", "-o", out.appendingPathComponent("fu1").path], directory: out)
        #expect(track.status == 0, "\(track.stderr)")
        let rows = parseTSV(try String(contentsOf: out.appendingPathComponent("fu1/FU1.mrd.tsv"), encoding: .utf8))
        let levels = Dictionary(uniqueKeysWithValues: rows.map { ($0["locus"]!, Double($0["mrd_level"]!)!) })
        let truth = parseTSV(try String(contentsOf: sim.appendingPathComponent("truth.tsv"), encoding: .utf8)).first { $0["sample_id"] == "P002_FU1" }!
        let level = Double(truth["leukemic_cells"]!)! / Double(truth["cells"]!)!
        // Measured: IGH 0.0089, TRB 0.0086, truth 0.0098 (IGH 0.018 before).
        for locus in ["IGH", "TRB"] {
            let ratio = levels[locus]! / level
            #expect(ratio > 1 / 1.5 && ratio < 1.5, "\(locus): \(levels[locus]!) for \(level)")
        }
    }
}
