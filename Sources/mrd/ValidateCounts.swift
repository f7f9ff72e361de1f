import ArgumentParser
import Foundation
import MRDKit

struct ValidateCounts: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate-counts",
        abstract: "Count-level follow-up replicates through mrd track's quantification and calls (for Scripts/validate).")

    @Option(name: .long, help: "Templates method: spike_in, umi, umi_spike_in (UMIs with spike-ins' UMIs) or reads.") var mode = "spike_in"
    @Option(name: .long, help: "Cells in each follow-up's input.") var cells = 1_000_000.0
    @Option(name: .long, help: "Mean reads per template.") var readsPerTemplate = 5.0
    @Option(name: .long, help: "MRD levels, comma-separated.") var levels = "0,1e-6,1e-5,1e-4,1e-3,1e-2,1e-1"
    @Option(name: .long, help: "Replicates per level.") var replicates = 20
    @Option(name: .long, help: "Mean stray (hopped) reads per tracked clone.") var strayReads = 0.02
    @Option(name: .long, help: "Random seed.") var seed: UInt64 = 1

    func validate() throws {
        guard CountSimulation.Mode(rawValue: mode) != nil else { throw ValidationError("--mode: spike_in, umi, umi_spike_in or reads") }
        guard cells > 0, readsPerTemplate > 0, replicates > 0, strayReads >= 0 else { throw ValidationError("numbers must be positive") }
        for level in levels.split(separator: ",") where Double(level) == nil { throw ValidationError("--levels: '\(printable(level))' is not a number") }
    }

    func run() throws {
        var simulation = CountSimulation(mode: CountSimulation.Mode(rawValue: mode)!, cells: cells, readsPerTemplate: readsPerTemplate)
        simulation.strayReads = strayReads
        let text = simulation.table(levels: levels.split(separator: ",").map { Double($0)! }, replicates: replicates, seed: seed)
        try runReportingErrors { try writeStandardOutput(text) }
    }
}
