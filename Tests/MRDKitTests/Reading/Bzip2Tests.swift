import CBzip2
import CSequenceKernels
import Foundation
import Testing
@testable import MRDKit

/// bzip2 through the real libbz2, block size `level` x 100 kB.
private func bzip2(_ data: [UInt8], level: Int32) -> [UInt8] {
    var output = [UInt8](repeating: 0, count: data.count + data.count / 50 + 1000)
    var length = UInt32(output.count)
    var input = data
    let status = input.withUnsafeMutableBytes { inBytes in
        output.withUnsafeMutableBytes { outBytes in
            BZ2_bzBuffToBuffCompress(outBytes.baseAddress!.assumingMemoryBound(to: CChar.self), &length,
                                     inBytes.baseAddress!.assumingMemoryBound(to: CChar.self), UInt32(inBytes.count), level, 0, 0)
        }
    }
    precondition(status == BZ_OK)
    return Array(output.prefix(Int(length)))
}

/// A FASTQ text of about `reads` x 320 bytes.
private func fastqText(reads: Int, seed: UInt64) -> [UInt8] {
    var random = SeededRandom(seed: seed)
    var text: [UInt8] = []
    let bases = Array("ACGT".utf8)
    for i in 0..<reads {
        text += "@r\(i) x\n".utf8
        text += (0..<150).map { _ in bases[random.below(4)] }
        text += "\n+\n".utf8
        text += (0..<150).map { _ in UInt8(35 + random.below(40)) }
        text.append(10)
    }
    return text
}

private func readAllWith(_ bytes: [UInt8], serial: Bool) throws -> [OwnedRecord] {
    let file = try temporaryDirectory().appendingPathComponent("x.fastq.bz2")
    defer { try? FileManager.default.removeItem(at: file.deletingLastPathComponent()) }
    try Data(bytes).write(to: file)
    if serial {
        let source = try FileSource(path: file.path)
        let decoded = MultiMemberSource(upstream: PrefixedSource(prefix: [], upstream: source),
                                        decoder: try Bzip2Decoder(file: file.path), file: file.path)
        return try readAll(FastxReader(source: decoded, name: file.path, decoding: DecoderSettings(inflate: .zlib)))
    }
    let parallel = ParallelBzip2Source(upstream: try FileSource(path: file.path), file: file.path, workers: 3)
    return try readAll(FastxReader(source: parallel, name: file.path, decoding: DecoderSettings(inflate: .zlib)))
}

@Suite("Parallel bzip2 decoding")
struct Bzip2Tests {
    static let text = fastqText(reads: 4000, seed: 5)  // ~1.3 MB: 13 blocks at level 1

    @Test("multi-block, multi-stream input decodes to the same records as serial libbz2")
    func sameAsSerial() throws {
        let plain = try readAll(FastxReader(source: MemorySource(Self.text), name: "plain"))
        let cut = Self.text.count / 3
        let streams = bzip2(Array(Self.text[..<cut]), level: 1) + bzip2(Array(Self.text[cut...]), level: 2) + [0, 0, 0]
        for compressed in [bzip2(Self.text, level: 1), bzip2(Self.text, level: 9), streams] {
            let parallel = try readAllWith(compressed, serial: false)
            #expect(parallel == plain)
            #expect(try readAllWith(compressed, serial: true) == plain)
        }
    }

    @Test("damage: a flipped byte in a middle block, a wrong stream CRC, a cut file")
    func damage() throws {
        let compressed = bzip2(Self.text, level: 1)
        var flipped = compressed
        flipped[compressed.count / 2] ^= 0x10
        #expect(throws: ReadError.self) { _ = try readAllWith(flipped, serial: false) }
        do { _ = try readAllWith(flipped, serial: false) } catch let error as ReadError {
            #expect(error.kind == .corruptCompression)
            #expect(error.line! > 1000, "records before the damaged block were read: \(error)")
        }
        // The stream CRC is the last 4 bytes but for the bit padding: flip bits in the last 2 bytes.
        var badCRC = compressed
        badCRC[badCRC.count - 2] ^= 0x01
        do { _ = try readAllWith(badCRC, serial: false); Issue.record("bad stream CRC accepted") } catch let error as ReadError {
            #expect(error.kind == .corruptCompression)
            #expect(error.description.contains("stream CRC mismatch"), "\(error)")
        }
        for keep in [compressed.count - 3, compressed.count * 2 / 3, 10] {
            do { _ = try readAllWith(Array(compressed[..<keep]), serial: false); Issue.record("cut at \(keep) accepted") }
            catch let error as ReadError {
                #expect(error.kind == .truncatedCompression, "cut at \(keep): \(error)")
            }
        }
    }

    @Test("a block split by a false marker decodes when joined again")
    func falseMarkerJoin() throws {
        let compressed = bzip2(Array(Self.text.prefix(50_000)), level: 1)
        // One block: header (32 bits), block, end marker (48) + CRC (32) + padding.
        var isEnd: Int32 = 0
        let end = compressed.withUnsafeBufferPointer { mrd_bz2_find_marker($0.baseAddress!, $0.count, 80, &isEnd) }
        #expect(isEnd == 1)
        let blockBits = Int(end) - 32
        func piece(_ from: Int, _ count: Int) -> ParallelBzip2Source.Segment {
            var bits = [UInt8](repeating: 0, count: (count + 7) / 8)
            compressed.withUnsafeBufferPointer { p in
                bits.withUnsafeMutableBufferPointer { mrd_copy_bits(p.baseAddress!, p.count, UInt64(from), UInt64(count), $0.baseAddress!) }
            }
            return ParallelBzip2Source.Segment(level: compressed[3], bits: bits, bitCount: count, compressedOffset: from / 8)
        }
        let whole = piece(32, blockBits)
        ParallelBzip2Source.decode(whole)
        #expect(whole.failure == nil)
        #expect(whole.output == Array(Self.text.prefix(50_000)))
        let split = 32 + 12_345
        let first = piece(32, split - 32), second = piece(split, blockBits - (split - 32))
        ParallelBzip2Source.decode(first)
        #expect(first.failure != nil, "half a block does not decode")
        let joined = ParallelBzip2Source.join(first, second)
        ParallelBzip2Source.decode(joined)
        #expect(joined.output == whole.output)
    }
}
