import Foundation
import Testing
@testable import MRDKit

/// A clonotype above the index-clone thresholds (40 nt VDJ junction, 500 untemplated-rich reads).
private func clone(_ id: String, _ locus: Locus, fraction: Double, templates: Double, calibrated: Bool, junction seed: UInt64) -> Clonotype {
    var random = SeededRandom(seed: seed, stream: "junction")
    let junction = (0..<40).map { _ in Array("ACGT".utf8)[random.below(4)] }
    let locusReads = 10_000
    var c = Clonotype(locus: locus, kind: .VDJ, vCall: "\(locus)V1", dCall: "", jCall: "\(locus)J1", junction: junction,
                      count: Int(fraction * Double(locusReads)), representative: [UInt8](repeating: 65, count: 10) + junction + [UInt8](repeating: 65, count: 10),
                      representativeReversed: false, representativeJunctionStart: 10)
    c.cloneID = id
    c.locusReads = locusReads
    c.templates = templates
    c.templatesCalibrated = calibrated
    c.untemplated = 12
    return c
}

private func select(_ clones: [Clonotype]) -> [String: String] {
    var clones = clones
    IndexCloneSelection(options: BaselineOptions()).select(&clones)
    return Dictionary(uniqueKeysWithValues: clones.map { ($0.cloneID, $0.trackable ? "trackable" : $0.notTrackableReason) })
}

@Suite("Index clones of two lineages")
struct IndexCloneSelectionTests {
    @Test("spike-ins for IGH only: the IGH marker stays although TRB reads, taken as templates, outnumber it")
    func oneLocusCalibrated() {
        // IGH templates = reads / IGH reads per copy; TRB has no spike-ins of its own (templates = reads).
        // (The rule before: IGH's 300 templates were under 20% of TRB's 9,000 "templates", and the
        // B-ALL's main marker was dropped.)
        let result = select([clone("IGH_1", .IGH, fraction: 0.9, templates: 300, calibrated: true, junction: 1),
                             clone("TRB_1", .TRB, fraction: 0.6, templates: 9_000, calibrated: false, junction: 2),
                             clone("TRB_2", .TRB, fraction: 0.08, templates: 800, calibrated: false, junction: 3)])
        #expect(result["IGH_1"] == "trackable")
        #expect(result["TRB_1"] == "trackable")
        // A normal expanded T-cell clone: 8% of TRB is under 20% of the leading clone's 90%.
        #expect(result["TRB_2"]?.hasPrefix("TRB clone at 8.0% of its locus reads, under 20% of the leading IGH clone IGH_1's 90.0%") == true, "\(result)")
        // With TRB leading (a share larger than IGH's), the IGH marker is the other lineage's and passes on its share.
        let reversed = select([clone("IGH_1", .IGH, fraction: 0.45, templates: 300, calibrated: true, junction: 1),
                               clone("TRB_1", .TRB, fraction: 0.86, templates: 9_000, calibrated: false, junction: 2)])
        #expect(reversed["IGH_1"] == "trackable")
    }

    @Test("spike-ins for every locus: templates compared, the normal expanded T-cell clone kept out")
    func everyLocusCalibrated() {
        let result = select([clone("IGH_1", .IGH, fraction: 0.8, templates: 4_000, calibrated: true, junction: 1),
                             clone("TRB_1", .TRB, fraction: 0.7, templates: 3_500, calibrated: true, junction: 2),
                             clone("TRB_2", .TRB, fraction: 0.25, templates: 300, calibrated: true, junction: 3)])
        #expect(result["IGH_1"] == "trackable")
        #expect(result["TRB_1"] == "trackable")
        // 25% of TRB reads (it would pass the fraction comparison) but 8% of the IGH clone's templates.
        #expect(result["TRB_2"]?.hasPrefix("TRB clone at 8% of the IGH clone IGH_1's templates") == true, "\(result)")
    }

    @Test("a T-ALL: its TR markers stay; an IG clone and a TR clone far below its templates are out; by reads alone the leading lineage is not held to the rule")
    func tALL() {
        let result = select([clone("TRG_1", .TRG, fraction: 0.95, templates: 5_000, calibrated: true, junction: 1),
                             clone("TRB_1", .TRB, fraction: 0.7, templates: 4_200, calibrated: true, junction: 2),
                             clone("TRB_2", .TRB, fraction: 0.3, templates: 400, calibrated: true, junction: 4),
                             clone("IGH_1", .IGH, fraction: 0.5, templates: 200, calibrated: true, junction: 3)])
        #expect(result["TRG_1"] == "trackable" && result["TRB_1"] == "trackable")
        // Templates count cells: a TR clone at 8% of the leading marker's is a normal clone or a minor
        // subclone, whatever its lineage (until this session the leading lineage was never held to it).
        #expect(result["TRB_2"]?.hasPrefix("TRB clone at 8% of the TRG clone TRG_1's templates") == true, "\(result)")
        #expect(result["IGH_1"]?.hasPrefix("IGH clone at 4% of the TRG clone TRG_1's templates") == true, "\(result)")
        // Without spike-ins of their own, a clone of the leading lineage is not held to the rule: a
        // long junction that short reads rarely cover looks small by its reads alone.
        let reads = select([clone("TRG_1", .TRG, fraction: 0.95, templates: 5_000, calibrated: false, junction: 1),
                            clone("TRB_2", .TRB, fraction: 0.3, templates: 400, calibrated: false, junction: 4)])
        #expect(reads["TRB_2"] == "trackable")
    }

    @Test("a B-ALL whose markers are IGK and TRG: a normal IGH clone (5.5% of IGH, 10% of the IGK marker's templates) is out")
    func normalCloneOfTheLeadingLineage() {
        // Simulated (seed 204): the leukemia's IGK and TRG junctions are nearly germline (not
        // trackable), and the IGH clone tracked in their place read 0.2% in every follow-up, truth 0.
        let result = select([clone("IGK_1", .IGK, fraction: 0.516, templates: 3_300, calibrated: true, junction: 1),
                             clone("TRG_2", .TRG, fraction: 0.507, templates: 3_200, calibrated: true, junction: 2),
                             clone("IGH_3", .IGH, fraction: 0.055, templates: 330, calibrated: true, junction: 3)])
        #expect(result["IGH_3"]?.hasPrefix("IGH clone at 10% of the IGK clone IGK_1's templates") == true, "\(result)")
    }

    @Test("a B-ALL's cross-lineage TRG marker with the largest share but fewer templates than its IGH marker: the lineage is B, the normal TRB clone is held to the rule")
    func crossLineageLeadsByShare() {
        // Simulated (mrd simulate --seed 120): the leukemia's TRG clone 49.0% of TRG reads, its IGH
        // clone 47.8% of IGH; a normal T-cell clone 8.4% of TRB, 15% of the IGH clone's templates.
        let clones = [clone("TRG_1", .TRG, fraction: 0.49, templates: 2_270, calibrated: true, junction: 1),
                      clone("IGH_2", .IGH, fraction: 0.478, templates: 2_490, calibrated: true, junction: 2),
                      clone("TRB_3", .TRB, fraction: 0.084, templates: 365, calibrated: true, junction: 3)]
        let result = select(clones)
        #expect(result["IGH_2"] == "trackable" && result["TRG_1"] == "trackable")
        #expect(result["TRB_3"]?.hasPrefix("TRB clone at 15% of the IGH clone IGH_2's templates") == true, "\(result)")
        // Without spike-ins of each locus, shares decide as before: TRG leads, TRB is of its lineage.
        let shares = select(clones.map { var c = $0; c.templatesCalibrated = false; return c })
        #expect(shares["TRB_3"] == "trackable")
    }

    @Test("no spike-ins: locus fractions compared")
    func noCalibration() {
        let result = select([clone("IGH_1", .IGH, fraction: 0.45, templates: 4_500, calibrated: false, junction: 1),
                             clone("TRB_1", .TRB, fraction: 0.86, templates: 40_000, calibrated: false, junction: 2),
                             clone("TRB_2", .TRB, fraction: 0.06, templates: 600, calibrated: false, junction: 3)])
        #expect(result["IGH_1"] == "trackable", "45% of IGH is over 20% of 86%")
        #expect(result["TRB_1"] == "trackable")
        #expect(result["TRB_2"] == "trackable", "same lineage as the leading TRB clone")
    }
}

/// Whole simulated runs of B-ALL patients with an IGH and a TRB marker, baselines analysed as
/// `mrd baseline` does, under each calibration.
@Suite("IGH + TRB patients under each calibration")
struct CrossLineageRunTests {
    static let germline = try! GermlineReference.bundled()

    @Test("every leukemic IGH and TRB clone is trackable", arguments: ["IGH", "all", "none", "umi"])
    func everyMarkerTrackable(_ calibration: String) throws {
        var config = SimulationConfig()
        config.seed = 16
        config.patients = 3
        config.levels = []
        config.loci = [.IGH, .TRB]
        config.diagnosticCells = 10_000
        config.readsPerSample = 20_000
        config.readLength = 250
        config.sequencing.readLength = 250
        config.controls = false
        // TRB amplifies twice as well as IGH: reads of the two loci are not comparable.
        config.locusEfficiency = [.TRB: 2]
        config.threads = 2
        switch calibration {
        case "IGH": config.spikeLoci = [.IGH]
        case "none": config.spikeLoci = []
        case "umi": config.spikeLoci = []; config.umiLength = 8
        default: break
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("mrd-lineage-\(calibration)-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let output = try RunSimulator(config: config, germline: Self.germline).write(to: directory)
        let spikes = output.spikes.map { SpikeInCalibrator(id: $0.id, sequence: $0.sequence, copies: Double($0.copies)) }
        var options = BaselineOptions()
        options.threads = 2
        let analysis = BaselineAnalysis(germline: Self.germline, spikeIns: spikes, options: options)
        var leukemic = 0
        for patient in ["P001", "P002", "P003"] {
            let sample = "\(patient)_DX"
            let result = try analysis.run(SampleInput(read1: [directory.appendingPathComponent("\(sample)_R1.fastq.gz").path]), sampleID: sample)
            let truth = output.clones.filter { $0.patient == patient && $0.clone.isLeukemic }
            #expect(Set(truth.map { $0.clone.rearrangement.locus }) == [.IGH, .TRB])
            for (_, clone) in truth {
                leukemic += 1
                let found = result.clonotypes.first { $0.junction == Array(clone.rearrangement.junctionString.utf8) }
                #expect(found?.trackable == true, "\(calibration) \(clone.id): \(found?.notTrackableReason ?? "not found")")
            }
            // Nothing else is trackable: near-neighbours and the background stay out.
            let trackable = Set(result.trackable.map(\.junctionString))
            #expect(trackable.isSubset(of: Set(truth.map { $0.clone.rearrangement.junctionString })), "\(calibration) \(sample)")
        }
        #expect(leukemic >= 6)
    }
}

@Suite("Index clones shared between patients")
struct SharedCloneTests {
    func clone(_ id: String, junction: String, count: Int, locusReads: Int, trackable: Bool = true) -> BaselineClone {
        var c = BaselineClone(cloneID: id, sampleID: String(id.prefix(7)), locus: .IGH, kind: .VDJ, vCall: "IGHV3-23*01", jCall: "IGHJ4*02",
                              junction: Array(junction.utf8), count: count, trackable: trackable, target: Array(("AAAAAAAAAA" + junction + "CCCCCCCCCC").utf8))
        c.locusReads = locusReads
        c.fraction = Double(count) / Double(locusReads)
        return c
    }

    @Test("a junction at index-clone level in two patients (a spike-in run without --spike-ins) is not tracked in either; hopped reads do not count")
    func shared() {
        let spike = "TGTGCGAGAGGTCCCTACGGTAGCAGCTGGTACTTTGACTACTGG"
        let leukemia = "TGTGCGAAAGATCGGGGTATAGCAGTGGCTGGTACCCCTTTGACTACTGG"
        var patients: [String: [BaselineClone]] = [
            "P1": [clone("P1_DX_1", junction: leukemia, count: 8_000, locusReads: 10_000), clone("P1_DX_2", junction: spike, count: 900, locusReads: 10_000)],
            // P1's leukemia hopped into P2's diagnostic sample: 0.1% of its rate.
            "P2": [clone("P2_DX_1", junction: spike, count: 700, locusReads: 9_000), clone("P2_DX_9", junction: leukemia, count: 8, locusReads: 9_000, trackable: false)],
        ]
        let changed = SharedClones.mark(&patients)
        #expect(changed == ["P1", "P2"])
        #expect(patients["P1"]![0].trackable, "hopped reads in P2 are below 5% of P1's rate")
        #expect(!patients["P1"]![1].trackable)
        #expect(patients["P1"]![1].notTrackableReason.hasPrefix("shared_index_clone: the junction is also a clonotype of the diagnostic sample of P2"))
        #expect(!patients["P2"]![0].trackable && patients["P2"]![0].notTrackableReason.contains("of P1 ("))
        // A second check changes nothing; with P2 gone from the run, P1's clone is restored.
        #expect(SharedClones.mark(&patients).isEmpty)
        var alone = ["P1": patients["P1"]!]
        #expect(SharedClones.mark(&alone) == ["P1"])
        #expect(alone["P1"]![1].trackable && alone["P1"]![1].notTrackableReason.isEmpty)
    }
}

@Suite("Index clones: the nearest clonotype")
struct NearestClonotypeTests {
    /// Clonotypes of one locus with the given junctions, in clone order.
    static func clonotypes(_ junctions: [String]) -> [Clonotype] {
        junctions.enumerated().map { i, j in
            var c = Clonotype(locus: .IGH, kind: .VDJ, vCall: "", dCall: "", jCall: "", junction: Array(j.utf8), count: 100 - i,
                              representative: Array(j.utf8), representativeReversed: false, representativeJunctionStart: 0)
            c.cloneID = "C\(i)"
            return c
        }
    }

    @Test("the least distance across junction lengths, the first in clone order among equals; none beyond 6 edits")
    func nearest() {
        let query = "TGTGCGAGAGGGTCCCTATTACGGTATGGACGTCTGG"
        // C1: one deletion, C2: one substitution at equal length, C3: identical but another locus,
        // C4: C1 with its last 6 bases cut (6 edits from C1, 7 from the others), C5: two substitutions.
        var one = Array(query.utf8); one.remove(at: 10)
        var sub = Array(query.utf8); sub[12] = UInt8(ascii: "A")
        var two = sub; two[20] = UInt8(ascii: "T")
        var list = Self.clonotypes([query, String(decoding: one, as: UTF8.self), String(decoding: sub, as: UTF8.self), query,
                                    String(decoding: one.dropLast(6), as: UTF8.self), String(decoding: two, as: UTF8.self)])
        list[3].locus = .TRB
        let selection = IndexCloneSelection(options: BaselineOptions())
        let byLength = IndexCloneSelection.JunctionsByLength(list)
        func nearest(_ i: Int) -> (Int, Int)? {
            let indexed = selection.nearestClonotype(to: i, junction: list[i].junction, locus: list[i].locus, byLength: byLength)
            // The scan of every clonotype in clone order (few clones searched) gives the same answer.
            let scanned = selection.nearestClonotype(to: i, in: list)
            #expect(indexed.map { [$0.0, $0.1] } == scanned.map { [$0.0, $0.1] }, "clone \(i)")
            return indexed
        }
        // C0: C1 (a shorter junction, one edit) and C2 (equal length, one edit) tie; C1 is first.
        #expect(nearest(0).map { [$0.0, $0.1] } == [1, 1])
        // C2: C0 at one edit (C5 is one edit too, later).
        #expect(nearest(2).map { [$0.0, $0.1] } == [0, 1])
        // C3 (TRB): no other TRB clonotype.
        #expect(nearest(3) == nil)
        // C4: 6 bases shorter than C1 (6 edits: the search's limit), 7 than the others.
        #expect(nearest(4).map { [$0.0, $0.1] } == [1, 6])
        // C1: C0 at one edit (C2 is two edits away, C4 six).
        #expect(nearest(1).map { [$0.0, $0.1] } == [0, 1])
        // An identical junction: distance 0, and the search ends there.
        let twins = Self.clonotypes([query, String(decoding: sub, as: UTF8.self), query])
        let twinIndex = IndexCloneSelection.JunctionsByLength(twins)
        #expect(selection.nearestClonotype(to: 0, junction: twins[0].junction, locus: .IGH, byLength: twinIndex).map { [$0.0, $0.1] } == [2, 0])
    }
}
