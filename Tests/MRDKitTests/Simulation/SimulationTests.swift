import Foundation
import Testing
@testable import MRDKit

private let germline = try! GermlineReference.bundled()
private let model = RecombinationModel(germline: germline)

@Suite("Germline reference")
struct GermlineTests {
    @Test("every functional V and J used by the simulator has its conserved anchor")
    func anchors() {
        for locus in [Locus.IGH, .IGK, .TRB, .TRG, .TRD] {
            let vs = germline.segments(locus, .V).filter(\.isFunctional)
            let anchored = vs.filter { $0.anchor != nil }
            #expect(Double(anchored.count) >= 0.9 * Double(vs.count), "\(locus) V anchors")
            // The one allele anchored on another codon: OGRDB's IGKV2-29*01 (TGA at its siblings'
            // Cys; annotated, but no model for the simulator, which skips it).
            let withoutCys = anchored.filter { !GermlineReference.isCysteine($0.sequence, $0.anchor!) }.map(\.allele)
            #expect(withoutCys == (locus == .IGK ? ["IGKV2-29*01"] : []), "\(locus)")
            for j in germline.segments(locus, .J) where j.isFunctional { #expect(j.anchor != nil, "\(j.allele)") }
        }
        let ighj4 = germline.segments.first { $0.allele == "IGHJ4*02" }!
        // IGHJ4: ...TACTTTGACTACTGGGGCCAGGGAACC: the Trp codon TGG starts the WGQG motif.
        #expect(String(decoding: ighj4.sequence[ighj4.anchor!..<(ighj4.anchor! + 12)], as: UTF8.self) == "TGGGGCCAGGGA")
        #expect(!ighj4.downstream.isEmpty)
        let v323 = germline.segments.first { $0.allele == "IGHV3-23*01" }!
        #expect(Codon.translate(Array(v323.sequence[(v323.anchor! - 6)..<(v323.anchor! + 3)])) == "YYC")
    }

    @Test("+up/+down files split into flank and gene")
    func flanks() {
        let d = germline.segments.first { $0.allele == "IGHD1-1*01" && !$0.upstream.isEmpty }!
        #expect(String(decoding: d.sequence, as: UTF8.self) == "GGTACAACTGGAACGAC")
        #expect(d.upstream.count == 60)
        let d3 = germline.segments.first { $0.gene == "TRDD3" && !$0.downstream.isEmpty }!
        #expect(String(decoding: d3.sequence, as: UTF8.self) == "ACTGGGGGATACG")
    }
}

@Suite("Recombination model statistics")
struct RecombinationTests {
    static func sample(_ locus: Locus, _ kind: RearrangementKind, count: Int = 20_000)
        -> ([Rearrangement], [RecombinationModel.Choices]) {
        var random = SeededRandom(seed: 42, stream: "\(locus)\(kind)")
        var rearrangements: [Rearrangement] = [], choices: [RecombinationModel.Choices] = []
        for _ in 0..<count {
            var c = RecombinationModel.Choices()
            rearrangements.append(model.rearrange(locus, kind: kind, using: &random, choices: &c))
            choices.append(c)
        }
        return (rearrangements, choices)
    }

    @Test("IGH VDJ: trimming 0-15 skewed to few, N additions ~7 per side, gene usage as modelled")
    func ighStatistics() {
        let (rearrangements, choices) = Self.sample(.IGH, .VDJ)
        func mean(_ values: [Int]) -> Double { Double(values.reduce(0, +)) / Double(values.count) }
        for trims in [choices.map(\.trimV), choices.map(\.trimD5), choices.map(\.trimD3), choices.map(\.trimJ)] {
            #expect(trims.max()! <= 15)
            #expect(trims.min()! == 0)
            let zeros = trims.filter { $0 == 0 }.count, fives = trims.filter { $0 == 5 }.count
            #expect(zeros > fives, "skewed to few")
        }
        #expect(abs(mean(choices.map(\.trimV)) - 2.4) < 0.3)
        #expect(abs(mean(choices.map(\.n1)) - 7) < 0.35)
        #expect(abs(mean(choices.map(\.n2)) - 7) < 0.35)
        #expect(choices.contains { $0.pNucleotides > 0 })
        // Usage: each of the top genes within 4 standard errors of its modelled probability.
        let usage = model.usage(.IGH, .V)
        let n = Double(rearrangements.count)
        for (gene, probability) in usage.prefix(5) {
            let observed = Double(rearrangements.filter { $0.vCall.hasPrefix(gene + "*") }.count) / n
            let se = (probability * (1 - probability) / n).squareRoot()
            #expect(abs(observed - probability) < 4 * se, "\(gene)")
        }
        #expect(usage[0].probability > 5 * usage[usage.count / 2].probability, "skewed usage")
    }

    @Test("junctions: IMGT Cys..Trp for IGH, in-frame share and productivity")
    func junctions() {
        let (rearrangements, _) = Self.sample(.IGH, .VDJ, count: 5000)
        for r in rearrangements.prefix(500) {
            #expect(GermlineReference.isCysteine(r.sequence, r.junctionStart))
            #expect(String(decoding: r.sequence[(r.junctionEnd - 3)..<r.junctionEnd], as: UTF8.self) == "TGG")
        }
        let inFrame = Double(rearrangements.filter { $0.junction.count % 3 == 0 }.count) / 5000
        #expect(abs(inFrame - 1.0 / 3) < 0.04)
        let productive = rearrangements.filter { $0.productive == true }
        #expect(!productive.isEmpty && productive.count < rearrangements.count)
        #expect(productive.allSatisfy { $0.junctionAA!.hasPrefix("C") && $0.junctionAA!.hasSuffix("W") })
    }

    @Test("IGK light chains: few N additions; incomplete kinds have their anchors",
          arguments: [(Locus.IGK, RearrangementKind.VJ), (.IGK, .vKde), (.IGK, .intronKde), (.IGH, .DJ), (.TRB, .DJ),
                      (.TRD, .VD), (.TRD, .DD), (.TRG, .VJ)])
    func otherKinds(_ locus: Locus, _ kind: RearrangementKind) {
        let (rearrangements, choices) = Self.sample(locus, kind, count: 2000)
        #expect(rearrangements.allSatisfy { $0.junctionStart < $0.junctionEnd && $0.junctionEnd <= $0.sequence.count })
        #expect(rearrangements.allSatisfy { $0.kind == kind && $0.locus == locus })
        if locus == .IGK { #expect(Double(choices.map(\.n1).reduce(0, +)) / 2000 < 2) }
        if kind == .vKde || kind == .intronKde {
            #expect(rearrangements.allSatisfy { $0.jCall == "KDE" })
        }
        #expect(Set(rearrangements.map(\.junctionString)).count > (kind == .intronKde ? 500 : 1500), "diverse junctions")
    }
}

@Suite("Sampling and sequencing models")
struct SamplingTests {
    @Test("somatic hypermutation: the V identity asked for, substitutions upstream of the Cys outside the primer, in-frame codon indels")
    func hypermutation() throws {
        var fr1 = model
        fr1.design = .fr1
        var random = SeededRandom(seed: 9, stream: "shm")
        var indels = 0, transitions = 0, substitutions = 0
        for n in 0..<300 {
            var choices = RecombinationModel.Choices()
            let germ = fr1.rearrange(.IGH, kind: .VDJ, using: &random, choices: &choices)
            #expect(germ.junctionStart > 250, "FR1 amplicons carry nearly the whole V")
            var mutated = germ
            let identity = 0.85 + 0.15 * Double(n % 16) / 15
            fr1.hypermutate(&mutated, identity: identity, using: &random)
            #expect(abs(mutated.vIdentity - identity) <= 1.0 / Double(germ.junctionStart))
            #expect(mutated.junction == germ.junction, "junction untouched")
            #expect(mutated.sequence.suffix(from: mutated.junctionStart) == germ.sequence.suffix(from: germ.junctionStart))
            #expect(mutated.sequence.prefix(20) == germ.sequence.prefix(20), "primer untouched")
            let shift = mutated.junctionStart - germ.junctionStart
            #expect([-3, 0, 3].contains(shift))
            if shift != 0 { indels += 1; continue }
            for i in 0..<germ.junctionStart where mutated.sequence[i] != germ.sequence[i] {
                substitutions += 1
                let pair = Set([mutated.sequence[i], germ.sequence[i]])
                if pair == Set(Array("AG".utf8)) || pair == Set(Array("CT".utf8)) { transitions += 1 }
            }
        }
        #expect(indels > 15 && indels < 50, "about one in ten with a codon indel: \(indels)")
        #expect(abs(Double(transitions) / Double(substitutions) - 2.0 / 3) < 0.03)
    }

    @Test("hypermutated FR1 amplicons (85-100% V identity, codon indels): V gene and junction found by mrd's annotator")
    func hypermutatedAnnotation() throws {
        var fr1 = model
        fr1.design = .fr1
        let annotator = Annotator(germline: germline)
        var random = SeededRandom(seed: 10, stream: "shm-annotation")
        var total = 0, rightV = 0, rightJunction = 0
        for locus in [Locus.IGH, .IGK, .IGL] {
            for _ in 0..<200 {
                var choices = RecombinationModel.Choices()
                var r = fr1.rearrange(locus, kind: locus == .IGH ? .VDJ : .VJ, using: &random, choices: &choices)
                fr1.hypermutate(&r, identity: 0.85 + 0.15 * random.uniform(), using: &random)
                total += 1
                guard case .success(let a) = annotator.annotate(r.sequence) else { continue }
                let gene = r.vCall.split(separator: "*")[0]
                if a.vCall.split(separator: ",").contains(where: { $0.split(separator: "*")[0] == gene }) { rightV += 1 }
                if Array(a.sequence[a.junctionStart..<a.junctionEnd]) == r.junction { rightJunction += 1 }
            }
        }
        let vShare = Double(rightV) / Double(total), junctionShare = Double(rightJunction) / Double(total)
        print("hypermutated annotation: V gene \(vShare), junction \(junctionShare) of \(total)")
        #expect(vShare >= 0.97)
        #expect(junctionShare >= 0.99)
    }

    @Test("negative binomial reads per template: mean and over-dispersion")
    func negativeBinomial() {
        var random = SeededRandom(seed: 7)
        let draws = (0..<100_000).map { _ in Double(random.negativeBinomial(mean: 8, size: 3)) }
        let mean = draws.reduce(0, +) / Double(draws.count)
        let variance = draws.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(draws.count - 1)
        #expect(abs(mean - 8) < 0.1)
        #expect(abs(variance - (8 + 64.0 / 3)) < 1.0)
    }

    @Test("Poisson sampler: small and large means")
    func poisson() {
        var random = SeededRandom(seed: 9)
        for lambda in [0.5, 4.0, 50.0, 3000.0] {
            let draws = (0..<50_000).map { _ in Double(random.poisson(lambda)) }
            let mean = draws.reduce(0, +) / Double(draws.count)
            let variance = draws.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(draws.count - 1)
            #expect(abs(mean - lambda) < 4 * (lambda / 50_000).squareRoot() + 1e-9, "mean \(lambda)")
            #expect(abs(variance / lambda - 1) < 0.05, "variance \(lambda)")
        }
    }

    @Test("errors rise along the read and agree with the qualities")
    func errorProfile() {
        let sequencing = SequencingModel()
        let table = sequencing.qualityTable()
        var random = SeededRandom(seed: 3)
        let template = Array(String(repeating: "ACGTTGCAAC", count: 16).utf8)
        var bases: [UInt8] = [], qualities: [UInt8] = []
        var errors = [Int](repeating: 0, count: 150), expected = [Double](repeating: 0, count: 150)
        let reads = 40_000
        sequencing.read(template[...], bases: &bases, qualities: &qualities, table: table, random: &random)
        for _ in 0..<reads {
            var noIndel = sequencing
            noIndel.indelPerRead = 0
            noIndel.read(template[...], bases: &bases, qualities: &qualities, table: table, random: &random)
            for i in 0..<150 {
                if bases[i] != template[i] { errors[i] += 1 }
                expected[i] += pow(10, -Double(Int(qualities[i]) - 33) / 10)
            }
        }
        let early = Double(errors[0..<30].reduce(0, +)), late = Double(errors[120..<150].reduce(0, +))
        #expect(late > 3 * early, "errors rise toward the 3' end")
        let observed = Double(errors.reduce(0, +)), predicted = expected.reduce(0, +)
        #expect(abs(observed / predicted - 1) < 0.05, "qualities calibrated: \(observed) vs \(predicted)")
        let meanFirst = Double(qualities.prefix(10).map { Int($0) - 33 }.reduce(0, +)) / 10
        #expect(meanFirst > 30)
    }
}

@Suite("Simulated runs")
struct RunSimulationTests {
    static func config(threads: Int = 2) -> SimulationConfig {
        var config = SimulationConfig()
        config.seed = 11
        config.patients = 2
        config.readsPerSample = 1500
        config.backgroundClonotypes = 300
        config.threads = threads
        config.pairedSamples = ["P002_DX"]
        config.bzip2Samples = ["P001_FU2"]
        config.laneSplitSamples = ["P001_FU1"]
        return config
    }

    @Test("same seed, same bytes, whatever the thread count")
    func deterministic() throws {
        let a = try temporaryDirectory(), b = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: a); try? FileManager.default.removeItem(at: b) }
        try RunSimulator(config: Self.config(threads: 1), germline: germline).write(to: a)
        try RunSimulator(config: Self.config(threads: 3), germline: germline).write(to: b)
        let files = try FileManager.default.contentsOfDirectory(atPath: a.path).sorted()
        #expect(files == (try FileManager.default.contentsOfDirectory(atPath: b.path).sorted()))
        #expect(files.contains("P001_FU1_L002_R1.fastq.gz") && files.contains("P002_DX_R2.fastq.gz")
                && files.contains("P001_FU2_R1.fastq.bz2"))
        for file in files {
            #expect(try Data(contentsOf: a.appendingPathComponent(file)) == Data(contentsOf: b.appendingPathComponent(file)), "\(file)")
        }
    }

    @Test("truth.tsv and the sheet match the files written; orientation balanced")
    func truthMatchesFiles() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = try RunSimulator(config: Self.config(), germline: germline).write(to: directory)
        let sheet = try String(contentsOf: directory.appendingPathComponent("sheet.csv"), encoding: .utf8)
            .split(separator: "\n").dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        #expect(sheet.count == output.truth.count)
        let spikes = output.spikes.map { spike -> (String, String) in
            let core = String(decoding: spike.sequence, as: UTF8.self)
            let forward = String(core.prefix(20))
            return (forward, String(decoding: reverseComplement(Array(spike.sequence.suffix(20))), as: UTF8.self))
        }
        var forwardStarts = 0, reverseStarts = 0
        for (row, truth) in zip(sheet, output.truth) {
            #expect(row[1] == truth.sampleID)
            let files = row[5].split(separator: ";").map { directory.appendingPathComponent(String($0)).path }
            let mates = row[6].split(separator: ";").map { directory.appendingPathComponent(String($0)).path }
            let reader = try SampleReader(SampleInput(read1: files, read2: mates))
            let batch = ReadBatch(paired: !mates.isEmpty)
            var reads = 0
            while try reader.next(into: batch) {
                reads += batch.count
                for i in 0..<batch.count {
                    let s = batch.read1[i].sequenceString
                    if spikes.contains(where: { s.hasPrefix($0.0) }) { forwardStarts += 1 }
                    if spikes.contains(where: { s.hasPrefix($0.1) }) { reverseStarts += 1 }
                }
            }
            #expect(reads == truth.totalReads, "\(truth.sampleID)")
            if truth.role == "followup" { #expect(row[7] == String(format: "%g", Double(truth.cells) * 6.5 / 1000)) }
        }
        let share = Double(forwardStarts) / Double(forwardStarts + reverseStarts)
        #expect(forwardStarts + reverseStarts > 500)
        #expect(abs(share - 0.5) < 0.06, "orientation share \(share)")
        // Counts per clone add up to the sample's figures (its highest clone).
        for truth in output.truth where truth.role == "followup" && truth.leukemicCells > 0 {
            #expect(truth.clones.contains { $0.templates == truth.leukemicTemplates && $0.reads == truth.leukemicReads })
            #expect(truth.leukemicTemplates == truth.leukemicCells)
        }
    }

    @Test("leukemic cells in follow-ups are Poisson(level x cells)")
    func leukemicCountsArePoisson() throws {
        var config = Self.config()
        config.patients = 6
        config.levels = Array(repeating: 1e-3, count: 25)
        config.cells = 40_000
        config.readsPerSample = 50
        config.backgroundClonotypes = 50
        config.controls = false
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = try RunSimulator(config: config, germline: germline).write(to: directory)
        let counts = output.truth.filter { $0.role == "followup" }.map { Double($0.leukemicCells) }
        #expect(counts.count == 150)
        let mean = counts.reduce(0, +) / Double(counts.count)
        let variance = counts.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(counts.count - 1)
        #expect(abs(mean - 40) < 4 * (40.0 / 150).squareRoot())
        #expect(variance / mean > 0.7 && variance / mean < 1.35, "dispersion \(variance / mean)")
    }

    @Test("clonal evolution: VH replacement keeps the clone's D-N-J behind a new V; UMIs lead read 1")
    func evolutionAndUMIs() throws {
        var config = Self.config()
        config.evolvedFraction = 0.5
        config.levels = [0.05]
        config.umiLength = 12
        config.loci = [.IGH, .TRG]
        config.controls = false
        let simulator = RunSimulator(config: config, germline: germline)
        var random = SeededRandom(seed: 3)
        var choices = RecombinationModel.Choices()
        let clone = model.rearrange(.IGH, kind: .VDJ, using: &random, choices: &choices)
        for _ in 0..<20 {
            let evolved = simulator.evolved(clone, random: &random)
            let tail = Array(clone.sequence[(clone.junctionStart + 6)...])
            #expect(Array(evolved.sequence.suffix(tail.count)) == tail)
            #expect(evolved.junctionString.hasSuffix(String(decoding: clone.sequence[(clone.junctionStart + 6)..<clone.junctionEnd], as: UTF8.self)))
            #expect(GermlineReference.isCysteine(evolved.sequence, evolved.junctionStart))
            #expect(evolved.dCall == clone.dCall && evolved.jCall == clone.jCall)
        }
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = try simulator.write(to: directory)
        let followups = output.truth.filter { $0.role == "followup" }
        let evolvedTemplates = followups.flatMap(\.clones).reduce(0) { $0 + $1.evolvedTemplates }
        let leukemicTemplates = followups.flatMap(\.clones).reduce(0) { $0 + $1.templates }
        #expect(evolvedTemplates > 0)
        #expect(leukemicTemplates > 0)
        // With UMIs, reads of the spike-ins carry 12 varying bases before the amplicon.
        let starts = output.spikes.map { String(decoding: $0.sequence.prefix(25), as: UTF8.self) }
        let reader = try FastxReader(path: directory.appendingPathComponent("P002_FU1_R1.fastq.gz").path)
        var umis = Set<String>(), spikeReads = 0
        for record in try readAll(reader) where starts.contains(where: { record.sequence.dropFirst(12).hasPrefix($0) }) {
            spikeReads += 1
            umis.insert(String(record.sequence.prefix(12)))
        }
        #expect(spikeReads > 5)
        #expect(umis.count > 1 && umis.count <= spikeReads)
    }
}
