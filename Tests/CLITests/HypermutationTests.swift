import Foundation
import Testing

/// TestReads/shm: FR1 amplicons of hypermutated IG clones sequenced as overlapping 2x300 pairs.
@Suite("hypermutated V, FR1 amplicons, 2x300 pairs (TestReads/shm) through mrd run")
struct HypermutationTests {
    @Test("every leukemic clone found with its true V gene and V identity; pairs merged; follow-ups positive near 1e-2")
    func shmRun() throws {
        let fixture = packageRoot.appendingPathComponent("TestReads/shm")
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let result = try runMRD(["run", "sheet.csv", "-o", out.path, "--spike-ins", "spikes.tsv", "--quiet"], directory: fixture)
        #expect(result.status == 0, "\(result.stderr)")
        let truth = parseTSV(try String(contentsOf: fixture.appendingPathComponent("truth_clones.tsv"), encoding: .utf8))
        let leukemic = truth.filter { $0["leukemic"] == "T" }
        #expect(leukemic.count == 4)
        #expect(leukemic.contains { Double($0["v_identity"]!)! < 0.9 }, "the fixture holds a clone under 90% V identity")
        for clone in leukemic {
            let sample = "\(clone["patient_id"]!)_DX"
            let folder = out.appendingPathComponent("samples/\(sample)")
            let clones = parseTSV(try String(contentsOf: folder.appendingPathComponent("\(sample).clones.tsv"), encoding: .utf8))
            let found = try #require(clones.first { $0["junction"] == clone["junction"] }, "\(clone["clone_id"]!) not found")
            // Trackable, except a light-chain junction with too few untemplated bases (by design: normal
            // cells make such junctions again).
            let nearlyGermline = clone["locus"] != "IGH" && found["not_trackable_reason"]!.hasPrefix("junction nearly germline")
            #expect(found["trackable"] == "T" || nearlyGermline, "\(clone["clone_id"]!): \(found["not_trackable_reason"] ?? "")")
            let gene = clone["v_call"]!.split(separator: "*")[0]
            let called = Set(found["v_call"]!.split(separator: ",").map { $0.split(separator: "*")[0] })
            #expect(called.contains(gene), "\(clone["clone_id"]!): V \(found["v_call"]!), truth \(clone["v_call"]!)")
            let airr = parseTSV(try String(contentsOf: folder.appendingPathComponent("\(sample).airr.tsv"), encoding: .utf8))
            let row = try #require(airr.first { $0["sequence_id"] == found["clone_id"] })
            let identity = try #require(Double(row["v_identity"] ?? ""))
            // The representative read carries sequencing errors on top of the simulated SHM.
            #expect(abs(identity - Double(clone["v_identity"]!)!) < 0.03, "\(clone["clone_id"]!): \(identity) vs \(clone["v_identity"]!)")
            let summary = try #require(try JSONSerialization.jsonObject(
                with: Data(contentsOf: folder.appendingPathComponent("\(sample).baseline.json"))) as? [String: Any])
            let pairs = try #require(summary["read_pairs"] as? Int), merged = try #require(summary["merged_pairs"] as? Int)
            #expect(pairs > 600 && Double(merged) >= 0.95 * Double(pairs), "\(merged) of \(pairs) merged")
        }
        let calls = parseTSV(try String(contentsOf: out.appendingPathComponent("calls.tsv"), encoding: .utf8))
        #expect(calls.count == 2)
        for call in calls {
            #expect(call["call"] == "positive", "\(call["sample_id"]!): \(call["reason"] ?? "")")
            let level = try #require(Double(call["mrd_level"] ?? ""))
            #expect(level > 0.5e-2 && level < 2e-2, "\(call["sample_id"]!): \(level)")
        }
    }
}
