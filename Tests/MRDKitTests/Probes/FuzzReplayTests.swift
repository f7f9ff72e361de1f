import Foundation
import Testing
import MRDKit
import MRDProbes

/// Every seed of Scripts/fuzz and every input that fuzzing ever found (TestReads/fuzz/TARGET/),
/// replayed through the same probes as the fuzz targets: a property broken again stops the tests.
@Suite struct FuzzReplayTests {
    static func inputs(_ probe: ParserProbe) -> [URL] {
        let folders = [packageRoot.appendingPathComponent("Scripts/fuzzing/seeds/\(probe.rawValue)"),
                       packageRoot.appendingPathComponent("TestReads/fuzz/\(probe.rawValue)")]
        return folders.flatMap { folder in
            ((try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? [])
                .sorted { $0.lastPathComponent < $1.lastPathComponent }
        }
    }

    @Test(arguments: ParserProbe.allCases)
    func replay(_ probe: ParserProbe) throws {
        let files = Self.inputs(probe)
        #expect(files.count >= 3, "seed corpus of \(probe.rawValue) is missing")
        for file in files {
            probe.run([UInt8](try Data(contentsOf: file)))
        }
    }
}
