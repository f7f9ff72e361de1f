import Foundation
import Testing

/// Runs headless Chromium (Scripts/setup installs it) with `arguments`; its stdout.
private func chromium(_ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/chromium")
    let profile = FileManager.default.temporaryDirectory.appendingPathComponent("mrd-test-chromium-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: profile) }
    process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--user-data-dir=\(profile.path)"] + arguments
    let out = Pipe()
    process.standardOutput = out
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}

/// The page's document width as Chromium lays it out in a viewport `width` px wide. Headless
/// Chromium keeps windows at least 500 px wide, so the page is loaded into an iframe of that width
/// (its own viewport: media queries apply) in a probe page, whose script writes the frame's
/// `scrollWidth` and `clientWidth` into the DOM for `--dump-dom` to print.
private func layoutWidth(of page: URL, width: Int) throws -> (scroll: Int, client: Int) {
    let probe = """
        <!DOCTYPE html><html><body style="margin:0"><iframe id="frame" src="\(page.lastPathComponent)" style="width:\(width)px;height:900px;border:0"></iframe>
        <script>document.getElementById('frame').onload = function () {
          var d = this.contentDocument.documentElement;
          document.body.insertAdjacentHTML('beforeend', '<p id="result">' + 'W=' + d.scrollWidth + ',' + d.clientWidth + ';</p>');
        };</script></body></html>
        """
    let copy = page.deletingLastPathComponent().appendingPathComponent(".probe-\(width)-\(page.lastPathComponent)")
    defer { try? FileManager.default.removeItem(at: copy) }
    try probe.write(to: copy, atomically: true, encoding: .utf8)
    let dom = try chromium(["--allow-file-access-from-files", "--window-size=\(width + 100),1000", "--dump-dom", copy.absoluteString])
    guard let range = dom.range(of: "<p id=\"result\">W=", options: .backwards) else { return (-1, -1) }
    let numbers = dom[range.upperBound...].prefix { $0 != ";" }.split(separator: ",").compactMap { Int($0) }
    return numbers.count == 2 ? (numbers[0], numbers[1]) : (-1, -1)
}

@Suite("report pages in a real browser (headless Chromium) and as PDF")
struct ReportBrowserTests {
    static let longPatient = "P003_" + String(repeating: "x", count: 59)

    @Test("run page and patient pages: no horizontal overflow at 1280 and 390 px with hostile labels; PDFs carry the page's words")
    func pagesFitAndPrint() throws {
        let chromiumPath = "/usr/bin/chromium"
        try #require(FileManager.default.isExecutableFile(atPath: chromiumPath), "chromium missing: run Scripts/setup")
        let scratch = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let run = scratch.appendingPathComponent("run")
        try FileManager.default.copyItem(at: packageRoot.appendingPathComponent("TestReads/run"), to: run)
        // Hostile labels: markup and unicode in free text, a 64-character patient id (no break opportunity).
        var sheet = try String(contentsOf: run.appendingPathComponent("sheet.csv"), encoding: .utf8)
        sheet = sheet.replacingOccurrences(of: ",month3,", with: ",<script>alert(1)</script> & \"Woche 12\" – Ünïcødé 診断後 ✓,")
        sheet = sheet.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasPrefix("P003,") ? Self.longPatient + line.dropFirst(4) : String(line)
        }.joined(separator: "\n")
        try sheet.write(to: run.appendingPathComponent("sheet.csv"), atomically: true, encoding: .utf8)
        let out = scratch.appendingPathComponent("out")
        let result = try runMRD(["run", "sheet.csv", "-o", out.path, "--spike-ins", "spikes.tsv", "--pdf", "--quiet"], directory: run)
        #expect(result.status == 0, "\(result.stderr)")

        let pages = [out.appendingPathComponent("report.html")]
            + ["P001", "P002", Self.longPatient].map { out.appendingPathComponent("patients/\($0).html") }
        for page in pages {
            let html = try String(contentsOf: page, encoding: .utf8)
            #expect(!html.contains("<script"), "\(page.lastPathComponent): markup escaped")
            #expect(html.contains("Ünïcødé 診断後 ✓"))
            for width in [1280, 390] {
                let measured = try layoutWidth(of: page, width: width)
                #expect(measured.client > 0 && measured.client <= width, "\(page.lastPathComponent) at \(width): \(measured)")
                #expect(measured.scroll <= measured.client, "\(page.lastPathComponent) overflows at \(width) px: \(measured)")
            }
        }

        // The PDFs: the patient id, the latest call in words and its level, as on the page.
        let calls = parseTSV(try String(contentsOf: out.appendingPathComponent("calls.tsv"), encoding: .utf8))
        for patient in ["P001", "P002", Self.longPatient] {
            let pdf = out.appendingPathComponent("patients/\(patient).pdf")
            #expect(FileManager.default.fileExists(atPath: pdf.path))
            let text = try pdfText(pdf).replacingOccurrences(of: "\n", with: " ")
            let compact = text.replacingOccurrences(of: " ", with: "")
            #expect(compact.contains(patient), "\(patient) id in the PDF")
            let latest = try #require(calls.last { $0["patient_id"] == patient })
            #expect(text.contains("MRD \(latest["call"]!)"), "\(patient): \(latest["call"]!) in words")
            for row in calls where row["patient_id"] == patient {
                #expect(compact.contains(row["sample_id"]!))
                if row["detected"] == "T", let level = Double(row["mrd_level"]!) {
                    // As the page writes it: 2.3 x 10^-5, the exponent as plain text in the PDF.
                    let exponent = Int(floor(log10(level)))
                    let mantissa = String(format: "%.1f", (level / pow(10, Double(exponent)) * 10).rounded() / 10)
                    #expect(text.contains("\(mantissa) × 10"), "\(row["sample_id"]!) level \(mantissa) x 10^\(exponent)")
                }
            }
        }
        // Without --pdf the next run leaves no stale PDF behind.
        #expect(try runMRD(["aggregate", "sheet.csv", "-o", out.path, "--spike-ins", "spikes.tsv", "--quiet"], directory: run).status == 0)
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("patients/P001.pdf").path))
    }

    @Test("--pdf without an HTML-to-PDF engine: exit 69 before any sample is read, saying what to install; nothing written")
    func pdfEngineMissing() throws {
        let scratch = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: scratch) }
        let run = packageRoot.appendingPathComponent("TestReads/run")
        for environment in [["PATH": "/nonexistent"], ["MRD_CHROMIUM": "/nonexistent/chromium"]] {
            let out = scratch.appendingPathComponent("out")
            let result = try runMRD(["run", "sheet.csv", "-o", out.path, "--spike-ins", "spikes.tsv", "--pdf"], directory: run,
                                    environment: environment)
            #expect(result.status == 69, "\(environment): \(result.stderr)")
            #expect(result.stderr.hasPrefix("mrd: error: --pdf") && result.stderr.contains("apt-get install chromium"), "\(result.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out.path))
            let aggregate = try runMRD(["aggregate", "sheet.csv", "-o", out.path, "--pdf"], directory: run, environment: environment)
            #expect(aggregate.status == 69)
        }
    }
}

/// The text of a PDF, through poppler's pdftotext (Scripts/setup installs poppler-utils).
private func pdfText(_ pdf: URL) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/pdftotext")
    process.arguments = [pdf.path, "-"]
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    let data = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return String(decoding: data, as: UTF8.self)
}
