import CBzip2
import CSequenceKernels
import Foundation

/// Decodes bzip2 on several cores: bzip2 blocks are independent, so a splitter thread finds their
/// bit-aligned start markers, workers decode each block as a one-block stream of its own through
/// libbz2 (which checks the block CRC), and `read` hands the output on in order, checking every
/// stream's combined CRC. A marker pattern that happens to occur inside compressed data (odds about
/// 2^-48 per bit) makes a block fail alone; it is then decoded joined with the next piece.
final class ParallelBzip2Source: ByteSource, @unchecked Sendable {
    /// A piece of a stream between two markers, copied to byte alignment.
    final class Segment: @unchecked Sendable {
        let level: UInt8
        /// Bits from the block marker up to the next marker.
        let bits: [UInt8]
        let bitCount: Int
        let compressedOffset: Int
        /// The last piece of its stream: the stored combined CRC of the stream.
        var streamCRC: UInt32?
        /// Cut short by the end of the input (the stream's end marker was never found).
        var truncatedInput = false
        var output: [UInt8] = []
        var failure: String?
        /// Decoded (guarded by the shared completion condition).
        var done = false

        init(level: UInt8, bits: [UInt8], bitCount: Int, compressedOffset: Int) {
            self.level = level
            self.bits = bits
            self.bitCount = bitCount
            self.compressedOffset = compressedOffset
        }

        var blockCRC: UInt32 {
            guard bitCount >= 80 else { return 0 }
            var crc: UInt32 = 0
            for k in 6..<10 { crc = crc << 8 | UInt32(bits[k]) }
            return crc
        }
    }

    /// Where a stream ended, or an error the splitter met, in input order.
    private enum Item {
        case segment(Segment)
        case failure(Error)
    }

    private let file: String
    private let jobs: BlockingQueue<Segment>
    private let ordered: BlockingQueue<Item>
    private let slots: DispatchSemaphore
    private var threads: [Thread] = []
    private let finished = DispatchGroup()
    private let stop = StopFlag()

    private var current: Segment?
    private var position = 0
    private var pending: Item?
    private var combinedCRC: UInt32 = 0
    private var ended = false

    init(upstream: ByteSource, file: String, workers: Int) {
        self.file = file
        let workerCount = max(1, workers)
        let inFlight = workerCount * 3
        jobs = BlockingQueue(capacity: inFlight + 1)
        ordered = BlockingQueue(capacity: inFlight + 2)
        slots = DispatchSemaphore(value: inFlight)
        let splitter = Splitter(upstream: upstream, file: file)
        let (jobs, ordered, slots, stop) = (self.jobs, self.ordered, self.slots, self.stop)
        let box = UncheckedBox(splitter)
        finished.enter()
        let splitterThread = Thread { [finished] in
            defer { jobs.close(); ordered.close(); finished.leave() }
            do {
                while !stop.isSet, let segment = try box.value.next() {
                    slots.wait()
                    if stop.isSet { return }
                    ordered.push(.segment(segment))
                    jobs.push(segment)
                }
            } catch {
                ordered.push(.failure(error))
            }
        }
        splitterThread.name = "mrd-bzip2-split"
        threads.append(splitterThread)
        for n in 0..<workerCount {
            finished.enter()
            let worker = Thread { [finished] in
                defer { finished.leave() }
                while let segment = jobs.pop() {
                    Self.decode(segment)
                    segment.markDone()
                }
            }
            worker.name = "mrd-bzip2-\(n)"
            threads.append(worker)
        }
        for thread in threads {
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    deinit {
        stop.set()
        jobs.close()
        ordered.close()
        for _ in 0..<64 { slots.signal() }
        finished.wait()
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while !ended {
            if let segment = current, position < segment.output.count {
                let n = min(buffer.count, segment.output.count - position)
                segment.output.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + position, byteCount: n) }
                position += n
                return n
            }
            current = nil
            guard let item = pending ?? ordered.pop() else { ended = true; return 0 }
            pending = nil
            switch item {
            case .failure(let error):
                ended = true
                throw error
            case .segment(let segment):
                segment.waitDone()
                slots.signal()
                try accept(segment)
            }
        }
        return 0
    }

    /// Checks a decoded segment (joining it with the next one when a false marker split a block),
    /// updates the stream CRC and makes it current.
    private func accept(_ first: Segment) throws {
        var segment = first
        if segment.failure != nil && !segment.truncatedInput && segment.streamCRC == nil {
            // Possibly a false marker: retry joined with the following piece.
            if let next = ordered.pop() {
                guard case .segment(let second) = next else { pending = next; throw corrupt(first) }
                second.waitDone()
                slots.signal()
                let joined = Self.join(first, second)
                Self.decode(joined)
                if joined.failure != nil { throw corrupt(first) }
                segment = joined
            }
        }
        if segment.failure != nil {
            if segment.truncatedInput { throw truncated(segment) }
            throw corrupt(segment)
        }
        combinedCRC = (combinedCRC << 1 | combinedCRC >> 31) ^ segment.blockCRC
        if segment.truncatedInput { throw truncated(segment) }
        if let stored = segment.streamCRC {
            if stored != combinedCRC {
                throw ReadError(.corruptCompression, file: file,
                                "corrupt bzip2 data near compressed byte \(segment.compressedOffset): stream CRC mismatch "
                                + "(stored \(String(stored, radix: 16)), computed \(String(combinedCRC, radix: 16)))")
            }
            combinedCRC = 0
        }
        current = segment
        position = 0
    }

    private func corrupt(_ segment: Segment) -> ReadError {
        ReadError(.corruptCompression, file: file,
                  "corrupt bzip2 data near compressed byte \(segment.compressedOffset): \(segment.failure ?? "invalid block")")
    }

    private func truncated(_ segment: Segment) -> ReadError {
        ReadError(.truncatedCompression, file: file,
                  "bzip2 stream truncated: the file ends inside a compressed block (after \(segment.compressedOffset + segment.bitCount / 8) "
                  + "compressed bytes); expected the rest of the stream")
    }

    static func join(_ a: Segment, _ b: Segment) -> Segment {
        var writer = BitWriter()
        writer.append(a.bits, bitCount: a.bitCount)
        writer.append(b.bits, bitCount: b.bitCount)
        let joined = Segment(level: a.level, bits: writer.bytes, bitCount: writer.bitCount,
                             compressedOffset: a.compressedOffset)
        joined.streamCRC = b.streamCRC
        joined.truncatedInput = b.truncatedInput
        return joined
    }

    /// Decodes one piece as a one-block stream: header, the block's bits, end marker, CRC.
    static func decode(_ segment: Segment) {
        guard segment.bitCount >= 80 else {
            segment.failure = "block too short"
            return
        }
        var writer = BitWriter()
        writer.append([0x42, 0x5A, 0x68, segment.level], bitCount: 32)
        writer.append(segment.bits, bitCount: segment.bitCount)
        writer.append(uint: MRD_BZ2_EOS_MAGIC, bits: 48)
        writer.append(uint: UInt64(segment.blockCRC), bits: 32)
        var input = writer.bytes
        var output = [UInt8](repeating: 0, count: Int(segment.level - 0x30) * 100_000 + 4096)
        var produced = 0
        let stream = UnsafeMutablePointer<bz_stream>.allocate(capacity: 1)
        stream.initialize(to: bz_stream())
        defer { BZ2_bzDecompressEnd(stream); stream.deallocate() }
        guard BZ2_bzDecompressInit(stream, 0, 0) == BZ_OK else {
            segment.failure = "cannot start bzip2 decoder"
            return
        }
        input.withUnsafeMutableBytes { inBytes in
            stream.pointee.next_in = inBytes.baseAddress!.assumingMemoryBound(to: CChar.self)
            stream.pointee.avail_in = UInt32(inBytes.count)
            while true {
                if produced == output.count { output += [UInt8](repeating: 0, count: output.count) }
                let status: Int32 = output.withUnsafeMutableBytes { outBytes in
                    stream.pointee.next_out = (outBytes.baseAddress! + produced).assumingMemoryBound(to: CChar.self)
                    stream.pointee.avail_out = UInt32(outBytes.count - produced)
                    let status = BZ2_bzDecompress(stream)
                    produced = outBytes.count - Int(stream.pointee.avail_out)
                    return status
                }
                if status == BZ_STREAM_END { break }
                if status != BZ_OK {
                    segment.failure = status == BZ_DATA_ERROR ? "block CRC mismatch or invalid block data" : "libbz2 error \(status)"
                    return
                }
                if stream.pointee.avail_in == 0 && produced < output.count {
                    segment.failure = "block ends early"
                    return
                }
            }
        }
        output.removeSubrange(produced...)
        segment.output = output
    }

    /// Reads the compressed input and cuts it at block markers.
    final class Splitter {
        private let upstream: ByteSource
        private let file: String
        private var data: [UInt8] = []
        /// Absolute compressed offset of `data[0]`.
        private var base = 0
        private var upstreamEnded = false
        /// Bit offset (within `data`) of the current block marker, when inside a stream.
        private var blockStart: Int?
        private var level: UInt8 = 0x39
        private var streamStart = 0

        init(upstream: ByteSource, file: String) {
            self.upstream = upstream
            self.file = file
        }

        private func readMore() throws -> Bool {
            guard !upstreamEnded else { return false }
            // Drop what is no longer needed before growing.
            let keep = blockStart.map { $0 / 8 } ?? streamStart
            if keep > 0 && keep >= data.count / 2 {
                data.removeSubrange(0..<keep)
                base += keep
                if let start = blockStart { blockStart = start - keep * 8 }
                streamStart -= keep
            }
            let chunk = 4 << 20
            let old = data.count
            data += repeatElement(0, count: chunk)
            let n = try data.withUnsafeMutableBytes {
                try upstream.readFully(into: UnsafeMutableRawBufferPointer(rebasing: $0[old...]))
            }
            data.removeSubrange((old + n)...)
            if n < chunk { upstreamEnded = true }
            return n > 0
        }

        private func marker(from bit: Int) -> (Int, Bool)? {
            var isEnd: Int32 = 0
            let found = data.withUnsafeBufferPointer { mrd_bz2_find_marker($0.baseAddress!, $0.count, UInt64(bit), &isEnd) }
            return found == UInt64.max ? nil : (Int(found), isEnd != 0)
        }

        private func segment(from start: Int, to end: Int) -> Segment {
            let count = end - start
            var bits = [UInt8](repeating: 0, count: (count + 7) / 8)
            data.withUnsafeBufferPointer { p in
                bits.withUnsafeMutableBufferPointer {
                    mrd_copy_bits(p.baseAddress!, p.count, UInt64(start), UInt64(count), $0.baseAddress!)
                }
            }
            return Segment(level: level, bits: bits, bitCount: count, compressedOffset: base + start / 8)
        }

        /// The next piece, or nil at the end of the input.
        func next() throws -> Segment? {
            while true {
                guard let start = blockStart else {
                    // Between streams: zero padding, then "BZh1".."BZh9" or the end.
                    while streamStart < data.count && data[streamStart] == 0 { streamStart += 1 }
                    if data.count - streamStart < 4 {
                        if try readMore() { continue }
                        if streamStart >= data.count { return nil }
                        throw ReadError(.truncatedCompression, file: file, "bzip2 stream truncated: the file ends inside a stream header")
                    }
                    guard data[streamStart] == 0x42, data[streamStart + 1] == 0x5A, data[streamStart + 2] == 0x68,
                          (0x31...0x39).contains(data[streamStart + 3]) else {
                        throw ReadError(.corruptCompression, file: file,
                                        "unexpected data after the end of a bzip2 stream at compressed byte \(base + streamStart): "
                                        + "expected another bzip2 stream or the end of the file")
                    }
                    level = data[streamStart + 3]
                    blockStart = (streamStart + 4) * 8
                    // The first marker must sit right after the header.
                    while data.count * 8 < blockStart! + 48 {
                        guard try readMore() else {
                            throw ReadError(.truncatedCompression, file: file, "bzip2 stream truncated: the file ends after a stream header")
                        }
                    }
                    guard let (first, isEnd) = marker(from: blockStart!), first == blockStart! else {
                        throw ReadError(.corruptCompression, file: file,
                                        "corrupt bzip2 data near compressed byte \(base + streamStart): no block marker after the stream header")
                    }
                    if isEnd {
                        try finishStream(at: first)
                        continue
                    }
                    continue
                }
                if let (next, isEnd) = marker(from: start + 48) {
                    let piece = segment(from: start, to: next)
                    if isEnd {
                        // End marker (48 bits) and the stream CRC (32 bits) must be present.
                        while data.count * 8 < next + 80 {
                            guard try readMore() else {
                                piece.truncatedInput = true
                                blockStart = nil
                                streamStart = data.count
                                return piece
                            }
                        }
                        piece.streamCRC = readCRC(at: next + 48)
                        try finishStream(at: next)
                    } else {
                        blockStart = next
                    }
                    return piece
                }
                if try readMore() { continue }
                // Input ended inside a stream: hand on what is there, marked truncated.
                let piece = segment(from: start, to: data.count * 8)
                piece.truncatedInput = true
                blockStart = nil
                streamStart = data.count
                return piece
            }
        }

        private func readCRC(at bit: Int) -> UInt32 {
            var crc: UInt32 = 0
            for k in 0..<32 {
                let b = bit + k
                crc = crc << 1 | UInt32((data[b >> 3] >> (7 - UInt8(b & 7))) & 1)
            }
            return crc
        }

        /// Moves past an end marker and its CRC to the next byte boundary.
        private func finishStream(at bit: Int) throws {
            while data.count * 8 < bit + 80 {
                guard try readMore() else { throw ReadError(.truncatedCompression, file: file, "bzip2 stream truncated at its end marker") }
            }
            blockStart = nil
            streamStart = (bit + 80 + 7) / 8
        }
    }
}

extension ParallelBzip2Source.Segment {
    private static let lock = NSCondition()
    // Completion is signalled through a per-segment flag guarded by one shared condition: segments
    // complete in bursts of a few per second, so contention is irrelevant.
    func markDone() {
        Self.lock.lock()
        done = true
        Self.lock.broadcast()
        Self.lock.unlock()
    }

    func waitDone() {
        Self.lock.lock()
        while !done { Self.lock.wait() }
        Self.lock.unlock()
    }
}

/// Appends bits most significant first.
struct BitWriter {
    private(set) var bytes: [UInt8] = []
    private(set) var bitCount = 0

    mutating func append(uint value: UInt64, bits: Int) {
        for k in stride(from: bits - 1, through: 0, by: -1) { appendBit(UInt8((value >> UInt64(k)) & 1)) }
    }

    mutating func appendBit(_ bit: UInt8) {
        if bitCount & 7 == 0 { bytes.append(0) }
        if bit != 0 { bytes[bytes.count - 1] |= 0x80 >> UInt8(bitCount & 7) }
        bitCount += 1
    }

    mutating func append(_ source: [UInt8], bitCount count: Int) {
        if bitCount & 7 == 0 {
            bytes += source.prefix((count + 7) / 8)
            bitCount += count
            return
        }
        for k in 0..<count { appendBit((source[k >> 3] >> (7 - UInt8(k & 7))) & 1) }
    }
}

/// A flag set once, read from any thread.
final class StopFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}
