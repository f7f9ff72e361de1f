import CBzip2
import CIsal
import CZlib
import Foundation

/// What one call of a decoder did.
struct DecodeStep {
    enum Status {
        /// Made progress (or needs more input or output room).
        case progress
        /// A gzip member or bzip2 stream ended and its checks passed.
        case memberEnd
        /// The data is invalid: the message says how.
        case corrupt(String)
    }
    var consumed: Int
    var produced: Int
    var status: Status
}

/// One compressed-member decoder (zlib, ISA-L, libbz2). `MultiMemberSource` drives it over
/// concatenated members.
protocol MemberDecoder: AnyObject {
    var formatName: String { get }
    /// The magic bytes that start every member.
    var memberMagic: [UInt8] { get }
    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> DecodeStep
    /// Prepares for the next member.
    func reset() throws
    /// Bytes to have at hand when a member starts (its whole header, in practice).
    var memberHeadReserve: Int { get }
}

extension MemberDecoder {
    var memberHeadReserve: Int { 0 }
}

/// Decompresses a stream of one or many concatenated members (multi-member gzip, BGZF, parallel
/// bzip2 output), checking each member's CRC and length, and rejecting truncated or corrupt data
/// with the compressed byte offset where it was found.
final class MultiMemberSource: ByteSource {
    private let upstream: ByteSource
    private let decoder: MemberDecoder
    private let file: String
    private let window: UnsafeMutableRawBufferPointer
    private var windowStart = 0
    private var windowEnd = 0
    private var upstreamEnded = false
    private var compressedOffset = 0
    private var insideMember = true
    private var atMemberStart = true
    private var finished = false

    init(upstream: ByteSource, decoder: MemberDecoder, file: String, windowSize: Int = 1 << 20) {
        self.upstream = upstream
        self.decoder = decoder
        self.file = file
        window = UnsafeMutableRawBufferPointer.allocate(byteCount: windowSize, alignment: 64)
    }

    deinit { window.deallocate() }

    private var available: Int { windowEnd - windowStart }

    /// Makes at least `count` bytes available unless the upstream ends; returns whether it did.
    private func fill(atLeast count: Int) throws -> Bool {
        while available < count && !upstreamEnded {
            if windowStart > 0 && (windowEnd == window.count || available == 0) {
                // Slide the unread tail to the front so the rest of the window can be filled.
                if available > 0 {
                    window.baseAddress!.copyMemory(from: window.baseAddress! + windowStart, byteCount: available)
                }
                windowEnd = available
                windowStart = 0
            }
            guard windowEnd < window.count else { break }
            let n = try upstream.read(into: UnsafeMutableRawBufferPointer(rebasing: window[windowEnd...]))
            if n == 0 { upstreamEnded = true } else { windowEnd += n }
        }
        return available >= count
    }

    private func consume(_ count: Int) {
        windowStart += count
        compressedOffset += count
    }

    /// An error met after some bytes of a call were decoded: those bytes are returned first.
    private var pendingError: Error?

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if let error = pendingError {
            pendingError = nil
            throw error
        }
        var produced = 0
        do {
            try decode(into: buffer, produced: &produced)
        } catch {
            if produced == 0 { throw error }
            pendingError = error
        }
        return produced
    }

    private func decode(into buffer: UnsafeMutableRawBufferPointer, produced: inout Int) throws {
        while produced < buffer.count && !finished {
            if !insideMember {
                try startNextMember()
                continue
            }
            if try available == 0 && !fill(atLeast: 1) {
                throw ReadError(.truncatedCompression, file: file,
                                "\(decoder.formatName) stream truncated: the file ends inside a compressed block "
                                + "(after \(compressedOffset) compressed bytes); expected the rest of the stream")
            }
            if atMemberStart {
                // ISA-L misreads a gzip header with an extra field (BGZF) that arrives in pieces:
                // hand it whole headers. zlib needs nothing here.
                _ = try fill(atLeast: decoder.memberHeadReserve)
                atMemberStart = false
            }
            let input = UnsafeRawBufferPointer(rebasing: window[windowStart..<windowEnd])
            let output = UnsafeMutableRawBufferPointer(rebasing: buffer[produced...])
            let step = decoder.decode(input, into: output)
            consume(step.consumed)
            produced += step.produced
            switch step.status {
            case .progress:
                // A decoder that neither consumes nor produces with input and room left is stuck.
                if step.consumed == 0 && step.produced == 0 && available > 0 {
                    if try !fill(atLeast: available + 1) {
                        if upstreamEnded {
                            throw ReadError(.truncatedCompression, file: file,
                                            "\(decoder.formatName) stream truncated after \(compressedOffset + available) "
                                            + "compressed bytes; expected the rest of the stream")
                        }
                        throw ReadError(.corruptCompression, file: file,
                                        "\(decoder.formatName) decoder made no progress near compressed byte \(compressedOffset)")
                    }
                }
            case .memberEnd:
                insideMember = false
            case .corrupt(let reason):
                throw ReadError(.corruptCompression, file: file,
                                "corrupt \(decoder.formatName) data near compressed byte \(compressedOffset): \(reason)")
            }
        }
    }

    /// After a member: end of stream, zero padding, or the magic bytes of the next member.
    private func startNextMember() throws {
        while true {
            guard try fill(atLeast: 1) else { finished = true; return }
            // Zero padding after the last member (tape blocks, some writers) is skipped, as gzip does.
            let base = window.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var zeros = 0
            while windowStart + zeros < windowEnd && base[windowStart + zeros] == 0 { zeros += 1 }
            if zeros == 0 { break }
            consume(zeros)
        }
        let magic = decoder.memberMagic
        _ = try fill(atLeast: magic.count)
        let base = window.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let head = (0..<min(magic.count, available)).map { base[windowStart + $0] }
        guard head == magic else {
            throw ReadError(.corruptCompression, file: file,
                            "unexpected data after the end of a \(decoder.formatName) stream at compressed byte "
                            + "\(compressedOffset): expected another \(decoder.formatName) member or the end of the file")
        }
        try decoder.reset()
        insideMember = true
        atMemberStart = true
    }
}

// MARK: - zlib

final class ZlibGzipDecoder: MemberDecoder {
    private let stream: UnsafeMutablePointer<z_stream>
    let formatName = "gzip"
    let memberMagic: [UInt8] = [0x1f, 0x8b]

    init(file: String) throws {
        // zlib keeps a pointer back to its z_stream, so the stream needs a fixed address.
        stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = mrd_inflate_init_gzip(stream)
        guard status == Z_OK else {
            stream.deallocate()
            throw ReadError(.unreadableInput, file: file, "cannot start zlib inflate (code \(status))")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> DecodeStep {
        let inCount = UInt32(min(input.count, Int(UInt32.max)))
        let outCount = UInt32(min(output.count, Int(UInt32.max)))
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = inCount
        stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = outCount
        let status = inflate(stream, Z_NO_FLUSH)
        var step = DecodeStep(consumed: Int(inCount - stream.pointee.avail_in),
                              produced: Int(outCount - stream.pointee.avail_out), status: .progress)
        switch status {
        case Z_OK, Z_BUF_ERROR:
            break
        case Z_STREAM_END:
            step.status = .memberEnd
        default:
            // zlib's messages name the check that failed: "incorrect data check" is the CRC32,
            // "incorrect length check" the ISIZE of the member trailer.
            let reason = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
            step.status = .corrupt(reason)
        }
        return step
    }

    func reset() throws {
        inflateReset(stream)
    }
}

// MARK: - ISA-L

final class IsalGzipDecoder: MemberDecoder {
    private let inflater: UnsafeMutableRawPointer
    let formatName = "gzip"
    let memberMagic: [UInt8] = [0x1f, 0x8b]
    /// A gzip header: 10 bytes, plus extra field, name and comment (BGZF: 18 in all).
    let memberHeadReserve = 4096

    /// nil when ISA-L is not available in this build or on this machine.
    init?() {
        guard let handle = mrd_isal_create() else { return nil }
        inflater = handle
    }

    deinit { mrd_isal_destroy(inflater) }

    static var isAvailable: Bool { mrd_isal_available() != 0 }

    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> DecodeStep {
        guard let inputBase = input.baseAddress, let outputBase = output.baseAddress else {
            return DecodeStep(consumed: 0, produced: 0, status: .progress)
        }
        var next: UnsafePointer<UInt8>? = inputBase.assumingMemoryBound(to: UInt8.self)
        var remaining = input.count
        var produced = 0
        let status = mrd_isal_inflate(inflater, &next, &remaining,
                                      outputBase.assumingMemoryBound(to: UInt8.self), output.count, &produced)
        var step = DecodeStep(consumed: input.count - remaining, produced: produced, status: .progress)
        switch status {
        case Int32(MRD_ISAL_MEMBER_END): step.status = .memberEnd
        case Int32(MRD_ISAL_CHECKSUM): step.status = .corrupt("incorrect data check (CRC32 or length of a member)")
        case Int32(MRD_ISAL_CORRUPT): step.status = .corrupt("invalid deflate data or gzip header")
        case Int32(MRD_ISAL_UNAVAILABLE): step.status = .corrupt("ISA-L is not available")
        default: break
        }
        return step
    }

    func reset() throws {
        mrd_isal_reset(inflater)
    }
}

// MARK: - bzip2

final class Bzip2Decoder: MemberDecoder {
    private let stream: UnsafeMutablePointer<bz_stream>
    private let file: String
    private var active = false
    let formatName = "bzip2"
    let memberMagic: [UInt8] = [0x42, 0x5a, 0x68]  // "BZh"

    init(file: String) throws {
        self.file = file
        stream = UnsafeMutablePointer<bz_stream>.allocate(capacity: 1)
        stream.initialize(to: bz_stream())
        try start()
    }

    private func start() throws {
        stream.pointee = bz_stream()
        let status = BZ2_bzDecompressInit(stream, 0, 0)
        guard status == BZ_OK else {
            throw ReadError(.unreadableInput, file: file, "cannot start bzip2 decoder (code \(status))")
        }
        active = true
    }

    deinit {
        if active { BZ2_bzDecompressEnd(stream) }
        stream.deallocate()
    }

    func decode(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> DecodeStep {
        let inCount = UInt32(min(input.count, Int(UInt32.max)))
        let outCount = UInt32(min(output.count, Int(UInt32.max)))
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: CChar.self))
        stream.pointee.avail_in = inCount
        stream.pointee.next_out = output.baseAddress?.assumingMemoryBound(to: CChar.self)
        stream.pointee.avail_out = outCount
        let status = BZ2_bzDecompress(stream)
        var step = DecodeStep(consumed: Int(inCount - stream.pointee.avail_in),
                              produced: Int(outCount - stream.pointee.avail_out), status: .progress)
        switch status {
        case BZ_OK: break
        case BZ_STREAM_END: step.status = .memberEnd
        case BZ_DATA_ERROR: step.status = .corrupt("block CRC or stream CRC mismatch, or invalid block data")
        case BZ_DATA_ERROR_MAGIC: step.status = .corrupt("bad bzip2 stream header")
        case BZ_MEM_ERROR: step.status = .corrupt("out of memory while decoding")
        default: step.status = .corrupt("libbz2 error \(status)")
        }
        return step
    }

    func reset() throws {
        if active { BZ2_bzDecompressEnd(stream); active = false }
        try start()
    }
}

/// Stacks the right decoder on `source` for `compression`.
func decompressingSource(_ source: ByteSource, compression: Compression, file: String,
                         decoding: DecoderSettings) throws -> ByteSource {
    switch compression {
    case .plain:
        return source
    case .gzip, .bgzf:
        let decoder: MemberDecoder
        switch decoding.inflate {
        case .zlib:
            decoder = try ZlibGzipDecoder(file: file)
        case .isal:
            guard let isal = IsalGzipDecoder() else {
                throw ReadError(.unreadableInput, file: file, "ISA-L inflate requested but libisal is not available")
            }
            decoder = isal
        case .automatic:
            if let isal = IsalGzipDecoder() { decoder = isal } else { decoder = try ZlibGzipDecoder(file: file) }
        }
        return MultiMemberSource(upstream: source, decoder: decoder, file: file)
    case .bzip2:
        if decoding.bzip2Threads > 1 {
            return ParallelBzip2Source(upstream: source, file: file, workers: decoding.bzip2Threads)
        }
        return MultiMemberSource(upstream: source, decoder: try Bzip2Decoder(file: file), file: file)
    }
}
