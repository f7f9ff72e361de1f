import Foundation
import Testing

/// The rows of a simple CSV (no quoted fields) as dictionaries keyed by the header.
private func parseCSV(_ text: String) -> [[String: String]] {
    var lines = text.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
    guard !lines.isEmpty else { return [] }
    let header = lines.removeFirst()
    return lines.map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
}

@Suite("mrd cohort: competing risks, Cox and overall survival through the real binary")
struct CompetingRisksCLITests {
    @Test("the contract-v3 files agree with each other and with rfs.tsv; no event_type, no cir.tsv; separation said in words")
    func competingRisksCoxAndOS() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let simulate = try runMRD(["simulate", "--cohort", "seed-study", "--out", out.path, "--seed", "3"], directory: out)
        #expect(simulate.status == 0, "\(simulate.stderr)")
        let clinicalText = try String(contentsOf: out.appendingPathComponent("clinical.csv"), encoding: .utf8)
        #expect(clinicalText.hasPrefix("patient_id,rfs_days,rfs_event,event_type,os_days,os_event,ph_status,risk_group\n"))
        let clinical = parseCSV(clinicalText)
        #expect(clinical.contains { $0["event_type"] == "death" } && clinical.contains { $0["event_type"] == "relapse" })
        let result = try runMRD(["cohort", "--calls", "calls.tsv", "--clinical", "clinical.csv", "-o", "out", "--covariates", "ph_status,risk_group",
                                 "--landmarks", "induction=35,month3=90,month6=180"], directory: out)
        #expect(result.status == 0, "\(result.stderr)")
        func text(_ name: String) throws -> String { try String(contentsOf: out.appendingPathComponent(name), encoding: .utf8) }
        #expect(try text("out/cir.tsv").hasPrefix("landmark\tmrd_status\tn\trelapses\tdeaths\tcir_at_horizon\tci_low\tci_high\tgray_p\n"))
        #expect(try text("out/cif.tsv").hasPrefix("landmark\tmrd_status\ttime\tcif_relapse\tcif_death"))
        #expect(try text("out/cox.tsv").hasPrefix("landmark\tterm\thr\tci_low\tci_high\tp\tn\tevents\tph_p"))
        #expect(try text("out/os.tsv").hasPrefix("landmark\tmrd_status\tn\tevents\tos_at_horizon\tci_low\tci_high\tlogrank_p\n"))
        let rfs = parseTSV(try text("out/rfs.tsv")), cir = parseTSV(try text("out/cir.tsv")), cox = parseTSV(try text("out/cox.tsv"))
        let os = parseTSV(try text("out/os.tsv")), cif = parseTSV(try text("out/cif.tsv"))
        #expect(cir.count == 6 && os.count == 6 && cox.count == 9)
        #expect(cox.map { $0["term"]! } == Array(repeating: ["mrd_positive", "ph_status=positive", "risk_group=standard"], count: 3).flatMap { $0 })
        for row in cir {
            // The patients of rfs.tsv; relapses + deaths = its events; CIR + death incidence = 1 - RFS at the horizon.
            let same = rfs.first { $0["landmark"] == row["landmark"] && $0["mrd_status"] == row["mrd_status"] }!
            #expect(row["n"] == same["n"] && Int(row["relapses"]!)! + Int(row["deaths"]!)! == Int(same["events"]!)!)
            let relapse = Double(row["cir_at_horizon"]!)!
            let lastStep = cif.last { $0["landmark"] == row["landmark"] && $0["mrd_status"] == row["mrd_status"] && Double($0["time"]!)! <= 730 }!
            #expect(abs(relapse + Double(lastStep["cif_death"]!)! - (1 - Double(same["rfs_at_horizon"]!)!)) < 1e-9, "\(row)")
            #expect(Double(row["ci_low"]!)! < relapse && relapse < Double(row["ci_high"]!)!)
            #expect((0...1).contains(Double(row["gray_p"]!)!))
        }
        for row in os {
            let rfsRow = rfs.first { $0["landmark"] == row["landmark"] && $0["mrd_status"] == row["mrd_status"] }!
            #expect(Double(row["os_at_horizon"]!)! >= Double(rfsRow["rfs_at_horizon"]!)! - 0.05)
        }
        for row in cox {
            let hr = Double(row["hr"]!)!, low = Double(row["ci_low"]!)!, high = Double(row["ci_high"]!)!
            #expect(low < hr && hr < high && row["note"] == "", "\(row)")
        }
        #expect(cox.filter { $0["term"] == "mrd_positive" }.allSatisfy { Double($0["hr"]!)! > 1 })
        let html = try text("out/cohort.html")
        for part in ["Cumulative incidence of relapse", "Forest plot", "Overall survival", "Gray's p", "At risk"] {
            #expect(html.contains(part), "\(part)")
        }

        // Without event_type or os columns: no cir.tsv / os.tsv (stale copies removed), said on stderr.
        let plain = clinical.map { [$0["patient_id"]!, $0["rfs_days"]!, $0["rfs_event"]!, $0["ph_status"]!].joined(separator: ",") }
        try ("patient_id,rfs_days,rfs_event,ph_status\n" + plain.joined(separator: "\n") + "\n").write(to: out.appendingPathComponent("plain.csv"), atomically: true, encoding: .utf8)
        let again = try runMRD(["cohort", "--calls", "calls.tsv", "--clinical", "plain.csv", "-o", "out", "--covariates", "ph_status",
                                "--landmarks", "induction=35,month3=90,month6=180"], directory: out)
        #expect(again.status == 0 && again.stderr.contains("no event_type column"), "\(again.stderr)")
        for name in ["cir.tsv", "cif.tsv", "os.tsv", "os_km.tsv"] {
            #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("out/\(name)").path), "\(name)")
        }
        #expect(parseTSV(try text("out/rfs.tsv")) == rfs)

        // No MRD-negative patient with an event at induction: the Cox rows say why, with no number.
        let negativeAtInduction = Set(parseTSV(try text("calls.tsv")).filter { $0["timepoint"] == "induction" && $0["call"] == "negative" }.map { $0["patient_id"]! })
        var separated = clinical
        for i in separated.indices where negativeAtInduction.contains(separated[i]["patient_id"]!) {
            separated[i]["rfs_event"] = "0"
            separated[i]["event_type"] = ""
            separated[i]["os_event"] = "0"
        }
        let header = ["patient_id", "rfs_days", "rfs_event", "event_type", "os_days", "os_event", "ph_status", "risk_group"]
        try (header.joined(separator: ",") + "\n" + separated.map { row in header.map { row[$0]! }.joined(separator: ",") }.joined(separator: "\n") + "\n")
            .write(to: out.appendingPathComponent("separated.csv"), atomically: true, encoding: .utf8)
        let sep = try runMRD(["cohort", "--calls", "calls.tsv", "--clinical", "separated.csv", "-o", "sep", "--landmarks", "induction=35"], directory: out)
        #expect(sep.status == 0, "\(sep.stderr)")
        let sepCox = parseTSV(try text("sep/cox.tsv"))
        #expect(sepCox.count == 1 && sepCox[0]["hr"] == "" && sepCox[0]["note"]!.contains("separation"), "\(sepCox)")
        #expect(sep.stderr.contains("Cox model at induction"))
        let sepCIR = parseTSV(try text("sep/cir.tsv"))
        #expect(sepCIR.first { $0["mrd_status"] == "negative" }?["cir_at_horizon"] == "0")
    }

    @Test("bad outcome rows: every one listed with its line, exit 65, nothing written; os columns go together; outcome columns are no covariates")
    func badOutcomeRows() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        #expect(try runMRD(["simulate", "--cohort", "seed-study", "--out", out.path, "--seed", "2"], directory: out).status == 0)
        let bad = """
        patient_id,rfs_days,rfs_event,event_type,os_days,os_event
        C001,100,0,relapse,100,0
        C002,-4,1,death,50,1
        C003,200,1,,300,1
        C004,200,1,progression,300,1
        C005,300,1,relapse,250,1
        C006,300,1,death,300,0
        C007,300,0,,300,2

        """
        try bad.write(to: out.appendingPathComponent("bad.csv"), atomically: true, encoding: .utf8)
        let refused = try runMRD(["cohort", "--calls", "calls.tsv", "--clinical", "bad.csv", "-o", "refused"], directory: out)
        #expect(refused.status == 65)
        for expected in ["bad.csv:2: event_type 'relapse' given but rfs_event is 0", "bad.csv:3: rfs_days '-4'", "bad.csv:4: event_type is empty but rfs_event is 1",
                         "bad.csv:5: event_type 'progression'", "bad.csv:6: os_days 250 is before rfs_days 300", "bad.csv:7: event_type death but os_event 0",
                         "bad.csv:8: os_event '2'"] {
            #expect(refused.stderr.contains(expected), "\(expected) in \(refused.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("refused/rfs.tsv").path))
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("refused/cohort.html").path))
        try "patient_id,rfs_days,rfs_event,os_days\nC001,100,0,100\n".write(to: out.appendingPathComponent("half.csv"), atomically: true, encoding: .utf8)
        let half = try runMRD(["cohort", "--calls", "calls.tsv", "--clinical", "half.csv", "-o", "refused"], directory: out)
        #expect(half.status == 65 && half.stderr.contains("os_days and os_event go together"), "\(half.stderr)")
        let outcome = try runMRD(["cohort", "--calls", "calls.tsv", "--clinical", "clinical.csv", "-o", "refused", "--covariates", "os_days"], directory: out)
        #expect(outcome.status == 64 && outcome.stderr.contains("outcome column"), "\(outcome.stderr)")
        let missing = try runMRD(["cohort", "--calls", "calls.tsv", "--clinical", "clinical.csv", "-o", "refused", "--covariates", "age"], directory: out)
        #expect(missing.status == 65 && missing.stderr.contains("--covariates column 'age'"), "\(missing.stderr)")
    }
}
