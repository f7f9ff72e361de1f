import CBzip2
import CZlib
import Foundation

/// A compressed stream writer over an `AtomicFile`: gzip (zlib deflate) or bzip2.
public final class CompressedWriter {
    public enum Format: Sendable { case gzip(level: Int32), bzip2, plain }

    private let file: AtomicFile
    private let format: Format
    private var zstream: UnsafeMutablePointer<z_stream>?
    private var bzstream: UnsafeMutablePointer<bz_stream>?
    private var input: [UInt8] = []
    private var output: [UInt8] = Array(repeating: 0, count: 1 << 20)

    public init(path: String, format: Format) throws {
        file = try AtomicFile(path: path)
        self.format = format
        input.reserveCapacity(1 << 20)
        switch format {
        case .gzip(let level):
            let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            stream.initialize(to: z_stream())
            guard mrd_deflate_init_gzip(stream, level) == Z_OK else {
                throw OutputError(file: path, message: "cannot start gzip compression")
            }
            zstream = stream
        case .bzip2:
            let stream = UnsafeMutablePointer<bz_stream>.allocate(capacity: 1)
            stream.initialize(to: bz_stream())
            guard BZ2_bzCompressInit(stream, 9, 0, 0) == BZ_OK else {
                throw OutputError(file: path, message: "cannot start bzip2 compression")
            }
            bzstream = stream
        case .plain:
            break
        }
    }

    deinit {
        if let zstream { deflateEnd(zstream); zstream.deallocate() }
        if let bzstream { BZ2_bzCompressEnd(bzstream); bzstream.deallocate() }
    }

    public func write<S: Sequence>(_ bytes: S) throws where S.Element == UInt8 {
        input.append(contentsOf: bytes)
        if input.count >= 1 << 20 { try flushInput(finish: false) }
    }

    public func finish() throws {
        try flushInput(finish: true)
        try file.commit()
    }

    private func flushInput(finish: Bool) throws {
        switch format {
        case .plain:
            try input.withUnsafeBytes { try file.write($0) }
        case .gzip:
            let stream = zstream!
            try input.withUnsafeMutableBytes { inBytes in
                stream.pointee.next_in = inBytes.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_in = UInt32(inBytes.count)
                try drain(name: "gzip") { out in
                    stream.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
                    stream.pointee.avail_out = UInt32(out.count)
                    let status = deflate(stream, finish ? Z_FINISH : Z_NO_FLUSH)
                    let done = finish ? status == Z_STREAM_END : stream.pointee.avail_in == 0
                    let failed = !done && status != Z_OK && status != Z_BUF_ERROR
                    return (out.count - Int(stream.pointee.avail_out), done, failed ? status : nil)
                }
            }
        case .bzip2:
            let stream = bzstream!
            try input.withUnsafeMutableBytes { inBytes in
                stream.pointee.next_in = inBytes.baseAddress?.assumingMemoryBound(to: CChar.self)
                stream.pointee.avail_in = UInt32(inBytes.count)
                try drain(name: "bzip2") { out in
                    stream.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: CChar.self)
                    stream.pointee.avail_out = UInt32(out.count)
                    let status = BZ2_bzCompress(stream, finish ? BZ_FINISH : BZ_RUN)
                    let done = finish ? status == BZ_STREAM_END : stream.pointee.avail_in == 0
                    return (out.count - Int(stream.pointee.avail_out), done, !done && status < 0 ? status : nil)
                }
            }
        }
        input.removeAll(keepingCapacity: true)
    }

    /// Calls one compressor `step` into the output buffer and writes what it produced, until it
    /// says it is done with the input (or, when finishing, with the stream).
    private func drain(name: String,
                       _ step: (UnsafeMutableRawBufferPointer) -> (written: Int, done: Bool, failure: Int32?)) throws {
        while true {
            let (written, done, failure) = output.withUnsafeMutableBytes { step($0) }
            try output.withUnsafeBytes { try file.write(UnsafeRawBufferPointer(rebasing: $0[0..<written])) }
            if done { return }
            if let failure { throw OutputError(file: file.path, message: "\(name) compression failed (\(failure))") }
        }
    }
}
