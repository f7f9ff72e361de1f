import ArgumentParser
import Foundation
import MRDKit

struct ValidateCounts: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate-counts",
        abstract: "Count-level follow-up replicates through mrd track's quantification and calls (for Scripts/validate).")

    @Option(name: .long, help: "Templates method: spike_in, umi or reads.")
    var mode = "spike_in"

    @Option(name: .long, help: "Cells in each follow-up's input.")
    var cells = 1_000_000.0

    @Option(name: .long, help: "Mean reads per template.")
    var readsPerTemplate = 5.0

    @Option(name: .long, help: "MRD levels, comma-separated.")
    var levels = "0,1e-6,1e-5,1e-4,1e-3,1e-2,1e-1"

    @Option(name: .long, help: "Replicates per level.")
    var replicates = 20

    @Option(name: .long, help: "Mean stray (hopped) reads per tracked clone.")
    var strayReads = 0.02

    @Option(name: .long, help: "Random seed.")
    var seed: UInt64 = 1

    func validate() throws {
        guard CountSimulation.Mode(rawValue: mode) != nil else { throw ValidationError("--mode: spike_in, umi or reads") }
        guard cells > 0, readsPerTemplate > 0, replicates > 0, strayReads >= 0 else { throw ValidationError("numbers must be positive") }
        for level in levels.split(separator: ",") where Double(level) == nil { throw ValidationError("--levels: '\(printable(level))' is not a number") }
    }

    func run() throws {
        var simulation = CountSimulation(mode: CountSimulation.Mode(rawValue: mode)!, cells: cells, readsPerTemplate: readsPerTemplate)
        simulation.strayReads = strayReads
        var text = "mode\tcells\treads_per_template\tlevel\treplicate\tleukemic_cells\tdetected\tmrd_level\tlod\tloq\tcall\n"
        for level in levels.split(separator: ",").map({ Double($0)! }) {
            var random = SeededRandom(seed: seed, stream: "validate-\(mode)-\(cells)-\(level)")
            for replicate in 0..<replicates {
                let result = simulation.replicate(level: level, random: &random)
                let call = result.call
                text += [mode, String(Int(cells)), String(readsPerTemplate), String(level), String(replicate), String(result.leukemicCells),
                         call.detected ? "T" : "F", String(call.mrdLevel), call.lod.map { String($0) } ?? "", call.loq.map { String($0) } ?? "",
                         call.call].joined(separator: "\t") + "\n"
            }
        }
        try runReportingErrors { try writeStandardOutput(text) }
    }
}
