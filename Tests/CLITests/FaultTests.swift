import Foundation
import Testing

/// How a child process ended, and the most memory it held.
struct MeasuredRun {
    var exitCode: Int32?
    var signal: Int32?
    var maxResidentKiB: Int
    var stderr: String
}

/// Runs `executable` with `arguments` (stdout to `stdout`, stderr captured) and reports its peak
/// resident memory from wait4, which Foundation's Process does not give.
func runMeasured(_ executable: String, _ arguments: [String], stdout: String = "/dev/null",
                 stdin: String = "/dev/null", environment extra: [String] = []) throws -> MeasuredRun {
    let errorPath = FileManager.default.temporaryDirectory.appendingPathComponent("mrd-stderr-\(UUID().uuidString)").path
    defer { unlink(errorPath) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, errorPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    let argv = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    var environment: [UnsafeMutablePointer<CChar>?] = extra.map { strdup($0) }
    var index = 0
    while let entry = environ[index] { environment.append(strdup(entry)); index += 1 }
    environment.append(nil)
    defer { environment.forEach { free($0) } }
    let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environment)
    guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EINVAL) }
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
    let stderr = (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? ""
    let terminated = status & 0x7f
    return MeasuredRun(exitCode: terminated == 0 ? (status >> 8) & 0xff : nil, signal: terminated == 0 ? nil : terminated,
                       maxResidentKiB: usage.ru_maxrss, stderr: stderr)
}

/// Files in a folder, hidden temporary files included.
func listing(_ folder: URL) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted()
}

/// A gzip file of `copies` x `block` (one gzip member written once, repeated: multi-member gzip).
func repeatedGzip(_ block: String, copies: Int, to url: URL) throws {
    let scratch = url.deletingLastPathComponent().appendingPathComponent("block.txt")
    try Data(block.utf8).write(to: scratch)
    let gzip = Process()
    gzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    gzip.arguments = ["gzip", "-f", "-1", scratch.path]
    try gzip.run()
    gzip.waitUntilExit()
    let member = try Data(contentsOf: URL(fileURLWithPath: scratch.path + ".gz"))
    try? FileManager.default.removeItem(atPath: scratch.path + ".gz")
    #expect(FileManager.default.createFile(atPath: url.path, contents: nil))
    let handle = try FileHandle(forWritingTo: url)
    defer { try? handle.close() }
    for _ in 0..<copies { try handle.write(contentsOf: member) }
}

/// The lines of a gzip file, through the system's gzip.
func decompressedLines(_ path: String) throws -> [Substring] {
    let unzip = Process()
    unzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    unzip.arguments = ["gzip", "-dc", path]
    let pipe = Pipe()
    unzip.standardOutput = pipe
    try unzip.run()
    let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    unzip.waitUntilExit()
    return text.split(separator: "\n", omittingEmptySubsequences: false)
}

@Suite("faults: full disks, read-only folders, signals, damaged and extreme input")
struct FaultTests {
    let run = packageRoot.appendingPathComponent("TestReads/run")
    var diagnostic: String { run.appendingPathComponent("P001_DX_R1.fastq.gz").path }

    @Test("standard output on a full disk (/dev/full): exit 74 and the reason")
    func fullStandardOutput() throws {
        let result = try runMeasured(mrdBinary.path, ["stats", diagnostic], stdout: "/dev/full")
        #expect(result.exitCode == 74)
        #expect(result.stderr.contains("mrd: error: standard output: write failed: No space left on device"), "\(result.stderr)")
    }

    // Under a file-size limit, Swift's ThreadSanitizer runtime faults (SIGBUS in its strlen
    // interceptor as libdispatch starts a worker thread) before mrd's code runs: a four-line Swift
    // program with one DispatchQueue.async does the same. Scripts/sanitize says which sanitizer
    // the binary carries.
    @Test("outputs past the file-size limit (a full quota): exit 74, neither final nor temporary files",
          .disabled(if: ProcessInfo.processInfo.environment["MRD_SANITIZER"] == "thread",
                    "ThreadSanitizer's runtime cannot run under ulimit -f"))
    func fileSizeLimit() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        // ulimit -f 16: files stop at 16 KiB; clones.tsv and airr.tsv of this sample are larger.
        let result = try runMeasured("/bin/bash", ["-c", "ulimit -f 16; exec \"$0\" \"$@\"", mrdBinary.path, "baseline", diagnostic,
                                                   "--sample", "P001_DX", "-o", out.path])
        #expect(result.exitCode == 74, "\(result.stderr)")
        #expect(result.stderr.contains("File too large"), "\(result.stderr)")
        #expect(listing(out).isEmpty, "\(listing(out))")
    }

    @Test("a read-only output folder, or one that cannot be made: exit 74 before any reading, nothing written")
    func readOnlyFolder() throws {
        let parent = try temporaryDirectory()
        defer {
            chmod(parent.path, 0o755)
            try? FileManager.default.removeItem(at: parent)
        }
        let folder = parent.appendingPathComponent("ro")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        chmod(folder.path, 0o555)
        chmod(parent.path, 0o777)
        // Root writes anywhere: run the binary as nobody then (setpriv is in util-linux).
        let asUser: [String] = geteuid() == 0 ? ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : []
        if !asUser.isEmpty { try #require(FileManager.default.isExecutableFile(atPath: asUser[0]), "setpriv is needed to drop root") }
        func mrd(_ arguments: [String]) throws -> MeasuredRun {
            let command = asUser + [mrdBinary.path] + arguments
            return try runMeasured(command[0], Array(command.dropFirst()))
        }
        let baseline = try mrd(["baseline", diagnostic, "--sample", "P001_DX", "-o", folder.path])
        #expect(baseline.exitCode == 74)
        #expect(baseline.stderr.contains("\(folder.path): cannot write in the output folder: Permission denied"), "\(baseline.stderr)")
        let nested = try mrd(["baseline", diagnostic, "--sample", "P001_DX", "-o", folder.appendingPathComponent("sub").path])
        #expect(nested.exitCode == 74)
        #expect(nested.stderr.contains("cannot create the output folder"), "\(nested.stderr)")
        let runResult = try mrd(["run", run.appendingPathComponent("sheet.csv").path, "-o", folder.path,
                                 "--spike-ins", run.appendingPathComponent("spikes.tsv").path])
        #expect(runResult.exitCode == 74, "\(runResult.stderr)")
        #expect(!runResult.stderr.contains("[1/"), "no sample was started")
        #expect(listing(folder).isEmpty)
    }

    @Test("SIGINT while writing (mrd simulate): exit 130, temporary files removed, no final file")
    func interruptedWhileWriting() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let folder = out.appendingPathComponent("sim")
        let process = Process()
        process.executableURL = mrdBinary
        process.arguments = ["simulate", "--out", folder.path, "--reads", "400000", "--patients", "2"]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while !listing(folder).contains(where: { $0.contains(".tmp-") }) && process.isRunning && Date() < deadline { usleep(5_000) }
        #expect(listing(folder).contains { $0.contains(".tmp-") }, "the simulation was writing")
        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationReason == .exit && process.terminationStatus == 130, "\(message)")
        #expect(message.contains("interrupted by SIGINT"))
        #expect(listing(folder).isEmpty, "\(listing(folder))")
    }

    @Test("SIGTERM while reading (mrd baseline on a pipe): exit 143, no output")
    func terminatedWhileReading() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let process = Process()
        process.executableURL = mrdBinary
        process.arguments = ["baseline", "-", "--sample", "S1", "-o", out.path]
        let input = Pipe()
        process.standardInput = input
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Some reads, then the pipe stays open: mrd waits for more.
        input.fileHandleForWriting.write(Data(String(repeating: "@r\nACGTACGTAC\n+\nIIIIIIIIII\n", count: 1000).utf8))
        usleep(300_000)
        #expect(process.isRunning)
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        try? input.fileHandleForWriting.close()
        #expect(process.terminationReason == .exit && process.terminationStatus == 143)
        #expect(listing(out).isEmpty)
    }

    @Test("truncated gzip, empty, 10 GB sparse and binary input: exit 65 naming the file and line, no output")
    func damagedInput() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let empty = out.appendingPathComponent("empty.fastq")
        #expect(FileManager.default.createFile(atPath: empty.path, contents: nil))
        let sparse = out.appendingPathComponent("sparse.fastq")
        #expect(FileManager.default.createFile(atPath: sparse.path, contents: nil))
        #expect(truncate(sparse.path, 10 << 30) == 0)
        let truncated = specimenDirectory.appendingPathComponent("truncated.fastq.gz").path
        let cases: [(String, String)] = [
            (truncated, "truncated.fastq.gz:"), (empty.path, "empty.fastq: no records"),
            (sparse.path, "sparse.fastq:1: not FASTQ or FASTA"), (specimenDirectory.appendingPathComponent("binary.fastq").path, "binary.fastq:"),
        ]
        let outputs = out.appendingPathComponent("outputs")
        for (file, message) in cases {
            let baseline = try runMRD(["baseline", file, "--sample", "S1", "-o", outputs.path])
            #expect(baseline.status == 65, "\(file): \(baseline.stderr)")
            #expect(baseline.stderr.hasPrefix("mrd: error: ") && baseline.stderr.contains(message), "\(baseline.stderr)")
            let stats = try runMRD(["stats", file])
            #expect(stats.status == 65 && stats.stdout.isEmpty)
        }
        #expect(try runMRD(["baseline", truncated, "--sample", "S1", "-o", outputs.path]).stderr.contains("truncated"))
        #expect(listing(outputs).isEmpty)
    }

    @Test("bad pairs (mate names differ, mate file shorter or longer): every command exits 65 naming the file and record, no output")
    func badPairs() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let clones = out.appendingPathComponent("clones.fasta")
        try Data(">C1\nGAGGACACGGCCGTGTATTACTGTGCGAGAGATCGGGGATACTACTACTACGGTATGGACGTCTGGGGCCAAGGGACCACGGTCACC\n".utf8).write(to: clones)
        let read1 = specimenDirectory.appendingPathComponent("pair_L1_R1.fastq.gz").path
        let cases: [(mate: String, message: String)] = [
            ("pair_L1_R2.renamed.fastq", "pair_L1_R2.renamed.fastq:133: record 'L1:pairX33/2': mate name differs from read 1 'L1:pair33/1'"),
            ("pair_L1_R2.short.fastq", "pair_L1_R2.short.fastq: record 'L1:pair67/1': read-2 file ends after 67 records"),
            ("pair_L1_R2.long.fastq", "pair_L1_R2.long.fastq:281: "),
        ]
        let outputs = out.appendingPathComponent("outputs")
        for (mateName, message) in cases {
            let mate = specimenDirectory.appendingPathComponent(mateName).path
            let commands: [[String]] = [
                ["baseline", read1, "--r2", mate, "--sample", "S1", "-o", outputs.path],
                ["track", read1, "--r2", mate, "--clones", clones.path, "--sample", "F1", "--cells", "1000", "-o", outputs.path],
                ["annotate", read1, "--r2", mate, "-o", out.appendingPathComponent("airr.tsv").path],
                ["stats", read1, "--r2", mate, "--merge"],
            ]
            for arguments in commands {
                let result = try runMRD(arguments)
                #expect(result.status == 65, "\(arguments[0]) \(mateName): \(result.stderr)")
                #expect(result.stderr.hasPrefix("mrd: error: ") && result.stderr.contains(message), "\(arguments[0]): \(result.stderr)")
                #expect(result.stdout.isEmpty)
            }
            #expect(listing(outputs).isEmpty, "\(listing(outputs))")
            #expect(listing(out) == ["clones.fasta"], "\(listing(out))")
        }
    }

    @Test("Phred+64 qualities (Illumina 1.3-1.7): exit 65 naming file and record, no output; mrd stats still describes the file")
    func phred64Qualities() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        // The committed diagnosis with every quality character moved up by 31 (Q2-Q41 -> 'A'-'i').
        var lines = try gunzipText(URL(fileURLWithPath: diagnostic)).split(separator: "\n", omittingEmptySubsequences: false)
        for i in stride(from: 3, to: lines.count, by: 4) {
            lines[i] = Substring(String(decoding: lines[i].utf8.map { $0 + 31 }, as: UTF8.self))
        }
        let old = out.appendingPathComponent("old.fastq")
        try lines.joined(separator: "\n").write(to: old, atomically: true, encoding: .utf8)
        for command in [["baseline", old.path, "--sample", "OLD", "-o", out.appendingPathComponent("baseline").path],
                        ["annotate", old.path, "-o", out.appendingPathComponent("old.airr.tsv").path]] {
            let result = try runMRD(command)
            #expect(result.status == 65, "\(command[0]): \(result.stderr)")
            #expect(result.stderr.contains("old.fastq:1: record 'P001_DX:1': quality characters run from")
                    && result.stderr.contains("Phred+64 (Illumina 1.3-1.7) qualities; expected Phred+33"), "\(result.stderr)")
        }
        #expect(listing(out) == ["old.fastq"], "\(listing(out))")
        let stats = try runMRD(["stats", old.path])
        #expect(stats.status == 0, "\(stats.stderr)")
        #expect(Double(parseTSV(stats.stdout)[0]["mean_qual"]!)! > 60)
        // The same reads at Phred+33 pass (the check never fires on the run's own files).
        let result = try runMRD(["annotate", diagnostic, "-o", out.appendingPathComponent("ok.airr.tsv").path, "--quiet"])
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test("one file given twice (two lanes, or read 1 and read 2, any spelling): exit 64 naming both roles, no output")
    func repeatedFile() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let respelled = run.appendingPathComponent("../run/P001_DX_R1.fastq.gz").path
        for command in [["baseline", diagnostic, respelled, "--sample", "DX", "-o", out.appendingPathComponent("lanes").path],
                        ["annotate", diagnostic, "--r2", diagnostic, "-o", out.appendingPathComponent("pairs.airr.tsv").path],
                        ["stats", diagnostic, "--r2", respelled]] {
            let result = try runMRD(command)
            #expect(result.status == 64, "\(command[0]): \(result.stderr)")
            #expect(result.stderr.contains("given as read-1 file 1 and again as read-") && result.stderr.contains("expected each file once"),
                    "\(result.stderr)")
        }
        #expect(listing(out).isEmpty, "\(listing(out))")
    }

    @Test("a 1 Mb read and a 1 MB header: read, counted, and the totals add up")
    func extremeRecords() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        // 200 real reads of the diagnostic sample around one 1 Mb read and one 1 MB header.
        let lines = try decompressedLines(diagnostic)
        let head = lines.prefix(400).joined(separator: "\n") + "\n"
        let tail = lines.dropFirst(400).prefix(400).joined(separator: "\n") + "\n"
        var state: UInt64 = 11
        let long = String((0..<1_000_000).map { _ -> Character in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return ["A", "C", "G", "T"][Int(state >> 62)]
        })
        let bigHeader = "@big " + String(repeating: "h", count: 1 << 20)
        let reads = out.appendingPathComponent("extreme.fastq")
        try Data((head + "@long\n\(long)\n+\n\(String(repeating: "I", count: long.count))\n"
                  + "\(bigHeader)\nACGT\n+\nIIII\n" + tail).utf8).write(to: reads)
        let result = try runMRD(["baseline", reads.path, "--sample", "X1", "-o", out.path])
        #expect(result.status == 0, "\(result.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("X1.baseline.json"))) as! [String: Any]
        #expect(json["total_reads"] as? Int == 202)
        let unassigned = (json["unassigned_reads"] as! [String: Int]).values.reduce(0, +)
        #expect((json["assigned_reads"] as! Int) + (json["spike_in_reads"] as! Int) + unassigned == 202)
        let stats = parseTSV(try runMRD(["stats", reads.path]).stdout)
        #expect(stats.first?["max_len"] == "1000000")
    }

    @Test("10 million identical reads: baseline and track finish with the memory of 1 million")
    func identicalReadsBoundedMemory() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        // One read of P001's leukemic clone, from the committed diagnostic sample.
        let clones = out.appendingPathComponent("clones")
        let base = try runMRD(["baseline", diagnostic, "--sample", "P001_DX", "-o", clones.path])
        #expect(base.status == 0)
        let table = parseTSV(try String(contentsOf: clones.appendingPathComponent("P001_DX.clones.tsv"), encoding: .utf8))
        let junction = try #require(table.first { $0["trackable"] == "T" }?["junction"])
        let read = try #require(try decompressedLines(diagnostic).first { $0.contains(junction) }, "a read of the clone")
        let block = String(repeating: "@r\n\(read)\n+\n\(String(repeating: "I", count: read.count))\n", count: 10_000)
        var peaks: [Int: (baseline: Int, track: Int)] = [:]
        // glibc's per-thread malloc arenas make a peak depend on how the threads were scheduled (the
        // same 10M-read track: 63 MB alone, 140 MB beside the other tests); this test is about growth
        // with the number of reads, so the arenas are capped for both measurements alike.
        let arenas = ["MALLOC_ARENA_MAX=1"]
        for millions in [1, 10] {
            let reads = out.appendingPathComponent("same\(millions).fastq.gz")
            try repeatedGzip(block, copies: millions * 100, to: reads)
            let sample = "S\(millions)"
            let baseline = try runMeasured(mrdBinary.path, ["baseline", reads.path, "--sample", sample, "-o", out.path], environment: arenas)
            #expect(baseline.exitCode == 0, "\(baseline.stderr)")
            // The lower of two peaks: a run beside the other tests' processes peaks higher by chance.
            var trackPeak = Int.max
            for _ in 0..<2 {
                let track = try runMeasured(mrdBinary.path, ["track", reads.path, "--clones", clones.appendingPathComponent("P001_DX.clones.tsv").path,
                                                             "--sample", sample, "-o", out.path, "--cells", "1e6"], environment: arenas)
                #expect(track.exitCode == 0, "\(track.stderr)")
                trackPeak = min(trackPeak, track.maxResidentKiB)
            }
            peaks[millions] = (baseline.maxResidentKiB, trackPeak)
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("\(sample).baseline.json"))) as! [String: Any]
            #expect(json["total_reads"] as? Int == millions * 1_000_000)
            #expect(json["clonotypes"] as? Int == 1)
            let call = try JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("\(sample).call.json"))) as! [String: Any]
            #expect(call["total_reads"] as? Int == millions * 1_000_000)
            #expect(call["leukemic_reads"] as? Int == millions * 1_000_000, "every identical read is the clone's")
            try FileManager.default.removeItem(at: reads)
        }
        let one = try #require(peaks[1]), ten = try #require(peaks[10])
        #expect(ten.baseline < one.baseline + one.baseline / 4 + 16_384, "baseline: \(one.baseline) KiB for 1M, \(ten.baseline) KiB for 10M")
        #expect(ten.track < one.track + one.track / 4 + 16_384, "track: \(one.track) KiB for 1M, \(ten.track) KiB for 10M")
        #expect(ten.baseline < 1 << 20 && ten.track < 1 << 20, "under 1 GiB")
    }
}
