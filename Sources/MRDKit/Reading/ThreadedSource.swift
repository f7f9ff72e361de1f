import Foundation

/// Runs another source (a decompressor) on a thread of its own, a few multi-MiB chunks ahead of the
/// reader, so that decompression on one core overlaps parsing on another.
final class ThreadedSource: ByteSource, @unchecked Sendable {
    private final class Chunk: @unchecked Sendable {
        let storage: UnsafeMutableRawBufferPointer
        var count = 0
        var error: Error?
        init(size: Int) { storage = .allocate(byteCount: size, alignment: 64) }
        deinit { storage.deallocate() }
    }

    private let filled: BlockingQueue<Chunk>
    private let empty: BlockingQueue<Chunk>
    private var current: Chunk?
    private var position = 0
    private var ended = false
    private let thread: Thread
    private let done = DispatchSemaphore(value: 0)

    /// - Parameters:
    ///   - chunkSize: bytes per hand-off; small hand-offs are slow, so a few MiB.
    ///   - depth: chunks in flight (decoded but not yet read).
    init(_ upstream: ByteSource, name: String, chunkSize: Int = 4 << 20, depth: Int = 3) {
        let filled = BlockingQueue<Chunk>(capacity: depth + 1)
        let empty = BlockingQueue<Chunk>(capacity: depth + 1)
        for _ in 0..<depth { empty.push(Chunk(size: chunkSize)) }
        self.filled = filled
        self.empty = empty
        let done = self.done
        let box = UncheckedBox(upstream)
        thread = Thread {
            defer { done.signal() }
            while let chunk = empty.pop() {
                // Bytes decoded before an error are handed on first, so the reader can place the
                // error after the last good line.
                chunk.count = 0
                chunk.error = nil
                do {
                    while chunk.count < chunk.storage.count {
                        let n = try box.value.read(into: UnsafeMutableRawBufferPointer(rebasing: chunk.storage[chunk.count...]))
                        if n == 0 { break }
                        chunk.count += n
                    }
                } catch {
                    chunk.error = error
                }
                let last = chunk.count < chunk.storage.count
                if !filled.push(chunk) || last { break }
            }
            filled.close()
        }
        thread.name = "mrd-decode \(name)"
        thread.stackSize = 1 << 20
        thread.start()
    }

    deinit {
        // Stop the producer (it may be waiting for an empty chunk) and wait for it to let go of
        // the upstream source before that source is freed.
        empty.close()
        filled.close()
        done.wait()
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            if ended { return 0 }
            if let chunk = current {
                if position < chunk.count {
                    let n = min(buffer.count, chunk.count - position)
                    buffer.baseAddress!.copyMemory(from: chunk.storage.baseAddress! + position, byteCount: n)
                    position += n
                    return n
                }
                current = nil
                if let error = chunk.error { ended = true; throw error }
                empty.push(chunk)
            }
            guard let next = filled.pop() else { ended = true; return 0 }
            current = next
            position = 0
        }
    }
}
