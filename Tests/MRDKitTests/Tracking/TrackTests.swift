import Foundation
import Testing
@testable import MRDKit

private let germline = try! GermlineReference.bundled()
private let annotator = Annotator(germline: germline)
private let recombination = RecombinationModel(germline: germline)

@Suite("Statistics for the calls")
struct StatisticsTests {
    @Test("incomplete gamma, exact Poisson and Wilson intervals, negative binomial: published values")
    func knownValues() {
        #expect(abs(Statistics.regularizedGammaP(1, 1) - (1 - exp(-1))) < 1e-12)
        #expect(abs(Statistics.regularizedGammaP(5, 3) - 0.18473675547622792) < 1e-10)
        #expect(abs(Statistics.regularizedGammaP(3, 10) - 0.9972306042844884) < 1e-10)
        // Garwood: 0 events -> (0, 3.689); 5 events -> (1.6235, 11.6683).
        let zero = Statistics.poissonInterval(0)
        #expect(zero.low == 0 && abs(zero.high - 3.6888794541139363) < 1e-6)
        let five = Statistics.poissonInterval(5)
        #expect(abs(five.low - 1.6234863901) < 1e-6 && abs(five.high - 11.66833207932267) < 1e-6)
        let wilson = Statistics.wilsonInterval(successes: 5, trials: 10)
        #expect(abs(wilson.low - 0.2365930905) < 1e-6 && abs(wilson.high - 0.7634069095) < 1e-6)
        #expect(abs(Statistics.negativeBinomialBelow(1, mean: 3, size: 3) - 0.125) < 1e-12)
        #expect(abs(Statistics.negativeBinomialBelow(2, mean: 3, size: 3) - 0.3125) < 1e-12)
    }

    @Test("LoD in templates: the Poisson limit (-ln 0.05) at deep sequencing, more when reads per template are few")
    func detectionLimit() {
        let deep = Quantifier.detectionLimit(readsPerTemplate: 1000, minReads: 1, pcrSize: 3)
        #expect(abs(deep - 2.9957) < 0.01)
        let shallow = Quantifier.detectionLimit(readsPerTemplate: 0.5, minReads: 2, pcrSize: 3)
        #expect(shallow > 10)
        let rule = DetectionRule()
        #expect(rule.requiredReads(readsPerTemplate: 0.1) == rule.minReads)
        #expect(rule.requiredReads(readsPerTemplate: 40) == 10)
    }
}

/// Writes reads of `templates` (sequence, copies) with sequencing errors, half of them reversed.
private func writeReads(_ templates: [([UInt8], Int)], to url: URL, seed: UInt64) throws {
    var random = SeededRandom(seed: seed, stream: "reads")
    let sequencing = SequencingModel()
    let table = sequencing.qualityTable()
    var bases: [UInt8] = [], qualities: [UInt8] = []
    var text = ""
    var n = 0
    for (sequence, copies) in templates {
        for _ in 0..<copies {
            n += 1
            let reverse = random.bernoulli(0.5)
            let template = reverse ? reverseComplement(sequence) : sequence
            _ = sequencing.read(template[...], bases: &bases, qualities: &qualities, table: table, random: &random)
            text += "@r\(n)\n" + String(decoding: bases, as: UTF8.self) + "\n+\n" + String(decoding: qualities, as: UTF8.self) + "\n"
        }
    }
    try text.write(to: url, atomically: true, encoding: .utf8)
}

/// A baseline clone row for a rearrangement (target = junction +- 10).
private func baselineClone(_ r: Rearrangement, id: String, trackable: Bool = true) -> BaselineClone {
    let start = max(0, r.junctionStart - 10), end = min(r.sequence.count, r.junctionEnd + 10)
    return BaselineClone(cloneID: id, sampleID: "B", locus: r.locus, kind: r.kind, vCall: r.vCall, jCall: r.jCall,
                         junction: r.junction, count: 1000, trackable: trackable, target: trackable ? Array(r.sequence[start..<end]) : [])
}

@Suite("mrd track: a window's tally")
struct WindowTallyTests {
    @Test("a lone read's qualities stand for its sums; more reads and workers' merges give the sums read by read, in the same order")
    func sumsFromOneOrManyReads() {
        var random = SeededRandom(seed: 41, stream: "window tally")
        let length = 60
        for round in 0..<300 {
            // 1-4 reads in one worker, 0-3 in another; now and then a read without qualities (FASTA).
            let reads = (0..<(1 + random.below(4) + random.below(4))).map { _ -> [UInt8] in
                random.below(8) == 0 ? [] : (0..<length).map { _ in UInt8(33 + random.below(45)) }
            }
            let split = 1 + random.below(reads.count)
            var first = TrackTally.WindowTally(), second = TrackTally.WindowTally()
            for read in reads[..<split] { first.add(qualities: read, length: length) }
            for read in reads[split...] { second.add(qualities: read, length: length) }
            if split < reads.count { first.merge(second, length: length) }
            // The reference: each worker's sums from zero, read by read, then added together.
            func sums(_ part: ArraySlice<[UInt8]>) -> (q: [Int], e: [Double]) {
                var q = [Int](repeating: 0, count: length), e = [Double](repeating: 0, count: length)
                for read in part {
                    for p in 0..<length {
                        let quality = read.isEmpty ? 40 : Int(read[p]) - 33
                        q[p] += quality
                        e[p] += read.isEmpty ? 1e-4 : phredErrorProbability[min(quality, 93)]
                    }
                }
                return (q, e)
            }
            var (q, e) = sums(reads[..<split])
            if split < reads.count {
                let (q2, e2) = sums(reads[split...])
                for p in 0..<length { q[p] += q2[p]; e[p] += e2[p] }
            }
            #expect(first.count == reads.count, "round \(round)")
            #expect((0..<length).map { first.qualitySum(at: $0) } == q, "round \(round)")
            #expect((0..<length).map { first.errorSum(at: $0) } == e, "round \(round)")
        }
    }
}

@Suite("mrd track: matching")
struct TrackMatchingTests {
    /// An IGH clone and a normal neighbour one substitution away in the middle of the junction.
    static func pair(seed: UInt64) -> (Rearrangement, Rearrangement) {
        var random = SeededRandom(seed: seed, stream: "pair")
        var choices = RecombinationModel.Choices()
        var clone = recombination.rearrange(.IGH, kind: .VDJ, using: &random, choices: &choices)
        while clone.junction.count < 36 { clone = recombination.rearrange(.IGH, kind: .VDJ, using: &random, choices: &choices) }
        var neighbour = clone
        let p = clone.junctionStart + clone.junction.count / 2
        neighbour.sequence[p] = neighbour.sequence[p] == UInt8(ascii: "A") ? UInt8(ascii: "C") : UInt8(ascii: "A")
        return (clone, neighbour)
    }

    func track(_ clones: [BaselineClone], reads: [([UInt8], Int)], seed: UInt64) throws -> MRDCall {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mrd-track-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("reads.fastq")
        try writeReads(reads, to: file, seed: seed)
        var options = TrackOptions()
        options.threads = 2
        let tracker = FollowUpTracker(clones: clones, germline: germline, annotator: annotator, spikeIns: [], options: options)
        let counts = try tracker.run(SampleInput(read1: [file.path]), sampleID: "F")
        var callOptions = CallOptions()
        callOptions.cells = 100_000
        return Quantifier.call(counts, spikes: [], spikeLoci: [], options: callOptions)
    }

    @Test("a normal clone one substitution away, 10,000x more abundant, is never counted (seen at baseline or not)",
          arguments: [false, true])
    func neighbourNeverCounted(_ neighbourAtBaseline: Bool) throws {
        for seed in [1, 2, 3] as [UInt64] {
            let (clone, neighbour) = Self.pair(seed: seed)
            var clones = [baselineClone(clone, id: "B_IGH_1")]
            if neighbourAtBaseline { clones.append(baselineClone(neighbour, id: "B_IGH_2", trackable: false)) }
            // No leukemic read at all: nothing detected.
            let negative = try track(clones, reads: [(neighbour.sequence, 20_000)], seed: seed)
            #expect(!negative.detected, "seed \(seed): \(negative.clones[0].count.reads) reads counted")
            #expect(negative.clones[0].count.rejectedReads > 19_000)
            // Two leukemic reads next to 20,000 neighbour reads: counted, and the neighbour's misreads
            // add no more than their expected bleed.
            let positive = try track(clones, reads: [(neighbour.sequence, 20_000), (clone.sequence, 20)], seed: seed + 100)
            let counted = positive.clones[0].count
            #expect(counted.reads >= 17 && Double(counted.reads) <= 20 + counted.expectedBleedReads + 6,
                    "seed \(seed): \(counted.reads) reads, bleed \(counted.expectedBleedReads)")
            #expect(positive.detected)
        }
    }

    /// A short junction's budget is one substitution: a normal clone two away is past it, and its
    /// reads with one of the two bases misread were counted until such reads were aligned too (the
    /// halo) and the neighbour, abundant there, was taken for a clone of its own.
    @Test("a short junction's normal neighbour two substitutions away, absent at baseline: its misreads are not counted")
    func neighbourInHalo() throws {
        var random = SeededRandom(seed: 5, stream: "halo")
        var choices = RecombinationModel.Choices()
        var clone = recombination.rearrange(.IGK, kind: .complete(.IGK), using: &random, choices: &choices)
        while clone.junction.count > 30 || clone.junction.count < 24 {
            clone = recombination.rearrange(.IGK, kind: .complete(.IGK), using: &random, choices: &choices)
        }
        #expect(TrackOptions().tolerance.budget(junctionLength: clone.junction.count) == 1)
        var neighbour = clone
        for p in [clone.junctionStart + clone.junction.count / 2 - 2, clone.junctionStart + clone.junction.count / 2 + 2] {
            neighbour.sequence[p] = neighbour.sequence[p] == UInt8(ascii: "A") ? UInt8(ascii: "C") : UInt8(ascii: "A")
        }
        let clones = [baselineClone(clone, id: "B_IGK_1")]
        for seed in [1, 2, 3] as [UInt64] {
            let negative = try track(clones, reads: [(neighbour.sequence, 20_000)], seed: seed)
            #expect(!negative.detected, "seed \(seed): \(negative.clones[0].count.reads) reads counted")
            #expect(negative.clones[0].count.reads <= 1 && negative.clones[0].count.rejectedReads > 19_000,
                    "seed \(seed): \(negative.clones[0].count.reads) counted, \(negative.clones[0].count.rejectedReads) rejected")
            // Twenty leukemic reads beside them: counted and detected.
            let positive = try track(clones, reads: [(neighbour.sequence, 20_000), (clone.sequence, 20)], seed: seed + 100)
            #expect(positive.detected && positive.clones[0].count.reads >= 17 && positive.clones[0].count.reads <= 22,
                    "seed \(seed): \(positive.clones[0].count.reads) counted")
        }
    }

    @Test("reads with sequencing errors in either orientation are counted; a VH replacement counts as evolved")
    func errorsAndEvolved() throws {
        let (clone, _) = Self.pair(seed: 9)
        var random = SeededRandom(seed: 9, stream: "evolved")
        var choices = RecombinationModel.Choices()
        var fresh = recombination.rearrange(.IGH, kind: .VDJ, using: &random, choices: &choices)
        while fresh.vCall.split(separator: "*")[0] == clone.vCall.split(separator: "*")[0] {
            fresh = recombination.rearrange(.IGH, kind: .VDJ, using: &random, choices: &choices)
        }
        // The new V up to its Cys codon and 2 bases, then the clone's junction from its 7th base on.
        let evolved = Array(fresh.sequence[..<(fresh.junctionStart + 5)]) + clone.sequence[(clone.junctionStart + 6)...]
        let call = try track([baselineClone(clone, id: "B_IGH_1")], reads: [(clone.sequence, 500), (evolved, 200)], seed: 9)
        let counted = call.clones[0].count
        #expect(counted.reads >= 480 && counted.reads <= 500, "\(counted.reads)")
        #expect(counted.exactReads < counted.reads)  // some reads had errors and still counted
        #expect(counted.evolvedReads >= 180 && counted.evolvedReads <= 200, "\(counted.evolvedReads) evolved, \(counted.rejectedReads) rejected; V \(clone.vCall) junction \(clone.junctionString) -> \(String(decoding: evolved, as: UTF8.self))")
        #expect(call.leukemicReads == counted.reads + counted.evolvedReads)
    }

    /// A hypermutated clone (or one whose V allele the germline set lacks) differs from its germline
    /// V just before the target; compared with that germline, every one of its reads looked like a
    /// VH replacement. With the clone's own bases (clones.tsv `upstream`) none does; without them
    /// the reads' own V gene, the clone's, says the same.
    @Test("a hypermutated clone's reads are its own, not VH replacements, by its own upstream V or else by their V gene")
    func hypermutatedUpstream() throws {
        // A clone with a D-N-J part (VH replacements of it are tracked).
        var seed: UInt64 = 11
        while FollowUpTracker.dnjPart(baselineClone(Self.pair(seed: seed).0, id: "B"), germline: germline) == nil { seed += 1 }
        var clone = Self.pair(seed: seed).0
        // Six substitutions in the 30 bases before the target (which starts 10 before the junction).
        let targetStart = clone.junctionStart - 10
        for p in stride(from: targetStart - 28, to: targetStart, by: 5) {
            clone.sequence[p] = clone.sequence[p] == UInt8(ascii: "G") ? UInt8(ascii: "T") : UInt8(ascii: "G")
        }
        var own = baselineClone(clone, id: "B_IGH_1")
        own.upstream = Array(clone.sequence[(targetStart - 30)..<targetStart])
        let withOwn = try track([own], reads: [(clone.sequence, 300)], seed: 11).clones[0].count
        #expect(withOwn.reads >= 285 && withOwn.evolvedReads == 0, "\(withOwn.reads) reads, \(withOwn.evolvedReads) evolved")
        // Without it (an older clones.tsv, an AIRR row without sequence): the germline V's 30 bases
        // differ in 6, but each read annotated has the clone's V gene: no replacement either.
        let withGermline = try track([baselineClone(clone, id: "B_IGH_1")], reads: [(clone.sequence, 300)], seed: 11).clones[0].count
        #expect(withGermline.reads >= 285 && withGermline.evolvedReads == 0, "\(withGermline.reads) reads, \(withGermline.evolvedReads) evolved")
        // (A read of another V gene still counts as a replacement: "reads with sequencing errors
        // ...; a VH replacement counts as evolved" above.)
    }
}

/// One simulated run, tracked in-process: every follow-up's call next to its truth.
private struct TrackedRun {
    var calls: [(truth: SampleTruth, call: MRDCall)] = []
    /// Per follow-up and tracked IGH clone with a D-N-J target: evolved reads found and true.
    var evolved: [(found: Int, truth: Int)] = []

    static let shared: TrackedRun = try! TrackedRun()

    init() throws {
        var config = SimulationConfig()
        config.seed = 5
        config.patients = 6
        config.loci = [.IGH, .IGK]
        config.cells = 20_000
        // Per patient: 9 MRD-free follow-ups, 6 at 5 leukemic cells, 2 at 50.
        config.levels = Array(repeating: 0, count: 9) + Array(repeating: 5.0 / 20_000, count: 6) + [50.0 / 20_000, 50.0 / 20_000]
        config.timepoints = []
        config.days = []
        config.readsPerSample = 30_000
        config.evolvedFraction = 0.2
        config.controls = false
        config.pairedSamples = []
        config.bzip2Samples = []
        config.laneSplitSamples = []
        config.threads = 2
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mrd-truth-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = try RunSimulator(config: config, germline: germline).write(to: directory)
        let spikes = try SpikeInsFile.read(path: directory.appendingPathComponent("spikes.tsv").path)
        var baselineOptions = BaselineOptions()
        baselineOptions.threads = 2
        let baseline = BaselineAnalysis(germline: germline, spikeIns: spikes, options: baselineOptions)
        var trackOptions = TrackOptions()
        trackOptions.threads = 2
        for diagnosis in output.truth where diagnosis.role == "baseline" {
            let result = try baseline.run(SampleInput(read1: diagnosis.files.map { directory.appendingPathComponent($0).path }),
                                          sampleID: diagnosis.sampleID)
            // Through the file, as `mrd track` reads it.
            let clonesFile = directory.appendingPathComponent("\(diagnosis.sampleID).clones.tsv")
            try ClonesFile.text(BaselineSample.clones(result)).write(to: clonesFile, atomically: true, encoding: .utf8)
            let tracker = FollowUpTracker(clones: try ClonesFile.read(path: clonesFile.path), germline: germline,
                                          annotator: annotator, spikeIns: spikes, options: trackOptions)
            for sample in output.truth where sample.role == "followup" && sample.patientID == diagnosis.patientID {
                let counts = try tracker.run(SampleInput(read1: sample.files.map { directory.appendingPathComponent($0).path }),
                                             sampleID: sample.sampleID)
                var callOptions = CallOptions()
                callOptions.cells = Double(sample.cells)
                calls.append((sample, Quantifier.call(counts, spikes: spikes, spikeLoci: tracker.index.spikeLoci, options: callOptions)))
                let patientClones = output.clones.filter { $0.patient == diagnosis.patientID }.map(\.clone)
                for (t, count) in counts.clones.enumerated() where tracker.index.targets.contains(where: { $0.evolved && $0.clone == t }) {
                    guard let c = patientClones.firstIndex(where: { $0.rearrangement.junction == count.clone.junction }) else { continue }
                    let truth = sample.clones.first { $0.clone == c }?.evolvedReads ?? 0
                    evolved.append((count.evolvedReads, truth))
                }
            }
        }
    }
}

@Suite("mrd track on simulated runs with known truth (index hopping, near-neighbours, errors)")
struct TrackTruthTests {
    @Test("no false positive among >= 50 MRD-free follow-ups")
    func noFalsePositives() {
        let free = TrackedRun.shared.calls.filter { $0.truth.leukemicCells == 0 }
        #expect(free.count >= 50)
        for (truth, call) in free {
            #expect(!call.detected, "\(truth.sampleID): \(call.clones.map { "\($0.count.clone.cloneID) \($0.leukemicReads) reads" })")
            #expect(call.call != .positive)
        }
    }

    @Test("detection >= 95% at 5 leukemic cells per sample (Poisson mean 5)")
    func detectionAtFiveCells() {
        let five = TrackedRun.shared.calls.filter { $0.truth.level == 5.0 / 20_000 }
        let detected = five.filter { $0.call.detected }.count
        #expect(five.count == 36)
        #expect(Double(detected) >= 0.95 * Double(five.count), "\(detected) of \(five.count) detected")
    }

    @Test("levels within 0.2 log10 of the truth (median) at >= 20 leukemic cells; VH-replacement reads found")
    func quantification() {
        let quantified = TrackedRun.shared.calls.filter { $0.truth.leukemicCells >= 20 }
        #expect(quantified.count >= 10)
        let errors = quantified.map { abs(log10($0.call.mrdLevel! / (Double($0.truth.leukemicCells) / Double($0.truth.cells)))) }.sorted()
        let median = errors[errors.count / 2]
        #expect(median <= 0.2, "median |log10 error| \(median): \(errors)")
        for (truth, call) in quantified {
            let (low, high) = (call.ciLow ?? 0, call.ciHigh ?? 0)
            #expect(low < call.mrdLevel! && call.mrdLevel! < high, "\(truth.sampleID)")
        }
        // Over the tracked IGH clones that have a D-N-J target.
        let evolvedTruth = TrackedRun.shared.evolved.reduce(0) { $0 + $1.truth }
        let evolvedFound = TrackedRun.shared.evolved.reduce(0) { $0 + $1.found }
        #expect(evolvedTruth > 0)
        // Evolved reads tied with a baseline near-neighbour's D-N-J part are not counted (specificity
        // first), so some are given up; none may be made up.
        #expect(Double(evolvedFound) >= 0.5 * Double(evolvedTruth) && Double(evolvedFound) <= 1.05 * Double(evolvedTruth) + 5,
                "evolved reads: \(evolvedFound) found, \(evolvedTruth) true")
    }
}

@Suite("mrd track: UMIs and calls without a marker")
struct TrackUMITests {
    @Test("UMIs: templates are the error-corrected distinct UMIs, close to the true template count")
    func umiTemplates() throws {
        var config = SimulationConfig()
        config.seed = 11
        config.patients = 1
        config.loci = [.IGH, .IGK]
        config.cells = 20_000
        config.levels = [2e-3, 5e-3]
        config.readsPerSample = 40_000
        config.umiLength = 12
        // 12 UMI bases come off the read: 2x250-class reads, as UMI assays use, still span long junctions.
        config.sequencing.readLength = 250
        config.controls = false
        config.pairedSamples = []
        config.bzip2Samples = []
        config.laneSplitSamples = []
        config.threads = 2
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mrd-umi-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = try RunSimulator(config: config, germline: germline).write(to: directory)
        var baselineOptions = BaselineOptions()
        baselineOptions.threads = 2
        let diagnosis = output.truth.first { $0.role == "baseline" }!
        let spikes = try SpikeInsFile.read(path: directory.appendingPathComponent("spikes.tsv").path)
        let result = try BaselineAnalysis(germline: germline, spikeIns: spikes, options: baselineOptions)
            .run(SampleInput(read1: diagnosis.files.map { directory.appendingPathComponent($0).path }), sampleID: diagnosis.sampleID)
        let clonesFile = directory.appendingPathComponent("clones.tsv")
        try ClonesFile.text(BaselineSample.clones(result)).write(to: clonesFile, atomically: true, encoding: .utf8)
        var options = TrackOptions()
        options.umiLength = 12
        options.threads = 2
        let tracker = FollowUpTracker(clones: try ClonesFile.read(path: clonesFile.path), germline: germline, annotator: annotator,
                                      spikeIns: spikes, options: options)
        #expect(!tracker.tracked.isEmpty)
        for sample in output.truth where sample.role == "followup" {
            let counts = try tracker.run(SampleInput(read1: sample.files.map { directory.appendingPathComponent($0).path }), sampleID: sample.sampleID)
            var callOptions = CallOptions()
            callOptions.cells = Double(sample.cells)
            callOptions.useUMIs = true
            let call = Quantifier.call(counts, spikes: spikes, spikeLoci: tracker.index.spikeLoci, options: callOptions)
            #expect(call.templateMethod == .umi)
            #expect(call.detected)
            // Every leukemic cell carries one template of each marker: the UMIs of the top clone
            // count them (a few UMIs lost to reads that missed the target, none made up by errors).
            let truth = Double(sample.leukemicTemplates)
            #expect(abs(call.leukemicTemplates - truth) <= 0.15 * truth + 2, "\(sample.sampleID): \(call.leukemicTemplates) UMIs, \(truth) templates")
            #expect(call.leukemicReads > Int(call.leukemicTemplates))  // several reads per UMI
        }
    }
}

@Suite("mrd track: UMI error correction")
struct UMICorrectionTests {
    /// The directional rule as first written: every kept UMI scanned for each UMI.
    static func scanned(_ umis: [Bases: Int]) -> Int {
        let sorted = umis.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.bytes.lexicographicallyPrecedes($1.key.bytes) }
        var parents: [(bytes: [UInt8], count: Int)] = []
        outer: for (umi, count) in sorted {
            for parent in parents where parent.count >= 2 * count - 1 && parent.bytes.count == umi.bytes.count {
                if zip(parent.bytes, umi.bytes).filter({ $0 != $1 }).count == 1 { continue outer }
            }
            parents.append((umi.bytes, count))
        }
        return parents.count
    }

    @Test("the neighbour lookup counts what a scan of every kept UMI counts: families with errors, N bases, collisions")
    func lookupMatchesScan() {
        var generator = SeededRandom(seed: 5)
        for round in 0..<40 {
            let length = [6, 8, 12][round % 3]
            var umis: [Bases: Int] = [:]
            let molecules = 1 + Int(generator.next() % 300)
            for _ in 0..<molecules {
                var umi = (0..<length).map { _ in Array("ACGT".utf8)[Int(generator.next() % 4)] }
                let reads = 1 + Int(generator.next() % 12)
                umis[Bases(umi), default: 0] += reads
                // Sequencing errors: one-mismatch copies with a read or two, now and then an N.
                for _ in 0..<Int(generator.next() % 3) {
                    let p = Int(generator.next() % UInt64(length))
                    umi[p] = generator.next() % 5 == 0 ? UInt8(ascii: "N") : Array("ACGT".utf8)[Int(generator.next() % 4)]
                    umis[Bases(umi), default: 0] += 1 + Int(generator.next() % 2)
                }
            }
            let fast = FollowUpTracker.distinctUMIs(umis)
            #expect(fast == Self.scanned(umis), "round \(round)")
            #expect(fast <= umis.count && fast >= 1)
        }
    }
}

@Suite("Calls from UMIs")
struct UMICallTests {
    /// A follow-up of 5,000 cells with 8-nt UMIs and spike-ins whose UMI families average 5 reads,
    /// and a clone with these reads, UMIs and most-read UMI.
    func call(reads: Int, umis: Int, largestFamily: Int, spikeUMIs: [Int] = [20, 60], readsPerSpikeUMI: Int = 5, coverage: Double = 1) -> MRDCall {
        var clone = BaselineClone(cloneID: "P1_DX_IGH_1", sampleID: "P1_DX", locus: .IGH, kind: .VDJ, vCall: "IGHV3-23*01", jCall: "IGHJ4*02",
                                  junction: Array("TGTGCGAGAGATCGGGGTTACTGG".utf8), count: 900, trackable: true,
                                  target: Array("AAAAAAAAAATGTGCGAGAGATCGGGGTTACTGGCCCCCCCCCC".utf8))
        clone.coverage = coverage
        var counts = FollowUpCounts(sampleID: "P1_FU")
        counts.totalReads = 20_000
        counts.readsPerLocus = [.IGH: 15_000]
        counts.spikeInReads = spikeUMIs.map { $0 * readsPerSpikeUMI }
        counts.spikeInUMIs = spikeUMIs
        // Spike-ins read from both ends alike; the clone from both, or (partly covered) from one.
        counts.spikeInForwardReads = counts.spikeInReads.reduce(0, +) / 2
        var count = TrackedCloneCount(clone: clone)
        count.reads = reads
        count.forwardReads = coverage < 1 ? 0 : reads / 2
        count.umis = umis
        count.largestUMIFamily = largestFamily
        counts.clones = [count]
        let spikes = [SpikeInCalibrator(id: "S1", sequence: Array("ACGT".utf8), copies: 20), SpikeInCalibrator(id: "S2", sequence: Array("ACGT".utf8), copies: 60)]
        var options = CallOptions()
        options.cells = 5_000
        options.useUMIs = true
        return Quantifier.call(counts, spikes: spikes, spikeLoci: [.IGH, .IGH], options: options)
    }

    @Test("molecules read 5 times on average: a clone whose every UMI was read once is strays, not detected; one family of several reads is")
    func straySingletons() {
        let strays = call(reads: 2, umis: 2, largestFamily: 1)
        #expect(strays.templateMethod == .umi && !strays.detected && strays.call != .positive, "\(strays.reason)")
        let molecule = call(reads: 6, umis: 1, largestFamily: 6)
        #expect(molecule.detected && molecule.call == .positive && molecule.mrdLevel == 1.0 / 5_000)
        // Families too thin to tell strays (spike-ins read about once per molecule): counted as before.
        let thin = call(reads: 2, umis: 2, largestFamily: 1, readsPerSpikeUMI: 2)
        #expect(thin.detected, "\(thin.reason)")
    }

    @Test("UMIs scaled up by the molecules not read across the target: capture from the spike-ins, thinned by the clone's coverage")
    func partialRecovery() {
        // Hand-computed: capture 0.8 with PCR size 3 is a mean of 3 x (0.2^(-1/3) - 1) = 2.130 reads
        // per molecule; half of them spanning leaves 1 - (1 + 1.065 / 3)^-3 = 0.598 of molecules.
        #expect(abs(Quantifier.umiRecovery(capture: 0.8, coverage: 0.5, pcrSize: 3) - 0.598) < 0.001)
        #expect(Quantifier.umiRecovery(capture: 0.8, coverage: 1, pcrSize: 3) == 0.8)
        #expect(Quantifier.umiRecovery(capture: 1.05, coverage: 0.3, pcrSize: 3) == 1)
        #expect(Quantifier.umiRecovery(capture: 0.95, coverage: 0.5, pcrSize: 3) > Quantifier.umiRecovery(capture: 0.8, coverage: 0.5, pcrSize: 3))
        // 64 of the spike-ins' 80 copies read: 30 UMIs of a fully covered clone were 37.5 molecules.
        let full = call(reads: 60, umis: 30, largestFamily: 4, spikeUMIs: [16, 48])
        #expect(full.templateMethod == .umi && abs(full.leukemicTemplates - 37.5) < 1e-9 && full.qcPass, "\(full.reason)")
        #expect(abs(full.mrdLevel! - 37.5 / 5_000) < 1e-12)
        #expect(abs(full.clones[0].umiRecovery - 0.8) < 1e-12)
        // Half of the clone's reads span its target (a long junction read from one end): 30 / 0.598.
        let half = call(reads: 60, umis: 30, largestFamily: 4, spikeUMIs: [16, 48], coverage: 0.5)
        #expect(abs(half.leukemicTemplates - 30 / 0.598) < 0.1, "\(half.leukemicTemplates)")
        // Every copy read: the UMIs are the molecules.
        let saturated = call(reads: 60, umis: 30, largestFamily: 4, spikeUMIs: [20, 60], coverage: 0.5)
        #expect(saturated.leukemicTemplates == 30)
        // The interval is as wide, relative to the level, as the 30 UMIs counted make it, not as
        // narrow as 50 counted molecules would.
        let fifty = call(reads: 100, umis: 50, largestFamily: 4, spikeUMIs: [20, 60], coverage: 0.5)
        #expect(abs(half.ciHigh! / half.mrdLevel! - saturated.ciHigh! / saturated.mrdLevel!) < 1e-9)
        #expect(half.ciHigh! / half.mrdLevel! > fifty.ciHigh! / fifty.mrdLevel! + 0.05)
    }

    @Test("UMIs recovering a tenth of the spike-ins' copies: umi_capture_low, the spike-ins' reads per copy quantify")
    func lowCapture() {
        let shallow = call(reads: 6, umis: 6, largestFamily: 1, spikeUMIs: [2, 6])
        #expect(shallow.qcFlags.contains("umi_capture_low") && shallow.templateMethod == .spikeIn && shallow.qcPass)
        #expect(abs(Quantifier.umiCapture(spikes: [SpikeInCalibrator(id: "S", sequence: [], copies: 80)], umis: [8])! - 0.1) < 1e-12)
    }
}

@Suite("A marker calibrated by another locus's spike-ins")
struct LocusFallbackTests {
    /// An IGH marker read 400 times in 200,000 cells; spike-ins of the given loci at one read per copy.
    func call(spikeLoci: [Locus]) -> MRDCall {
        let clone = ighMarker()
        var counts = FollowUpCounts(sampleID: "P5_FU")
        counts.totalReads = 60_000
        counts.readsPerLocus = [.IGH: 20_000, .TRB: 20_000, .TRG: 10_000]
        counts.spikeInReads = spikeLoci.map { _ in 500 }
        var count = TrackedCloneCount(clone: clone)
        count.reads = 400
        counts.clones = [count]
        let spikes = spikeLoci.map { SpikeInCalibrator(id: "SPK_\($0)", sequence: [], copies: 500) }
        var options = CallOptions()
        options.cells = 200_000
        return Quantifier.call(counts, spikes: spikes, spikeLoci: spikeLoci, options: options)
    }

    @Test("spike-ins of the marker's own locus: quantifiable; of other loci only: the same level, a 3x-wide interval, not quantifiable, and the reason says why")
    func otherLocusNotQuantifiable() {
        let own = call(spikeLoci: [.IGH, .TRB])
        #expect(own.quantifiable && own.callDetail == .quantifiable && own.loq != nil && !own.qcFlags.contains("spike_in_locus_fallback"))
        let other = call(spikeLoci: [.TRB, .TRG])
        #expect(other.qcFlags.contains("spike_in_locus_fallback") && other.qcPass)
        #expect(abs(other.mrdLevel! - 400.0 / 200_000) < 1e-12 && other.call == .positive && other.callDetail == .notQuantifiable)
        #expect(!other.quantifiable && other.loq == nil)
        // 400 templates alone give about +-10%; the spread between loci makes it 3x or more.
        #expect(other.ciHigh! / other.mrdLevel! > 2.9 && other.mrdLevel! / other.ciLow! > 2.9, "\(other.ciLow!) \(other.ciHigh!)")
        #expect(own.ciHigh! / own.mrdLevel! < 1.3)
        #expect(other.reason.contains("not quantifiable") && other.reason.contains("spike-ins of another locus"), "\(other.reason)")
    }
}

@Suite("Markers of two lineages in a follow-up")
struct DiscordantMarkerTests {
    /// A B-ALL's IGH marker (74% of IGH at diagnosis) and a TRB clone (20% of TRB) with these reads,
    /// spike-ins of both loci at one read per copy, 200,000 cells.
    func call(igh: Int, trb: Int) -> MRDCall {
        func clone(_ id: String, _ locus: Locus, fraction: Double, junction: String) -> BaselineClone {
            var c = BaselineClone(cloneID: id, sampleID: "P3_DX", locus: locus, kind: .VDJ, vCall: "\(locus)V1", jCall: "\(locus)J1",
                                  junction: Array(junction.utf8), count: Int(fraction * 5_000), trackable: true,
                                  target: Array(("AAAAAAAAAA" + junction + "CCCCCCCCCC").utf8))
            c.fraction = fraction
            c.locusReads = 5_000
            return c
        }
        var counts = FollowUpCounts(sampleID: "P3_FU")
        counts.totalReads = 60_000
        counts.readsPerLocus = [.IGH: 20_000, .TRB: 20_000]
        counts.spikeInReads = [500, 500]
        var ighCount = TrackedCloneCount(clone: clone("P3_DX_IGH_2", .IGH, fraction: 0.74, junction: "TGTGCCAGAGATATTATGATTACGTTTGG"))
        ighCount.reads = igh
        var trbCount = TrackedCloneCount(clone: clone("P3_DX_TRB_3", .TRB, fraction: 0.2, junction: "TGTGCCAGCAGCGTCGACCGGCACTTC"))
        trbCount.reads = trb
        counts.clones = [ighCount, trbCount]
        let spikes = [SpikeInCalibrator(id: "SPK_IGH", sequence: [], copies: 500), SpikeInCalibrator(id: "SPK_TRB", sequence: [], copies: 500)]
        var options = CallOptions()
        options.cells = 200_000
        return Quantifier.call(counts, spikes: spikes, spikeLoci: [.IGH, .TRB], options: options)
    }

    @Test("a TRB clone at 6.7% with the B-ALL's IGH marker at a few hopped reads: discordant_markers, no confident positive; both markers alike: none")
    func normalTCellClone() {
        let steady = call(igh: 7, trb: 13_480)
        #expect(steady.qcFlags.contains("discordant_markers") && !steady.qcPass, "\(steady.qcFlags)")
        #expect(steady.reason.contains("discordant_markers"))
        // One leukemia: IGH at 2,000 templates, TRB at 1,500 (their diagnosis reads 3,700 and 1,000:
        // the ratio moved 2.8-fold) is no discordance.
        let leukemia = call(igh: 2_000, trb: 1_500)
        #expect(!leukemia.qcFlags.contains("discordant_markers") && leukemia.qcPass && leukemia.call == .positive)
        // The same TRB at 6,000 is 11-fold from the diagnosis ratio (each blast carries both
        // markers) and above the main marker: discordant, though neither is under 5% of the other.
        let movedApart = call(igh: 2_000, trb: 6_000)
        #expect(movedApart.qcFlags.contains("discordant_markers") && !movedApart.qcPass, "\(movedApart.qcFlags)")
        // The IGH marker falling 12-fold faster than a steady TRB clone (a normal T-cell clone).
        let falling = call(igh: 300, trb: 1_000)
        #expect(falling.qcFlags.contains("discordant_markers"))
        // Too few reads to tell: TRB at 60 predicts 222 IGH reads, 15 seen (14.8-fold) is flagged;
        // TRB at 5 (under 50 templates) predicts nothing.
        #expect(call(igh: 15, trb: 60).qcFlags.contains("discordant_markers"))
        #expect(!call(igh: 0, trb: 5).qcFlags.contains("discordant_markers"))
        // The main marker reading high and the other marker low (12-fold from their ratio): the
        // level reported is the main marker's, no sign of a normal clone set as the level.
        #expect(!call(igh: 6_000, trb: 140).qcFlags.contains("discordant_markers"))
        // Near the LoD one marker may be missed by chance: 20 TRB templates and no IGH read is not flagged.
        let low = call(igh: 0, trb: 20)
        #expect(!low.qcFlags.contains("discordant_markers"), "\(low.qcFlags)")
        // The main marker is the clone with the largest share at diagnosis, of either lineage: the
        // IGH marker high and the TRB clone (20% of TRB) at a few reads is no discordance of this kind.
        let mainHigh = call(igh: 6_000, trb: 3)
        #expect(!mainHigh.qcFlags.contains("discordant_markers") && mainHigh.qcPass)
    }
}

@Suite("Coverage measured in the follow-up")
struct SampleCoverageTests {
    /// A follow-up of 100,000 cells with 1,000 spike-in reads for 500 copies (half of them forward)
    /// and an IGH clone whose diagnosis measured `coverage`, read `reads` times here, `forward` of
    /// them on its own strand.
    func call(coverage: Double, reads: Int, forward: Int) -> MRDCall {
        var clone = BaselineClone(cloneID: "P1_DX_IGH_1", sampleID: "P1_DX", locus: .IGH, kind: .VDJ, vCall: "IGHV3-23*01", jCall: "IGHJ4*02",
                                  junction: Array("TGTGCGAGAGATCGGGGTTACTGG".utf8), count: 900, trackable: true,
                                  target: Array("AAAAAAAAAATGTGCGAGAGATCGGGGTTACTGGCCCCCCCCCC".utf8))
        clone.coverage = coverage
        var counts = FollowUpCounts(sampleID: "P1_FU")
        counts.totalReads = 40_000
        counts.readsPerLocus = [.IGH: 30_000]
        counts.spikeInReads = [1_000]
        counts.spikeInForwardReads = 500
        var count = TrackedCloneCount(clone: clone)
        count.reads = reads
        count.forwardReads = forward
        counts.clones = [count]
        var options = CallOptions()
        options.cells = 100_000
        return Quantifier.call(counts, spikes: [SpikeInCalibrator(id: "S1", sequence: [], copies: 500)], spikeLoci: [.IGH], options: options)
    }

    @Test("a diagnosis of merged pairs (coverage 1), a single-end follow-up spanning the junction from one end: templates by the follow-up's own shares")
    func singleEndAfterPairs() {
        // 200 reads, none forward, where half the spike-in reads are: only one end spans the junction.
        let oneEnd = call(coverage: 1, reads: 200, forward: 0)
        #expect(oneEnd.qcFlags.contains("coverage_from_sample") && oneEnd.qcPass, "\(oneEnd.qcFlags)")
        #expect(abs(oneEnd.mrdLevel! - 200.0 / 2 / 0.5 / 100_000) < 1e-12, "\(oneEnd.mrdLevel!)")
        #expect(oneEnd.reason.contains("coverage_from_sample"))
        // Near the LoD: 12 reads all reverse (0.5^12 < 0.001) are judged the same way; 6 are not.
        let few = call(coverage: 1, reads: 12, forward: 0)
        #expect(few.qcFlags.contains("coverage_from_sample") && abs(few.mrdLevel! - 12.0 / 2 / 0.5 / 100_000) < 1e-12)
        let tooFew = call(coverage: 1, reads: 6, forward: 0)
        #expect(!tooFew.qcFlags.contains("coverage_from_sample") && abs(tooFew.mrdLevel! - 6.0 / 2 / 100_000) < 1e-12)
        // Both ends read as at diagnosis: the diagnosis's coverage stands, no flag.
        let both = call(coverage: 1, reads: 200, forward: 96)
        #expect(!both.qcFlags.contains("coverage_from_sample") && abs(both.mrdLevel! - 200.0 / 2 / 100_000) < 1e-12)
    }

    @Test("a single-end diagnosis (coverage 0.5), a follow-up of merged pairs read from both ends: coverage 1 there, not the diagnosis's")
    func pairsAfterSingleEnd() {
        let merged = call(coverage: 0.5, reads: 100, forward: 47)
        #expect(merged.qcFlags.contains("coverage_from_sample") && abs(merged.mrdLevel! - 100.0 / 2 / 100_000) < 1e-12, "\(merged.qcFlags)")
        // Few reads, both orientations seen twice or more: spanned from both ends.
        let few = call(coverage: 0.5, reads: 8, forward: 3)
        #expect(few.qcFlags.contains("coverage_from_sample") && abs(few.mrdLevel! - 8.0 / 2 / 100_000) < 1e-12)
        // As at diagnosis (one end only): unchanged.
        let same = call(coverage: 0.5, reads: 100, forward: 0)
        #expect(!same.qcFlags.contains("coverage_from_sample") && abs(same.mrdLevel! - 100.0 / 2 / 0.5 / 100_000) < 1e-12)
    }
}
