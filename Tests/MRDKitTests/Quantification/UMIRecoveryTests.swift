import Foundation
import Testing
@testable import MRDKit

@Suite("UMIs of molecules read too thinly, counted by the spike-ins' UMIs")
struct UMIRecoveryTests {
    /// Median of measured / true level over replicates of 1,000 leukemic cells in 1,000,000, at
    /// `readsPerTemplate` reads per molecule (negative binomial, size 3, as the count-level validation draws).
    func medianRatio(_ mode: CountSimulation.Mode, readsPerTemplate: Double) -> (Double, [MRDCall]) {
        let simulation = CountSimulation(mode: mode, cells: 1_000_000, readsPerTemplate: readsPerTemplate)
        var random = SeededRandom(seed: 5, stream: "umi-recovery-\(mode.rawValue)-\(readsPerTemplate)")
        var ratios: [Double] = [], calls: [MRDCall] = []
        for _ in 0..<60 {
            let replicate = simulation.replicate(level: 1e-3, random: &random)
            ratios.append(replicate.call.mrdLevel! / (Double(replicate.leukemicCells) / 1_000_000))
            calls.append(replicate.call)
        }
        ratios.sort()
        return (ratios[ratios.count / 2], calls)
    }

    @Test("1.5 and 3 reads per molecule: UMIs alone read 0.70x and 0.88x of the level; with the spike-ins' UMIs, within 4%")
    func spikeInsCorrectCapture() {
        for (r, unread) in [(1.5, 0.296), (3.0, 0.125)] {
            // Molecules with no read: (1 + r/3)^-3 of them.
            let (alone, _) = medianRatio(.umi, readsPerTemplate: r)
            #expect(abs(alone - (1 - unread)) < 0.04, "UMIs alone at \(r): \(alone)")
            let (scaled, calls) = medianRatio(.umiSpikeIn, readsPerTemplate: r)
            #expect(abs(scaled - 1) < 0.04, "with spike-ins at \(r): \(scaled)")
            #expect(calls.allSatisfy { $0.templateMethod == .umi && $0.qcPass && $0.umiCapture != nil })
            // Each replicate's own capture: its spike-ins' 520 copies per locus are Poisson (4% spread).
            #expect(calls.allSatisfy { abs($0.clones[0].umiRecovery - (1 - unread)) < 0.15 }, "\(calls.map { $0.clones[0].umiRecovery }.prefix(5))")
        }
    }
}
