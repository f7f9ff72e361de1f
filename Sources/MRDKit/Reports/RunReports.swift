import Foundation

/// The run-level files of `mrd run`: calls.tsv, controls.tsv, run.json, report.html and the
/// MultiQC custom-content files.
public enum RunReports {
    public static func runRecord(_ result: RunResult, sheet: SampleSheet, options: RunOptions) -> RunRecord {
        let samples = result.outcomes.map { outcome in
            RunRecord.Sample(sampleID: outcome.sample.sampleID, patientID: outcome.sample.patientID, role: outcome.sample.role.rawValue,
                             status: outcome.ok ? "ok" : "failed", error: outcome.error, reused: outcome.reused, totalReads: outcome.totalReads,
                             seconds: (outcome.seconds * 1000).rounded() / 1000, inputHash: outcome.inputHash,
                             readAccounting: outcome.readAccounting)
        }
        return RunRecord(version: MRD.version, commandLine: options.commandLine, sheet: sheet.path, outdir: options.outdir,
                         finished: ISO8601DateFormatter().string(from: Date()), samples: samples, qcFlags: result.qcFlags,
                         failedSamples: result.failed.map(\.sample.sampleID), threshold: options.threshold)
    }

    /// MultiQC custom content: a table of the calls.
    public static func multiqcCallsTSV(_ calls: [CallsRow]) -> String {
        var text = """
        # id: 'mrd_calls'
        # section_name: 'MRD calls'
        # description: 'Minimal residual disease calls of each follow-up sample (mrd run).'
        # format: 'tsv'
        # plot_type: 'table'

        """
        let columns = ["patient_id", "timepoint", "day", "call", "call_detail", "mrd_level", "mrd_ci_low", "mrd_ci_high", "lod",
                       "leukemic_reads", "total_reads", "qc_pass"]
        text += (["Sample"] + columns).joined(separator: "\t") + "\n"
        for row in calls {
            let fields = Dictionary(uniqueKeysWithValues: zip(CallsTable.columns, row.fields))
            text += ([row.sampleID] + columns.map { fields[$0]! }).joined(separator: "\t") + "\n"
        }
        return text
    }

    /// MultiQC custom content for the General Statistics table: each follow-up's MRD level, call and
    /// LoD (levels as numbers, so that MultiQC can colour and sort them).
    public static func multiqcGeneralStatsTSV(_ calls: [CallsRow]) -> String {
        var text = """
        # id: 'mrd_general_stats'
        # plot_type: 'generalstats'
        # pconfig:
        #     - mrd_level:
        #         title: 'MRD level'
        #         description: 'MRD level (leukemic cells per cell assessed), empty when not detected or without a cell count'
        #         format: '{:.2e}'
        #         scale: 'OrRd'
        #     - mrd_call:
        #         title: 'MRD call'
        #         description: 'positive / negative / indeterminate at the run threshold, and its detail'
        #     - mrd_lod:
        #         title: 'MRD LoD'
        #         description: 'the sample own limit of detection (95% detection), per cell'
        #         format: '{:.2e}'
        #         scale: 'Blues'

        """
        text += ["Sample", "mrd_level", "mrd_call", "mrd_lod"].joined(separator: "\t") + "\n"
        for row in calls {
            let level = row.detected ? row.mrdLevel.map(TableNumber.g6) ?? "" : ""
            text += [row.sampleID, level, "\(row.call) (\(row.callDetail))", row.lod.map(TableNumber.g6) ?? ""].joined(separator: "\t") + "\n"
        }
        return text
    }

    /// MultiQC custom content: MRD level against day, one line per patient (undetected samples at
    /// their LoD, so that a log axis can show them).
    public static func multiqcKineticsJSON(_ calls: [CallsRow]) -> String {
        var data: [String: [String: Double]] = [:]
        for row in calls {
            guard let day = row.day, let point = plottedLevel(row) else { continue }
            data[row.patientID, default: [:]][String(day)] = point.level
        }
        let object: [String: Any] = [
            "id": "mrd_kinetics", "section_name": "MRD kinetics",
            "description": "MRD level by day since diagnosis, per patient; samples without detection are drawn at their limit of detection.",
            "plot_type": "linegraph",
            "pconfig": ["id": "mrd_kinetics_plot", "title": "mrd: MRD kinetics", "xlab": "Day since diagnosis", "ylab": "MRD level",
                        "logswitch": true, "logswitch_active": true],
            "data": data,
        ]
        let json = try! JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
        return String(decoding: json, as: UTF8.self) + "\n"
    }

    /// Where a call goes on a kinetics plot: its level when detected, else its LoD (open marker).
    static func plottedLevel(_ row: CallsRow) -> (level: Double, detected: Bool)? {
        // The level as written (six digits), so that report and MultiQC show what calls.tsv says.
        func written(_ value: Double?) -> Double? { value.flatMap { Double(TableNumber.g6($0)) } }
        if row.detected, let level = written(row.mrdLevel), level > 0 { return (level, true) }
        if let lod = written(row.lod), lod > 0 { return (lod, false) }
        return nil
    }

    /// Writes every run-level file, each atomically.
    public static func write(_ result: RunResult, sheet: SampleSheet, options: RunOptions) throws {
        let out = options.outdir
        try createOutputFolder((out as NSString).appendingPathComponent("multiqc"))
        // One page per patient with a follow-up (patient ids are identifiers: safe file names).
        let patients = Array(Set(result.calls.map(\.patientID))).sorted()
        if !patients.isEmpty { try createOutputFolder((out as NSString).appendingPathComponent("patients")) }
        func path(_ name: String) -> String { (out as NSString).appendingPathComponent(name) }
        try OutputSet([
            (path("calls.tsv"), CallsTable.text(result.calls)),
            (path("controls.tsv"), ControlsTable.text(result.controls)),
            (path("multiqc/mrd_calls_mqc.tsv"), multiqcCallsTSV(result.calls)),
            (path("multiqc/mrd_kinetics_mqc.json"), multiqcKineticsJSON(result.calls)),
            (path("multiqc/mrd_general_stats_mqc.tsv"), multiqcGeneralStatsTSV(result.calls)),
            (path("report.html"), RunReportPage.html(result, sheet: sheet, options: options)),
            (path("run.json"), runRecord(result, sheet: sheet, options: options).text),
        ] + patients.map { patient in
            (path("patients/\(patient).html"), PatientReportPage.html(patient: patient, result: result, sheet: sheet, options: options))
        }).commit()
        // PDFs from the pages just written: the same text and layout, printed by the browser engine.
        if let renderer = options.pdfRenderer {
            for patient in patients { try renderer.render(html: path("patients/\(patient).html"), to: path("patients/\(patient).pdf")) }
        } else {
            // A PDF of an earlier run would no longer match its page: gone rather than stale.
            for patient in patients { unlink(path("patients/\(patient).pdf")) }
        }
    }
}

/// report.html: one self-contained page (inline CSS and SVG, no script, nothing fetched).
enum RunReportPage {
    static func html(_ result: RunResult, sheet: SampleSheet, options: RunOptions) -> String {
        let calls = result.calls
        let patients = Array(Set(calls.map(\.patientID))).sorted()
        var body = ""
        let failed = result.failed
        let positives = calls.filter { $0.call == "positive" }.count
        let negatives = calls.filter { $0.call == "negative" }.count
        let indeterminate = calls.count - positives - negatives
        body += "<h1>MRD report</h1>\n"
        body += "<p class=\"meta\">mrd \(MRD.version) &middot; sheet <code>\(htmlEscape(sheet.path))</code> &middot; threshold "
            + "\(htmlEscape(TableNumber.g6(options.threshold))) &middot; \(sheet.samples.count) samples, \(calls.count) follow-ups: "
            + "<b>\(positives)</b> positive, <b>\(negatives)</b> negative, <b>\(indeterminate)</b> indeterminate"
            + (failed.isEmpty ? "" : ", <span class=\"bad\">\(failed.count) failed</span>") + "</p>\n"
        if !result.qcFlags.isEmpty {
            // Each run flag with the calls it reaches (those calls carry it too, and fail QC).
            body += "<p class=\"bad\">Run QC: " + result.qcFlags.map { flag in
                let affected = calls.filter { $0.qcFlags.contains(flag) }.map(\.sampleID)
                return "<code>\(htmlEscape(flag))</code> (\(htmlEscape(QCCode.meaning(flag) ?? "")))"
                    + (affected.isEmpty ? "" : "; affects the calls of " + htmlEscape(affected.joined(separator: ", ")))
            }.joined(separator: "; ") + "</p>\n"
        }
        body += "<h2>MRD kinetics</h2>\n<p class=\"note\">Filled: detected, at the measured level. Open: not detected, drawn at the "
            + "sample&#39;s limit of detection. Dashed red: the threshold. Grey ticks: each sample&#39;s LoD.</p>\n<div class=\"plots\">\n"
        for patient in patients {
            body += kineticsSVG(patient: patient, rows: calls.filter { $0.patientID == patient }, threshold: options.threshold,
                                diagnosis: diagnosisShare(result.clonesByPatient[patient] ?? []))
        }
        body += "</div>\n<h2>Calls</h2>\n<p class=\"note\">One row per follow-up; every column of calls.tsv, the reason in words and "
            + "the markers are on the patient pages (the patient links). Levels are MRD per cell; LoD is the sample&#39;s own sensitivity.</p>\n"
        body += "<div class=\"wide\"><table class=\"calls\">\n<tr><th>patient</th><th>sample</th><th>time</th><th>call</th><th>MRD level</th><th>95% CI</th>"
            + "<th>LoD</th><th>cells</th><th>QC</th></tr>\n"
        var flagsSeen: [String] = []
        for row in calls {
            let cls = row.call == "positive" ? "pos" : (row.call == "negative" ? "neg" : "ind")
            let time = htmlEscape(row.timepoint) + (row.day.map { ", day \($0)" } ?? "")
            var level = !row.detected && row.mrdLevel == 0 ? "not detected" : PatientReportPage.level(row.mrdLevel)
            if row.normalization.hasSuffix("+reads_fraction"), row.mrdLevel != nil { level += " (share of locus reads, not per cell)" }
            let ci = row.ciLow.flatMap { low in row.ciHigh.map { "\(PatientReportPage.level(low)) &ndash; \(PatientReportPage.level($0))" } } ?? "&ndash;"
            for flag in row.qcFlags where !flagsSeen.contains(flag) { flagsSeen.append(flag) }
            let flags = row.qcFlags.map { "<code title=\"\(htmlEscape(QCCode.meaning($0) ?? ""))\">\(htmlEscape($0))</code>" }.joined(separator: " ")
            let qc = (row.qcPass ? "passed" : "<span class=\"bad\">failed</span>") + (flags.isEmpty ? "" : "<br>" + flags)
            body += "<tr class=\"\(cls)\"><td><a href=\"patients/\(htmlEscape(row.patientID)).html\">\(htmlEscape(row.patientID))</a></td>"
                + "<td>\(htmlEscape(row.sampleID))</td><td>\(time)</td>"
                + "<td><b>\(htmlEscape(row.call))</b><br><span class=\"detail\">\(htmlEscape(row.callDetail.replacingOccurrences(of: "_", with: " ")))</span></td>"
                + "<td>\(level)</td><td>\(ci)</td><td>\(PatientReportPage.level(row.lod))</td>"
                + "<td>\(row.cellsAssessed.map { CallReason.grouped($0) } ?? "not given")</td><td>\(qc)</td></tr>\n"
        }
        body += "</table></div>\n"
        if !flagsSeen.isEmpty {
            body += "<dl class=\"flags\">" + flagsSeen.map { "<dt><code>\(htmlEscape($0))</code></dt><dd>\(htmlEscape(QCCode.meaning($0) ?? ""))</dd>" }.joined() + "</dl>\n"
        }
        body += "<h2>QC</h2>\n<p class=\"note\">Assigned: reads with a rearrangement (baselines) or a locus (follow-ups, controls).</p>\n"
            + "<div class=\"wide\"><table>\n<tr><th>sample</th><th>role</th><th>status</th><th>reads</th><th>assigned</th><th>QC flags</th>"
            + "<th>reads per spike-in copy</th><th>time s</th></tr>\n"
        for outcome in result.outcomes {
            let flags = outcome.call?.qcFlags.joined(separator: ", ") ?? ""
            let perCopy = (outcome.call?.readsPerCopy ?? [:]).filter { $0.key != "all" }.sorted { $0.key < $1.key }
                .map { "\($0.key) \(String(format: "%.3g", $0.value))" }.joined(separator: ", ")
            let status = outcome.ok ? (outcome.reused ? "ok (kept)" : "ok") : "failed: " + (outcome.error ?? "")
            let assigned = outcome.assignedReads.map { outcome.totalReads > 0 ? String(format: "%.1f%%", 100 * Double($0) / Double(outcome.totalReads)) : "" } ?? ""
            body += "<tr\(outcome.ok ? "" : " class=\"failed\"")><td>\(htmlEscape(outcome.sample.sampleID))</td><td>\(outcome.sample.role.rawValue)</td>"
                + "<td>\(htmlEscape(status))</td><td>\(outcome.totalReads)</td><td>\(assigned)</td><td>\(htmlEscape(flags))</td><td>\(htmlEscape(perCopy))</td>"
                + "<td>\(String(format: "%.2f", outcome.seconds))</td></tr>\n"
        }
        body += "</table></div>\n<h2>Controls</h2>\n"
        if result.controls.isEmpty {
            body += "<p>No control sample in the sheet.</p>\n"
        } else {
            let found = result.controls.filter { $0.reads > 0 }
            body += found.isEmpty ? "<p>No index-clone read in any control.</p>\n" : "<div class=\"wide\"><table>\n<tr><th>control</th><th>patient</th><th>clone</th><th>reads</th></tr>\n"
                + found.map { "<tr><td>\(htmlEscape($0.controlID))</td><td>\(htmlEscape($0.patientID))</td><td>\(htmlEscape($0.cloneID))</td><td>\($0.reads)</td></tr>\n" }.joined()
                + "</table></div>\n"
        }
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>MRD report</title>
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <style>
        body { font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1d2330; margin: 24px 32px; max-width: 1200px; }
        td, th { overflow-wrap: break-word; } h1, h2, h3, p, dd, dt { overflow-wrap: anywhere; } svg { max-width: 100%; height: auto; }
        h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid #d8dde6; padding-bottom: 4px; }
        .meta, .note { color: #566074; } .bad { color: #b3261e; font-weight: 600; }
        table { border-collapse: collapse; font-size: 12.5px; } th, td { border: 1px solid #d8dde6; padding: 3px 7px; text-align: left; }
        th { background: #f1f4f8; } table.calls { width: 100%; } table.calls td { vertical-align: top; } .detail { color: #566074; font-size: 11.5px; }
        dl.flags { font-size: 12px; display: grid; grid-template-columns: minmax(0, max-content) minmax(0, 1fr); gap: 2px 10px; } dl.flags dd { margin: 0; }
        a { color: #1f5fa8; } tr.pos td { background: #fdecea; } tr.neg td { background: #eaf6ec; } tr.ind td { background: #fff8e1; }
        tr.failed td { background: #fbe3e0; } code { font-size: 12px; }
        .wide { overflow-x: auto; max-width: 100%; } .plots { display: flex; flex-wrap: wrap; gap: 16px; } svg { background: #fff; border: 1px solid #d8dde6; }
        </style></head><body>
        \(body)</body></html>

        """
    }

    /// The diagnosis point of a patient's kinetics: the largest trackable index clone's share of its
    /// locus reads in the diagnostic sample (a share of reads, not a level per cell; drawn apart).
    static func diagnosisShare(_ clones: [BaselineClone]) -> Double? {
        clones.filter(\.trackable).map(\.fraction).filter { $0 > 0 }.max()
    }

    /// One patient's MRD levels on a log10 axis against days since diagnosis, with the diagnosis
    /// (day 0) when its index clones are known.
    static func kineticsSVG(patient: String, rows: [CallsRow], threshold: Double, diagnosis: Double? = nil) -> String {
        // The legend sits under the axis title, never over the data.
        let width = 420.0, height = 300.0, left = 58.0, right = 14.0, top = 28.0, bottom = 80.0
        let points = rows.compactMap { row -> (day: Double, level: Double, detected: Bool, lod: Double?, id: String, ci: (Double, Double)?)? in
            guard let day = row.day, let plotted = RunReports.plottedLevel(row) else { return nil }
            let ci = plotted.detected ? row.ciLow.flatMap { low in row.ciHigh.map { (max(low, 1e-9), $0) } } : nil
            return (Double(day), plotted.level, plotted.detected, row.lod.flatMap { Double(TableNumber.g6($0)) }, row.sampleID, ci)
        }
        let levels = points.map(\.level) + points.compactMap(\.lod) + points.compactMap { $0.ci?.1 } + [threshold] + (diagnosis.map { [$0] } ?? [])
        let low = floor(log10(max(1e-7, (levels.min() ?? 1e-6) / 2))), high = max(0, ceil(log10(levels.max() ?? 1)))
        let maxDay = max(1, points.map(\.day).max() ?? 1)
        func x(_ day: Double) -> Double { left + (width - left - right) * day / (maxDay * 1.05) }
        func y(_ level: Double) -> Double { top + (height - top - bottom) * (high - log10(level)) / max(1, high - low) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" "
            + "aria-label=\"MRD kinetics of \(htmlEscape(patient))\">\n"
        svg += "<text x=\"\(left)\" y=\"18\" font-size=\"13\" font-weight=\"600\">\(htmlEscape(patient))</text>\n"
        var exponent = low
        while exponent <= high {
            let yy = y(pow(10, exponent))
            svg += "<line x1=\"\(left)\" y1=\"\(f(yy))\" x2=\"\(width - right)\" y2=\"\(f(yy))\" stroke=\"#eef1f5\"/>"
            svg += "<text x=\"\(left - 6)\" y=\"\(f(yy + 4))\" font-size=\"10\" text-anchor=\"end\">10<tspan dy=\"-4\" font-size=\"8\">\(Int(exponent))</tspan></text>\n"
            exponent += 1
        }
        svg += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(height - bottom)\" stroke=\"#8a93a3\"/>"
        svg += "<line x1=\"\(left)\" y1=\"\(height - bottom)\" x2=\"\(width - right)\" y2=\"\(height - bottom)\" stroke=\"#8a93a3\"/>\n"
        for day in Set(points.map(\.day) + (diagnosis == nil ? [] : [0])).sorted() {
            svg += "<text x=\"\(f(x(day)))\" y=\"\(f(height - bottom + 14))\" font-size=\"10\" text-anchor=\"middle\">\(Int(day))</text>"
        }
        svg += "<text x=\"\(f((left + width - right) / 2))\" y=\"\(height - bottom + 30)\" font-size=\"11\" text-anchor=\"middle\">day since diagnosis</text>\n"
        svg += "<text x=\"14\" y=\"\(f((top + height - bottom) / 2))\" font-size=\"11\" text-anchor=\"middle\" transform=\"rotate(-90 14 \(f((top + height - bottom) / 2)))\">MRD level</text>\n"
        let ty = y(threshold)
        svg += "<line x1=\"\(left)\" y1=\"\(f(ty))\" x2=\"\(width - right)\" y2=\"\(f(ty))\" stroke=\"#c62828\" stroke-dasharray=\"5 4\"/>"
        svg += "<text x=\"\(width - right - 2)\" y=\"\(f(ty - 4))\" font-size=\"10\" fill=\"#c62828\" text-anchor=\"end\">threshold \(htmlEscape(TableNumber.g6(threshold)))</text>\n"
        let sorted = points.sorted { $0.day < $1.day }
        // Solid between measured points; dashed to or from a point drawn at its LoD (not a measurement).
        for (a, b) in zip(sorted, sorted.dropFirst()) {
            let dash = a.detected && b.detected ? "" : " stroke-dasharray=\"4 4\""
            svg += "<line x1=\"\(f(x(a.day)))\" y1=\"\(f(y(a.level)))\" x2=\"\(f(x(b.day)))\" y2=\"\(f(y(b.level)))\" stroke=\"#1f5fa8\" stroke-width=\"1.5\"\(dash)/>\n"
        }
        if let diagnosis {
            // Diamond at day 0; dotted to the first follow-up (a read share to a level per cell).
            let dx = x(0), dy = y(diagnosis)
            if let first = sorted.first {
                svg += "<line x1=\"\(f(dx))\" y1=\"\(f(dy))\" x2=\"\(f(x(first.day)))\" y2=\"\(f(y(first.level)))\" stroke=\"#6b4fa0\" stroke-width=\"1\" stroke-dasharray=\"1 3\"/>\n"
            }
            svg += "<path d=\"M \(f(dx)) \(f(dy - 6)) L \(f(dx + 6)) \(f(dy)) L \(f(dx)) \(f(dy + 6)) L \(f(dx - 6)) \(f(dy)) Z\" fill=\"#6b4fa0\">"
                + "<title>diagnosis: index clone at \(htmlEscape(String(format: "%.3g", 100 * diagnosis)))% of its locus reads</title></path>\n"
        }
        for p in sorted {
            if let (low, high) = p.ci {
                let cx = x(p.day)
                svg += "<line x1=\"\(f(cx))\" y1=\"\(f(y(high)))\" x2=\"\(f(cx))\" y2=\"\(f(y(low)))\" stroke=\"#1f5fa8\" stroke-width=\"1\"/>"
                    + "<line x1=\"\(f(cx - 4))\" y1=\"\(f(y(high)))\" x2=\"\(f(cx + 4))\" y2=\"\(f(y(high)))\" stroke=\"#1f5fa8\"/>"
                    + "<line x1=\"\(f(cx - 4))\" y1=\"\(f(y(low)))\" x2=\"\(f(cx + 4))\" y2=\"\(f(y(low)))\" stroke=\"#1f5fa8\"/>\n"
            }
            if let lod = p.lod {
                // Beside the marker, so that it is never hidden under it.
                svg += "<line x1=\"\(f(x(p.day) + 8))\" y1=\"\(f(y(lod)))\" x2=\"\(f(x(p.day) + 18))\" y2=\"\(f(y(lod)))\" stroke=\"#8a93a3\" stroke-width=\"3\">"
                    + "<title>\(htmlEscape(p.id)) LoD \(htmlEscape(TableNumber.g6(lod)))</title></line>"
            }
            svg += "<circle cx=\"\(f(x(p.day)))\" cy=\"\(f(y(p.level)))\" r=\"5\" fill=\"\(p.detected ? "#1f5fa8" : "#ffffff")\" stroke=\"#1f5fa8\" stroke-width=\"2\">"
                + "<title>\(htmlEscape(p.id)): \(htmlEscape(TableNumber.g6(p.level)))\(p.detected ? "" : " (LoD, not detected)")</title></circle>\n"
        }
        // Legend, inside the figure.
        let lx = left + 8, ly = height - bottom + 50
        svg += "<g font-size=\"9\"><circle cx=\"\(f(lx))\" cy=\"\(f(ly))\" r=\"4\" fill=\"#1f5fa8\"/><text x=\"\(f(lx + 8))\" y=\"\(f(ly + 3))\">detected (95% CI)</text>"
            + "<circle cx=\"\(f(lx + 100))\" cy=\"\(f(ly))\" r=\"4\" fill=\"#fff\" stroke=\"#1f5fa8\" stroke-width=\"1.5\"/><text x=\"\(f(lx + 108))\" y=\"\(f(ly + 3))\">not detected, at LoD</text>"
            + "<line x1=\"\(f(lx + 215))\" y1=\"\(f(ly))\" x2=\"\(f(lx + 225))\" y2=\"\(f(ly))\" stroke=\"#8a93a3\" stroke-width=\"3\"/><text x=\"\(f(lx + 229))\" y=\"\(f(ly + 3))\">LoD</text>"
            + (diagnosis == nil ? "" : "<path d=\"M \(f(lx)) \(f(ly + 8)) L \(f(lx + 4)) \(f(ly + 12)) L \(f(lx)) \(f(ly + 16)) L \(f(lx - 4)) \(f(ly + 12)) Z\" fill=\"#6b4fa0\"/>"
                + "<text x=\"\(f(lx + 8))\" y=\"\(f(ly + 15))\">diagnosis: index clone&#39;s share of its locus reads</text>") + "</g>\n"
        return svg + "</svg>\n"
    }

    static func f(_ value: Double) -> String { String(format: "%.1f", value) }
}
