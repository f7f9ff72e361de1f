import Foundation

/// DIR/patients/<patient_id>.html (contract v3): one print-ready page per patient: the latest
/// result in words, the tracked markers and the dominant clones left out (with why), the kinetics,
/// each follow-up's call with its level, interval, sensitivity, input, QC in words and reason, the
/// run's metadata and a review block. Self-contained (inline CSS and SVG, no script).
enum PatientReportPage {
    /// A level as "2.3 &times; 10<sup>-5</sup> (0.0023%)".
    static func level(_ value: Double?) -> String {
        guard let value else { return "&ndash;" }
        guard value > 0 else { return "0" }
        let exponent = Int(floor(log10(value)))
        let mantissa = value / pow(10, Double(exponent))
        let rounded = (mantissa * 10).rounded() / 10
        let (m, e) = rounded >= 10 ? (rounded / 10, exponent + 1) : (rounded, exponent)
        let percent = String(format: "%.2g%%", value * 100)
        return String(format: "%.1f", m) + " &times; 10<sup>\(e)</sup> (\(htmlEscape(percent)))"
    }

    static func power(_ value: Double) -> String {
        let exponent = log10(value)
        return exponent == exponent.rounded() ? "10<sup>\(Int(exponent))</sup>" : level(value)
    }

    /// The latest follow-up's result in one sentence.
    static func latest(_ row: CallsRow, sample: SheetSample?, threshold: Double) -> String {
        var input = ""
        if let cells = row.cellsAssessed {
            let dna = sample?.dnaNanograms.map { CallReason.dna(nanograms: $0) + " DNA, " } ?? ""
            input = " from \(dna)\(CallReason.grouped(cells)) cells"
        }
        let sensitivity = row.lod.map { "; sensitivity (LoD) \(level($0))\(input)" } ?? ""
        switch row.call {
        case "positive":
            let ci = row.ciLow.flatMap { low in row.ciHigh.map { " (95% CI \(level(low)) to \(level($0)))" } } ?? ""
            return "MRD <b>positive</b> at \(level(row.mrdLevel))\(ci), threshold \(power(threshold))\(sensitivity)."
        case "negative":
            return "MRD <b>negative</b> at \(power(threshold))\(sensitivity)."
        default:
            return "MRD <b>indeterminate</b> (\(htmlEscape(row.callDetail.replacingOccurrences(of: "_", with: " ")))): \(htmlEscape(row.reason.components(separatedBy: " QC: ").first ?? row.reason))"
        }
    }

    static func html(patient: String, result: RunResult, sheet: SampleSheet, options: RunOptions) -> String {
        let calls = result.calls.filter { $0.patientID == patient }
        let samples = Dictionary(sheet.samples.map { ($0.sampleID, $0) }, uniquingKeysWith: { a, _ in a })
        let clones = result.clonesByPatient[patient] ?? []
        var body = "<h1>MRD report &middot; patient \(htmlEscape(patient))</h1>\n"
        body += "<p class=\"meta\">mrd \(MRD.version) &middot; run of \(htmlEscape(ISO8601DateFormatter().string(from: Date()).prefix(10).description)) &middot; sheet <code>\(htmlEscape(sheet.path))</code>"
            + " &middot; threshold \(power(options.threshold))</p>\n"
        if let last = calls.last {
            body += "<div class=\"result\"><p>Latest (\(htmlEscape(last.sampleID)), \(htmlEscape(last.timepoint))\(last.day.map { ", day \($0)" } ?? "")): "
                + latest(last, sample: samples[last.sampleID], threshold: options.threshold) + "</p></div>\n"
        } else {
            body += "<div class=\"result\"><p>No follow-up of this patient in the run.</p></div>\n"
        }

        // Markers, and the dominant clones left out.
        let tracked = clones.filter(\.trackable)
        body += "<h2>Index clones tracked</h2>\n"
        if tracked.isEmpty {
            body += "<p class=\"bad\">No trackable index clone: the follow-ups cannot be measured.</p>\n"
        } else {
            body += "<div class=\"wide\"><table>\n<tr><th>clone</th><th>locus</th><th>V</th><th>D</th><th>J</th><th>junction</th><th>junction (aa)</th>"
                + "<th>share at diagnosis</th><th>detected in</th></tr>\n"
            for clone in tracked {
                let detectedIn = calls.filter { result.detectedClones[$0.sampleID]?.contains(clone.cloneID) ?? false }.map(\.sampleID)
                body += "<tr><td>\(htmlEscape(clone.cloneID))</td><td>\(clone.locus.rawValue)</td><td>\(htmlEscape(clone.vCall))</td>"
                    + "<td>\(htmlEscape(clone.dCall))</td><td>\(htmlEscape(clone.jCall))</td><td class=\"seq\">\(htmlEscape(clone.junctionString))</td>"
                    + "<td class=\"seq\">\(htmlEscape(clone.junctionAA ?? ""))</td><td>\(String(format: "%.1f%%", 100 * clone.fraction))</td>"
                    + "<td>\(detectedIn.isEmpty ? "none" : htmlEscape(detectedIn.joined(separator: ", ")))</td></tr>\n"
            }
            body += "</table></div>\n"
        }
        let minFraction = options.baseline.minFraction
        let leftOut = clones.filter { !$0.trackable && $0.fraction >= minFraction && !$0.notTrackableReason.isEmpty }
        if !leftOut.isEmpty {
            body += "<h3>Dominant clones not tracked</h3>\n<div class=\"wide\"><table>\n<tr><th>clone</th><th>locus</th><th>share at diagnosis</th><th>why not</th></tr>\n"
            for clone in leftOut.prefix(20) {
                body += "<tr><td>\(htmlEscape(clone.cloneID))</td><td>\(clone.locus.rawValue)</td><td>\(String(format: "%.1f%%", 100 * clone.fraction))</td>"
                    + "<td>\(htmlEscape(clone.notTrackableReason))</td></tr>\n"
            }
            body += "</table></div>\n"
        }

        body += "<h2>Kinetics</h2>\n" + RunReportPage.kineticsSVG(patient: patient, rows: calls, threshold: options.threshold,
                                                                            diagnosis: RunReportPage.diagnosisShare(clones))
        body += "<p class=\"note\">Filled: detected, at the measured level. Open: not detected, drawn at the sample&#39;s limit of detection. Dashed red: the threshold. Diamond at day 0: the diagnosis, as the largest index clone&#39;s share of its locus reads (a read share, not a level per cell).</p>\n"

        body += "<h2>Follow-up samples</h2>\n"
        for row in calls {
            let sample = samples[row.sampleID]
            let cls = row.call == "positive" ? "pos" : (row.call == "negative" ? "neg" : "ind")
            body += "<div class=\"sample \(cls)\"><h3>\(htmlEscape(row.sampleID)) &middot; \(htmlEscape(row.timepoint))\(row.day.map { " &middot; day \($0)" } ?? "")"
                + " &middot; <b>\(htmlEscape(row.call))</b> (\(htmlEscape(row.callDetail.replacingOccurrences(of: "_", with: " "))))</h3>\n<table class=\"kv\">\n"
            let measured = !row.detected && row.mrdLevel == 0 ? "not detected" : level(row.mrdLevel)
            var pairs: [(String, String)] = [
                ("MRD level", row.normalization.hasSuffix("+reads_fraction") ? measured + " (share of locus reads, not per cell)" : measured),
                ("95% CI", row.ciLow.flatMap { low in row.ciHigh.map { "\(level(low)) to \(level($0))" } } ?? "&ndash;"),
                ("LoD (sensitivity)", level(row.lod)),
                ("LoQ", level(row.loq)),
                ("cells assessed", row.cellsAssessed.map { CallReason.grouped($0) } ?? "not given"),
                ("DNA input", sample?.dnaNanograms.map { String(format: "%g ng", $0) } ?? "not given"),
                ("reads", row.totalReads.map { CallReason.grouped(Double($0)) } ?? "&ndash;"),
                ("leukemic reads (top marker)", row.leukemicReads.map(String.init) ?? "&ndash;"),
                ("markers", htmlEscape(row.markers.joined(separator: ", "))),
                ("normalization", htmlEscape(row.normalization)),
                ("QC", row.qcPass ? "passed" : "<span class=\"bad\">failed</span>"),
            ]
            if let fraction = row.readFraction { pairs.insert(("share of locus reads", String(format: "%.3g%%", 100 * fraction)), at: 1) }
            for (key, value) in pairs { body += "<tr><th>\(key)</th><td>\(value)</td></tr>\n" }
            for flag in row.qcFlags {
                body += "<tr><th>QC flag</th><td><code>\(htmlEscape(flag))</code>: \(htmlEscape(QCCode.meaning(flag) ?? ""))</td></tr>\n"
            }
            body += "<tr><th>reason</th><td>\(htmlEscape(row.reason))</td></tr>\n</table></div>\n"
        }

        body += "<h2>Run</h2>\n<table class=\"kv\">\n"
        body += "<tr><th>mrd</th><td>\(MRD.version)</td></tr>\n"
        body += "<tr><th>command</th><td><code>\(htmlEscape(options.commandLine.joined(separator: " ")))</code></td></tr>\n"
        body += "<tr><th>germline</th><td>\(htmlEscape(options.germlineDirectory ?? "bundled: OGRDB (IG), IMGT (TR)"))</td></tr>\n"
        body += "<tr><th>spike-ins</th><td>\(htmlEscape(options.spikeInsPath ?? "none"))</td></tr>\n"
        for outcome in result.outcomes where outcome.sample.patientID == patient {
            body += "<tr><th>\(htmlEscape(outcome.sample.sampleID))</th><td>\(htmlEscape(outcome.sample.role.rawValue)), "
                + "input checksum <code>\(htmlEscape(String(outcome.inputHash.prefix(16))))</code></td></tr>\n"
        }
        body += "</table>\n"
        body += "<div class=\"signoff\"><h2>Review</h2><p>Reviewed by: ______________________ &nbsp; Date: ____________ &nbsp; Signature: ______________________</p>"
            + "<p>Comments:</p><div class=\"box\"></div></div>\n"

        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>MRD report: \(htmlEscape(patient))</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>
        body { font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1d2330; margin: 24px 32px; max-width: 1000px; }
        h1 { font-size: 21px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 24px 0 8px; border-bottom: 1px solid #d8dde6; padding-bottom: 3px; }
        h3 { font-size: 14px; margin: 14px 0 6px; }
        .meta, .note { color: #566074; } .bad { color: #b3261e; font-weight: 600; }
        .result { border: 2px solid #1f5fa8; padding: 4px 14px; font-size: 15px; }
        table { border-collapse: collapse; font-size: 12.5px; max-width: 100%; } th, td { border: 1px solid #d8dde6; padding: 3px 7px; text-align: left; vertical-align: top; }
        th { background: #f1f4f8; } td.seq { font-family: monospace; word-break: break-all; } td, th { overflow-wrap: break-word; } h1, h2, h3, p, dd, dt { overflow-wrap: anywhere; }
        @media (max-width: 600px) { body { margin: 12px; } table.kv th { width: 38%; } }
        table.kv th { width: 190px; } table.kv td, table.kv code { overflow-wrap: anywhere; } .sample { page-break-inside: avoid; }
        .sample.pos h3 { color: #b3261e; } .sample.neg h3 { color: #1e7b34; } .sample.ind h3 { color: #8a6d00; }
        svg { background: #fff; border: 1px solid #d8dde6; max-width: 100%; height: auto; }
        .box { border: 1px solid #8892a6; height: 70px; } .wide { overflow-x: auto; }
        @page { size: A4; margin: 15mm; }
        @media print { body { margin: 0; max-width: none; } h2 { page-break-after: avoid; } .signoff { page-break-inside: avoid; } }
        </style></head><body>
        \(body)</body></html>

        """
    }
}
