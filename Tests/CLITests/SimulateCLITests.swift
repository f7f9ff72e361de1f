import Foundation
import Testing

@Suite("mrd simulate through the real binary")
struct SimulateCLITests {
    @Test("the committed TestReads/run and TestReads/shm are exactly what their recorded commands make",
          arguments: ["run", "shm"])
    func committedRunIsReproducible(_ folder: String) throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let committed = packageRoot.appendingPathComponent("TestReads/\(folder)")
        // The command recorded in TestReads/<folder>/COMMAND, with the output folder replaced.
        let recorded = try String(contentsOf: committed.appendingPathComponent("COMMAND"), encoding: .utf8)
            .split(separator: "\n").first { $0.hasPrefix("mrd simulate ") }!.split(separator: " ").map(String.init)
        #expect(Array(recorded.prefix(4)) == ["mrd", "simulate", "--out", "TestReads/\(folder)"])
        let result = try runMRD(["simulate", "--out", out.path] + recorded.dropFirst(4))
        #expect(result.status == 0, "\(result.stderr)")
        let made = try FileManager.default.contentsOfDirectory(atPath: out.path).sorted()
        let kept = try FileManager.default.contentsOfDirectory(atPath: committed.path).filter { $0 != "COMMAND" }.sorted()
        #expect(made == kept)
        for file in made {
            #expect(try Data(contentsOf: out.appendingPathComponent(file)) == Data(contentsOf: committed.appendingPathComponent(file)),
                    "\(file) differs from TestReads/\(folder)")
        }
    }

    @Test("outputs: sheet, spikes, clinical, truth; reads readable by mrd stats")
    func outputs() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try runMRD(["simulate", "--out", out.path, "--seed", "5", "--patients", "2", "--reads", "600",
                                 "--clonotypes", "100", "--levels", "1e-2,0", "--umi", "10", "--paired", "-t", "1"])
        #expect(result.status == 0, "\(result.stderr)")
        let sheet = try String(contentsOf: out.appendingPathComponent("sheet.csv"), encoding: .utf8)
        #expect(sheet.hasPrefix("patient_id,sample_id,role,timepoint,day,r1,r2,dna_ng,cells\n"))
        #expect(sheet.contains("P002,P002_FU2,followup,month3,90,P002_FU2_R1.fastq.gz,P002_FU2_R2.fastq.gz,325,"))
        let spikes = parseTSV(try String(contentsOf: out.appendingPathComponent("spikes.tsv"), encoding: .utf8))
        #expect(spikes.count == 12)
        #expect(spikes.allSatisfy { Int($0["copies"]!)! > 0 && $0["sequence"]!.allSatisfy { "ACGT".contains($0) } })
        let truth = parseTSV(try String(contentsOf: out.appendingPathComponent("truth.tsv"), encoding: .utf8))
        #expect(truth.filter { $0["role"] == "followup" }.map { $0["true_mrd_level"]! } == ["0.01", "0", "0.01", "0"])
        let clinical = try String(contentsOf: out.appendingPathComponent("clinical.csv"), encoding: .utf8)
        #expect(clinical.hasPrefix("patient_id,rfs_days,rfs_event"))
        let stats = try runMRD(["stats", "P002_FU1_R1.fastq.gz", "--r2", "P002_FU1_R2.fastq.gz"], directory: out)
        #expect(stats.status == 0)
        let rows = parseTSV(stats.stdout)
        #expect(rows[0]["reads"] == truth.first { $0["sample_id"] == "P002_FU1" }!["total_reads"])
        #expect(Int(rows[0]["max_len"]!)! == 150)
    }

    @Test("--quality sets the mean Phred score at the first and last cycle: 34-10 gives lower qualities and mostly distinct reads")
    func qualityProfile() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        var meanQuality: [String: Double] = [:], distinctShare: [String: Double] = [:]
        for profile in ["37-24", "34-10"] {
            let folder = out.appendingPathComponent(profile)
            let result = try runMRD(["simulate", "--out", folder.path, "--seed", "3", "--patients", "1", "--levels", "0", "--reads", "3000",
                                     "--quality", profile, "--no-controls", "-t", "1"])
            #expect(result.status == 0, "\(result.stderr)")
            let stats = parseTSV(try runMRD(["stats", "P001_DX_R1.fastq.gz"], directory: folder).stdout)
            meanQuality[profile] = Double(stats[0]["mean_qual"]!)!
            let reads = try runMRD(["annotate", "P001_DX_R1.fastq.gz", "-o", "reads.tsv", "--quiet"], directory: folder)
            #expect(reads.status == 0)
            let rows = parseTSV(try String(contentsOf: folder.appendingPathComponent("reads.tsv"), encoding: .utf8))
            distinctShare[profile] = Double(Set(rows.map { $0["sequence"]! }).count) / Double(rows.count)
        }
        // Means of a quadratic fall from start to end: 37-24 about 32.7, 34-10 about 26.
        #expect(abs(meanQuality["37-24"]! - 32.7) < 1.0, "\(meanQuality)")
        #expect(abs(meanQuality["34-10"]! - 26.0) < 1.5, "\(meanQuality)")
        #expect(distinctShare["34-10"]! > 0.75 && distinctShare["34-10"]! > distinctShare["37-24"]! + 0.2, "\(distinctShare)")
    }

    @Test("bad options exit 64 with a message")
    func badOptions() throws {
        for arguments in [["--levels", "2"], ["--loci", "IGX"], ["--patients", "0"], ["--spike-copies", "a"], ["--quality", "50-3"],
                          ["--quality", "30"]] {
            let result = try runMRD(["simulate", "--out", "/tmp/never-written"] + arguments)
            #expect(result.status == 64, "\(arguments)")
            #expect(!result.stderr.isEmpty)
        }
        #expect(!FileManager.default.fileExists(atPath: "/tmp/never-written"))
    }

    @Test("an output folder that cannot be written is an I/O error (exit 74), no file left behind")
    func unwritableOutput() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let blocker = out.appendingPathComponent("file")
        try Data("x".utf8).write(to: blocker)
        let result = try runMRD(["simulate", "--out", blocker.appendingPathComponent("sub").path, "--reads", "10"])
        #expect(result.status == 74)
        #expect(result.stderr.hasPrefix("mrd: error: \(blocker.path)/sub: cannot create the output folder"), "\(result.stderr)")
    }

    @Test("a normal near-neighbour always differs from its index clone (two substitutions at one position once restored it)")
    func neighboursDiffer() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        for seed in [502, 503, 504] {
            let sim = out.appendingPathComponent("sim\(seed)")
            let made = try runMRD(["simulate", "--out", sim.path, "--seed", "\(seed)", "--patients", "4", "--levels", "1e-2,1e-3,1e-4,0",
                                   "--reads", "500", "--cells", "200000", "--locus-efficiency", "IGH=0.3,TRB=3", "--spike-loci", "IGH,TRB",
                                   "--no-controls", "-t", "2"], directory: out)
            #expect(made.status == 0, "\(made.stderr)")
            let clones = parseTSV(try String(contentsOf: sim.appendingPathComponent("truth_clones.tsv"), encoding: .utf8))
            var amplicons: [String: String] = [:]
            for row in clones where row["leukemic"] == "T" { amplicons[row["clone_id"]!] = row["amplicon"]! }
            let neighbours = clones.filter { $0["clone_id"]!.contains("_nn") }
            #expect(neighbours.count == 2 * amplicons.count)
            for row in neighbours {
                let parent = String(row["clone_id"]!.split(separator: "_").prefix(3).joined(separator: "_"))
                #expect(row["amplicon"] != amplicons[parent], "seed \(seed): \(row["clone_id"]!) is \(parent)")
            }
        }
    }
}
