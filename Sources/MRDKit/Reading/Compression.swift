import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How an input's bytes are compressed, recognised from its first bytes (never from its name).
public enum Compression: String, Sendable, CaseIterable {
    case plain
    case gzip
    /// Blocked gzip (BGZF, as written by bgzip/samtools): gzip members with a `BC` extra field.
    case bgzf
    case bzip2

    /// Recognises the compression from the first bytes of a stream (up to 18 are looked at).
    /// Throws for formats that are recognised but not read (zstd, xz, zip, BAM-like binaries).
    package static func sniff(_ head: [UInt8], file: String) throws -> Compression {
        if head.count >= 2 && head[0] == 0x1f && head[1] == 0x8b {
            // FEXTRA flag, XLEN >= 6, subfield 'B','C' of length 2: BGZF (SAM spec, section 4.1).
            if head.count >= 16 && head[3] & 0x04 != 0 && head[12] == 0x42 && head[13] == 0x43 {
                return .bgzf
            }
            return .gzip
        }
        if head.count >= 4 && head[0] == 0x42 && head[1] == 0x5a && head[2] == 0x68
            && (0x31...0x39).contains(head[3]) {
            return .bzip2
        }
        let unsupported: [([UInt8], String)] = [
            ([0x28, 0xb5, 0x2f, 0xfd], "zstd"),
            ([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], "xz"),
            ([0x50, 0x4b, 0x03, 0x04], "zip"),
            ([0x04, 0x22, 0x4d, 0x18], "lz4"),
        ]
        for (magic, name) in unsupported where head.starts(with: magic) {
            throw ReadError(.unrecognizedFormat, file: file,
                            "\(name)-compressed input is not read; expected plain, gzip or bzip2 FASTQ/FASTA")
        }
        return .plain
    }
}

/// Which inflate implementation gzip input uses.
public enum InflateBackend: String, Sendable {
    /// ISA-L's igzip when libisal is loadable (about 2.3x zlib), else zlib.
    case automatic
    case zlib
    case isal

    /// Whether ISA-L's inflate can be loaded here.
    public static var isalAvailable: Bool { IsalGzipDecoder.isAvailable }

}

/// How compressed input is decoded. The command sets it from its options (`--threads`) and, for
/// benchmarks, from the environment (`MRD_INFLATE`, `MRD_BZIP2`); results never depend on it.
public struct DecoderSettings: Sendable, Equatable {
    public var inflate: InflateBackend = .automatic
    /// Threads decoding bzip2 blocks side by side (1: one stream decoder, serially).
    public var bzip2Threads = ProcessInfo.processInfo.activeProcessorCount
    /// Decompressed bytes a decoding thread may hold ahead of the parser: `aheadChunks` hand-offs
    /// of `aheadChunkSize`. Reading alone wants a deep queue of large chunks (the parser is as fast
    /// as the decoder); annotation is many times slower than decoding, so less is enough there.
    public var aheadChunkSize = 4 << 20
    public var aheadChunks = 3

    public init(inflate: InflateBackend = .automatic, bzip2Threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.inflate = inflate
        self.bzip2Threads = bzip2Threads
    }
}
