import Foundation

/// Writes the files of `mrd track` as the contract fixes them.
public enum TrackReports {
    public static let mrdColumns = ["sample_id", "clone_id", "locus", "junction", "reads", "evolved_reads", "templates", "mrd_level",
                                    // Extensions (appended, as the contract allows).
                                    "detected", "exact_reads", "rejected_reads", "umis", "reads_per_template",
                                    "expected_bleed_reads"]

    public static func mrdTSV(_ call: MRDCall) -> String {
        var text = mrdColumns.joined(separator: "\t") + "\n"
        for level in call.clones {
            let c = level.count
            let fields = [call.sampleID, c.clone.cloneID, c.clone.locus.rawValue, c.clone.junctionString, String(c.reads),
                          String(c.evolvedReads), BaselineReports.number(level.templates), BaselineReports.number(level.level),
                          level.detected ? "T" : "F", String(c.exactReads), String(c.rejectedReads),
                          call.templateMethod == .umi ? String(c.umis) : "", BaselineReports.number(level.readsPerTemplate),
                          BaselineReports.number(c.expectedBleedReads)]
            text += fields.joined(separator: "\t") + "\n"
        }
        return text
    }

    public static func callJSON(_ call: MRDCall, spikes: [SpikeInCalibrator], spikeReads: [Int], detection: DetectionRule,
                                inputs: [String], commandLine: [String]) -> String {
        func optional(_ value: Double?) -> Any { value.map { $0 as Any } ?? NSNull() }
        var perLocus: [String: Int] = [:]
        for (locus, n) in call.readsPerLocus { perLocus[locus.rawValue] = n }
        var object: [String: Any] = [
            "sample_id": call.sampleID, "version": MRD.version, "command_line": commandLine, "inputs": inputs,
            "total_reads": call.totalReads, "reads_per_locus": perLocus, "spike_in_reads": call.spikeInReads,
            "template_method": call.templateMethod.rawValue, "cells_method": call.cellsMethod.rawValue,
            "cells_assessed": optional(call.cellsAssessed), "clones_tracked": call.clonesTracked, "clones_detected": call.clonesDetected,
            "leukemic_reads": call.leukemicReads, "leukemic_templates": call.leukemicTemplates, "mrd_level": call.mrdLevel,
            "mrd_ci_low": optional(call.ciLow), "mrd_ci_high": optional(call.ciHigh), "lod": optional(call.lod), "loq": optional(call.loq),
            "threshold": call.threshold, "detected": call.detected, "quantifiable": call.quantifiable, "call": call.call,
            "call_detail": call.callDetail, "qc_pass": call.qcPass, "qc_flags": call.qcFlags,
            // Extensions.
            "top_clone": call.topClone ?? NSNull(), "evolved_reads": call.evolvedReads,
            // total_reads = sum of reads_per_locus + spike_in_reads + unassigned_reads.
            "unassigned_reads": ["no_locus": call.readsWithoutLocus],
            "detection_rule": ["min_reads": detection.minReads, "template_fraction": detection.templateFraction,
                               "bleed_significance": detection.bleedSignificance],
            "spike_in_reads_by_id": Dictionary(uniqueKeysWithValues: zip(spikes.map(\.id), spikeReads)),
        ]
        if let fit = call.fit {
            var perCopy: [String: Double] = ["all": fit.overallReadsPerCopy]
            for (locus, rate) in fit.readsPerCopy { perCopy[locus.rawValue] = rate }
            object["reads_per_copy"] = perCopy
            object["spike_in_outliers"] = fit.outliers
        }
        let data = try! JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Writes FID.mrd.tsv and FID.call.json into `directory`, each atomically.
    public static func write(_ call: MRDCall, spikes: [SpikeInCalibrator], spikeReads: [Int], detection: DetectionRule,
                             to directory: String, inputs: [String], commandLine: [String]) throws {
        try createOutputFolder(directory)
        let base = (directory as NSString).appendingPathComponent(call.sampleID)
        try OutputSet([(base + ".mrd.tsv", mrdTSV(call)),
                       (base + ".call.json", callJSON(call, spikes: spikes, spikeReads: spikeReads, detection: detection,
                                                      inputs: inputs, commandLine: commandLine))]).commit()
    }
}
