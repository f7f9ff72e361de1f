import Foundation

/// Wall-clock times of a command's phases on standard error, when enabled (the command turns it on
/// for `MRD_TIMING`, for profiling and `Scripts/bench`; outputs are unchanged).
public struct PhaseTimer: Sendable {
    /// Set once at start-up, before any work starts (read-only afterwards).
    nonisolated(unsafe) public static var enabled = false
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
