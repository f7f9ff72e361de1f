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
}
