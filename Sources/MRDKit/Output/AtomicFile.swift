import Foundation

/// Temporary output files in flight. An interrupted run removes them (see `Interruption`), and
/// renames into place happen under the same lock, so a signal sees either the temporary files or
/// the finished outputs, never a half-renamed set.
enum TemporaryFiles {
    nonisolated(unsafe) private static var paths = Set<String>()
    nonisolated(unsafe) private static let lock: UnsafeMutablePointer<pthread_mutex_t> = {
        let lock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(lock, nil)
        return lock
    }()

    static func withLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_mutex_lock(lock)
        defer { pthread_mutex_unlock(lock) }
        return try body()
    }

    static func registerLocked(_ path: String) { _ = paths.insert(path) }
    static func unregister(_ path: String) { withLock { _ = paths.remove(path) } }
    static func unregisterLocked(_ path: String) { _ = paths.remove(path) }

    /// Removes every temporary file; the caller holds the lock.
    static func removeAllLocked() -> Int {
        for path in paths { unlink(path) }
        defer { paths.removeAll() }
        return paths.count
    }
}

/// What the process does on SIGINT, SIGTERM or SIGHUP: remove its temporary output files, say
/// so, and exit with 128 + the signal number. Finished outputs stay (each is complete); outputs
/// being written never appear under their final names.
public enum Interruption {
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    /// Installs the handlers (once, before any output is written).
    public static func install() {
        guard sources.isEmpty else { return }
        // Past a file-size limit (ulimit -f, common on clusters) a write then fails with EFBIG and
        // is reported like a full disk, instead of the process dying with a half-written file.
        Glibc.signal(SIGXFSZ, SIG_IGN)
        let queue = DispatchQueue(label: "mrd.signals")
        for (signal, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM"), (SIGHUP, "SIGHUP")] {
            Glibc.signal(signal, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signal, queue: queue)
            source.setEventHandler {
                // Taking the lock waits for a rename in progress, and stops any new one.
                TemporaryFiles.withLock {
                    let removed = TemporaryFiles.removeAllLocked()
                    let message = "mrd: interrupted by \(name): stopped; \(removed) unfinished output file(s) removed\n"
                    _ = message.withCString { write(2, $0, strlen($0)) }
                    _exit(128 + signal)
                }
            }
            source.resume()
            sources.append(source)
        }
    }
}

/// Creates an output folder (and its parents), with the system's reason when it cannot.
public func createOutputFolder(_ path: String) throws {
    var isFolder: ObjCBool = false
    if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) {
        guard isFolder.boolValue else { throw OutputError(file: path, message: "exists and is not a folder") }
        guard access(path, W_OK | X_OK) == 0 else {
            throw OutputError(file: path, message: "cannot write in the output folder: \(String(cString: strerror(errno)))")
        }
        return
    }
    do {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    } catch {
        let reason = (error as NSError).userInfo[NSUnderlyingErrorKey].map { "\($0)" } ?? error.localizedDescription
        throw OutputError(file: path, message: "cannot create the output folder (\(reason))")
    }
}

/// Writes a file under a temporary name in the same folder and renames it into place only when
/// complete, so that a failed or interrupted run never leaves a truncated file under a final name.
public final class AtomicFile {
    public let path: String
    private let temporaryPath: String
    private var handle: UnsafeMutablePointer<FILE>?
    private var renamed = false

    public init(path: String) throws {
        self.path = path
        let url = URL(fileURLWithPath: path)
        temporaryPath = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())").path
        // Registered and created under the lock that the signal handler takes (and exits holding):
        // a signal then finds either no file or a registered one. (Registering first and creating
        // after the lock was let go left a file behind when the handler ran in between; found by
        // the fault tests under ThreadSanitizer, whose timing differs.)
        let temporaryPath = self.temporaryPath
        let opened: (file: UnsafeMutablePointer<FILE>?, error: Int32) = TemporaryFiles.withLock {
            let file = fopen(temporaryPath, "wb")
            let error = errno
            if file != nil { TemporaryFiles.registerLocked(temporaryPath) }
            return (file, error)
        }
        guard let file = opened.file else {
            throw OutputError(file: path, message: "cannot create: \(String(cString: strerror(opened.error)))")
        }
        setvbuf(file, nil, _IOFBF, 1 << 20)
        handle = file
    }

    deinit {
        // Never committed: remove the partial file.
        if let handle { fclose(handle) }
        if !renamed {
            unlink(temporaryPath)
            TemporaryFiles.unregister(temporaryPath)
        }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard bytes.count > 0 else { return }
        guard handle != nil else { throw OutputError(file: path, message: "write after the output was discarded") }
        if fwrite(bytes.baseAddress, 1, bytes.count, handle) != bytes.count {
            throw OutputError(file: path, message: "write failed: \(String(cString: strerror(errno)))")
        }
    }

    public func write(_ text: String) throws {
        var text = text
        try text.withUTF8 { try write(UnsafeRawBufferPointer($0)) }
    }

    /// Flushes and syncs the temporary file; after this only the rename is left.
    fileprivate func finishWriting() throws {
        guard let file = handle else { return }
        handle = nil
        let flushed = fflush(file) == 0 && fsync(fileno(file)) == 0
        let reason = String(cString: strerror(errno))
        let closed = fclose(file) == 0
        guard flushed && closed else {
            throw OutputError(file: path, message: "write failed: \(flushed ? String(cString: strerror(errno)) : reason)")
        }
    }

    /// Renames into place; the caller holds the temporary-files lock.
    fileprivate func renameLocked() throws {
        guard rename(temporaryPath, path) == 0 else {
            throw OutputError(file: path, message: "cannot rename into place: \(String(cString: strerror(errno)))")
        }
        renamed = true
        TemporaryFiles.unregisterLocked(temporaryPath)
    }

    /// Flushes, syncs and renames into place.
    public func commit() throws {
        try finishWriting()
        try TemporaryFiles.withLock { try renameLocked() }
    }

    /// Closes and removes the temporary file now (the command is failing and may exit before this
    /// object is released); later writes fail. Callers serialise it with their writes.
    public func discard() {
        if let file = handle { fclose(file); handle = nil }
        guard !renamed else { return }
        TemporaryFiles.withLock {
            unlink(temporaryPath)
            TemporaryFiles.unregisterLocked(temporaryPath)
        }
        renamed = true  // nothing left for deinit to remove
    }

    /// Writes a whole text file atomically.
    public static func write(_ text: String, to path: String) throws {
        try OutputSet([(path, text)]).commit()
    }
}

/// Files that appear together or not at all: each is written and synced under a temporary
/// name, then all are renamed in one step (a failure or signal before then leaves none).
public struct OutputSet {
    private enum Entry {
        case text(path: String, text: String)
        /// A file the caller wrote itself (streamed), synced and renamed with the others.
        case written(AtomicFile)
    }
    private var entries: [Entry]

    public init(_ files: [(String, String)] = []) { entries = files.map { .text(path: $0.0, text: $0.1) } }

    public mutating func add(_ text: String, to path: String) { entries.append(.text(path: path, text: text)) }

    /// A file already written through its own `AtomicFile`, renamed in its turn with the others.
    public mutating func add(written file: AtomicFile) { entries.append(.written(file)) }

    public func commit() throws {
        var written: [AtomicFile] = []
        for entry in entries {
            let file: AtomicFile
            switch entry {
            case .text(let path, let text):
                file = try AtomicFile(path: path)
                try file.write(text)
            case .written(let streamed):
                file = streamed
            }
            try file.finishWriting()
            written.append(file)
        }
        try TemporaryFiles.withLock {
            for file in written { try file.renameLocked() }
        }
    }
}
