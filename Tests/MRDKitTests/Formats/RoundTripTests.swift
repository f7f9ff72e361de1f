import Foundation
import Testing
@testable import MRDKit

/// Every contract file: a typed record written and read back is the same record, and the reader
/// refuses damage with the file, line and what was expected.
@Suite("Formats: every contract file round-trips through its writer and reader")
struct RoundTripTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("mrd-formats-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func write(_ text: String, _ name: String) throws -> String {
        let path = directory.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("delimited tables: TSV with CRLF and blank lines; CSV with quotes, commas and line ends inside quotes")
    func delimitedTable() throws {
        let tsv = DelimitedTable(bytes: Array("a\tb\r\n\r\n1\t\r\nx\ty\tz\n".utf8), path: "t.tsv", dialect: .tsv)
        #expect(tsv.header == ["a", "b"])
        #expect(tsv.rowCount == 2)
        #expect(tsv.fields(0) == ["1", ""] && tsv.line(0) == 3)
        #expect(tsv.fields(1) == ["x", "y", "z"] && tsv.line(1) == 4)
        #expect(tsv.value(0, "b") == "" && tsv.value(1, "missing") == "")
        let csv = DelimitedTable(bytes: Array("id,note\r\n\"P1\",\"a, \"\"quoted\"\"\nline\"\n\nP2,plain".utf8), path: "s.csv", dialect: .csv)
        #expect(csv.rowCount == 2)
        #expect(csv.fields(0) == ["P1", "a, \"quoted\"\nline"] && csv.line(0) == 2)
        #expect(csv.fields(1) == ["P2", "plain"] && csv.line(1) == 5)
        #expect(DelimitedTable(bytes: Array("a,a,b\n".utf8), path: "r.csv", dialect: .csv).repeatedColumns == ["a"])
        #expect(throws: ReadError.self) { try DelimitedTable.parse(bytes: [0xff, 0xfe, 0x0a], path: "bad.tsv", dialect: .tsv, what: "table") }
    }

    @Test("sheet.csv: rows written by the simulator's writer are read back, paths resolved against the sheet's folder")
    func sheet() throws {
        let rows = [SheetRow(patientID: "P1", sampleID: "P1_DX", role: .baseline, timepoint: "diagnosis, day 0", day: 0, reads1: ["a.fq.gz", "b.fq.gz"],
                             reads2: ["a2.fq.gz", "b2.fq.gz"], dnaNanograms: 650),
                    SheetRow(patientID: "P1", sampleID: "P1_FU1", role: .followup, timepoint: "say \"d35\"", day: 35, reads1: ["c.fq"], cells: 123456.5),
                    SheetRow(patientID: "P2", sampleID: "P2_FU1", role: .followup, timepoint: "", day: nil, reads1: ["/abs/d.fq"], clones: "old.clones.tsv")]
        _ = try write("clone_id\n", "old.clones.tsv")
        let path = try write(SampleSheet.csv(rows), "sheet.csv")
        let sheet = try SampleSheet(path: path)
        let folder = directory.path
        #expect(sheet.samples.map(\.sampleID) == ["P1_DX", "P1_FU1", "P2_FU1"])
        #expect(sheet.samples[0].timepoint == "diagnosis, day 0" && sheet.samples[1].timepoint == "say \"d35\"")
        #expect(sheet.samples[0].reads1 == [folder + "/a.fq.gz", folder + "/b.fq.gz"] && sheet.samples[0].reads2.count == 2)
        #expect(sheet.samples[0].dnaNanograms == 650 && sheet.samples[1].cells == 123456.5 && sheet.samples[2].day == nil)
        #expect(sheet.samples[2].reads1 == ["/abs/d.fq"] && sheet.samples[2].clones == folder + "/old.clones.tsv")
        let plan = try JSONDecoder().decode(SheetPlan.self, from: Data(SheetPlan(sheet).text.utf8))
        #expect(plan == SheetPlan(sheet))
    }

    @Test("spikes.tsv")
    func spikes() throws {
        let spikes = [SpikeInCalibrator(id: "S1", sequence: Array(String(repeating: "ACGT", count: 10).utf8), copies: 20),
                      SpikeInCalibrator(id: "S2", sequence: Array(String(repeating: "GATTACA", count: 6).utf8), copies: 12.5)]
        #expect(try SpikeInsFile.read(path: try write(SpikeInsFile.text(spikes), "spikes.tsv")) == spikes)
        let bad = try write("spike_id\tsequence\tcopies\nS1\tACGT\t5\n", "bad.tsv")
        #expect { try SpikeInsFile.read(path: bad) } throws: { ($0 as? ReadError)?.line == 2 }
    }

    static func clone(_ id: String, trackable: Bool) -> BaselineClone {
        var clone = BaselineClone(cloneID: id, sampleID: "P1_DX", locus: .IGH, kind: .VDJ, vCall: "IGHV3-23*01,IGHV3-23*04", dCall: "IGHD3-10*01",
                                  jCall: "IGHJ4*02", junction: Array("TGTGCGAGAGATCGGGGTTACTTTGACTACTGG".utf8), count: 1234,
                                  trackable: trackable, target: Array("CTGTGTATTACTGTGCGAGAGATCGGGGTTACTTTGACTACTGGGGCCAGGGAA".utf8))
        clone.junctionAA = "CARDRGYFDYW"
        clone.productive = true
        clone.fraction = 0.456789
        clone.locusReads = 2702
        clone.nearestCloneID = trackable ? "P1_DX_IGH_2" : nil
        clone.nearestDistance = trackable ? 3 : nil
        clone.notTrackableReason = trackable ? "" : "too few reads (12 < 20)"
        clone.untemplated = 9
        return clone
    }

    @Test("clones.tsv: every column, trackable or not")
    func clones() throws {
        var second = Self.clone("P1_DX_IGH_2", trackable: false)
        second.kind = .DJ
        second.junctionAA = nil
        second.productive = nil
        second.untemplated = nil
        var first = Self.clone("P1_DX_IGH_1", trackable: true)
        first.upstream = Array("GACACGGCCGTGTATTACTGTGCGAGAGAC".utf8)
        let clones = [first, second]
        let text = ClonesFile.text(clones)
        #expect(text.hasPrefix(ClonesFile.columns.joined(separator: "\t") + "\n"))
        #expect(try ClonesFile.read(path: try write(text, "P1_DX.clones.tsv")) == clones)
        let damaged = try write(text.replacingOccurrences(of: "\tT\tCTG", with: "\tX\tCTG"), "damaged.tsv")
        #expect { try ClonesFile.read(path: damaged) } throws: { ($0 as? ReadError)?.line == 2 }
        // The upstream bases of a read with an N among them are left out (clones.tsv holds bases
        // only, and refuses anything else there).
        let read = Array("ACGTACGTACGTACGTACGTACGTACGTACNTACGTACGTAC".utf8)
        #expect(BaselineClone.upstream(of: read, before: 12) == Array(read[0..<12]))
        #expect(BaselineClone.upstream(of: read, before: 40).isEmpty)
        let withN = try write(text.replacingOccurrences(of: "GACACGGCCGTGTATTACTGTGCGAGAGAC", with: "GACACGGCCGTGTATTACTGTGCGAGAGAN"), "n.tsv")
        #expect { try ClonesFile.read(path: withN) } throws: { ($0 as? ReadError)?.line == 2 }
    }

    @Test("clones.tsv formatted in chunks on several threads: the same text as on one")
    func clonesOnThreads() throws {
        // 10,001 rows: two whole 4,096-row chunks and a partial one.
        let clones = (0..<10_001).map { i -> BaselineClone in
            var clone = Self.clone("P1_DX_IGH_\(i + 1)", trackable: i % 7 == 0)
            clone.count = 10_001 - i
            clone.coverage = Double(i % 4 + 1) / 4
            return clone
        }
        let one = ClonesFile.text(clones)
        #expect(one.split(separator: "\n").count == 10_002)
        for threads in [2, 3] { #expect(ClonesFile.text(clones, threads: threads) == one) }
        #expect(try ClonesFile.read(path: try write(ClonesFile.text(clones, threads: 2), "many.clones.tsv")) == clones)
    }

    @Test("AIRR rearrangement TSV")
    func airr() throws {
        var row = AIRRRearrangement(sequenceID: "P1_DX_IGH_1", sequence: "ACGTACGT")
        row.revComp = true; row.productive = false; row.vCall = "IGHV1-2*02"; row.jCall = "IGHJ4*02"; row.junction = "TGT"
        row.vCigar = "3S5M"; row.locus = "IGH"; row.junctionLength = 3; row.duplicateCount = 17; row.cloneID = "P1_DX_IGH_1"
        row.vSequenceStart = 4; row.vSequenceEnd = 8; row.vGermlineStart = 1; row.vGermlineEnd = 5
        let other = AIRRRearrangement(sequenceID: "x", sequence: "GG")
        let text = AIRRFile.text([row, other])
        #expect(try AIRRFile.read(path: try write(text, "a.airr.tsv")) == [row, other])
        // Other tools write TRUE/FALSE and decimals for whole numbers.
        let foreign = try write("sequence_id\tsequence\trev_comp\tduplicate_count\nq\tACGT\tTRUE\t12.0\n", "foreign.tsv")
        let parsed = try AIRRFile.read(path: foreign)
        #expect(parsed.first?.revComp == true && parsed.first?.duplicateCount == 12)
    }

    @Test("baseline.json, call.json, run.json and completion records")
    func jsonRecords() throws {
        let summary = BaselineSummary(sampleID: "P1_DX", version: "0.1.0", commandLine: ["mrd", "baseline"], inputs: ["a.fq"], totalReads: 10,
                                      assignedReads: 6, unassignedReads: ["no_germline_hit": 2], spikeInReads: 2, spikeInReadsByID: ["S1": 2],
                                      readsPerLocus: ["IGH": 6], clonotypes: 1, trackable: [], noTrackableReason: "no clonotype reaches 0.05",
                                      notTrackable: ["P1_DX_IGH_1": "too few reads (6 < 20)"])
        #expect(try BaselineSummary.read(path: try write(summary.text, "b.json")) == summary)
        var nullReason = summary
        nullReason.noTrackableReason = nil
        #expect(nullReason.text.contains("\"no_trackable_reason\" : null"))
        #expect(try BaselineSummary.read(path: try write(nullReason.text, "n.json")) == nullReason)

        let call = CallRecord(sampleID: "P1_FU1", version: "0.1.0", commandLine: [], inputs: ["f.fq"], totalReads: 1000, readsPerLocus: ["IGH": 900],
                              spikeInReads: 50, templateMethod: "spike_in", cellsMethod: "none", cellsAssessed: nil, clonesTracked: 2,
                              clonesDetected: 1, leukemicReads: 40, leukemicTemplates: 8.5, mrdLevel: 0.0123, mrdCILow: nil, mrdCIHigh: nil,
                              lod: nil, loq: nil, threshold: 1e-4, detected: true, quantifiable: true, call: "indeterminate",
                              callDetail: "insufficient_input", qcPass: true, qcFlags: ["low_reads"], topClone: "P1_DX_IGH_1", evolvedReads: 0,
                              unassignedReads: ["no_locus": 50], detectionRule: .init(minReads: 2, templateFraction: 0.25, bleedSignificance: 0.001),
                              spikeInReadsByID: ["S1": 50], readsPerCopy: ["all": 2.5, "IGH": 2.5], spikeInOutliers: [],
                              readFraction: 0.0123, levelBasis: "cells", reason: "No DNA input or cell count was given.",
                              markers: ["P1_DX_IGH_1", "P1_DX_TRB_2"],
                              umiCheck: .init(length: 8, reads: 1000, topTenShare: 0.01, meanTopBaseShare: 0.3, random: true))
        let callText = call.text
        for field in ["cells_assessed", "mrd_ci_low", "mrd_ci_high", "lod", "loq"] { #expect(callText.contains("\"\(field)\" : null"), "\(field)") }
        #expect(try CallRecord.read(path: try write(callText, "c.json")) == call)
        #expect(call.locusReads == 900)
        #expect { try CallRecord.read(path: try write("{\"sample_id\": 3}", "x.json")) } throws: { ($0 as? ReadError)?.exitCode == 65 }

        let run = RunRecord(version: "0.1.0", commandLine: ["mrd", "run"], sheet: "s.csv", outdir: "o", finished: "2026-12-03T00:00:00Z",
                            samples: [.init(sampleID: "P1_DX", patientID: "P1", role: "baseline", status: "ok", error: nil, reused: false,
                                            totalReads: 10, seconds: 0.5, inputHash: "abc", readAccounting: nil),
                                      .init(sampleID: "NTC", patientID: "CTRL", role: "control", status: "failed", error: "x: no such file",
                                            reused: false, totalReads: 0, seconds: 0, inputHash: "", readAccounting: ["locus_reads": 0])],
                            qcFlags: ["control_failed"], failedSamples: ["NTC"], threshold: 1e-4)
        #expect(try RunRecord.read(path: try write(run.text, "run.json")) == run)
        let completion = SampleCompletion(ok: true, inputHash: "h v0.1.0", totalReads: 42)
        _ = try write(completion.text, "P1_DX.run.json")
        #expect(SampleCompletion.load(directory.path, "P1_DX") == completion)
        #expect(SampleCompletion.load(directory.path, "absent") == nil)
    }

    @Test("mrd.tsv, calls.tsv and controls.tsv")
    func trackTables() throws {
        let rows = [MRDRow(sampleID: "F", cloneID: "C1", locus: "IGH", junction: "TGTGG", reads: 12, evolvedReads: 1, templates: 3.25, mrdLevel: 2.3e-5,
                           detected: true, exactReads: 10, rejectedReads: 0, umis: nil, readsPerTemplate: 3.69231, expectedBleedReads: 0.012,
                           readFraction: 0.0021),
                    MRDRow(sampleID: "F", cloneID: "C2", locus: "TRB", junction: "TGTTT", reads: 0, evolvedReads: 0, templates: 0, mrdLevel: nil,
                           detected: false, exactReads: 0, rejectedReads: 3, umis: 0, readsPerTemplate: 1, expectedBleedReads: 0)]
        #expect(try MRDTable.read(path: try write(MRDTable.text(rows), "F.mrd.tsv")) == rows)

        var measured = CallsRow(patientID: "P1", sampleID: "P1_FU1", timepoint: "day 35", day: 35, threshold: 1e-4, detected: true, quantifiable: true,
                                call: "positive", normalization: "spike_in+dna_input", qcPass: true, callDetail: "quantifiable")
        measured.totalReads = 40000; measured.cellsAssessed = 153846; measured.clonesTracked = 2; measured.clonesDetected = 1
        measured.leukemicReads = 120; measured.leukemicTemplates = 35.5; measured.mrdLevel = 0.000230751; measured.ciLow = 0.000161
        measured.ciHigh = 0.000331; measured.lod = 2.1e-5; measured.loq = 9.75e-5
        measured.reason = "P1_DX_IGH_1 (IGH) detected at 0.00023, at or above the 0.0001 threshold."; measured.readFraction = 0.0042
        measured.markers = ["P1_DX_IGH_1", "P1_DX_TRB_2"]; measured.qcFlags = ["spike_in_outlier", "control_contamination"]
        let failed = RunAnalysis.failedRow(SheetSample(line: 3, patientID: "P1", sampleID: "P1_FU2", role: .followup, timepoint: "", day: nil,
                                                       reads1: ["x"], reads2: []), threshold: 1e-4, error: "x: no such file")
        let text = CallsTable.text([measured, failed])
        #expect(text.hasPrefix(CallsTable.columns.joined(separator: "\t") + "\n"))
        #expect(try CallsTable.read(path: try write(text, "calls.tsv")) == [measured, failed])
        #expect(failed.reason == "The sample could not be processed (x: no such file): fix the input and re-run.")
        #expect(text.contains("\tP1_DX_IGH_1;P1_DX_TRB_2\tspike_in_outlier;control_contamination\n"))

        let hits = [ControlHit(controlID: "NTC", patientID: "P1", cloneID: "C1", locus: .IGH, reads: 3, contaminated: true),
                    ControlHit(controlID: "NTC", patientID: "P2", cloneID: "C9", locus: .TRG, reads: 0, contaminated: false)]
        #expect(try ControlsTable.read(path: try write(ControlsTable.text(hits.reversed()), "controls.tsv")) == hits)
    }

    @Test("clinical.csv and the cohort tables")
    func outcomeTables() throws {
        let records = [ClinicalRecord(patientID: "C001", rfsDays: 412, event: true, groups: ["ph_status": "positive", "risk_group": "high"]),
                       ClinicalRecord(patientID: "C002", rfsDays: 1200.5, event: false, groups: ["ph_status": "negative", "risk_group": ""])]
        let clinical = try ClinicalFile.read(path: try write(ClinicalFile.text(records, groupColumns: ["ph_status", "risk_group"]), "clinical.csv"))
        #expect(clinical.records == records && clinical.groupColumns == ["ph_status", "risk_group"])
        let duplicate = try write("patient_id,rfs_days,rfs_event\nC1,10,1\nC1,20,0\n", "dup.csv")
        #expect { try ClinicalFile.read(path: duplicate) } throws: { ($0 as? SheetError)?.problems == ["\(duplicate):3: patient_id 'C1' appears twice"] }
        // The optional outcome columns round-trip; group columns exclude them.
        var typed = records
        typed[0].eventType = .death
        typed[0].osDays = 412
        typed[0].osEvent = true
        typed[1].osDays = 1300
        typed[1].osEvent = false
        let withOutcomes = try ClinicalFile.read(path: try write(ClinicalFile.text(typed, groupColumns: ["ph_status", "risk_group"]), "clinical3.csv"))
        #expect(withOutcomes.records == typed && withOutcomes.groupColumns == ["ph_status", "risk_group"])
        #expect(withOutcomes.hasEventType && withOutcomes.hasOverallSurvival && !clinical.hasEventType && !clinical.hasOverallSurvival)

        let negativity = [NegativityRow(landmark: "induction", groupBy: "all", group: "all", n: 10, negative: 4, rate: 0.4, ciLow: 0.1682,
                                        ciHigh: 0.6873, indeterminate: 1),
                          NegativityRow(landmark: "month3", groupBy: "ph_status", group: "positive", n: 0, negative: 0, indeterminate: 2)]
        #expect(try CohortTables.readNegativity(path: try write(CohortTables.negativityText(negativity), "negativity.tsv")) == negativity)
        let rfs = [RFSRow(landmark: "induction", status: "negative", n: 4, events: 1, rfsAtHorizon: 0.75, ciLow: 0.1279, ciHigh: 0.9605, logrankP: 0.0312),
                   RFSRow(landmark: "induction", status: "positive", n: 0, events: 0)]
        #expect(try CohortTables.readRFS(path: try write(CohortTables.rfsText(rfs), "rfs.tsv")) == rfs)
        let km = [KMRow(landmark: "induction", status: "negative", time: 0, atRisk: 4, events: 0, survival: 1, ciLow: 1, ciHigh: 1),
                  KMRow(landmark: "induction", status: "negative", time: 377.5, atRisk: 3, events: 1, survival: 0.75, ciLow: 0.1279, ciHigh: 0.9605)]
        #expect(try CohortTables.readKM(path: try write(CohortTables.kmText(km), "km.tsv")) == km)
    }

    @Test("truth.tsv of the simulator")
    func truth() throws {
        let truth = [SampleTruth(sampleID: "P1_FU1", patientID: "P1", role: "followup", timepoint: "FU1", day: 35, cells: 50000, level: 0.001,
                                 leukemicCells: 51, leukemicTemplates: 50, evolvedTemplates: 0, leukemicReads: 400, evolvedReads: 0,
                                 hoppedInReads: 3, spikeInReads: 120, totalReads: 4100, files: [], mateFiles: []),
                     SampleTruth(sampleID: "NTC", patientID: "CTRL", role: "control", timepoint: "", day: nil, cells: 0, level: nil,
                                 leukemicCells: 0, leukemicTemplates: 0, evolvedTemplates: 0, leukemicReads: 0, evolvedReads: 0,
                                 hoppedInReads: 0, spikeInReads: 0, totalReads: 12, files: [], mateFiles: [])]
        #expect(try TruthFile.read(path: try write(TruthFile.text(truth), "truth.tsv")) == truth)
    }
}
