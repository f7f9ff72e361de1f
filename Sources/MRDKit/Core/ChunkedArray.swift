/// An array kept in chunks of 4,096 elements: appending never moves what is already there. A growing
/// `Array` copies itself into a buffer twice its size, so while it grows it holds up to 1.5x its
/// contents (for the 10^5 groups of a noisy diagnosis, tens of MB at the worst moment).
struct ChunkedArray<Element>: RandomAccessCollection, MutableCollection {
    private var chunks: [[Element]] = []
    private(set) var count = 0
    private static var shift: Int { 12 }
    /// Elements per chunk.
    static var chunkLength: Int { 1 << shift }
    private static var mask: Int { (1 << shift) - 1 }

    init() {}

    var startIndex: Int { 0 }
    var endIndex: Int { count }

    subscript(position: Int) -> Element {
        get { chunks[position >> Self.shift][position & Self.mask] }
        _modify { yield &chunks[position >> Self.shift][position & Self.mask] }
    }

    /// Calls `body` with a pointer to element `position`, valid only inside: fields read through it
    /// are loaded one by one, where a read through the subscript may copy the whole element (a
    /// retain and a release for each array it holds).
    func withElementPointer<R>(_ position: Int, _ body: (UnsafePointer<Element>) throws -> R) rethrows -> R {
        try chunks[position >> Self.shift].withUnsafeBufferPointer { try body($0.baseAddress! + (position & Self.mask)) }
    }

    var chunkCount: Int { chunks.count }

    /// Frees chunk `k` (elements `k * chunkLength ..< (k + 1) * chunkLength`); they must not be read after.
    mutating func releaseChunk(_ k: Int) { chunks[k] = [] }

    mutating func append(_ element: Element) {
        if count & Self.mask == 0 {
            var chunk: [Element] = []
            chunk.reserveCapacity(1 << Self.shift)
            chunks.append(chunk)
        }
        chunks[chunks.count - 1].append(element)
        count += 1
    }
}
