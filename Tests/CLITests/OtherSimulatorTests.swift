import Foundation
import Testing

/// Reads from another simulator (ART's empirical Illumina profiles over amplicons of
/// Scripts/art-check's own generator), through the real binary: index clones, genes, counts,
/// pair merging against fastp, low-level follow-ups beside near-miss normal clones.
@Suite("Reads of another simulator (ART)")
struct OtherSimulatorTests {
    @Test("Scripts/art-check: every check of its sixteen designs holds")
    func artCheck() throws {
        #expect(FileManager.default.isExecutableFile(atPath: "/usr/bin/art_illumina"),
                "art_illumina missing: run Scripts/setup")
        let result = try runProgram(packageRoot.appendingPathComponent("Scripts/art-check"), ["--mrd", mrdBinary.path],
                                    directory: packageRoot)
        let text = result.stdout
        let failed = text.split(separator: "\n").filter { $0.hasPrefix("FAILED") }
        #expect(result.status == 0, "\(failed.joined(separator: "\n"))\n\(result.stderr)")
        #expect(failed.isEmpty)
        // Every design ran: 13 read-level scenarios (13-14 checks each), 3 quantification designs (6-7).
        let last = text.split(separator: "\n").last.map(String.init) ?? ""
        let numbers = last.split(separator: " ").compactMap { Int($0) }
        #expect(numbers.count == 2 && numbers[0] == numbers[1] && numbers[0] >= 185, "\(last)")
        let scenarios = Set(text.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: "|")
            return fields.count >= 3 ? fields[1].trimmingCharacters(in: .whitespaces) : nil
        })
        #expect(scenarios.count == 16, "\(scenarios.sorted())")
    }
}
