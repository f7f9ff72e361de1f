import CSequenceKernels
import Foundation

/// Wall-clock times of a command's phases on standard error, when enabled (the command turns it on
/// for `MRD_TIMING`, for profiling and `Scripts/bench`; outputs are unchanged).
public struct PhaseTimer: Sendable {
    /// Set once at start-up, before any work starts (read-only afterwards).
    nonisolated(unsafe) public static var enabled = false
    private var last = DispatchTime.now().uptimeNanoseconds
    /// Each phase's own peak: Linux resets the peak resident set on "5" to clear_refs after each
    /// mark, to find which phase sets the command's peak (the whole run's peak is then lost).
    nonisolated(unsafe) public static var phasePeaks = false

    public init() {}

    /// Reports the time since the previous mark (or since the timer was made) under `phase`.
    public mutating func mark(_ phase: String) {
        guard Self.enabled else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        var text = String(format: "mrd: timing: %@ %.3f s\n", phase, Double(now - last) / 1e9)
        if let peak = Self.residentMiB("VmHWM:"), let now = Self.residentMiB("VmRSS:") {
            text += String(format: "mrd: memory: %@ peak so far %.0f MiB (now %.0f)\n", phase, peak, now)
        }
        if Self.phasePeaks { try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8) }
        let heap = mrd_heap_in_use()
        if heap > 0 { text += String(format: "mrd: heap: %@ in use %.0f MiB\n", phase, Double(heap) / 1_048_576) }
        FileHandle.standardError.write(Data(text.utf8))
        last = now
    }

    /// Reports a figure of the work (how many groups, clonotypes...) next to the times.
    public func note(_ what: String, _ value: Int) {
        guard Self.enabled else { return }
        FileHandle.standardError.write(Data("mrd: count: \(what) \(value)\n".utf8))
    }

    /// The process's peak (`VmHWM:`) or current (`VmRSS:`) resident set (Linux: /proc/self/status), in MiB.
    static func residentMiB(_ field: String) -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix(field) }),
              let kib = Double(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kib / 1024
    }
}
