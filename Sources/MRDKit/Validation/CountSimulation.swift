import Foundation

/// Count-level simulation of follow-ups for the analytical validation (Scripts/validate): leukemic
/// cells, templates, PCR yield, spike-ins, UMIs and stray (hopped) reads are drawn as numbers, then
/// go through the same quantification and detection code as `mrd track` (`Quantifier.call`). Reads
/// themselves are simulated only for the read-level subset (`mrd simulate` + `mrd run`).
public struct CountSimulation: Sendable {
    public enum Mode: String, Sendable, CaseIterable {
        /// Templates from spike-in reads per copy.
        case spikeIn = "spike_in"
        /// Templates from UMIs (each template one UMI).
        case umi
        /// Templates = reads (no calibration).
        case reads
        /// Templates from UMIs scaled by the share of molecules read, which spike-ins with UMIs
        /// measure (each copy one UMI, seen when it yields at least one read).
        case umiSpikeIn = "umi_spike_in"
    }

    public var mode: Mode
    public var cells: Double
    /// Mean reads per template (sequencing depth relative to the input).
    public var readsPerTemplate: Double
    /// Negative-binomial size of one template's PCR yield.
    public var pcrSize = 3.0
    /// Mean stray reads per tracked clone (index hopping from other samples of the run).
    public var strayReads = 0.02
    /// Markers tracked per patient (each leukemic cell carries one template of each).
    public var markers = 2
    public var spikeCopies = [20.0, 100.0, 400.0]
    public var threshold = 1e-4

    public init(mode: Mode, cells: Double, readsPerTemplate: Double) {
        self.mode = mode
        self.cells = cells
        self.readsPerTemplate = readsPerTemplate
    }

    public struct Replicate: Sendable {
        public var leukemicCells: Int
        public var call: MRDCall
    }

    /// One follow-up at `level`.
    public func replicate(level: Double, random: inout SeededRandom) -> Replicate {
        let leukemic = random.poisson(level * cells)
        let r = readsPerTemplate, k = pcrSize
        func yield(_ templates: Int) -> Int {
            templates > 0 ? random.negativeBinomial(mean: Double(templates) * r, size: Double(templates) * k) : 0
        }
        // Each template is one UMI, seen when it yields at least one read.
        func families(_ templates: Int) -> (reads: Int, umis: Int, largest: Int) {
            var reads = 0, umis = 0, largest = 0
            for _ in 0..<templates {
                let n = yield(1)
                reads += n
                if n > 0 { umis += 1 }
                largest = max(largest, n)
            }
            return (reads, umis, largest)
        }
        let loci: [Locus] = [.IGH, .IGK, .TRB, .TRG]
        var clones: [TrackedCloneCount] = []
        for m in 0..<markers {
            let locus = loci[m % loci.count]
            let clone = BaselineClone(cloneID: "V_\(locus.rawValue)_\(m + 1)", sampleID: "V", locus: locus, kind: .VDJ, vCall: "", jCall: "",
                                      junction: [], count: 0, trackable: true, target: [])
            var count = TrackedCloneCount(clone: clone)
            var umis = 0, reads = 0, largestFamily = 0
            if mode == .umi || mode == .umiSpikeIn {
                (reads, umis, largestFamily) = families(leukemic)
            } else {
                reads = yield(leukemic)
            }
            let stray = random.poisson(strayReads)
            reads += stray
            umis += stray  // a hopped read brings its own UMI
            count.reads = reads
            count.exactReads = reads
            count.umis = umis
            count.largestUMIFamily = max(largestFamily, stray > 0 ? 1 : 0)
            clones.append(count)
        }
        var spikes: [SpikeInCalibrator] = []
        var spikeReads: [Int] = []
        var spikeLoci: [Locus?] = []
        var spikeUMIs: [Int] = []
        if mode == .spikeIn || mode == .umiSpikeIn {
            for m in 0..<markers {
                let locus = loci[m % loci.count]
                for (s, copies) in spikeCopies.enumerated() {
                    spikes.append(SpikeInCalibrator(id: "S\(m)_\(s)", sequence: [], copies: copies))
                    spikeLoci.append(locus)
                    if mode == .umiSpikeIn {
                        let spike = families(random.poisson(copies))
                        spikeReads.append(spike.reads)
                        spikeUMIs.append(spike.umis)
                    } else {
                        spikeReads.append(yield(random.poisson(copies)))
                    }
                }
            }
        }
        var counts = FollowUpCounts(sampleID: "V")
        if mode == .umiSpikeIn { counts.spikeInUMIs = spikeUMIs }
        counts.clones = clones
        counts.spikeInReads = spikeReads
        // Lymphoid background: about 10% of the cells carry a rearrangement of a tracked locus.
        let background = Int(cells * 0.1 * r)
        for m in 0..<markers { counts.readsPerLocus[loci[m % loci.count]] = background / markers + clones[m].reads }
        counts.totalReads = background + clones.reduce(0) { $0 + $1.reads } + spikeReads.reduce(0, +)
        var options = CallOptions()
        options.threshold = threshold
        options.dnaNanograms = cells * Quantifier.picogramsPerCell / 1000
        options.useUMIs = mode == .umi || mode == .umiSpikeIn
        options.pcrSize = pcrSize
        let call = Quantifier.call(counts, spikes: spikes, spikeLoci: spikeLoci, options: options)
        return Replicate(leukemicCells: leukemic, call: call)
    }
}

extension CountSimulation {
    /// `replicates` follow-ups at each level, one TSV row each (what Scripts/validate reads).
    public func table(levels: [Double], replicates: Int, seed: UInt64) -> String {
        var tsv = TableWriter()
        tsv.row(["mode", "cells", "reads_per_template", "level", "replicate", "leukemic_cells", "detected", "mrd_level", "lod", "loq", "call"])
        for level in levels {
            var random = SeededRandom(seed: seed, stream: "validate-\(mode.rawValue)-\(cells)-\(level)")
            for replicate in 0..<replicates {
                let result = self.replicate(level: level, random: &random)
                let call = result.call
                tsv.row([mode.rawValue, String(Int(cells)), String(readsPerTemplate), String(level), String(replicate), String(result.leukemicCells),
                         TableNumber.flag(call.detected), call.mrdLevel.map { String($0) } ?? "", call.lod.map { String($0) } ?? "", call.loq.map { String($0) } ?? "",
                         call.call.rawValue])
            }
        }
        return tsv.text
    }
}
