import Foundation
import Testing

let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
let specimenDirectory = packageRoot.appendingPathComponent("TestReads/specimens")

/// The `mrd` binary built alongside these tests (same build folder as the test bundle).
let mrdBinary: URL = {
    var directory = Bundle.main.bundleURL
    for _ in 0..<3 {
        let candidate = directory.appendingPathComponent("mrd")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        directory = directory.deletingLastPathComponent()
    }
    return packageRoot.appendingPathComponent(".build/debug/mrd")
}()

struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs the real `mrd` binary with `arguments`, feeding `stdin` if given.
func runMRD(_ arguments: [String], stdin: Data? = nil, directory: URL = specimenDirectory,
            environment: [String: String] = [:]) throws -> CommandResult {
    try runProgram(mrdBinary, arguments, stdin: stdin, directory: directory, environment: environment)
}

/// Runs `executable` with `arguments` in `directory`, feeding `stdin` if given; both outputs kept.
func runProgram(_ executable: URL, _ arguments: [String], stdin: Data? = nil, directory: URL,
                environment: [String: String] = [:]) throws -> CommandResult {
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.currentDirectoryURL = directory
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    process.environment = env
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let input = Pipe()
    process.standardInput = stdin == nil ? FileHandle.nullDevice : input
    try process.run()
    if let stdin {
        let writer = input.fileHandleForWriting
        DispatchQueue.global().async {
            writer.write(stdin)
            try? writer.close()
        }
    }
    // Read both pipes concurrently so a chatty child cannot block on a full pipe.
    nonisolated(unsafe) var errData = Data()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        errData = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return CommandResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self))
}

/// The rows of a TSV table as dictionaries keyed by the header.
func parseTSV(_ text: String) -> [[String: String]] {
    var lines = text.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    guard !lines.isEmpty else { return [] }
    let header = lines.removeFirst()
    return lines.map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
}

/// A new empty folder under the system's temporary folder.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("mrd-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// `mrd simulate` into `out/sim` with `arguments` (the run's folder); its exit checked.
func simulatedRun(_ arguments: [String], in out: URL) throws -> URL {
    let sim = out.appendingPathComponent("sim")
    let made = try runMRD(["simulate", "--out", sim.path] + arguments, directory: out)
    #expect(made.status == 0, "\(made.stderr)")
    return sim
}

/// A tool of the project's Python environment (.venv, made by Scripts/setup).
func projectTool(_ name: String) -> URL {
    packageRoot.appendingPathComponent(".venv/bin/\(name)")
}
