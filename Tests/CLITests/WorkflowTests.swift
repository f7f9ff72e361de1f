import Foundation
import Testing

/// Runs snakemake (installed by Scripts/setup) on the workflow; returns status and combined output.
private func snakemake(_ arguments: [String], directory: URL) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = projectTool("snakemake")
    process.arguments = ["-s", packageRoot.appendingPathComponent("Scripts/workflow/Snakefile").path] + arguments
    process.currentDirectoryURL = directory
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// "job count" lines of a dry run's job stats.
private func jobCounts(_ output: String) -> [String: Int] {
    var counts: [String: Int] = [:]
    guard let start = output.range(of: "Job stats:") else { return counts }
    for line in output[start.upperBound...].split(separator: "\n").dropFirst(2) {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count == 2, let n = Int(fields[1]) else { break }
        counts[String(fields[0])] = n
    }
    return counts
}

@Suite("Snakemake workflow (Scripts/workflow)")
struct WorkflowTests {
    @Test("on the committed run: calls.tsv equal to mrd run's byte for byte; a changed follow-up reruns only its track and the aggregation")
    func sameAsMrdRun() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let run = out.appendingPathComponent("run")
        try FileManager.default.copyItem(at: packageRoot.appendingPathComponent("TestReads/run"), to: run)
        let direct = try runMRD(["run", "sheet.csv", "-o", out.appendingPathComponent("direct").path, "--spike-ins", "spikes.tsv", "--quiet"],
                                directory: run)
        #expect(direct.status == 0, "\(direct.stderr)")
        let config = ["--config", "sheet=run/sheet.csv", "outdir=results", "mrd=\(mrdBinary.path)", "spike_ins=run/spikes.tsv"]
        let first = try snakemake(["--cores", "2", "-q"] + config, directory: out)
        #expect(first.status == 0, "\(first.output)")
        let workflowCalls = try Data(contentsOf: out.appendingPathComponent("results/calls.tsv"))
        #expect(workflowCalls == (try Data(contentsOf: out.appendingPathComponent("direct/calls.tsv"))))
        for file in ["controls.tsv", "report.html", "run.json", "multiqc/mrd_calls_mqc.tsv", "multiqc/mrd_kinetics_mqc.json",
                     "samples/P002_FU2/P002_FU2.call.json", "samples/P001_DX/P001_DX.clones.tsv", "logs/track/P002_FU2.log"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("results/\(file)").path), "\(file)")
        }
        #expect(try Data(contentsOf: out.appendingPathComponent("results/controls.tsv")) == (try Data(contentsOf: out.appendingPathComponent("direct/controls.tsv"))))

        // Nothing to do; then one follow-up's reads change (a record appended as a new gzip member):
        // its track job and the aggregation rerun, nothing else. (Snakemake >= 9.18 compares input
        // checksums, so a touched but unchanged file is not a change.)
        let idle = try snakemake(["-n", "--cores", "2"] + config, directory: out)
        #expect(idle.output.contains("Nothing to be done"), "\(idle.output)")
        let reads = run.appendingPathComponent("P002_FU2_R1.fastq.gz")
        let handle = try FileHandle(forWritingTo: reads)
        try handle.seekToEnd()
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        gzip.arguments = ["gzip", "-c"]
        let input = Pipe()
        gzip.standardInput = input
        gzip.standardOutput = handle
        try gzip.run()
        input.fileHandleForWriting.write(Data("@extra\nACGTACGTACGTACGT\n+\nIIIIIIIIIIIIIIII\n".utf8))
        try input.fileHandleForWriting.close()
        gzip.waitUntilExit()
        try handle.close()
        let plan = try snakemake(["-n", "--cores", "2"] + config, directory: out)
        #expect(jobCounts(plan.output) == ["track": 1, "aggregate": 1, "all": 1, "total": 3], "\(plan.output)")
        let second = try snakemake(["--cores", "2", "-q"] + config, directory: out)
        #expect(second.status == 0, "\(second.output)")
    }

    @Test("dry run on a 96-sample sheet plans one baseline per patient, one track per follow-up, one aggregation, one cohort")
    func dryRunPlansTheJobs() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        var sheet = "patient_id,sample_id,role,timepoint,day,r1,r2,dna_ng,cells\n"
        for p in 1...24 {
            let patient = String(format: "P%03d", p)
            for (n, (role, timepoint, day)) in [("baseline", "diagnosis", 0), ("followup", "induction", 35), ("followup", "month3", 90),
                                                 ("followup", "month6", 180)].enumerated() {
                let sample = n == 0 ? "\(patient)_DX" : "\(patient)_FU\(n)"
                #expect(FileManager.default.createFile(atPath: out.appendingPathComponent("\(sample)_R1.fastq.gz").path, contents: Data()))
                sheet += "\(patient),\(sample),\(role),\(timepoint),\(day),\(sample)_R1.fastq.gz,,325,\n"
            }
        }
        try sheet.write(to: out.appendingPathComponent("sheet.csv"), atomically: true, encoding: .utf8)
        try "patient_id,rfs_days,rfs_event\n".write(to: out.appendingPathComponent("clinical.csv"), atomically: true, encoding: .utf8)
        let config = ["--config", "sheet=sheet.csv", "outdir=results", "clinical=clinical.csv", "mrd=\(mrdBinary.path)"]
        let plan = try snakemake(["-n", "--cores", "2"] + config, directory: out)
        #expect(plan.status == 0, "\(plan.output)")
        #expect(jobCounts(plan.output) == ["baseline": 24, "track": 72, "aggregate": 1, "cohort": 1, "all": 1, "total": 99], "\(plan.output)")
        // The workflow plans from `mrd run --plan`: a bad sheet is refused with mrd's own message and line.
        try (sheet + "P025,../P025,followup,month6,180,x.fastq.gz,,325,\n").write(to: out.appendingPathComponent("sheet.csv"), atomically: true, encoding: .utf8)
        let refused = try snakemake(["-n", "--cores", "2"] + config, directory: out)
        #expect(refused.status != 0)
        #expect(refused.output.contains("sheet.csv:98: sample_id '../P025' is not an identifier"), "\(refused.output)")
    }
}
