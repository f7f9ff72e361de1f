import Foundation
import Testing
@testable import MRDKit

/// The contract's call table, case by case, and the same rule where `mrd cohort` re-derives calls.
@Suite("Call rule: every outcome of the contract's table")
struct CallRuleTests {
    typealias Evidence = CallRule.Evidence
    let rule = CallRule(threshold: 1e-4)

    @Test("each row of the table", arguments: [
        // detected, level, lod, quantifiable, qc pass -> call, detail
        (Evidence(detected: true, level: 2e-4, lod: 1e-5, quantifiable: true, qcPass: true), MRDCallKind.positive, CallDetail.quantifiable),
        (Evidence(detected: true, level: 1e-4, lod: 1e-5, quantifiable: false, qcPass: true), .positive, .notQuantifiable),
        // A positive stays positive when QC failed (qc_pass F says so).
        (Evidence(detected: true, level: 3e-3, lod: 1e-5, quantifiable: true, qcPass: false), .positive, .quantifiable),
        (Evidence(detected: true, level: 5e-5, lod: 1e-5, quantifiable: true, qcPass: true), .negative, .detectedBelowThreshold),
        (Evidence(detected: false, level: 0, lod: 1e-4, quantifiable: false, qcPass: true), .negative, .undetected),
        (Evidence(detected: false, level: 0, lod: 1.2e-3, quantifiable: false, qcPass: true), .indeterminate, .insufficientInput),
        // Without a cell count there is no LoD: nothing detected cannot be called negative.
        (Evidence(detected: false, level: 0, lod: nil, quantifiable: false, qcPass: true), .indeterminate, .insufficientInput),
        (Evidence(detected: false, level: 0, lod: 1e-5, quantifiable: false, qcPass: false), .indeterminate, .qcFail),
        (Evidence(detected: true, level: 5e-5, lod: 1e-5, quantifiable: true, qcPass: false), .indeterminate, .qcFail),
        (Evidence(hasMarker: false, detected: false, level: nil, lod: 1e-5, quantifiable: false, qcPass: true), .indeterminate, .noMarker),
    ])
    func row(_ evidence: Evidence, _ call: MRDCallKind, _ detail: CallDetail) {
        let decision = rule.decide(evidence)
        #expect(decision.call == call && decision.detail == detail, "\(evidence)")
    }

    @Test("the threshold is inclusive for positives and for the LoD")
    func boundaries() {
        #expect(CallRule(threshold: 1e-5).decide(Evidence(detected: true, level: 1e-5, lod: 1e-6, quantifiable: true, qcPass: true)).call == .positive)
        #expect(CallRule(threshold: 1e-5).decide(Evidence(detected: false, level: 0, lod: 1e-5, quantifiable: false, qcPass: true)).call == .negative)
        #expect(CallRule.isValidThreshold(1e-6) && !CallRule.isValidThreshold(0) && !CallRule.isValidThreshold(1))
        #expect(CallRule().threshold == 1e-4)
    }

    @Test("mrd cohort re-derives with the same rule: a failed QC is not a negative at another threshold")
    func cohortUsesTheRule() {
        func row(detected: Bool, level: Double?, lod: Double?, qcPass: Bool = true, call: String, detail: String) -> CallsRow {
            var row = CallsRow(patientID: "P", sampleID: "S", timepoint: "t", day: 35, threshold: 1e-4, detected: detected, quantifiable: detected,
                               call: call, normalization: "spike_in+dna_input", qcPass: qcPass, callDetail: detail)
            row.mrdLevel = level
            row.lod = lod
            return row
        }
        let low = row(detected: true, level: 5e-5, lod: 1e-6, call: "negative", detail: "detected_below_threshold")
        #expect(CohortAnalysis.status(low, threshold: nil) == "negative")
        #expect(CohortAnalysis.status(low, threshold: 1e-5) == "positive")
        #expect(CohortAnalysis.status(row(detected: false, level: 0, lod: 3e-6, call: "negative", detail: "undetected"), threshold: 1e-6) == nil)
        #expect(CohortAnalysis.status(row(detected: false, level: 0, lod: 3e-6, call: "negative", detail: "undetected"), threshold: 1e-5) == "negative")
        #expect(CohortAnalysis.status(row(detected: true, level: 5e-5, lod: 1e-6, qcPass: false, call: "indeterminate", detail: "qc_fail"),
                                      threshold: 1e-4) == nil)
        #expect(CohortAnalysis.status(row(detected: false, level: nil, lod: nil, call: "indeterminate", detail: "failed"), threshold: 1e-5) == nil)
        #expect(CohortAnalysis.status(row(detected: false, level: 0, lod: nil, call: "indeterminate", detail: "no_marker"), threshold: 1e-2) == nil)
    }

    @Test("detected under the threshold with the LoD above it: below_threshold_above_lod fails QC, never a negative; re-derived per threshold")
    func belowThresholdAboveLoD() throws {
        // The sweep's case: 3 reads, 8.6e-5 (95% CI 1.1e-5-3.2e-4), LoD 1.6e-4, truth 2.1e-4.
        #expect(CallRule.belowThresholdAboveLoD(detected: true, level: 8.6e-5, lod: 1.6e-4, threshold: 1e-4))
        #expect(!CallRule.belowThresholdAboveLoD(detected: true, level: 8.6e-5, lod: 1e-4, threshold: 1e-4))
        #expect(!CallRule.belowThresholdAboveLoD(detected: true, level: 2e-4, lod: 1.6e-4, threshold: 1e-4))
        #expect(!CallRule.belowThresholdAboveLoD(detected: false, level: 0, lod: 1.6e-4, threshold: 1e-4))
        #expect(!CallRule.belowThresholdAboveLoD(detected: true, level: 8.6e-5, lod: nil, threshold: 1e-4))
        // Through the quantifier: 3 reads of an IGH marker in 100,000 cells, spike-ins read at 0.35 per copy.
        let clone = ighMarker()
        var counts = FollowUpCounts(sampleID: "P5_FU")
        counts.totalReads = 8_000
        counts.readsPerLocus = [.IGH: 4_000]
        counts.spikeInReads = [175]
        var tracked = TrackedCloneCount(clone: clone)
        tracked.reads = 3
        counts.clones = [tracked]
        let spikes = [SpikeInCalibrator(id: "SPK_IGH", sequence: [], copies: 500)]
        func calling(cells: Double) -> MRDCall {
            var options = CallOptions()
            options.cells = cells
            return Quantifier.call(counts, spikes: spikes, spikeLoci: [.IGH], options: options)
        }
        let call = calling(cells: 100_000)
        #expect(call.detected && (call.mrdLevel ?? 1) < 1e-4 && (call.lod ?? 0) > 1e-4, "level \(String(describing: call.mrdLevel)), LoD \(String(describing: call.lod))")
        #expect(call.qcFlags.contains("below_threshold_above_lod") && !call.qcPass)
        #expect(call.call == .indeterminate && call.callDetail == .qcFail)
        #expect(call.reason.contains("below the 0.0001 threshold, but the LoD") && call.reason.contains("or more is needed"), "\(call.reason)")
        // The same sample with ten times the cells: LoD under the threshold, a negative as before.
        let more = calling(cells: 1_000_000)
        #expect(more.call == .negative && more.callDetail == .detectedBelowThreshold && !more.qcFlags.contains("below_threshold_above_lod"))
        // mrd cohort at another threshold: at 1e-3 the LoD reaches it (negative), at 1e-4 it does not.
        var row = CallsRow(patientID: "P", sampleID: "FU", timepoint: "t", day: 90, threshold: 1e-4, detected: true, quantifiable: false,
                           call: "indeterminate", normalization: "spike_in+dna_input", qcPass: false, callDetail: "qc_fail")
        row.mrdLevel = call.mrdLevel
        row.lod = call.lod
        row.qcFlags = ["below_threshold_above_lod"]
        #expect(CohortAnalysis.status(row, threshold: 1e-3) == "negative")
        #expect(CohortAnalysis.status(row, threshold: 1e-4) == nil)
        row.qcFlags = ["below_threshold_above_lod", "low_reads"]
        #expect(CohortAnalysis.status(row, threshold: 1e-3) == nil)
        // A negative at 1e-4 whose LoD is above a lower threshold is not negative there.
        var low = CallsRow(patientID: "P", sampleID: "FU", timepoint: "t", day: 90, threshold: 1e-4, detected: true, quantifiable: false,
                           call: "negative", normalization: "spike_in+dna_input", qcPass: true, callDetail: "detected_below_threshold")
        low.mrdLevel = 5e-6
        low.lod = 5e-5
        #expect(CohortAnalysis.status(low, threshold: 1e-5) == nil)
        #expect(CohortAnalysis.status(low, threshold: 1e-4) == "negative")
    }
}
