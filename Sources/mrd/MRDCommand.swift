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
