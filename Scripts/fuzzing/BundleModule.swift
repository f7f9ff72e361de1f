// SwiftPM generates `Bundle.module` for MRDKit's resources; the fuzz build compiles the sources
// with swiftc directly from a copy next to this file, so it names the resource folder itself
// (the probes never load it).
import Foundation

extension Foundation.Bundle {
    static let module: Bundle = Bundle(path: URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("MRDKit/Resources").standardized.path) ?? .main
}
