/// Many small byte strings kept in 1 MiB chunks that never move or grow by copying: a string is
/// added once and read through its `Span` (12 bytes), where an array each would cost a header, an
/// allocation and its rounding (a noisy diagnosis has 10^5 one-read groups of four strings each).
/// Strings are never freed one by one; the arena goes as a whole.
struct ByteArena {
    /// Where a string lies: chunk, offset in it, length (0: no string).
    struct Span: Equatable {
        var chunk: UInt32 = 0
        var offset: UInt32 = 0
        var length: UInt32 = 0

        var isEmpty: Bool { length == 0 }

        /// The same string in an arena that took this one's chunks after `shift` chunks of its own.
        func moved(by shift: UInt32) -> Span { isEmpty ? self : Span(chunk: chunk + shift, offset: offset, length: length) }

        /// The `length` bytes from `start` within this string: no copy (a junction within its read).
        func subspan(from start: Int, length: Int) -> Span {
            precondition(start >= 0 && length >= 0 && start + length <= Int(self.length), "subspan out of range")
            return length == 0 ? Span() : Span(chunk: chunk, offset: offset + UInt32(start), length: UInt32(length))
        }
    }

    private var chunks: [[UInt8]] = []
    static let chunkSize = 1 << 20

    /// Chunks made so far.
    var chunkCount: Int { chunks.count }

    /// Adds `count` bytes that `fill` writes (they start as zeros); an empty span for 0 bytes.
    mutating func add(count: Int, _ fill: (UnsafeMutableBufferPointer<UInt8>) -> Void) -> Span {
        guard count > 0 else { return Span() }
        if chunks.isEmpty || chunks[chunks.count - 1].count + count > chunks[chunks.count - 1].capacity {
            var chunk: [UInt8] = []
            chunk.reserveCapacity(max(Self.chunkSize, count))
            chunks.append(chunk)
        }
        let c = chunks.count - 1
        let offset = chunks[c].count
        // Within the reserved capacity: the chunk never moves.
        chunks[c].append(contentsOf: repeatElement(0, count: count))
        chunks[c].withUnsafeMutableBufferPointer { bytes in fill(UnsafeMutableBufferPointer(rebasing: bytes[offset..<(offset + count)])) }
        return Span(chunk: UInt32(c), offset: UInt32(offset), length: UInt32(count))
    }

    /// Adds a copy of `bytes`.
    mutating func add(_ bytes: UnsafeBufferPointer<UInt8>) -> Span {
        add(count: bytes.count) { $0.baseAddress!.update(from: bytes.baseAddress!, count: bytes.count) }
    }

    /// Calls `body` with a span's bytes (empty for an empty span).
    func withBytes<R>(_ span: Span, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        guard !span.isEmpty else { return body(UnsafeBufferPointer(start: nil, count: 0)) }
        return chunks[Int(span.chunk)].withUnsafeBufferPointer { chunk in
            body(UnsafeBufferPointer(rebasing: chunk[Int(span.offset)..<(Int(span.offset) + Int(span.length))]))
        }
    }

    /// A span's bytes as an array of their own.
    func array(_ span: Span) -> [UInt8] { withBytes(span) { Array($0) } }

    /// Frees chunk `c`; no span into it may be read after.
    mutating func releaseChunk(_ c: Int) { chunks[c] = [] }

    /// Takes `other`'s chunks after this arena's own; returns the shift for `other`'s spans
    /// (`Span.moved(by:)`). Nothing is copied.
    mutating func absorb(_ other: consuming ByteArena) -> UInt32 {
        let shift = UInt32(chunks.count)
        chunks.append(contentsOf: other.chunks)
        return shift
    }
}

/// Bases two bits each (A, C, G, T as 0-3, four to a byte, the first in the low bits): a read kept
/// only to be written out later (a baseline group's representative) in a quarter of its bytes.
enum PackedBases {
    /// 0-3 for A, C, G, T (upper case only: anything else is kept as read), 255 else.
    private static let codes: [UInt8] = {
        var table = [UInt8](repeating: 255, count: 256)
        for (code, letter) in "ACGT".utf8.enumerated() { table[Int(letter)] = UInt8(code) }
        return table
    }()
    private static let letters: [UInt8] = Array("ACGT".utf8)

    static func isPackable(_ bases: UnsafeBufferPointer<UInt8>) -> Bool {
        codes.withUnsafeBufferPointer { codes in bases.allSatisfy { codes[Int($0)] != 255 } }
    }

    /// Packs `bases` (all packable) into `out` ((count + 3) / 4 bytes, zeroed).
    static func pack(_ bases: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>) {
        codes.withUnsafeBufferPointer { codes in
            for i in bases.indices { out[i >> 2] |= codes[Int(bases[i])] << UInt8((i & 3) * 2) }
        }
    }

    /// Writes the `count` bases of `packed` as letters into `out`.
    static func unpack(_ packed: UnsafeBufferPointer<UInt8>, count: Int, into out: UnsafeMutableBufferPointer<UInt8>) {
        letters.withUnsafeBufferPointer { letters in
            for i in 0..<count { out[i] = letters[Int(packed[i >> 2] >> UInt8((i & 3) * 2) & 3)] }
        }
    }

    /// memcmp's sign of `bases` against the same number of packed bases (letters compared as
    /// letters: A < C < G < T is their code order too, and any other byte is compared as itself).
    static func compare(_ bases: UnsafeBufferPointer<UInt8>, packed: UnsafeBufferPointer<UInt8>) -> Int {
        letters.withUnsafeBufferPointer { letters in
            for i in bases.indices {
                let held = letters[Int(packed[i >> 2] >> UInt8((i & 3) * 2) & 3)]
                if bases[i] != held { return bases[i] < held ? -1 : 1 }
            }
            return 0
        }
    }
}
