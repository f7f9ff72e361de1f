// libFuzzer entry for mrd's parsers (built by Scripts/fuzz together with MRDKit's sources).
// MRD_FUZZ_TARGET names the ParserProbe to run: fastx, sheet, clones or spikeins.
import Foundation

private let probe: ParserProbe = {
    let name = ProcessInfo.processInfo.environment["MRD_FUZZ_TARGET"] ?? ""
    guard let probe = ParserProbe(rawValue: name) else {
        fatalError("MRD_FUZZ_TARGET must be one of " + ParserProbe.allCases.map(\.rawValue).joined(separator: ", "))
    }
    return probe
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let bytes = size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size))
    probe.run(bytes)
    return 0
}
