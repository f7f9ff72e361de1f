import Foundation

/// Wall-clock times of a command's phases on standard error, when `MRD_TIMING` is set (for
/// profiling and `Scripts/bench`; outputs are unchanged).
public struct PhaseTimer: Sendable {
    public static let enabled = ProcessInfo.processInfo.environment["MRD_TIMING"] != nil
    private var last = DispatchTime.now().uptimeNanoseconds

    public init() {}

    /// Reports the time since the previous mark (or since the timer was made) under `phase`.
    public mutating func mark(_ phase: String) {
        guard Self.enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        FileHandle.standardError.write(Data(String(format: "mrd: timing: %@ %.3f s\n", phase, Double(now - last) / 1e9).utf8))
        last = now
    }
}
