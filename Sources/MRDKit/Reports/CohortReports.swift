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

    public static func write(_ result: CohortResult, options: CohortOptions, to directory: String) throws {
        try createOutputFolder(directory)
        func path(_ name: String) -> String { (directory as NSString).appendingPathComponent(name) }
        try OutputSet([(path("negativity.tsv"), CohortTables.negativityText(result.negativity)), (path("rfs.tsv"), CohortTables.rfsText(result.rfs)),
                       (path("km.tsv"), CohortTables.kmText(kmRows(result))), (path("cohort.html"), html(result, options: options))]).commit()
    }

    /// One self-contained page: per landmark the Kaplan-Meier curves of MRD-negative and
    /// MRD-positive patients (steps, censoring ticks, horizon line, number at risk), then the tables.
    public static func html(_ result: CohortResult, options: CohortOptions) -> String {
        var body = "<h1>MRD and relapse-free survival</h1>\n<p class=\"meta\">mrd \(MRD.version) &middot; landmarks "
            + result.landmarks.map { "\(htmlEscape($0.label)) (day \(Int($0.day)))" }.joined(separator: ", ")
            + " &middot; horizon \(Int(options.horizonDays)) days"
            + (options.threshold.map { " &middot; status re-derived at threshold \(htmlEscape(TableNumber.g6($0)))" } ?? "") + "</p>\n"
        if !result.missingClinical.isEmpty || !result.missingCalls.isEmpty {
            body += "<p class=\"warn\">In calls but not in clinical: \(result.missingClinical.count); in clinical but without calls: \(result.missingCalls.count).</p>\n"
        }
        body += "<div class=\"plots\">\n"
        for landmark in result.landmarks {
            body += kmSVG(landmark: landmark, result: result, horizon: options.horizonDays)
        }
        body += "</div>\n<h2>Relapse-free survival at \(Int(options.horizonDays)) days</h2>\n<table><tr><th>landmark</th><th>MRD status</th><th>n</th><th>events</th>"
            + "<th>RFS</th><th>95% CI</th><th>log-rank p</th></tr>\n"
        for r in result.rfs {
            body += "<tr><td>\(htmlEscape(r.landmark))</td><td>\(r.status)</td><td>\(r.n)</td><td>\(r.events)</td><td>\(percent(r.rfsAtHorizon))</td>"
                + "<td>\(percent(r.ciLow))&ndash;\(percent(r.ciHigh))</td><td>\(r.logrankP.map { String(format: "%.3g", $0) } ?? "")</td></tr>\n"
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
        th { background: #f1f4f8; } .plots { display: flex; flex-wrap: wrap; gap: 16px; } svg { border: 1px solid #d8dde6; background: #fff; }
        </style></head><body>
        \(body)</body></html>

        """
    }

    static func percent(_ x: Double?) -> String { x.map { String(format: "%.1f%%", 100 * $0) } ?? "" }

    static func kmSVG(landmark: Landmark, result: CohortResult, horizon: Double) -> String {
        let width = 470.0, height = 340.0, left = 50.0, right = 16.0, top = 30.0, plotBottom = 240.0
        let curves = result.curves.filter { $0.landmark == landmark.label }
        let maxTime = max(horizon * 1.5, curves.flatMap { $0.curve.steps.map(\.time) }.max() ?? horizon)
        func x(_ t: Double) -> Double { left + (width - left - right) * t / maxTime }
        func y(_ s: Double) -> Double { top + (plotBottom - top) * (1 - s) }
        let colors = ["negative": "#1f7a3a", "positive": "#c62828"]
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" role=\"img\" aria-label=\"Kaplan-Meier at \(htmlEscape(landmark.label))\">\n"
        svg += "<text x=\"\(left)\" y=\"18\" font-size=\"13\" font-weight=\"600\">Landmark \(htmlEscape(landmark.label)) (day \(Int(landmark.day)))</text>\n"
        for s in stride(from: 0.0, through: 1.0, by: 0.25) {
            svg += "<line x1=\"\(left)\" y1=\"\(f(y(s)))\" x2=\"\(width - right)\" y2=\"\(f(y(s)))\" stroke=\"#eef1f5\"/>"
            svg += "<text x=\"\(left - 6)\" y=\"\(f(y(s) + 4))\" font-size=\"10\" text-anchor=\"end\">\(Int(s * 100))%</text>\n"
        }
        let tickStep = maxTime > 2000 ? 365.0 : 180.0
        for t in stride(from: 0.0, through: maxTime, by: tickStep) {
            svg += "<text x=\"\(f(x(t)))\" y=\"\(f(plotBottom + 14))\" font-size=\"10\" text-anchor=\"middle\">\(Int(t))</text>"
        }
        svg += "<line x1=\"\(left)\" y1=\"\(plotBottom)\" x2=\"\(width - right)\" y2=\"\(plotBottom)\" stroke=\"#8a93a3\"/>"
        svg += "<line x1=\"\(left)\" y1=\"\(top)\" x2=\"\(left)\" y2=\"\(plotBottom)\" stroke=\"#8a93a3\"/>\n"
        svg += "<line x1=\"\(f(x(horizon)))\" y1=\"\(top)\" x2=\"\(f(x(horizon)))\" y2=\"\(plotBottom)\" stroke=\"#8a93a3\" stroke-dasharray=\"4 3\"/>\n"
        svg += "<text x=\"\(f((left + width - right) / 2))\" y=\"\(f(plotBottom + 28))\" font-size=\"11\" text-anchor=\"middle\">days from landmark</text>\n"
        var legendY = top + 12
        for (_, status, curve) in curves {
            let color = colors[status] ?? "#333"
            var path = "M \(f(x(0))) \(f(y(1)))"
            var previous = 1.0
            for step in curve.steps.dropFirst() {
                path += " H \(f(x(step.time)))"
                if step.survival != previous { path += " V \(f(y(step.survival)))"; previous = step.survival }
            }
            if let last = curve.steps.last { path += " H \(f(x(last.time)))" }
            svg += "<path d=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\"/>\n"
            for step in curve.steps where step.censored > 0 {
                svg += "<line x1=\"\(f(x(step.time)))\" y1=\"\(f(y(step.survival) - 5))\" x2=\"\(f(x(step.time)))\" y2=\"\(f(y(step.survival) + 5))\" stroke=\"\(color)\" stroke-width=\"1.5\"/>"
            }
            let at = curve.at(horizon)
            svg += "\n<text x=\"\(width - right - 4)\" y=\"\(f(legendY))\" font-size=\"11\" fill=\"\(color)\" text-anchor=\"end\">MRD-\(status == "negative" ? "negative" : "positive"): "
                + "\(percent(at.survival)) at \(Int(horizon)) d</text>\n"
            legendY += 15
        }
        // Number at risk below the axis.
        svg += "<text x=\"4\" y=\"\(f(plotBottom + 50))\" font-size=\"10\" font-weight=\"600\">At risk</text>\n"
        var rowY = plotBottom + 64
        for (_, status, curve) in curves {
            svg += "<text x=\"4\" y=\"\(f(rowY))\" font-size=\"10\" fill=\"\(colors[status] ?? "#333")\">\(status == "negative" ? "neg" : "pos")</text>"
            for t in stride(from: 0.0, through: maxTime, by: tickStep) {
                let atRisk = curve.steps.dropFirst().first { $0.time >= t }?.atRisk ?? 0
                let count = t == 0 ? curve.steps[0].atRisk : atRisk
                svg += "<text x=\"\(f(x(t)))\" y=\"\(f(rowY))\" font-size=\"10\" text-anchor=\"middle\">\(count)</text>"
            }
            svg += "\n"
            rowY += 14
        }
        return svg + "</svg>\n"
    }

    static func f(_ v: Double) -> String { String(format: "%.1f", v) }
}
