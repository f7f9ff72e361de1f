import ArgumentParser
import Foundation
import MRDKit

@main
struct MRDCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mrd",
        abstract: "Minimal residual disease from immune-receptor (IG/TR) sequencing reads.",
        version: MRD.version,
        subcommands: [Stats.self, Simulate.self, Baseline.self, Track.self, Run.self, Aggregate.self, Cohort.self, Demo.self, ValidateCounts.self]
    )

    /// Signals first: an interrupted command removes its unfinished outputs and exits non-zero.
    static func main() {
        Interruption.install()
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
    }
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data("mrd: error: \(message)\n".utf8))
}

/// Options shared by commands that read sequencing files.
struct ThreadOptions: ParsableArguments {
    @Option(name: [.customShort("t"), .long], help: "Worker threads (default: all cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }
}
