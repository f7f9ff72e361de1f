import Foundation
import Testing

@Suite("mrd cohort through the real binary")
struct CohortCLITests {
    @Test("seed-study cohort: the contract's files; patients missing on either side reported; bad clinical rows refused with their line")
    func cohort() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let simulate = try runMRD(["simulate", "--cohort", "seed-study", "--out", out.path, "--seed", "1"], directory: out)
        #expect(simulate.status == 0, "\(simulate.stderr)")
        // One patient more in clinical.csv, one fewer: both reported.
        var clinical = try String(contentsOf: out.appendingPathComponent("clinical.csv"), encoding: .utf8)
        clinical = clinical.replacingOccurrences(of: "\nC002,", with: "\nX002,")
        try clinical.write(to: out.appendingPathComponent("clinical2.csv"), atomically: true, encoding: .utf8)
        let result = try runMRD(["cohort", "--calls", "calls.tsv", "--clinical", "clinical2.csv", "-o", "out", "--by", "ph_status,risk_group",
                                 "--landmarks", "induction=35,month3=90,month6=180"], directory: out)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("in calls but not in clinical") && result.stderr.contains("C002"))
        #expect(result.stderr.contains("in clinical without calls") && result.stderr.contains("X002"))
        for (file, header) in [("negativity.tsv", "landmark\tgroup_by\tgroup\tn\tnegative\trate\tci_low\tci_high\tindeterminate"),
                               ("rfs.tsv", "landmark\tmrd_status\tn\tevents\trfs_at_horizon\tci_low\tci_high\tlogrank_p"),
                               ("km.tsv", "landmark\tmrd_status\ttime\tat_risk\tevents\tsurvival\tci_low\tci_high")] {
            let text = try String(contentsOf: out.appendingPathComponent("out/\(file)"), encoding: .utf8)
            #expect(text.hasPrefix(header + "\n"), "\(file)")
        }
        let rfs = parseTSV(try String(contentsOf: out.appendingPathComponent("out/rfs.tsv"), encoding: .utf8))
        #expect(rfs.count == 6 && rfs.allSatisfy { !$0["logrank_p"]!.isEmpty })
        let html = try String(contentsOf: out.appendingPathComponent("out/cohort.html"), encoding: .utf8)
        #expect(html.contains("<svg") && !html.contains("<script"))

        // A re-derived threshold changes statuses, not the file shapes.
        let strict = try runMRD(["cohort", "--calls", "calls.tsv", "--clinical", "clinical.csv", "-o", "strict", "--threshold", "1e-3"], directory: out)
        #expect(strict.status == 0, "\(strict.stderr)")
        let before = parseTSV(try String(contentsOf: out.appendingPathComponent("out/negativity.tsv"), encoding: .utf8)).first!
        let after = parseTSV(try String(contentsOf: out.appendingPathComponent("strict/negativity.tsv"), encoding: .utf8)).first!
        #expect(Int(after["negative"]!)! > Int(before["negative"]!)!)

        // Bad rows: line numbers and exit 65.
        try "patient_id,rfs_days,rfs_event\nC001,100,1\nC002,soon,0\n".write(to: out.appendingPathComponent("bad.csv"), atomically: true, encoding: .utf8)
        let bad = try runMRD(["cohort", "--calls", "calls.tsv", "--clinical", "bad.csv", "-o", "bad"], directory: out)
        #expect(bad.status == 65)
        #expect(bad.stderr.contains("bad.csv:3: rfs_days 'soon'"), "\(bad.stderr)")
        try "patient_id,rfs_days,rfs_event\nC001,100,yes\n".write(to: out.appendingPathComponent("bad2.csv"), atomically: true, encoding: .utf8)
        let bad2 = try runMRD(["cohort", "--calls", "calls.tsv", "--clinical", "bad2.csv", "-o", "bad"], directory: out)
        #expect(bad2.status == 65 && bad2.stderr.contains("bad2.csv:2: rfs_event 'yes'"), "\(bad2.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("bad/rfs.tsv").path))

        // Not one patient in common (ids lower-cased): refused, not six empty tables and exit 0.
        let lowered = try String(contentsOf: out.appendingPathComponent("clinical.csv"), encoding: .utf8)
            .replacingOccurrences(of: "\nC", with: "\nc")
        try lowered.write(to: out.appendingPathComponent("lowered.csv"), atomically: true, encoding: .utf8)
        let disjoint = try runMRD(["cohort", "--calls", "calls.tsv", "--clinical", "lowered.csv", "-o", "disjoint"], directory: out)
        #expect(disjoint.status == 65)
        #expect(disjoint.stderr.contains("lowered.csv: no patient_id of the file is in calls.tsv (calls.tsv has C001, C002, C003, clinical.csv c001, c002, c003)")
                && disjoint.stderr.contains("differ only in upper/lower case"), "\(disjoint.stderr)")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("disjoint").path))

        // rfs_days given in months: censored patients end before their own MRD samples; said on
        // stderr and in cohort.html (the days themselves were not).
        #expect(!result.stderr.contains("censored before their last MRD sample"), "\(result.stderr)")
        var months: [String] = []
        for (i, line) in try String(contentsOf: out.appendingPathComponent("clinical.csv"), encoding: .utf8).split(separator: "\n").enumerated() {
            var fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if i > 0 { fields[1] = String(Int((Double(fields[1])! / 30.44).rounded())) }
            months.append(fields.joined(separator: ","))
        }
        try (months.joined(separator: "\n") + "\n").write(to: out.appendingPathComponent("months.csv"), atomically: true, encoding: .utf8)
        let inMonths = try runMRD(["cohort", "--calls", "calls.tsv", "--clinical", "months.csv", "-o", "months"], directory: out)
        #expect(inMonths.status == 0)
        #expect(inMonths.stderr.contains("patient(s) censored before their last MRD sample (C0") && inMonths.stderr.contains("months or weeks"),
                "\(inMonths.stderr)")
        let monthsHTML = try String(contentsOf: out.appendingPathComponent("months/cohort.html"), encoding: .utf8)
        #expect(monthsHTML.contains("censored before their last MRD sample"))
    }
}
