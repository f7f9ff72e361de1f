import ArgumentParser
import Foundation
import MRDKit

struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Simulate a sequencing run with known truth (reads, sheet.csv, spikes.tsv, clinical.csv, truth.tsv).",
        discussion: """
            Patients get leukemic index clones (V(D)J recombination from the bundled germline), a \
            polyclonal background with near-neighbour normal clones, a diagnostic sample and follow-ups \
            at the given MRD levels; every sample gets spike-in calibrators, negative-binomial PCR, \
            Illumina-like errors, both orientations and index hopping. Same seed, same bytes. \
            See docs/simulator.md.
            """
    )

    @Option(name: .long, help: "Output folder (created if missing).") var out: String
    @Option(name: .long, help: "Random seed.") var seed: UInt64 = 1
    @Option(name: .long, help: "Number of patients.") var patients = 3
    @Option(name: .long, help: "True MRD level of each follow-up, comma-separated (one follow-up each).") var levels: String = "1e-2,1e-3,0"
    @Option(name: .long, help: "Cells in each follow-up's DNA input.") var cells = 50_000
    @Option(name: .long, help: "Cells of particular follow-ups, e.g. P003_FU2=3000 (comma-separated).") var sampleCells: String?
    @Option(name: .long, help: "Share of follow-up cells that are B cells (IG background).") var bCellFraction = SimulationConfig().bCellFraction
    @Option(name: .long, help: "Share of follow-up cells that are T cells (TR background).") var tCellFraction = SimulationConfig().tCellFraction
    @Option(name: .long, help: "Cells in each diagnostic sample.") var diagnosticCells = 5_000
    @Option(name: .long, help: "Reads per sample (mean).") var reads = 4_000
    @Option(name: .long, help: "Read length (2x300 MiSeq: --read-length 300 --paired).") var readLength = 150
    @Option(name: .long, help: "Mean Phred quality at the first and last cycle, e.g. 37-24 (default); lower ends give more errors late in the read (34-10: most reads carry one).") var quality = "37-24"
    @Option(name: .long, help: "Where the V primers sit: fr3 (60-90 nt of V), fr2 (150-170) or fr1 (the whole V region).") var amplicon = AmpliconDesign.fr3.rawValue
    @Option(name: .long, help: "Somatic hypermutation: each IG clonotype's V identity drawn from this value to 1 (e.g. 0.85); default none.") var shm: Double?
    @Option(name: .long, help: "Loci, comma-separated; the first carries the main index clone.") var loci = "IGH,IGK,TRB,TRG"
    @Flag(name: .long, help: "Paired-end reads for every sample.") var paired = false
    @Option(name: .long, help: "Samples sequenced paired-end (comma-separated ids).") var pairedSamples = "P002_DX"
    @Option(name: .long, help: "Samples written as bzip2 (comma-separated ids).") var bzip2Samples = "P003_FU2"
    @Option(name: .long, help: "Samples split over two lane files (comma-separated ids).") var laneSplitSamples = "P001_FU1"
    @Option(name: .long, help: "UMI length at the start of read 1 (0: none).") var umi = 0
    @Option(name: .long, help: "Share of reads assigned to another sample of the run.") var indexHopping = 0.002
    @Option(name: .long, help: "Share of follow-up leukemic templates with a VH replacement of the IGH clone.") var evolved = 0.0
    @Option(name: .long, help: "Spike-in copies per reaction, comma-separated (one calibrator per value and locus).") var spikeCopies = "20,100,400"
    @Option(name: .long, help: "Loci that get spike-in calibrators, comma-separated (default: every simulated locus).") var spikeLoci: String?
    @Option(name: .long, help: "Relative reads per template of loci, e.g. TRB=3,IGK=0.5 (default 1 each).") var locusEfficiency: String?
    @Option(name: .long, help: "Background clonotypes per locus and patient.") var clonotypes = 2_000
    @Flag(name: .long, inversion: .prefixedNo, help: "Add no-template and polyclonal control samples.") var controls = true
    @Option(name: .long, help: "Write an outcome cohort instead of reads: 'seed-study' (calls.tsv + clinical.csv, see docs/cohort.md).") var cohort: String?
    @OptionGroup var threadOptions: ThreadOptions

    func parsedLevels() throws -> [Double] {
        try parseList(levels, option: "--levels", expected: "a level between 0 and 1") { Double($0).flatMap { (0...1).contains($0) ? $0 : nil } }
    }

    func parsedLoci() throws -> [Locus] {
        try parseList(loci, option: "--loci", expected: "one of IGH, IGK, TRB, TRG, TRD") { Locus(rawValue: $0).flatMap { $0 == .IGL ? nil : $0 } }
    }

    func parsedSpikeCopies() throws -> [Int] {
        try parseList(spikeCopies, option: "--spike-copies", expected: "a positive whole number") { Int($0).flatMap { $0 >= 1 ? $0 : nil } }
    }

    func parsedSpikeLoci() throws -> [Locus]? {
        try spikeLoci.map { try parseList($0, option: "--spike-loci", expected: "one of the simulated loci", Locus.init(rawValue:)) }
    }

    func parsedEfficiency() throws -> [Locus: Double] {
        guard let locusEfficiency else { return [:] }
        let pairs = try parseList(locusEfficiency, option: "--locus-efficiency", expected: "LOCUS=FACTOR with a positive factor") { item -> (Locus, Double)? in
            let parts = item.split(separator: "=", omittingEmptySubsequences: false)
            guard parts.count == 2, let locus = Locus(rawValue: String(parts[0])), let factor = Double(parts[1]), factor > 0, factor.isFinite else { return nil }
            return (locus, factor)
        }
        return Dictionary(pairs, uniquingKeysWith: { $1 })
    }

    func parsedSampleCells() throws -> [String: Int] {
        guard let sampleCells else { return [:] }
        let pairs = try parseList(sampleCells, option: "--sample-cells", expected: "SAMPLE=CELLS with a positive whole number") { item -> (String, Int)? in
            let parts = item.split(separator: "=", omittingEmptySubsequences: false)
            guard parts.count == 2, let cells = Int(parts[1]), cells >= 1 else { return nil }
            return (String(parts[0]), cells)
        }
        return Dictionary(pairs, uniquingKeysWith: { $1 })
    }

    func validate() throws {
        _ = try parsedLevels()
        _ = try parsedSampleCells()
        if !(0...1).contains(bCellFraction) || !(0...1).contains(tCellFraction) { throw ValidationError("--b-cell-fraction and --t-cell-fraction must be between 0 and 1") }
        _ = try parsedSpikeLoci()
        _ = try parsedEfficiency()
        let parsed = try parsedLoci()
        if parsed.isEmpty { throw ValidationError("--loci: give at least one locus") }
        if patients < 1 || patients > 999 { throw ValidationError("--patients must be 1 to 999") }
        if cells < 1 || diagnosticCells < 1 || reads < 1 { throw ValidationError("--cells, --diagnostic-cells and --reads must be positive") }
        if AmpliconDesign(rawValue: amplicon) == nil { throw ValidationError("--amplicon must be fr3, fr2 or fr1") }
        if let shm, !(0.5...1).contains(shm) { throw ValidationError("--shm must be a V identity between 0.5 and 1") }
        if readLength < 20 { throw ValidationError("--read-length must be at least 20") }
        _ = try parsedQuality()
        if umi < 0 || umi > 32 { throw ValidationError("--umi must be 0 to 32") }
        if !(0...0.5).contains(indexHopping) { throw ValidationError("--index-hopping must be 0 to 0.5") }
        if !(0...1).contains(evolved) { throw ValidationError("--evolved must be 0 to 1") }
        if let cohort, cohort != "seed-study" { throw ValidationError("--cohort: the one cohort model is 'seed-study'") }
        _ = try parsedSpikeCopies()
    }

    /// `--quality START-END` as two Phred means, each 2 to 41.
    func parsedQuality() throws -> (Double, Double) {
        let parts = quality.split(separator: "-").compactMap { Double($0) }
        guard parts.count == 2, parts.allSatisfy({ (2...41).contains($0) }) else {
            throw ValidationError("--quality must be START-END, two Phred means from 2 to 41 (e.g. 37-24)")
        }
        return (parts[0], parts[1])
    }

    func run() throws {
        try runReportingErrors {
            if cohort != nil {
                try CohortSimulator(seed: seed).write(to: out)
                printNote("simulate", "seed-study cohort (calls.tsv, clinical.csv) in \(out)")
                return
            }
            var config = SimulationConfig()
            config.seed = seed
            config.patients = patients
            config.levels = try parsedLevels()
            config.cells = cells
            config.diagnosticCells = diagnosticCells
            config.sampleCells = try parsedSampleCells()
            config.bCellFraction = bCellFraction
            config.tCellFraction = tCellFraction
            config.readsPerSample = reads
            config.readLength = readLength
            config.sequencing.readLength = readLength
            (config.sequencing.startQuality, config.sequencing.endQuality) = try parsedQuality()
            config.amplicon = AmpliconDesign(rawValue: amplicon)!
            config.minimumVIdentity = shm
            config.loci = try parsedLoci()
            config.paired = paired
            config.pairedSamples = Set(pairedSamples.split(separator: ",").map(String.init))
            config.bzip2Samples = Set(bzip2Samples.split(separator: ",").map(String.init))
            config.laneSplitSamples = Set(laneSplitSamples.split(separator: ",").map(String.init))
            config.umiLength = umi
            config.indexHopping = indexHopping
            config.evolvedFraction = evolved
            config.spikeCopies = try parsedSpikeCopies()
            config.spikeLoci = try parsedSpikeLoci()
            config.locusEfficiency = try parsedEfficiency()
            config.backgroundClonotypes = clonotypes
            config.controls = controls
            config.threads = threadOptions.threads
            let simulator = RunSimulator(config: config, germline: try GermlineReference.bundled())
            let output = try simulator.write(to: URL(fileURLWithPath: out))
            let reads = output.truth.reduce(0) { $0 + $1.totalReads }
            printNote("simulate", "\(output.truth.count) samples, \(reads) reads in \(out)")
        }
    }
}
