import Foundation
import Testing

/// The outputs fixed before a change that must not alter them (the redesign, speed work): every
/// TSV byte and every JSON value but provenance of TestReads/run, two simulated runs, the single-
/// sample commands and the cohort, against TestReads/golden/manifest.tsv (`Scripts/golden --update`
/// rewrites it when a change of results is intended, and the commit says why).
@Suite("Golden outputs through the real binary")
struct GoldenOutputTests {
    @Test("TestReads, simulated runs, baseline/track/cohort/stats: outputs equal the committed manifest")
    func outputsUnchanged() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let process = Process()
        process.executableURL = packageRoot.appendingPathComponent("Scripts/golden")
        process.arguments = ["--mrd", mrdBinary.path, "--out", out.path, "--check"]
        process.currentDirectoryURL = packageRoot
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(message)")
        #expect(message.contains("outputs unchanged"), "\(message)")
        // The manifest covers what the contract fixes, not a handful of files.
        let manifest = try String(contentsOf: packageRoot.appendingPathComponent("TestReads/golden/manifest.tsv"), encoding: .utf8)
        let files = manifest.split(separator: "\n").map { String($0.split(separator: "\t")[0]) }
        #expect(files.count > 100)
        for required in ["testreads/calls.tsv", "testreads/controls.tsv", "testreads/samples/P001_DX/P001_DX.clones.tsv",
                         "testreads/samples/P001_DX/P001_DX.airr.tsv", "testreads/samples/P002_FU1/P002_FU1.mrd.tsv",
                         "sim11-run/calls.tsv", "sim12-run/calls.tsv", "single/P002_FU1.call.json", "seed-study-cohort/rfs.tsv"] {
            #expect(files.contains(required), "\(required) missing from the manifest")
        }
    }
}
