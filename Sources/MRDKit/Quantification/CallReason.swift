import Foundation

/// The QC codes of a follow-up's `qc_flags` (call.json, calls.tsv), what each means, and which
/// ones fail the sample (a failed sample keeps a positive call, with `qc_pass` F, and is otherwise
/// indeterminate `qc_fail`).
public enum QCCode {
    public static let meanings: [(code: String, failing: Bool, meaning: String)] = [
        ("spike_in_missing", true, "no spike-in read was found, so reads could not be turned into templates"),
        ("spike_in_outlier", false, "a spike-in's reads per copy is more than 3x off the fit (spike_in_outliers in call.json)"),
        ("spike_in_locus_fallback", false, "a tracked locus has no spike-ins of its own and was calibrated by the other loci's"),
        ("coverage_from_sample", false, "a tracked clone's reads in this sample span its junction from other ends than at diagnosis (a different read layout: single-end after merged pairs or longer reads, or the reverse), so its templates were corrected by this sample's own orientation shares, not the diagnosis's coverage"),
        ("templates_from_reads", true, "neither spike-ins nor UMIs: reads were taken as templates, which overstates the level and understates the LoD (give --spike-ins or --umi)"),
        ("low_reads", true, "fewer than 1,000 reads"),
        ("low_assignment", true, "under 10% of the reads were assigned to an immune-receptor locus (not a human IG/TR library, or mostly primer dimers or off-target product)"),
        ("low_v_identity", true, "the V genes of the tracked index clones, or of this sample's own reads (1 in 512 annotated), are a median under 85% identical to the human germline: a library of another species, a wrong germline set, or a clone hypermutated beyond human repertoires; review before reporting"),
        ("umi_not_random", true, "the UMI bases of read 1 are not random: these reads carry no UMIs (run without --umi) or the UMI length is wrong; the sample was not quantified from them"),
        ("run_background", true, "(mrd run/aggregate) other patients' follow-ups of the run carry this marker's reads at a rate that explains this positive (Poisson upper tail >= 0.001): index hopping or carry-over from the patient's own samples; the positive may be that background"),
        ("discordant_markers", true, "a marker is detected with 50 or more templates while the leukemia's main marker (its largest index clone at diagnosis) has under 5% of that, or two markers' reads moved 10-fold apart from their ratio at diagnosis (markers of one leukemia differ a few-fold, not 20-fold, and keep their ratio): a normal clone kept through therapy, or a leukemia that evolved past its main marker; confirm before reporting"),
        ("umi_capture_low", false, "the spike-ins' UMIs recover under half of their known copies (too few reads for the library, or poor tagging): UMIs undercount molecules, so the sample was quantified from the spike-ins' reads per copy instead"),
        ("umi_undersampled", true, "the detected clone has under 2 reads per UMI and there are no spike-ins: most of its molecules were read once and many not at all, so its templates and level are a lower bound and the LoD is optimistic (sequence deeper, or add spike-ins)"),
        ("umi_saturated", false, "a clone has more distinct UMIs than its UMI length tells apart (over 5% of the one-mismatch neighbourhoods of its bases, e.g. 131 for 8 nt): molecules sharing a UMI are counted once, so its templates and level are a lower bound (use longer UMIs)"),
        ("shared_index_clone", false, "an index clone of this patient is also in another patient's diagnostic sample (a spike-in, a contamination or a public clonotype) and is not tracked"),
        ("control_contamination", true, "this patient's index clone was seen in a control of the run"),
        ("level_exceeds_cells", true, "more leukemic templates than cells assessed (a level above 100%): the DNA input or cell count is wrong (its units?), or the spike-in copies are; the level is no measurement"),
        ("input_implausible", true, "the DNA input or cell count is more than any amplicon assay takes (over 100 ug, 15.4 million cells): a unit slip (pg for ng, cells for ng?); the LoD it would give is no measurement"),
        ("below_threshold_above_lod", true, "a marker was detected below the threshold, but the sample's LoD is above the threshold: too few cells to tell a level under the threshold from one at it (with nothing detected the call would be indeterminate insufficient_input); more DNA would resolve it"),
        ("marker_loci_not_amplified", true, "no tracked marker's locus has a read, of its rearrangements or of its own spike-ins: its PCR failed or was not run, so an undetected marker says nothing (re-run that locus's assay)"),
        ("other_patient_clone", true, "(mrd run/aggregate) the sample carries another patient's index clone at a rate index hopping cannot explain (at least 5% of that clone's rate in its own diagnosis): a swapped tube or sheet line, or a mixed sample; its call says nothing of this patient until its identity is checked"),
        // Run-level codes (run.json, report.html): not a follow-up's own.
        ("control_failed", false, "(run) a control sample could not be read: the run's contamination was not checked against it"),
        ("other_patient_check_failed", false, "(run) a follow-up's reads could not be read again for the check against other patients' clones: that check and the run's background were not made for it"),
        ("marker_locus_not_amplified", false, "a tracked marker's locus has no read, of its rearrangements or of its own spike-ins (its PCR failed or was not run); the call rests on the other markers"),
    ]
    public static let failing: Set<String> = Set(meanings.filter(\.failing).map(\.code))
    public static func meaning(_ code: String) -> String? { meanings.first { $0.code == code }?.meaning }
}

/// The one-sentence `reason` of a call (contract v3).
public enum CallReason {
    static func level(_ value: Double) -> String { String(format: "%.2g", value) }

    static func percent(_ value: Double) -> String {
        value >= 0.1 ? String(format: "%.0f%%", 100 * value) : String(format: "%.2g%%", 100 * value)
    }

    static func grouped(_ value: Double) -> String {
        let digits = String(Int(value.rounded()))
        var out = ""
        for (i, c) in digits.reversed().enumerated() {
            if i > 0 && i % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return String(out.reversed())
    }

    /// DNA for a number of cells at 6.5 pg per diploid cell, in ng or ug.
    static func dna(cells: Double) -> String { dna(nanograms: cells * Quantifier.picogramsPerCell / 1000) }

    static func dna(nanograms ng: Double) -> String {
        if ng >= 1000 { return String(format: "%.1f ug", ng / 1000) }
        return ng >= 10 ? String(format: "%.0f ng", ng) : String(format: "%.1f ng", ng)
    }

    /// What the QC flags say, appended to a reason.
    public static func qcSentence(_ flags: [String], umi: UMIProfile? = nil) -> String {
        guard !flags.isEmpty else { return "" }
        let parts = flags.map { code -> String in
            var text = "\(code) (\(QCCode.meaning(code) ?? "see the README"))"
            if code == "umi_not_random", let umi {
                text += String(format: "; the 10 commonest %d-base UMIs carry %.0f%% of %d reads", umi.length, 100 * umi.topTenShare, umi.reads)
            }
            return text
        }
        return " QC: " + parts.joined(separator: "; ") + "."
    }

    public static func sentence(_ call: MRDCall, options: CallOptions) -> String {
        let threshold = level(call.threshold)
        let top = call.clones.first { $0.count.clone.cloneID == call.topClone }
        let marker = top.map { "\($0.count.clone.cloneID) (\($0.count.clone.locus.rawValue))" } ?? "the marker"
        let basis = call.levelBasis == .reads ? " of its locus reads (--level-basis reads: a read share, not a level per cell)" : ""
        let failing = call.qcFlags.filter { QCCode.failing.contains($0) }
        var text: String
        switch call.callDetail {
        case .noMarker:
            text = "The patient has no trackable index clone, so there is nothing to measure"
                + (options.noMarkerDetail.map { " (\($0))" } ?? "") + "."
        case .noCellCount:
            text = "No DNA input or cell count was given, so no level per cell can be stated"
            if let fraction = call.readFraction, call.detected { text += "; \(marker) is \(percent(fraction)) of its locus reads" }
            text += ". Give dna_ng or cells (--dna-ng, --cells), or --level-basis reads to report the read share on purpose."
        case .quantifiable, .notQuantifiable:
            text = "\(marker) detected at \(level(call.mrdLevel ?? 0))\(basis)"
            if let low = call.ciLow, let high = call.ciHigh { text += " (95% CI \(level(low))-\(level(high)))" }
            text += ", at or above the \(threshold) threshold"
            if call.callDetail == .notQuantifiable, let loq = call.loq {
                text += ", below the LoQ \(level(loq)): positive, not quantifiable"
            } else if let loq = call.loq {
                text += ", quantifiable (LoQ \(level(loq)))"
            } else if call.callDetail == .notQuantifiable {
                text += ", not quantifiable: the calibration's own uncertainty exceeds the LoQ's 30% CV"
                    + (call.qcFlags.contains("spike_in_locus_fallback") ? " (spike-ins of another locus)" : "")
            }
            text += failing.isEmpty ? "." : "; reported with qc_pass F."
        case .detectedBelowThreshold:
            text = "\(marker) detected at \(level(call.mrdLevel ?? 0))\(basis), below the \(threshold) threshold."
        case .undetected:
            let cells = call.cellsAssessed.map { " in \(grouped($0)) cells" } ?? ""
            text = "No index-clone read passed detection (\(call.clonesTracked) clone\(call.clonesTracked == 1 ? "" : "s") tracked)\(cells); "
                + "the LoD \(level(call.lod ?? 0)) is at or below the \(threshold) threshold."
        case .insufficientInput:
            if let lod = call.lod, let lodTemplates = call.lodTemplates {
                let needed = lodTemplates / call.threshold
                text = "Nothing detected at or above the threshold, but the LoD \(level(lod)) is above the \(threshold) threshold: "
                    + "\(dna(cells: needed)) DNA (\(grouped(needed)) cells) or more is needed to call negative"
                if let perTemplate = top?.readsPerTemplate, perTemplate < 2, call.templateMethod != .umi {
                    text += String(format: ", sequenced deeply enough for at least 2 reads per template (now %.2g)", perTemplate)
                }
                text += "."
            } else {
                text = "Nothing detected at or above the \(threshold) threshold, and without a cell count no LoD can be stated: give dna_ng or cells."
            }
        case .qcFail where failing == ["below_threshold_above_lod"]:
            text = "\(marker) detected at \(level(call.mrdLevel ?? 0))"
            if let low = call.ciLow, let high = call.ciHigh { text += " (95% CI \(level(low))-\(level(high)))" }
            text += ", below the \(threshold) threshold, but the LoD \(level(call.lod ?? 0)) is above it: too few cells to call negative"
            if let lodTemplates = call.lodTemplates {
                let needed = lodTemplates / call.threshold
                text += "; \(dna(cells: needed)) DNA (\(grouped(needed)) cells) or more is needed"
            }
            text += "."
        case .qcFail:
            text = "QC failed (\(failing.joined(separator: ", "))) and nothing was detected at or above the \(threshold) threshold, "
                + "so negativity cannot be claimed; resolve the QC problem and re-run."
        case .failed:
            text = "The sample could not be processed."
        }
        return text + qcSentence(call.qcFlags, umi: call.umiProfile)
    }
}
