import ArgumentParser
import Foundation
import MRDKit

@main
struct MRDCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mrd",
        abstract: "Minimal residual disease from immune-receptor (IG/TR) sequencing reads.",
        version: MRD.version,
        subcommands: [Stats.self, Simulate.self, Annotate.self, Baseline.self, Track.self, Run.self, Aggregate.self, Cohort.self, Demo.self, ValidateCounts.self]
    )

    /// Signals first (an interrupted command removes its unfinished outputs and exits non-zero),
    /// then the environment's tuning knobs.
    static func main() {
        Interruption.install()
        Tuning.apply()
        main(nil)
    }
}

/// Writes to standard output, failing (exit 74) when it cannot: a full disk or a closed pipe must
/// not pass for a finished table.
func writeStandardOutput(_ text: String) throws {
    var text = text
    var offset = 0
    try text.withUTF8 { bytes in
        while offset < bytes.count {
            let n = write(1, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                throw OutputError(file: "standard output", message: "write failed: \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }
}

/// Runs a command body, turning library errors into the contract's message and exit code.
func runReportingErrors(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as ReadError {
        printError(error.description)
        throw ExitCode(error.exitCode)
    } catch let error as OutputError {
        printError(error.description)
        throw ExitCode(74)
    } catch let error as SheetError {
        for problem in error.problems { printError(problem) }
        throw ExitCode(65)
    } catch let error as ToolUnavailableError {
        printError(error.description)
        throw ExitCode(69)
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data("mrd: error: \(message)\n".utf8))
}

func printNote(_ command: String, _ message: String) {
    FileHandle.standardError.write(Data("mrd \(command): \(message)\n".utf8))
}

/// Knobs for benchmarks and profiling, read from the environment here only; none changes a result
/// (`MRD_BATCH_KIB` only past the group limit). `MRD_TIMING` (phase times on stderr), `MRD_READ_MEMO` (distinct reads memoised per worker; 0 off),
/// `MRD_INFLATE` (`zlib` or `isal`), `MRD_BZIP2=serial` (one bzip2 decoder thread), `MRD_PHASE_PEAKS`
/// (with `MRD_TIMING`: each phase's own peak memory instead of the peak so far), `MRD_BATCH_KIB`
/// (`mrd baseline`'s batch size: where the group limit is counted, so it changes results only
/// past `--max-groups`; tests reach the limit with small files through it).
enum Tuning {
    static let environment = ProcessInfo.processInfo.environment
    static var readMemo: Int? { environment["MRD_READ_MEMO"].flatMap { Int($0) } }
    static var batchKiB: Int? { environment["MRD_BATCH_KIB"].flatMap { Int($0) }.map { max(16, $0) } }

    static func apply() {
        PhaseTimer.enabled = environment["MRD_TIMING"] != nil
        PhaseTimer.phasePeaks = environment["MRD_PHASE_PEAKS"] != nil
        MemoryPolicy.apply()
    }

    static func decoding(threads: Int) -> DecoderSettings {
        let inflate = environment["MRD_INFLATE"].flatMap(InflateBackend.init(rawValue:)) ?? .automatic
        return DecoderSettings(inflate: inflate, bzip2Threads: environment["MRD_BZIP2"] == "serial" ? 1 : threads)
    }
}
