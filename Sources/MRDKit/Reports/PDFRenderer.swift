import Foundation

/// A tool the command needs is not installed, or failed (exit 69, EX_UNAVAILABLE).
public struct ToolUnavailableError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
    public init(_ message: String) { self.message = message }
}

/// Prints HTML pages to PDF with headless Chromium, so that a PDF carries exactly the page's text
/// and print layout (the pages' A4 print CSS). Found up front, before any sample is read: a run
/// asked for PDFs must not spend an hour and then fail.
public struct PDFRenderer: Sendable {
    public let executable: String

    public static let installHint = "install Chromium (Debian: apt-get install chromium; Scripts/setup does it) or point MRD_CHROMIUM at a Chromium or Chrome binary"

    /// `MRD_CHROMIUM`, else the first of chromium, chromium-browser, google-chrome on PATH.
    public static func locate(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> PDFRenderer {
        if let given = environment["MRD_CHROMIUM"], !given.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: given) else {
                throw ToolUnavailableError("--pdf: MRD_CHROMIUM=\(given) is not an executable file; \(installHint)")
            }
            return PDFRenderer(executable: given)
        }
        let path = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init)
        for name in ["chromium", "chromium-browser", "google-chrome"] {
            for folder in path {
                let candidate = (folder as NSString).appendingPathComponent(name)
                if FileManager.default.isExecutableFile(atPath: candidate) { return PDFRenderer(executable: candidate) }
            }
        }
        throw ToolUnavailableError("--pdf needs an HTML-to-PDF engine and none was found: \(installHint)")
    }

    /// Prints `html` (a file) to `pdf`, through a temporary name renamed into place when complete.
    public func render(html: String, to pdf: String) throws {
        let temporary = (pdf as NSString).deletingLastPathComponent + "/.\((pdf as NSString).lastPathComponent).\(getpid()).tmp"
        defer { unlink(temporary) }
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("mrd-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        // --no-sandbox: Chromium refuses to run as root with its sandbox (containers, CI); the page is
        // our own, self-contained and script-free.
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer", "--user-data-dir=\(profile.path)",
                             "--print-to-pdf=\(temporary)", URL(fileURLWithPath: html).absoluteString]
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw ToolUnavailableError("--pdf: cannot start \(executable): \(error.localizedDescription); \(Self.installHint)")
        }
        let stderr = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        var info = stat()
        guard process.terminationStatus == 0, stat(temporary, &info) == 0, info.st_size > 0 else {
            let last = String(decoding: stderr, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
            throw ToolUnavailableError("--pdf: \(executable) did not print \(html) (exit \(process.terminationStatus)): \(last)")
        }
        guard rename(temporary, pdf) == 0 else {
            throw OutputError(file: pdf, message: "cannot write: \(String(cString: strerror(errno)))")
        }
    }
}
