#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A stream of bytes: a file, standard input, memory, or a decompressor stacked on another source.
///
/// Sources are used by one thread at a time; `ThreadedSource` moves one onto a thread of its own.
public protocol ByteSource: AnyObject {
    /// Reads up to `buffer.count` bytes into `buffer` and returns how many were read.
    /// Returns 0 only at the end of the stream. Throws `ReadError` on I/O or format errors.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

extension ByteSource {
    /// Reads until `buffer` is full or the stream ends; returns the bytes read.
    func readFully(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var filled = 0
        while filled < buffer.count {
            let n = try read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
            if n == 0 { break }
            filled += n
        }
        return filled
    }
}

/// Reads a file descriptor with read(2): a regular file, a pipe, or standard input.
public final class FileSource: ByteSource {
    public let name: String
    private let descriptor: Int32
    private let ownsDescriptor: Bool

    /// Opens `path` for reading; `-` is standard input.
    public init(path: String) throws {
        if path == "-" {
            name = "<stdin>"
            descriptor = 0
            ownsDescriptor = false
            return
        }
        name = path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            let code = errno
            if code == ENOENT || code == ENOTDIR {
                throw ReadError(.missingInput, file: path, "no such file (expected a FASTQ or FASTA file)")
            }
            throw ReadError(.unreadableInput, file: path, "cannot open: \(String(cString: strerror(code)))")
        }
        var info = stat()
        if fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
            close(fd)
            throw ReadError(.unreadableInput, file: path, "is a directory (expected a FASTQ or FASTA file)")
        }
        #if os(Linux)
        _ = posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_SEQUENTIAL))
        #endif
        descriptor = fd
        ownsDescriptor = true
        if (info.st_mode & S_IFMT) == S_IFREG { sizeAtOpen = Int(info.st_size) }
    }

    /// A regular file's size when opened: ending before it means the file shrank under us (being
    /// rewritten or truncated), and what was read is not the file.
    private var sizeAtOpen: Int?
    private var bytesRead = 0

    deinit {
        if ownsDescriptor { close(descriptor) }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        while true {
            let n = Glibc.read(descriptor, buffer.baseAddress, buffer.count)
            if n == 0, let size = sizeAtOpen, bytesRead < size {
                throw ReadError(.unreadableInput, file: name,
                                "the file shrank while being read (\(bytesRead) of the \(size) bytes it had when opened): is it being rewritten?")
            }
            if n >= 0 { bytesRead += n; return n }
            if errno == EINTR { continue }
            throw ReadError(.unreadableInput, file: name, "read failed: \(String(cString: strerror(errno)))")
        }
    }
}

/// Bytes held in memory, handed out at most `chunkLimit` at a time (tests use it to cut input at
/// every possible place).
public final class MemorySource: ByteSource {
    private let bytes: [UInt8]
    private var position = 0
    private let chunkLimit: Int

    public init(_ bytes: [UInt8], chunkLimit: Int = .max) {
        precondition(chunkLimit > 0)
        self.bytes = bytes
        self.chunkLimit = chunkLimit
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, chunkLimit, bytes.count - position)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + position, byteCount: n)
        }
        position += n
        return n
    }
}

/// Replays bytes already taken from `upstream` (by format sniffing) before the rest of it.
final class PrefixedSource: ByteSource {
    private var prefix: [UInt8]
    private var prefixPosition = 0
    private let upstream: ByteSource

    init(prefix: [UInt8], upstream: ByteSource) {
        self.prefix = prefix
        self.upstream = upstream
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if prefixPosition < prefix.count {
            let n = min(buffer.count, prefix.count - prefixPosition)
            prefix.withUnsafeBytes { source in
                buffer.baseAddress!.copyMemory(from: source.baseAddress! + prefixPosition, byteCount: n)
            }
            prefixPosition += n
            if prefixPosition == prefix.count { prefix = [] ; prefixPosition = .max }
            return n
        }
        return try upstream.read(into: buffer)
    }
}
