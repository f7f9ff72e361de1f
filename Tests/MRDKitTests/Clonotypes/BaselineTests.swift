import Foundation
import Testing
@testable import MRDKit

private let run = packageRoot.appendingPathComponent("TestReads/run")

private func table(_ name: String) throws -> [[String: String]] {
    let text = try String(contentsOf: run.appendingPathComponent(name), encoding: .utf8)
    var lines = text.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    let header = lines.removeFirst()
    return lines.map { Dictionary(uniqueKeysWithValues: zip(header, $0)) }
}

@Suite("mrd baseline on the simulated run")
struct BaselineTests {
    static let germline = try! GermlineReference.bundled()
    static let spikes = try! SpikeInsFile.read(path: run.appendingPathComponent("spikes.tsv").path)

    static func analyse(_ sample: String, paired: Bool = false, threads: Int = 2, memoCapacity: Int? = nil,
                        groupLimit: GroupLimit? = nil, batchCapacity: Int? = nil) throws -> BaselineResult {
        var options = BaselineOptions()
        options.threads = threads
        if let memoCapacity { options.memoCapacity = memoCapacity }
        if let groupLimit { options.groupLimit = groupLimit }
        if let batchCapacity { options.batchCapacity = batchCapacity }
        let analysis = BaselineAnalysis(germline: germline, spikeIns: spikes, options: options)
        let input = SampleInput(read1: [run.appendingPathComponent("\(sample)_R1.fastq.gz").path],
                                read2: paired ? [run.appendingPathComponent("\(sample)_R2.fastq.gz").path] : [])
        return try analysis.run(input, sampleID: sample)
    }

    @Test("every leukemic clone of every patient is found and trackable", arguments: ["P001", "P002", "P003"])
    func leukemicClonesFound(_ patient: String) throws {
        let result = try Self.analyse("\(patient)_DX", paired: patient == "P002")
        let truth = try table("truth_clones.tsv").filter { $0["patient_id"] == patient && $0["leukemic"] == "T" }
        #expect(!truth.isEmpty)
        for clone in truth {
            let found = result.clonotypes.first { $0.junctionString == clone["junction"] }
            #expect(found != nil, "\(clone["clone_id"]!) not found")
            // Trackable, unless it is a non-VDJ junction that normal cells make too (few untemplated bases).
            let nearlyGermline = found.map { $0.kind != .VDJ && $0.untemplated < BaselineOptions().minUntemplated } ?? false
            #expect(found?.trackable == !nearlyGermline, "\(clone["clone_id"]!) \(found?.notTrackableReason ?? "not found")")
            if nearlyGermline { #expect(found!.notTrackableReason.hasPrefix("junction nearly germline")) }
            #expect(found?.locus.rawValue == clone["locus"])
            #expect(found?.kind.rawValue == clone["rearrangement"])
            if let v = clone["v_call"], !v.isEmpty, let found {
                let gene = v.split(separator: "*")[0]
                #expect(found.vCall.split(separator: ",").contains { $0.split(separator: "*")[0] == gene }, "\(found.vCall) vs \(v)")
            }
        }
        // Every read is counted once: assigned, spike-in, or unassigned with a reason.
        #expect(result.assignedReads + result.spikeInReads + result.unassigned.values.reduce(0, +) == result.totalReads)
        let truthRow = try table("truth.tsv").first { $0["sample_id"] == "\(patient)_DX" }!
        #expect(result.totalReads == Int(truthRow["total_reads"]!))
        // Spike-in reads: those of the sample plus a few hopped in, minus a few lost to errors.
        let spikeTruth = Double(truthRow["spike_in_reads"]!)!
        #expect(abs(Double(result.spikeInReads) - spikeTruth) <= 0.1 * spikeTruth, "\(result.spikeInReads) vs \(spikeTruth)")
        // A spike-in never becomes a clonotype.
        let spikeCores = Self.spikes.map { String(decoding: $0.sequence, as: UTF8.self) }
        for clone in result.clonotypes.prefix(50) {
            #expect(!spikeCores.contains { $0.contains(clone.junctionString) })
        }
    }

    @Test("near-neighbour normal clones stay apart from the leukemic clone")
    func nearNeighboursStayApart() throws {
        let result = try Self.analyse("P001_DX")
        let truth = try table("truth_clones.tsv").filter { $0["patient_id"] == "P001" }
        for neighbour in truth where neighbour["leukemic"] == "F" {
            let found = result.clonotypes.first { $0.junctionString == neighbour["junction"] }
            #expect(found != nil, "\(neighbour["clone_id"]!) folded into another clone")
            #expect(found?.trackable != true || found!.fraction >= 0.05)
        }
    }

    @Test("same clones.tsv bytes whatever the thread count")
    func deterministic() throws {
        let one = ClonesFile.text(BaselineSample.clones(try Self.analyse("P003_DX", threads: 1)))
        #expect(ClonesFile.text(BaselineSample.clones(try Self.analyse("P003_DX", threads: 3))) == one)
        #expect(one.hasPrefix(ClonesFile.columns.joined(separator: "\t") + "\n"))
    }

    @Test("a read and its reverse complement tie as representative: the forward one wins, in any input order or thread count")
    func representativeTie() throws {
        let clone = try Self.analyse("P001_DX").clonotypes.first { $0.trackable }!
        let forward = clone.representative, reverse = reverseComplement(clone.representative)
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for (name, first, second) in [("forward-first", forward, reverse), ("reverse-first", reverse, forward)] {
            var text = ""
            for (i, read) in (Array(repeating: first, count: 30) + Array(repeating: second, count: 30)).enumerated() {
                text += "@r\(i)\n" + String(decoding: read, as: UTF8.self) + "\n+\n" + String(repeating: "I", count: read.count) + "\n"
            }
            let file = directory.appendingPathComponent("\(name).fastq")
            try text.write(to: file, atomically: true, encoding: .utf8)
            for threads in [1, 2] {
                var options = BaselineOptions()
                options.threads = threads
                let result = try BaselineAnalysis(germline: Self.germline, options: options).run(SampleInput(read1: [file.path]), sampleID: "T")
                #expect(result.clonotypes.count == 1)
                #expect(result.clonotypes.first?.count == 60)
                #expect(result.clonotypes.first?.representative == forward)
                #expect(result.clonotypes.first?.representativeReversed == false, "\(name), \(threads) threads")
            }
        }
    }

    @Test("the group limit's counts between batches change nothing while the limit is not reached (64 KiB batches, a count after each)")
    func groupLimitBelowChangesNothing() throws {
        let reference = try Self.analyse("P001_DX", threads: 2)
        let counted = try Self.analyse("P001_DX", threads: 2, groupLimit: GroupLimit(maxGroups: 1_000_000, epochBatches: 1), batchCapacity: 64 << 10)
        #expect(counted.groupLimitReached == nil && counted.notKeptReads == 0)
        #expect(ClonesFile.text(BaselineSample.clones(counted)) == ClonesFile.text(BaselineSample.clones(reference)))
        #expect(AIRRFile.text(BaselineSample.airr(counted)) == AIRRFile.text(BaselineSample.airr(reference)))
    }

    @Test("past the group limit, junctions first met later are not kept: counted in their locus, the same whatever the thread count, index clones unchanged")
    func groupLimitReached() throws {
        let reference = try Self.analyse("P001_DX", threads: 2)
        let limit = GroupLimit(maxGroups: 60, epochBatches: 1)
        let one = try Self.analyse("P001_DX", threads: 1, groupLimit: limit, batchCapacity: 64 << 10)
        let three = try Self.analyse("P001_DX", threads: 3, groupLimit: limit, batchCapacity: 64 << 10)
        let reached = try #require(one.groupLimitReached)
        // Frozen at the first count that reaches 60 distinct junctions: after one 64 KiB batch or a few.
        #expect(reached.groups >= 60 && reached.reads > 0 && reached.reads < one.totalReads / 2, "\(reached)")
        #expect(one.notKeptReads > 0)
        #expect(one.clonotypes.count < reference.clonotypes.count)
        #expect(ClonesFile.text(BaselineSample.clones(three)) == ClonesFile.text(BaselineSample.clones(one)))
        #expect(three.notKeptReads == one.notKeptReads && three.groupLimitReached?.groups == reached.groups)
        // Every read still counted once; each locus keeps its whole read count (fractions' denominator).
        #expect(one.assignedReads + one.spikeInReads + one.unassigned.values.reduce(0, +) == one.totalReads)
        #expect(one.assignedReads == reference.assignedReads)
        #expect(one.readsPerLocus == reference.readsPerLocus)
        #expect(one.clonotypes.reduce(0) { $0 + $1.count } + one.notKeptReads == one.assignedReads)
        // The index clones (met in the first reads) are the same clones with the same counts: their
        // satellites met after the limit were folded into them at once.
        #expect(one.trackable.map(\.junctionString) == reference.trackable.map(\.junctionString))
        #expect(one.trackable.map(\.count) == reference.trackable.map(\.count))
        #expect(!one.trackable.isEmpty)
    }

    @Test("the read memo changes no result: off, tiny (full after 50 sequences) and default give the same outputs",
          arguments: [false, true])
    func memoChangesNothing(_ paired: Bool) throws {
        let sample = paired ? "P002_DX" : "P001_DX"
        let reference = try Self.analyse(sample, paired: paired, threads: 1, memoCapacity: 0)
        for capacity in [50, BaselineOptions().memoCapacity] {
            let memoised = try Self.analyse(sample, paired: paired, threads: 2, memoCapacity: capacity)
            #expect(ClonesFile.text(BaselineSample.clones(memoised)) == ClonesFile.text(BaselineSample.clones(reference)))
            #expect(AIRRFile.text(BaselineSample.airr(memoised)) == AIRRFile.text(BaselineSample.airr(reference)))
            #expect(memoised.unassigned == reference.unassigned && memoised.spikeInReadsByID == reference.spikeInReadsByID)
        }
        #expect(reference.totalReads == reference.assignedReads + reference.spikeInReads + reference.unassigned.values.reduce(0, +))
        #expect(reference.spikeInReads > 0)
    }

    @Test("error satellites fold into their parent; similar-size neighbours do not")
    func errorFolding() {
        func clone(_ junction: String, _ count: Int) -> Clonotype {
            Clonotype(locus: .IGH, kind: .VDJ, vCall: "V", dCall: "", jCall: "J", junction: Array(junction.utf8), count: count,
                      representative: Array(junction.utf8), representativeReversed: false, representativeJunctionStart: 0)
        }
        let parent = "TGTGCGAGAGATCTGACGTATTATGATTACGTTTGGGGG"
        var satellite = Array(parent.utf8); satellite[11] = UInt8(ascii: "A")
        var neighbour = Array(parent.utf8); neighbour[20] = UInt8(ascii: "C")
        let deletion = String(parent.dropFirst(5).prefix(3)) // unrelated short junction
        let folded = ErrorFolding.fold([clone(parent, 10_000), clone(String(decoding: neighbour, as: UTF8.self), 400),
                                                  clone(String(decoding: satellite, as: UTF8.self), 20),
                                                  clone(String(parent.dropLast()), 30), clone(deletion, 5)])
        #expect(folded.map(\.count) == [10_050, 400, 5])
        // Quality: a 1-substitution variant 50x smaller folds when its differing base was read at
        // low quality (an error signature), and stays apart when read at the usual quality.
        var lowQuality = clone(String(decoding: satellite, as: UTF8.self), 200)
        lowQuality.junctionMeanQualities = [UInt8](repeating: 36, count: parent.utf8.count)
        var wellRead = lowQuality
        lowQuality.junctionMeanQualities[11] = 12
        #expect(ErrorFolding.fold([clone(parent, 10_000), lowQuality]).map(\.count) == [10_200])
        #expect(ErrorFolding.fold([clone(parent, 10_000), wellRead]).map(\.count) == [10_000, 200])
        wellRead.count = 40  // 250x: folds whatever its quality
        #expect(ErrorFolding.fold([clone(parent, 10_000), wellRead]).map(\.count) == [10_040])
        // Two substitutions: 400x folds when both were read under Q20, not when one was read well;
        // 5000x folds whatever the quality.
        var twoErrors = Array(satellite); twoErrors[30] = UInt8(ascii: "C")
        var twoLow = clone(String(decoding: twoErrors, as: UTF8.self), 20)
        twoLow.junctionMeanQualities = [UInt8](repeating: 36, count: parent.utf8.count)
        var oneLow = twoLow
        twoLow.junctionMeanQualities[11] = 12; twoLow.junctionMeanQualities[30] = 15
        oneLow.junctionMeanQualities[11] = 12
        #expect(ErrorFolding.fold([clone(parent, 10_000), twoLow]).map(\.count) == [10_020])
        #expect(ErrorFolding.fold([clone(parent, 10_000), oneLow]).map(\.count) == [10_000, 20])
        twoLow.count = 30  // 333x: under 400x, apart
        #expect(ErrorFolding.fold([clone(parent, 10_000), twoLow]).map(\.count) == [10_000, 30])
        oneLow.count = 2   // 5000x
        #expect(ErrorFolding.fold([clone(parent, 10_000), oneLow]).map(\.count) == [10_002])
    }
}
