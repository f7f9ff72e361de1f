import Foundation
import Testing

@Suite("Analytical validation (Scripts/validate --quick)")
struct ValidationTests {
    @Test("quick validation: 0 false positives in 500 blanks per input, LoD <= 5 cells, LoQ <= 20 cells, linear from the LoQ up")
    func quickValidation() throws {
        let out = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let process = Process()
        process.executableURL = projectTool("python3")
        process.arguments = [packageRoot.appendingPathComponent("Scripts/validate").path, "--quick",
                             "--out", out.appendingPathComponent("validation.md").path, "--mrd", mrdBinary.path]
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(stderr)")
        let text = try String(contentsOf: out.appendingPathComponent("validation.md"), encoding: .utf8)
        // The spike-in table: one row per input.
        let section = text.components(separatedBy: "## Templates from spike-in")[1].components(separatedBy: "Per level")[0]
        let rows = section.split(separator: "\n").filter { $0.hasPrefix("| 1") || $0.hasPrefix("| 3") }
        #expect(rows.count == 3)
        for row in rows {
            let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(cells[1].hasPrefix("0 / 500"), "\(row)")
            func count(_ text: String) -> Double { Double(text.split(separator: "(")[1].split(separator: ")")[0])! }
            #expect(count(cells[2]) <= 5, "LoD: \(row)")
            #expect(count(cells[4]) <= 20, "LoQ: \(row)")
            let linearity = cells[5].split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces))! }
            #expect((0.95...1.05).contains(linearity[0]) && linearity[1] >= 0.99, "linearity: \(row)")
        }
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("validation-detection-spike_in.svg").path))
        #expect(text.contains("## Read level"))
    }
}
