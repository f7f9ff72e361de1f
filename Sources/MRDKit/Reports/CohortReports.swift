import Foundation

/// The files of `mrd cohort`: negativity.tsv, rfs.tsv, km.tsv and cohort.html.
public enum CohortReports {
    /// km.tsv rows: every step of every curve.
    public static func kmRows(_ result: CohortResult) -> [KMRow] {
        result.curves.flatMap { landmark, status, curve in
            curve.steps.map { s in
                KMRow(landmark: landmark, status: status, time: s.time, atRisk: s.atRisk, events: s.events, survival: s.survival,
                      ciLow: s.ciLow, ciHigh: s.ciHigh)
            }
        }
    }

    /// cif.tsv rows: every step of every cumulative incidence curve.
    public static func cifRows(_ result: CohortResult) -> [CIFRow] {
        result.incidenceCurves.flatMap { landmark, status, curve in
            curve.steps.map { s in
                CIFRow(landmark: landmark, status: status, time: s.time, relapse: s.relapse, death: s.death, atRisk: s.atRisk,
                       relapseCILow: s.relapseCILow, relapseCIHigh: s.relapseCIHigh)
            }
        }
    }

    /// Writes every file together; cir.tsv/cif.tsv and os.tsv/os_km.tsv only when clinical.csv has
    /// their columns, removing copies a previous analysis left, so no file describes other data.
    public static func write(_ result: CohortResult, options: CohortOptions, to directory: String) throws {
        try createOutputFolder(directory)
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        var files = OutputSet([(path("negativity.tsv"), CohortTables.negativityText(result.negativity)), (path("rfs.tsv"), CohortTables.rfsText(result.rfs)),
                               (path("km.tsv"), CohortTables.kmText(kmRows(result))), (path("cox.tsv"), CohortTables.coxText(result.cox)),
                               (path("cohort.html"), html(result, options: options))])
        var stale: [String] = []
        if let cir = result.cir {
            files.add(CohortTables.cirText(cir), to: path("cir.tsv"))
            files.add(CohortTables.cifText(cifRows(result)), to: path("cif.tsv"))
        } else {
            stale += ["cir.tsv", "cif.tsv"]
        }
        if let os = result.os {
            files.add(CohortTables.osText(os), to: path("os.tsv"))
            let rows = result.osCurves.flatMap { landmark, status, curve in
                curve.steps.map { KMRow(landmark: landmark, status: status, time: $0.time, atRisk: $0.atRisk, events: $0.events, survival: $0.survival,
                                        ciLow: $0.ciLow, ciHigh: $0.ciHigh) }
            }
            files.add(CohortTables.kmText(rows), to: path("os_km.tsv"))
        } else {
            stale += ["os.tsv", "os_km.tsv"]
        }
        try files.commit()
        for name in stale where FileManager.default.fileExists(atPath: path(name)) { try FileManager.default.removeItem(atPath: path(name)) }
    }

    /// One self-contained page: per landmark the Kaplan-Meier curves of MRD-negative and
    /// MRD-positive patients (steps, censoring ticks, horizon line, number at risk), then the tables.
    public static func html(_ result: CohortResult, options: CohortOptions) -> String {
        var body = "<h1>MRD and outcomes: relapse-free survival, relapse incidence, hazard ratios, overall survival</h1>\n<p class=\"meta\">mrd \(MRD.version) &middot; landmarks "
            + result.landmarks.map { "\(htmlEscape($0.label)) (day \(Int($0.day)))" }.joined(separator: ", ")
            + " &middot; horizon \(Int(options.horizonDays)) days"
            + (options.threshold.map { " &middot; status re-derived at threshold \(htmlEscape(TableNumber.g6($0)))" } ?? "") + "</p>\n"
        if !result.missingClinical.isEmpty || !result.missingCalls.isEmpty {
            body += "<p class=\"warn\">In calls but not in clinical: \(result.missingClinical.count); in clinical but without calls: \(result.missingCalls.count).</p>\n"
        }
        if let note = result.censoredBeforeSamplesNote {
            body += "<p class=\"warn\">\(htmlEscape(note))</p>\n"
        }
        body += "<h2>Relapse-free survival by MRD status (Kaplan-Meier)</h2>\n<div class=\"plots\">\n"
        for landmark in result.landmarks {
            body += kmSVG(landmark: landmark, curves: result.curves.filter { $0.landmark == landmark.label }, horizon: options.horizonDays,
                          what: "RFS")
        }
        body += "</div>\n"
        body += incidenceSection(result, options: options)
        body += coxSection(result, options: options)
        if let os = result.os {
            body += "<h2>Overall survival by MRD status (Kaplan-Meier)</h2>\n<div class=\"plots\">\n"
            for landmark in result.landmarks {
                body += kmSVG(landmark: landmark, curves: result.osCurves.filter { $0.landmark == landmark.label }, horizon: options.horizonDays,
                              what: "OS")
            }
            body += "</div>\n<p class=\"meta\">Patients alive at the landmark with a call there, timed from the landmark day.</p>\n"
            body += "<table><tr><th>landmark</th><th>MRD status</th><th>n</th><th>deaths</th><th>OS at \(Int(options.horizonDays)) d</th><th>95% CI</th>"
                + "<th>log-rank p</th></tr>\n"
            for r in os {
                body += "<tr><td>\(htmlEscape(r.landmark))</td><td>\(r.status)</td><td>\(r.n)</td><td>\(r.events)</td><td>\(percent(r.rfsAtHorizon))</td>"
                    + "<td>\(interval(r.ciLow, r.ciHigh))</td><td>\(pValue(r.logrankP))</td></tr>\n"
            }
            body += "</table>\n"
        } else {
            body += "<p class=\"meta\">Overall survival: clinical.csv has no os_days/os_event columns.</p>\n"
        }
        body += "<h2>Relapse-free survival at \(Int(options.horizonDays)) days</h2>\n<table><tr><th>landmark</th><th>MRD status</th><th>n</th><th>events</th>"
            + "<th>RFS</th><th>95% CI</th><th>log-rank p</th></tr>\n"
        for r in result.rfs {
            body += "<tr><td>\(htmlEscape(r.landmark))</td><td>\(r.status)</td><td>\(r.n)</td><td>\(r.events)</td><td>\(percent(r.rfsAtHorizon))</td>"
                + "<td>\(interval(r.ciLow, r.ciHigh))</td><td>\(pValue(r.logrankP))</td></tr>\n"
        }
        body += "</table>\n<h2>MRD negativity</h2>\n<table><tr><th>landmark</th><th>by</th><th>group</th><th>n</th><th>negative</th><th>rate</th>"
            + "<th>95% CI (Wilson)</th><th>indeterminate</th></tr>\n"
        for r in result.negativity {
            body += "<tr><td>\(htmlEscape(r.landmark))</td><td>\(htmlEscape(r.groupBy))</td><td>\(htmlEscape(r.group))</td><td>\(r.n)</td>"
                + "<td>\(r.negative)</td><td>\(percent(r.rate))</td><td>\(percent(r.ciLow))&ndash;\(percent(r.ciHigh))</td><td>\(r.indeterminate)</td></tr>\n"
        }
        body += "</table>\n"
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>MRD cohort</title>
        <style>
        body { font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1d2330; margin: 24px 32px; max-width: 1500px; }
        h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 26px 0 8px; border-bottom: 1px solid #d8dde6; padding-bottom: 4px; }
        .meta { color: #566074; } .warn { color: #8a5a00; }
        table { border-collapse: collapse; font-size: 12.5px; } th, td { border: 1px solid #d8dde6; padding: 3px 8px; text-align: left; }
        th { background: #f1f4f8; } .plots { display: flex; flex-wrap: wrap; gap: 16px; } svg { border: 1px solid #d8dde6; background: #fff; max-width: 100%; height: auto; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; } td.why { color: #8a5a00; }
        .wide { overflow-x: auto; max-width: 100%; }
        </style></head><body>
        \(body)</body></html>

        """
    }

    static func percent(_ x: Double?) -> String { x.map { String(format: "%.1f%%", 100 * $0) } ?? "" }
    static func interval(_ low: Double?, _ high: Double?) -> String { low == nil && high == nil ? "" : "\(percent(low))&ndash;\(percent(high))" }
    static func pValue(_ p: Double?) -> String {
        guard let p else { return "" }
        return p < 0.001 ? String(format: "%.1e", p) : String(format: "%.3f", p)
    }

    /// What the two step-curve figures (Kaplan-Meier, cumulative incidence) share: size and scales,
    /// the frame (title, grid, axes, the horizon line) and the number-at-risk table under the axis.
    /// The SVG carries a viewBox, so it scales down on a narrow screen instead of being cut.
    struct StepPlot {
        static let width = 470.0, height = 340.0, left = 50.0, right = 16.0, top = 30.0, plotBottom = 240.0
        static let colors = ["negative": "#1f7a3a", "positive": "#c62828"]
        let maxTime: Double
        /// The top of the y axis (the curves' values run from 0 to it).
        let yMax: Double
        var tickStep: Double { maxTime > 2000 ? 365.0 : 180.0 }

        init(horizon: Double, times: [Double], yMax: Double) {
            maxTime = max(horizon * 1.5, times.max() ?? horizon)
            self.yMax = yMax
        }

        func x(_ t: Double) -> Double { Self.left + (Self.width - Self.left - Self.right) * t / maxTime }
        func y(_ v: Double) -> Double { Self.top + (Self.plotBottom - Self.top) * (1 - v / yMax) }
        static func color(_ status: String) -> String { colors[status] ?? "#333" }

        /// The opening tag, title, grid with percent labels, time ticks, axes, horizon line and x label.
        func frame(title: String, ariaLabel: String, horizon: Double) -> String {
            let (left, right, top, plotBottom, width, height) = (Self.left, Self.right, Self.top, Self.plotBottom, Self.width, Self.height)
            var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" "
                + "role=\"img\" aria-label=\"\(ariaLabel)\">\n"
            svg += "<text x=\"\(left)\" y=\"18\" font-size=\"13\" font-weight=\"600\">\(title)</text>\n"
            for v in stride(from: 0.0, through: yMax + 1e-9, by: yMax / 4) {
                svg += "<line x1=\"\(left)\" y1=\"\(f(y(v)))\" x2=\"\(width - right)\" y2=\"\(f(y(v)))\" stroke=\"#eef1f5\"/>"
                svg += "<text x=\"\(left - 6)\" y=\"\(f(y(v) + 4))\" font-size=\"10\" text-anchor=\"end\">\(Int((v * 100).rounded()))%</text>\n"
            }
            for t in stride(from: 0.0, through: maxTime, by: tickStep) {
                svg += "<text x=\"\(f(x(t)))\" y=\"\(f(plotBottom + 14))\" font-size=\"10\" text-anchor=\"middle\">\(Int(t))</text>"
            }
            svg += "<line x1=\"\(left)\" y1=\"\(plotBottom)\" x2=\"\(width - right)\" y2=\"\(plotBottom)\" stroke=\"#8a93a3\"/>"
            svg += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(plotBottom)\" stroke=\"#8a93a3\"/>\n"
            svg += "<line x1=\"\(f(x(horizon)))\" y1=\"\(top)\" x2=\"\(f(x(horizon)))\" y2=\"\(plotBottom)\" stroke=\"#8a93a3\" stroke-dasharray=\"4 3\"/>\n"
            svg += "<text x=\"\(f((left + width - right) / 2))\" y=\"\(f(plotBottom + 28))\" font-size=\"11\" text-anchor=\"middle\">days from landmark</text>\n"
            return svg
        }

        /// A step path from (0, `start`) through each step's value (`value(i)` of step i, at `times[i]`).
        func path(times: [Double], start: Double, value: (Int) -> Double) -> String {
            var path = "M \(f(x(0))) \(f(y(start)))"
            var previous = start
            for i in times.indices.dropFirst() {
                path += " H \(f(x(times[i])))"
                if value(i) != previous { path += " V \(f(y(value(i))))"; previous = value(i) }
            }
            if let last = times.last { path += " H \(f(x(last)))" }
            return path
        }

        /// The number at risk at each time tick, one row per status; then the closing tag.
        func atRiskTable(_ rows: [(status: String, times: [Double], atRisk: [Int])]) -> String {
            var svg = "<text x=\"4\" y=\"\(f(Self.plotBottom + 50))\" font-size=\"10\" font-weight=\"600\">At risk</text>\n"
            var rowY = Self.plotBottom + 64
            for row in rows {
                svg += "<text x=\"4\" y=\"\(f(rowY))\" font-size=\"10\" fill=\"\(Self.color(row.status))\">\(row.status == "negative" ? "neg" : "pos")</text>"
                for t in stride(from: 0.0, through: maxTime, by: tickStep) {
                    let count = t == 0 ? row.atRisk[0] : (row.times.indices.dropFirst().first { row.times[$0] >= t }.map { row.atRisk[$0] } ?? 0)
                    svg += "<text x=\"\(f(x(t)))\" y=\"\(f(rowY))\" font-size=\"10\" text-anchor=\"middle\">\(count)</text>"
                }
                svg += "\n"
                rowY += 14
            }
            return svg + "</svg>\n"
        }
    }

    static func kmSVG(landmark: Landmark, curves: [(landmark: String, status: String, curve: KaplanMeier)], horizon: Double, what: String) -> String {
        let plot = StepPlot(horizon: horizon, times: curves.flatMap { $0.curve.steps.map(\.time) }, yMax: 1)
        var svg = plot.frame(title: "\(what) from \(htmlEscape(landmark.label)) (day \(Int(landmark.day)))",
                             ariaLabel: "Kaplan-Meier \(what) at \(htmlEscape(landmark.label))", horizon: horizon)
        // The legend at the bottom left, where the curves (falling from 100% at time 0) do not run.
        var legendY = StepPlot.plotBottom - 8 - 15 * Double(curves.count - 1)
        for (_, status, curve) in curves {
            let color = StepPlot.color(status)
            svg += "<path d=\"\(plot.path(times: curve.steps.map(\.time), start: 1) { curve.steps[$0].survival })\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            for step in curve.steps where step.censored > 0 {
                svg += "<line x1=\"\(f(plot.x(step.time)))\" y1=\"\(f(plot.y(step.survival) - 5))\" x2=\"\(f(plot.x(step.time)))\" y2=\"\(f(plot.y(step.survival) + 5))\" stroke=\"\(color)\" stroke-width=\"1.5\"/>"
            }
            let at = curve.at(horizon)
            svg += "\n<text x=\"\(StepPlot.left + 8)\" y=\"\(f(legendY))\" font-size=\"11\" fill=\"\(color)\">MRD-\(status == "negative" ? "negative" : "positive"): "
                + "\(percent(at.survival)) at \(Int(horizon)) d</text>\n"
            legendY += 15
        }
        return svg + plot.atRiskTable(curves.map { ($0.status, $0.curve.steps.map(\.time), $0.curve.steps.map(\.atRisk)) })
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }
}

extension CohortReports {
    /// Cumulative incidence of relapse (solid) and of death in remission (dashed) per landmark, the
    /// number at risk under each plot, and cir.tsv as a table; or why there is none.
    static func incidenceSection(_ result: CohortResult, options: CohortOptions) -> String {
        guard let cir = result.cir else {
            return "<h2>Cumulative incidence of relapse</h2>\n<p class=\"meta\">Not computed: clinical.csv has no event_type column "
                + "(relapse or death for each event), and 1 &minus; Kaplan-Meier would overstate relapse when deaths compete.</p>\n"
        }
        var html = "<h2>Cumulative incidence of relapse, death in remission competing (Aalen-Johansen)</h2>\n<div class=\"plots\">\n"
        for landmark in result.landmarks {
            html += incidenceSVG(landmark: landmark, curves: result.incidenceCurves.filter { $0.landmark == landmark.label }, horizon: options.horizonDays)
        }
        html += "</div>\n<div class=\"wide\"><table><tr><th>landmark</th><th>MRD status</th><th>n</th><th>relapses</th><th>deaths in remission</th>"
            + "<th>CIR at \(Int(options.horizonDays)) d</th><th>95% CI</th><th>Gray's p</th></tr>\n"
        for r in cir {
            html += "<tr><td>\(htmlEscape(r.landmark))</td><td>\(r.status)</td><td class=\"num\">\(r.n)</td><td class=\"num\">\(r.relapses)</td>"
                + "<td class=\"num\">\(r.deaths)</td><td class=\"num\">\(percent(r.cirAtHorizon))</td><td>\(interval(r.ciLow, r.ciHigh))</td>"
                + "<td class=\"num\">\(pValue(r.grayP))</td></tr>\n"
        }
        return html + "</table></div>\n<p class=\"meta\">Intervals on the log(&minus;log) scale from the variance R cmprsk's cuminc reports; "
            + "Gray's test (rho = 0) of relapse between MRD-negative and MRD-positive patients.</p>\n"
    }

    /// The Cox models as a forest plot (hazard ratios on a log axis with their intervals) and cox.tsv
    /// as a table, each row that has no estimate saying why.
    static func coxSection(_ result: CohortResult, options: CohortOptions) -> String {
        let adjusted = options.covariates.isEmpty ? "" : ", adjusted for " + options.covariates.map(htmlEscape).joined(separator: ", ")
        var html = "<h2>Hazard ratios of relapse or death (Cox, Efron ties\(adjusted))</h2>\n"
        html += forestSVG(result.cox)
        html += "<div class=\"wide\"><table><tr><th>landmark</th><th>term</th><th>HR</th><th>95% CI</th><th>p</th><th>n</th><th>events</th>"
            + "<th>PH test p</th><th>note</th></tr>\n"
        for r in result.cox {
            let ci = r.ciLow.map { low in String(format: "%.2f&ndash;%.2f", low, r.ciHigh ?? .nan) } ?? ""
            html += "<tr><td>\(htmlEscape(r.landmark))</td><td>\(htmlEscape(r.term))</td><td class=\"num\">\(r.hr.map { String(format: "%.2f", $0) } ?? "")</td>"
                + "<td>\(ci)</td><td class=\"num\">\(pValue(r.p))</td><td class=\"num\">\(r.n)</td><td class=\"num\">\(r.events)</td>"
                + "<td class=\"num\">\(pValue(r.phP))</td><td class=\"why\">\(htmlEscape(r.note))</td></tr>\n"
        }
        return html + "</table></div>\n<p class=\"meta\">RFS from each landmark; reference levels: MRD-negative"
            + (options.covariates.isEmpty ? "" : " and the first level of each covariate in sorted order") + ". Wald 95% intervals; "
            + "PH test: scaled Schoenfeld residuals against the rank of event times (lifelines' proportional_hazard_test).</p>\n"
    }

    static func incidenceSVG(landmark: Landmark, curves: [(landmark: String, status: String, curve: CumulativeIncidence)], horizon: Double) -> String {
        let highest = curves.flatMap { $0.curve.steps.map { max($0.relapse, $0.death) } }.max() ?? 0
        let plot = StepPlot(horizon: horizon, times: curves.flatMap { $0.curve.steps.map(\.time) }, yMax: highest <= 0.5 ? 0.5 : 1.0)
        var svg = plot.frame(title: "Relapse from \(htmlEscape(landmark.label)) (day \(Int(landmark.day)))",
                             ariaLabel: "Cumulative incidence at \(htmlEscape(landmark.label))", horizon: horizon)
        var legendY = StepPlot.top + 12
        for (_, status, curve) in curves {
            let color = StepPlot.color(status), times = curve.steps.map(\.time)
            for (cause, dash) in [(0, ""), (1, " stroke-dasharray=\"5 3\"")] {
                let path = plot.path(times: times, start: 0) { cause == 0 ? curve.steps[$0].relapse : curve.steps[$0].death }
                svg += "<path d=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"\(cause == 0 ? 2 : 1.5)\"\(dash)/>\n"
            }
            let at = curve.at(horizon)
            svg += "<text x=\"\(StepPlot.left + 8)\" y=\"\(f(legendY))\" font-size=\"11\" fill=\"\(color)\">MRD-\(status): relapse \(percent(at.relapse)), "
                + "death \(percent(at.death)) at \(Int(horizon)) d</text>\n"
            legendY += 15
        }
        svg += "<text x=\"\(StepPlot.left + 8)\" y=\"\(f(legendY))\" font-size=\"10\" fill=\"#566074\">solid: relapse; dashed: death in remission</text>\n"
        return svg + plot.atRiskTable(curves.map { ($0.status, $0.curve.steps.map(\.time), $0.curve.steps.map(\.atRisk)) })
    }

    /// Hazard ratios with their intervals on a log axis, one line per estimated term.
    static func forestSVG(_ rows: [CoxRow]) -> String {
        let estimated = rows.filter { $0.hr != nil && $0.ciLow != nil && $0.ciHigh != nil }
        guard !estimated.isEmpty else { return "<p class=\"meta\">No hazard ratio could be estimated (the table says why).</p>\n" }
        let labelWidth = 250.0, plotWidth = 380.0, rowHeight = 20.0, top = 24.0
        let width = labelWidth + plotWidth + 30, height = top + rowHeight * Double(estimated.count) + 34
        let values = estimated.flatMap { [$0.ciLow!, $0.ciHigh!] }.filter { $0 > 0 && $0.isFinite }
        let low = max(1e-3, min(0.25, values.min() ?? 0.25)), high = min(1e3, max(4, values.max() ?? 4))
        func x(_ hr: Double) -> Double { labelWidth + plotWidth * (log(min(max(hr, low), high)) - log(low)) / (log(high) - log(low)) }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" role=\"img\" aria-label=\"Forest plot of hazard ratios\">\n"
        svg += "<text x=\"4\" y=\"16\" font-size=\"12\" font-weight=\"600\">landmark: term</text>"
        svg += "<text x=\"\(f(labelWidth + plotWidth / 2))\" y=\"16\" font-size=\"12\" font-weight=\"600\" text-anchor=\"middle\">hazard ratio (95% CI), log scale</text>\n"
        let bottom = top + rowHeight * Double(estimated.count)
        for tick in [0.01, 0.1, 0.25, 0.5, 1, 2, 4, 10, 100, 1000] where tick >= low && tick <= high {
            svg += "<line x1=\"\(f(x(tick)))\" y1=\"\(top)\" x2=\"\(f(x(tick)))\" y2=\"\(f(bottom))\" stroke=\"\(tick == 1 ? "#8a93a3" : "#eef1f5")\"\(tick == 1 ? " stroke-dasharray=\"4 3\"" : "")/>"
            svg += "<text x=\"\(f(x(tick)))\" y=\"\(f(bottom + 14))\" font-size=\"10\" text-anchor=\"middle\">\(TableNumber.g6(tick))</text>\n"
        }
        for (i, r) in estimated.enumerated() {
            let yMid = top + rowHeight * (Double(i) + 0.5)
            let color = r.term == "mrd_positive" ? "#c62828" : "#2b4c7e"
            svg += "<text x=\"4\" y=\"\(f(yMid + 4))\" font-size=\"11\">\(htmlEscape(String((r.landmark + ": " + r.term).prefix(40))))</text>"
            svg += "<line x1=\"\(f(x(r.ciLow!)))\" y1=\"\(f(yMid))\" x2=\"\(f(x(r.ciHigh!)))\" y2=\"\(f(yMid))\" stroke=\"\(color)\" stroke-width=\"1.5\"/>"
            svg += "<rect x=\"\(f(x(r.hr!) - 4))\" y=\"\(f(yMid - 4))\" width=\"8\" height=\"8\" fill=\"\(color)\"/>"
            svg += "<text x=\"\(f(width - 4))\" y=\"\(f(yMid + 4))\" font-size=\"10\" text-anchor=\"end\">\(String(format: "%.2f", r.hr!))</text>\n"
        }
        return svg + "</svg>\n"
    }
}
