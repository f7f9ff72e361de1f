import Dispatch
import Foundation

/// What `mrd simulate` makes: a sequencing run of several patients (diagnostic sample and
/// follow-ups), controls, spike-in calibrators and the truth behind every read count.
public struct SimulationConfig: Sendable {
    public var seed: UInt64 = 1
    public var patients = 3
    /// True MRD level of each follow-up, in order (one follow-up per entry).
    public var levels: [Double] = [1e-2, 1e-3, 0]
    public var timepoints: [String] = ["induction", "month3", "month6"]
    public var days: [Int] = [35, 90, 180]
    /// Cells in each follow-up's DNA input (6.5 pg per diploid cell).
    public var cells = 50_000
    /// Follow-ups with another DNA input (cells), by sample id.
    public var sampleCells: [String: Int] = [:]
    public var diagnosticCells = 5_000
    /// Share of the cells carrying a rearrangement of the locus in the polyclonal background
    /// (B cells for IG loci, T cells for TR loci), after therapy.
    public var bCellFraction = 0.05
    public var tCellFraction = 0.3
    public var loci: [Locus] = [.IGH, .IGK, .TRB, .TRG]
    public var readsPerSample = 4_000
    public var readLength = 150
    /// Where the V primers sit (how much V each amplicon carries).
    public var amplicon = AmpliconDesign.fr3
    /// Somatic hypermutation of IG rearrangements (mature B-cell neoplasms, and the B cells around
    /// them): each IG clonotype's V identity drawn uniformly from this value to 1; nil: none.
    public var minimumVIdentity: Double? = nil
    /// Paired-end 2x`readLength` for every sample (else single-end, with `pairedSamples` as exceptions).
    public var paired = false
    public var pairedSamples: Set<String> = []
    public var bzip2Samples: Set<String> = []
    public var laneSplitSamples: Set<String> = []
    /// UMI length added at the start of read 1 (0 = none).
    public var umiLength = 0
    public var indexHopping = 0.002
    /// Share of leukemic templates in follow-ups that carry a VH replacement of the IGH index clone.
    public var evolvedFraction = 0.0
    /// Spike-in copies per reaction; each locus gets one calibrator per entry.
    public var spikeCopies: [Int] = [20, 100, 400]
    /// Loci whose calibrators are added (nil: every simulated locus).
    public var spikeLoci: [Locus]? = nil
    /// Reads per template of a locus relative to the others (multiplex PCR efficiency and pooling;
    /// spike-ins of a locus share its efficiency): 1 when not given.
    public var locusEfficiency: [Locus: Double] = [:]
    /// Normal clonotypes per index clone that differ from it by 1-3 junction substitutions.
    public var nearNeighbours = 2
    public var backgroundClonotypes = 2_000
    public var controls = true
    /// PCR over-dispersion: reads per template ~ NB(mean, size).
    public var pcrSize = 3.0
    public var sequencing = SequencingModel()
    public var threads = ProcessInfo.processInfo.activeProcessorCount

    public init() {}
}

/// A clone of a simulated patient and its role.
public struct SimulatedClone: Sendable {
    public var id: String
    public var rearrangement: Rearrangement
    /// Share of its locus' templates at diagnosis.
    public var diagnosticFraction: Double
    public var isLeukemic: Bool
}

/// Simulates whole runs; see `SimulationConfig` and docs/simulator.md.
public struct RunSimulator: Sendable {
    public let config: SimulationConfig
    public let model: RecombinationModel

    public init(config: SimulationConfig, germline: GermlineReference) {
        self.config = config
        var model = RecombinationModel(germline: germline)
        model.design = config.amplicon
        self.model = model
    }

    /// A rearrangement of `locus`, hypermutated when the run simulates SHM and the locus is IG.
    func rearrangement(_ locus: Locus, random: inout SeededRandom) -> Rearrangement {
        var rearrangement = model.rearrange(locus, using: &random)
        if let minimum = config.minimumVIdentity, locus.rawValue.hasPrefix("IG"), rearrangement.junctionStart > 0,
           !rearrangement.vCall.isEmpty, rearrangement.kind != .intronKde {
            model.hypermutate(&rearrangement, identity: minimum + (1 - minimum) * random.uniform(), using: &random)
        }
        return rearrangement
    }

    // MARK: - Patients and samples

    /// One kind of molecule in a sample and how many reads it yields.
    struct Entry {
        var sequence: [UInt8]
        var templates: Int
        var reads: Int
        var category: Category
        /// The molecule's locus (nil for hopped reads), for its PCR efficiency.
        var locus: Locus? = nil
        enum Category: Equatable { case leukemic(Int), evolved(Int), background, spikeIn, hopped }
    }

    struct Sample {
        var id: String
        var patient: String
        var role: String
        var timepoint: String
        var day: Int?
        var cells: Int
        var level: Double?
        var leukemicCells = 0
        var entries: [Entry] = []
        var paired = false
        var compression = "gzip"
        var lanes = 1
    }

    struct Patient {
        var id: String
        var clones: [SimulatedClone]
        /// Background repertoire per locus: rearrangements and their relative abundance.
        var repertoire: [Locus: [(Rearrangement, Double)]]
    }

    func makeRepertoire(_ locus: Locus, count: Int, random: inout SeededRandom) -> [(Rearrangement, Double)] {
        // Clone sizes of a healthy repertoire follow a power law (P(w > x) = x^-2): a handful are
        // expanded to about 1% of the locus; none reaches an index clone's 5%.
        (0..<count).map { _ in
            (rearrangement(locus, random: &random), pow(random.uniform() + 1e-9, -0.5))
        }
    }

    func makePatient(_ index: Int) -> Patient {
        var random = SeededRandom(seed: config.seed, stream: "patient\(index)")
        let id = String(format: "P%03d", index + 1)
        var repertoire: [Locus: [(Rearrangement, Double)]] = [:]
        for locus in config.loci {
            repertoire[locus] = makeRepertoire(locus, count: config.backgroundClonotypes, random: &random)
        }
        // Index clones: one or two (biallelic) on the first locus, one on another locus.
        var clones: [SimulatedClone] = []
        let primary = config.loci[0]
        let primaryCount = random.bernoulli(0.3) ? 2 : 1
        var targets: [Locus] = Array(repeating: primary, count: primaryCount)
        if config.loci.count > 1 { targets.append(config.loci[1 + random.below(config.loci.count - 1)]) }
        let blastFraction = 0.3 + 0.65 * random.uniform()
        for (n, locus) in targets.enumerated() {
            var rearrangement = self.rearrangement(locus, random: &random)
            // Index clones need a junction long enough to be unique.
            while rearrangement.junctionEnd - rearrangement.junctionStart < 24 { rearrangement = self.rearrangement(locus, random: &random) }
            let fraction = n > 0 && locus == primary ? blastFraction * (0.4 + 0.5 * random.uniform()) : blastFraction
            clones.append(SimulatedClone(id: "\(id)_\(locus)_\(n + 1)", rearrangement: rearrangement,
                                         diagnosticFraction: fraction, isLeukemic: true))
        }
        // Normal near-neighbours of each index clone: same V and J, 1-3 substitutions in the junction.
        for clone in clones {
            for k in 0..<config.nearNeighbours {
                var neighbour = clone.rearrangement
                let changes = 1 + random.below(3)
                // Distinct positions: a second substitution at a position already changed could
                // restore the clone's own base, and a "normal neighbour" identical to the leukemia
                // made the truth call its reads normal (a 25-nt IGK junction, seed 502).
                var changed: Set<Int> = []
                let span = neighbour.junctionEnd - neighbour.junctionStart
                for _ in 0..<changes {
                    let position = neighbour.junctionStart + 3 + random.below(max(1, span - 6))
                    if changed.contains(position) { continue }
                    changed.insert(position)
                    let bases: [UInt8] = Array("ACGT".utf8).filter { $0 != neighbour.sequence[position] }
                    neighbour.sequence[position] = bases[random.below(3)]
                }
                clones.append(SimulatedClone(id: "\(clone.id)_nn\(k + 1)", rearrangement: neighbour,
                                             diagnosticFraction: 0.005 + 0.015 * random.uniform(), isLeukemic: false))
            }
        }
        return Patient(id: id, clones: clones, repertoire: repertoire)
    }

    func lymphoidFraction(_ locus: Locus) -> Double {
        locus.rawValue.hasPrefix("IG") ? config.bCellFraction : config.tCellFraction
    }

    /// Background templates of a locus drawn from a repertoire (Poisson per clonotype).
    func background(_ repertoire: [(Rearrangement, Double)], templates: Double, locus: Locus, random: inout SeededRandom) -> [Entry] {
        let total = repertoire.reduce(0) { $0 + $1.1 }
        return repertoire.compactMap { rearrangement, weight in
            let n = random.poisson(templates * weight / total)
            return n > 0 ? Entry(sequence: rearrangement.sequence, templates: n, reads: 0, category: .background, locus: locus) : nil
        }
    }

    /// A VH replacement of an IGH clone: a new upstream V joined to the same D-N-J.
    func evolved(_ clone: Rearrangement, random: inout SeededRandom) -> Rearrangement {
        var choices = RecombinationModel.Choices()
        var fresh = model.rearrange(clone.locus, kind: .VDJ, using: &random, choices: &choices)
        // Keep the new V up to its Cys codon and a few bases, then the clone's junction remainder.
        let keepV = fresh.junctionStart + 3 + random.below(4)
        let tail = clone.sequence[(clone.junctionStart + 6)...]
        fresh.sequence = Array(fresh.sequence[..<keepV]) + tail
        fresh.junctionEnd = keepV + (clone.junctionEnd - clone.junctionStart - 6)
        fresh.dCall = clone.dCall
        fresh.jCall = clone.jCall
        return fresh
    }

    public struct SpikeIn: Sendable {
        public var id: String
        public var locus: Locus
        public var sequence: [UInt8]
        public var copies: Int
    }

    /// Synthetic calibrators: a V and J of each locus around a random 30-nt core no human junction has.
    public func spikeIns() -> [SpikeIn] {
        var random = SeededRandom(seed: config.seed, stream: "spikes")
        var spikes: [SpikeIn] = []
        for locus in config.loci where config.spikeLoci?.contains(locus) ?? true {
            for (n, copies) in config.spikeCopies.enumerated() {
                var choices = RecombinationModel.Choices()
                let kind = RearrangementKind.complete(locus)
                var r = model.rearrange(locus, kind: kind, using: &random, choices: &choices)
                let core = (0..<30).map { _ in Array("ACGT".utf8)[random.below(4)] }
                r.sequence = Array(r.sequence[..<(r.junctionStart + 3)]) + core + r.sequence[(r.junctionEnd - 3)...]
                spikes.append(SpikeIn(id: "SPK_\(locus)_\(n + 1)", locus: locus, sequence: r.sequence, copies: copies))
            }
        }
        return spikes
    }

    func samples(_ patients: [Patient], spikes: [SpikeIn]) -> [Sample] {
        var samples: [Sample] = []
        for (p, patient) in patients.enumerated() {
            var random = SeededRandom(seed: config.seed, stream: "samples\(p)")
            // Diagnostic sample: blasts at their clone fractions, the rest a polyclonal background
            // with a few expanded normal clones.
            var diagnostic = Sample(id: "\(patient.id)_DX", patient: patient.id, role: "baseline", timepoint: "diagnosis",
                                    day: 0, cells: config.diagnosticCells, level: nil)
            for locus in config.loci {
                let templates = Double(config.diagnosticCells)
                let leukemic = patient.clones.filter { $0.isLeukemic && $0.rearrangement.locus == locus }
                let leukemicShare = leukemic.reduce(0) { $0 + $1.diagnosticFraction }
                for (n, clone) in patient.clones.enumerated() where clone.rearrangement.locus == locus {
                    diagnostic.entries.append(Entry(sequence: clone.rearrangement.sequence,
                                                    templates: random.poisson(templates * clone.diagnosticFraction), reads: 0,
                                                    category: clone.isLeukemic ? .leukemic(n) : .background, locus: locus))
                }
                let rest = templates * max(0.02, 1 - min(0.98, leukemicShare)) * 0.9
                diagnostic.entries += background(patient.repertoire[locus]!, templates: rest, locus: locus, random: &random)
            }
            samples.append(diagnostic)
            for (f, level) in config.levels.enumerated() {
                var sample = Sample(id: "\(patient.id)_FU\(f + 1)", patient: patient.id, role: "followup",
                                    timepoint: f < config.timepoints.count ? config.timepoints[f] : "followup\(f + 1)",
                                    day: f < config.days.count ? config.days[f] : nil, cells: config.cells, level: level)
                sample.cells = config.sampleCells[sample.id] ?? config.cells
                sample.leukemicCells = random.poisson(level * Double(sample.cells))
                for (n, clone) in patient.clones.enumerated() where clone.isLeukemic {
                    let evolvedCount = clone.rearrangement.locus == .IGH
                        ? random.binomial(sample.leukemicCells, config.evolvedFraction) : 0
                    if sample.leukemicCells - evolvedCount > 0 {
                        sample.entries.append(Entry(sequence: clone.rearrangement.sequence,
                                                    templates: sample.leukemicCells - evolvedCount, reads: 0, category: .leukemic(n),
                                                    locus: clone.rearrangement.locus))
                    }
                    if evolvedCount > 0 {
                        sample.entries.append(Entry(sequence: evolved(clone.rearrangement, random: &random).sequence,
                                                    templates: evolvedCount, reads: 0, category: .evolved(n), locus: .IGH))
                    }
                }
                for locus in config.loci {
                    let templates = Double(sample.cells) * lymphoidFraction(locus)
                    for clone in patient.clones where !clone.isLeukemic && clone.rearrangement.locus == locus {
                        let n = random.poisson(templates * clone.diagnosticFraction)
                        if n > 0 { sample.entries.append(Entry(sequence: clone.rearrangement.sequence, templates: n, reads: 0, category: .background, locus: locus)) }
                    }
                    sample.entries += background(patient.repertoire[locus]!, templates: templates, locus: locus, random: &random)
                }
                samples.append(sample)
            }
        }
        if config.controls {
            var random = SeededRandom(seed: config.seed, stream: "controls")
            samples.append(Sample(id: "NTC", patient: "control", role: "control", timepoint: "no_template", day: nil, cells: 0, level: nil))
            var polyclonal = Sample(id: "POLYCLONAL", patient: "control", role: "control", timepoint: "polyclonal", day: nil,
                                    cells: config.cells, level: nil)
            for locus in config.loci {
                let repertoire = makeRepertoire(locus, count: config.backgroundClonotypes, random: &random)
                polyclonal.entries += background(repertoire, templates: Double(config.cells) * lymphoidFraction(locus), locus: locus, random: &random)
            }
            samples.append(polyclonal)
        }
        // Spike-ins in every reaction, then reads: negative-binomial PCR per template.
        for s in samples.indices {
            var random = SeededRandom(seed: config.seed, stream: "pcr-\(samples[s].id)")
            for spike in spikes {
                samples[s].entries.append(Entry(sequence: spike.sequence, templates: random.poisson(Double(spike.copies)),
                                                reads: 0, category: .spikeIn, locus: spike.locus))
            }
        }
        // Libraries are pooled to similar depths; a sample with far fewer templates than the others
        // (a no-template control) keeps the typical reads per template and so yields few reads.
        let templateTotals = samples.map { $0.entries.reduce(0) { $0 + $1.templates } }
        let typicalTemplates = templateTotals.sorted()[templateTotals.count / 2]
        for s in samples.indices {
            var random = SeededRandom(seed: config.seed, stream: "depth-\(samples[s].id)")
            let templates = templateTotals[s] < typicalTemplates / 10 ? typicalTemplates : max(templateTotals[s], 1)
            let readsPerTemplate = Double(config.readsPerSample) / Double(templates)
            for e in samples[s].entries.indices {
                let n = Double(samples[s].entries[e].templates)
                let efficiency = samples[s].entries[e].locus.flatMap { config.locusEfficiency[$0] } ?? 1
                samples[s].entries[e].reads = n > 0
                    ? random.negativeBinomial(mean: n * readsPerTemplate * efficiency, size: n * config.pcrSize) : 0
            }
            samples[s].paired = config.paired || config.pairedSamples.contains(samples[s].id)
            if config.bzip2Samples.contains(samples[s].id) { samples[s].compression = "bzip2" }
            if config.laneSplitSamples.contains(samples[s].id) { samples[s].lanes = 2 }
        }
        // Index hopping: a small share of each sample's reads is assigned to another sample of the run.
        if config.indexHopping > 0 && samples.count > 1 {
            var random = SeededRandom(seed: config.seed, stream: "hopping")
            var hopped: [[Entry]] = Array(repeating: [], count: samples.count)
            for s in samples.indices {
                for e in samples[s].entries.indices {
                    let moving = random.binomial(samples[s].entries[e].reads, config.indexHopping)
                    guard moving > 0 else { continue }
                    samples[s].entries[e].reads -= moving
                    // Each read hops on its own (its index misread), so a molecule's hopped reads
                    // scatter over the run instead of landing together in one sample.
                    var arrivals: [Int: Int] = [:]
                    for _ in 0..<moving {
                        var destination = random.below(samples.count - 1)
                        if destination >= s { destination += 1 }
                        arrivals[destination, default: 0] += 1
                    }
                    for (destination, reads) in arrivals.sorted(by: { $0.key < $1.key }) {
                        hopped[destination].append(Entry(sequence: samples[s].entries[e].sequence, templates: 0, reads: reads,
                                                         category: .hopped))
                    }
                }
            }
            for s in samples.indices { samples[s].entries += hopped[s] }
        }
        return samples
    }

    // MARK: - Writing

    public struct Output: Sendable {
        public var truth: [SampleTruth]
        public var clones: [(patient: String, clone: SimulatedClone)]
        public var spikes: [SpikeIn]
    }

    /// Simulates the run and writes it into `directory`.
    @discardableResult
    public func write(to directory: URL) throws -> Output {
        try createOutputFolder(directory.path)
        let patients = (0..<config.patients).map(makePatient)
        let spikes = spikeIns()
        let samples = self.samples(patients, spikes: spikes)

        // Samples are written concurrently, each from its own random stream: same bytes whatever
        // the thread count.
        let results = UnsafeMutableBufferPointer<Result<SampleTruth, Error>?>.allocate(capacity: samples.count)
        results.initialize(repeating: nil)
        defer { results.deallocate() }
        let box = UncheckedBox(results)
        let next = NextIndex()
        let sharedSamples = UncheckedBox(samples)
        let table = config.sequencing.qualityTable()
        DispatchQueue.concurrentPerform(iterations: max(1, min(config.threads, samples.count))) { _ in
            while let i = next.take(below: sharedSamples.value.count) {
                box.value[i] = Result { try writeSample(sharedSamples.value[i], to: directory, table: table) }
            }
        }
        var truth: [SampleTruth] = []
        for result in results { truth.append(try result!.get()) }

        try writeSheet(truth, samples: samples, to: directory)
        try writeTruth(truth, to: directory)
        try writeClones(patients, to: directory)
        try writeCloneCounts(truth, patients, to: directory)
        try writeSpikes(spikes, to: directory)
        try writeClinical(patients, to: directory)
        return Output(truth: truth, clones: patients.flatMap { p in p.clones.map { (p.id, $0) } }, spikes: spikes)
    }

    func writeSample(_ sample: Sample, to directory: URL, table: [[Double]]) throws -> SampleTruth {
        var random = SeededRandom(seed: config.seed, stream: "reads-\(sample.id)")
        // Read order is shuffled, as on a flow cell.
        var order: [Int32] = []
        order.reserveCapacity(sample.entries.reduce(0) { $0 + $1.reads })
        for (e, entry) in sample.entries.enumerated() { order += repeatElement(Int32(e), count: entry.reads) }
        order.shuffle(using: &random)

        let suffix = sample.compression == "bzip2" ? "fastq.bz2" : "fastq.gz"
        let format: CompressedWriter.Format = sample.compression == "bzip2" ? .bzip2 : .gzip(level: 1)
        var names1: [String] = [], names2: [String] = []
        var writers1: [CompressedWriter] = [], writers2: [CompressedWriter] = []
        for lane in 1...sample.lanes {
            let laneTag = sample.lanes > 1 ? "_L00\(lane)" : ""
            names1.append("\(sample.id)\(laneTag)_R1.\(suffix)")
            writers1.append(try CompressedWriter(path: directory.appendingPathComponent(names1.last!).path, format: format))
            if sample.paired {
                names2.append("\(sample.id)\(laneTag)_R2.\(suffix)")
                writers2.append(try CompressedWriter(path: directory.appendingPathComponent(names2.last!).path, format: format))
            }
        }
        var truth = SampleTruth(sampleID: sample.id, patientID: sample.patient, role: sample.role, timepoint: sample.timepoint,
                                day: sample.day, cells: sample.cells, level: sample.level, leukemicCells: sample.leukemicCells,
                                leukemicTemplates: 0, evolvedTemplates: 0, leukemicReads: 0, evolvedReads: 0, hoppedInReads: 0,
                                spikeInReads: 0, totalReads: order.count, files: names1, mateFiles: names2)
        // Per index clone counts; the sample's figures are those of its highest clone, as the
        // contract reports them (markers of one leukemia are not added up).
        var perClone: [Int: CloneTruth] = [:]
        for entry in sample.entries {
            switch entry.category {
            case .leukemic(let clone):
                perClone[clone, default: CloneTruth(clone: clone)].templates += entry.templates
                perClone[clone, default: CloneTruth(clone: clone)].reads += entry.reads
            case .evolved(let clone):
                perClone[clone, default: CloneTruth(clone: clone)].evolvedTemplates += entry.templates
                perClone[clone, default: CloneTruth(clone: clone)].evolvedReads += entry.reads
            case .hopped: truth.hoppedInReads += entry.reads
            case .spikeIn: truth.spikeInReads += entry.reads
            case .background: break
            }
        }
        truth.clones = perClone.values.sorted { $0.clone < $1.clone }
        if let top = truth.clones.max(by: { ($0.reads + $0.evolvedReads, -$0.clone) < ($1.reads + $1.evolvedReads, -$1.clone) }) {
            truth.leukemicTemplates = top.templates
            truth.leukemicReads = top.reads
            truth.evolvedTemplates = top.evolvedTemplates
            truth.evolvedReads = top.evolvedReads
        }
        var bases: [UInt8] = [], qualities: [UInt8] = [], record: [UInt8] = []
        var template: [UInt8] = []
        let sequencing = config.sequencing
        // UMIs: each template of an entry gets its own; its reads share it.
        var umiCache: [Int32: [[UInt8]]] = [:]
        for (n, e) in order.enumerated() {
            let entry = sample.entries[Int(e)]
            template.removeAll(keepingCapacity: true)
            if config.umiLength > 0 {
                let copies = max(1, entry.templates)
                if umiCache[e] == nil {
                    umiCache[e] = (0..<min(copies, 4096)).map { _ in (0..<config.umiLength).map { _ in Array("ACGT".utf8)[random.below(4)] } }
                }
                template += umiCache[e]![random.below(umiCache[e]!.count)]
            }
            let reverse = random.bernoulli(sequencing.reverseShare)
            let forward = entry.sequence
            let lane = sample.lanes > 1 ? (n * sample.lanes) / max(order.count, 1) : 0
            let name = "\(sample.id):\(n + 1)"
            if sample.paired {
                let (first, second) = reverse ? (reverseComplement(forward), forward) : (forward, reverseComplement(forward))
                template += first
                sequencing.read(template[...], bases: &bases, qualities: &qualities, table: table, random: &random)
                fastq(&record, name: name, mate: 1, bases, qualities)
                try writers1[lane].write(record)
                sequencing.read(second[...], bases: &bases, qualities: &qualities, table: table, random: &random)
                fastq(&record, name: name, mate: 2, bases, qualities)
                try writers2[lane].write(record)
            } else {
                template += reverse ? reverseComplement(forward) : forward
                sequencing.read(template[...], bases: &bases, qualities: &qualities, table: table, random: &random)
                fastq(&record, name: name, mate: 0, bases, qualities)
                try writers1[lane].write(record)
            }
        }
        for writer in writers1 + writers2 { try writer.finish() }
        return truth
    }

    private func fastq(_ record: inout [UInt8], name: String, mate: Int, _ bases: [UInt8], _ qualities: [UInt8]) {
        record.removeAll(keepingCapacity: true)
        record.append(UInt8(ascii: "@"))
        record += name.utf8
        if mate > 0 { record += " \(mate):N:0:1".utf8 }
        record.append(10)
        record += bases
        record += "\n+\n".utf8
        record += qualities
        record.append(10)
    }

    func writeSheet(_ truth: [SampleTruth], samples: [Sample], to directory: URL) throws {
        let rows = truth.map { t in
            SheetRow(patientID: t.patientID, sampleID: t.sampleID, role: SheetSample.Role(rawValue: t.role)!, timepoint: t.timepoint,
                     day: t.day, reads1: t.files, reads2: t.mateFiles, dnaNanograms: t.cells > 0 ? Double(t.cells) * 6.5 / 1000 : nil)
        }
        try AtomicFile.write(SampleSheet.csv(rows), to: directory.appendingPathComponent("sheet.csv").path)
    }

    func writeTruth(_ truth: [SampleTruth], to directory: URL) throws {
        try AtomicFile.write(TruthFile.text(truth), to: directory.appendingPathComponent("truth.tsv").path)
    }

    func writeCloneCounts(_ truth: [SampleTruth], _ patients: [Patient], to directory: URL) throws {
        var cloneIDs: [String: [String]] = [:]
        for patient in patients { cloneIDs[patient.id] = patient.clones.map(\.id) }
        try AtomicFile.write(TruthFile.countsText(truth, cloneIDs: cloneIDs), to: directory.appendingPathComponent("truth_counts.tsv").path)
    }

    func writeClones(_ patients: [Patient], to directory: URL) throws {
        var text = ["patient_id", "clone_id", "leukemic", "locus", "rearrangement", "v_call", "d_call", "j_call", "junction",
                    "junction_aa", "productive", "diagnostic_fraction", "amplicon", "v_identity"].joined(separator: "\t") + "\n"
        for patient in patients {
            for clone in patient.clones {
                let r = clone.rearrangement
                text += [patient.id, clone.id, clone.isLeukemic ? "T" : "F", r.locus.rawValue, r.kind.rawValue, r.vCall, r.dCall,
                         r.jCall, r.junctionString, r.junctionAA ?? "", r.productive.map { $0 ? "T" : "F" } ?? "",
                         format(clone.diagnosticFraction), String(decoding: r.sequence, as: UTF8.self),
                         String(format: "%.4f", r.vIdentity)].joined(separator: "\t") + "\n"
            }
        }
        try AtomicFile.write(text, to: directory.appendingPathComponent("truth_clones.tsv").path)
    }

    func writeSpikes(_ spikes: [SpikeIn], to directory: URL) throws {
        let calibrators = spikes.map { SpikeInCalibrator(id: $0.id, sequence: $0.sequence, copies: Double($0.copies)) }
        try AtomicFile.write(SpikeInsFile.text(calibrators), to: directory.appendingPathComponent("spikes.tsv").path)
    }

    func writeClinical(_ patients: [Patient], to directory: URL) throws {
        var random = SeededRandom(seed: config.seed, stream: "clinical")
        var records: [ClinicalRecord] = []
        for patient in patients {
            let event = random.bernoulli(0.3)
            let days = event ? 200 + random.below(600) : 730 + random.below(400)
            let ph = random.bernoulli(0.32) ? "positive" : "negative"
            let risk = random.bernoulli(0.5) ? "high" : "standard"
            records.append(ClinicalRecord(patientID: patient.id, rfsDays: Double(days), event: event, groups: ["ph_status": ph, "risk_group": risk]))
        }
        try AtomicFile.write(ClinicalFile.text(records, groupColumns: ["ph_status", "risk_group"]),
                             to: directory.appendingPathComponent("clinical.csv").path)
    }

    func format(_ value: Double) -> String {
        if value == 0 { return "0" }
        if value == value.rounded() && abs(value) < 1e15 { return String(Int(value)) }
        return String(format: "%.6g", value)
    }
}

/// Hands out indices 0, 1, 2... to concurrent workers.
final class NextIndex: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func take(below limit: Int) -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard value < limit else { return nil }
        value += 1
        return value - 1
    }
}
