import Foundation

/// A bounded first-in first-out queue between threads. `push` waits while the queue is full, `pop`
/// while it is empty; `close` wakes everyone: pushes are then dropped and pops drain what is left.
///
/// Hand-offs are meant to be coarse (multi-MiB batches): a lock and a condition per item is cheap
/// at that grain.
final class BlockingQueue<Element>: @unchecked Sendable {
    private var items: [Element?]
    private var head = 0
    private var count = 0
    private var closed = false
    private let condition = NSCondition()

    init(capacity: Int) {
        precondition(capacity > 0)
        items = Array(repeating: nil, count: capacity)
    }

    /// Adds `item`, waiting for room. Returns false (and drops the item) when the queue is closed.
    @discardableResult
    func push(_ item: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while count == items.count && !closed { condition.wait() }
        if closed { return false }
        items[(head + count) % items.count] = item
        count += 1
        condition.broadcast()
        return true
    }

    /// Removes the oldest item, waiting for one; nil once the queue is closed and empty.
    func pop() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while count == 0 && !closed { condition.wait() }
        if count == 0 { return nil }
        let item = items[head]
        items[head] = nil
        head = (head + 1) % items.count
        count -= 1
        condition.broadcast()
        return item
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Carries a non-Sendable value into a thread that becomes its only user.
struct UncheckedBox<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
import Dispatch

extension Array {
    /// `map` over contiguous chunks on `threads` threads; the result is in input order, so it is
    /// the same whatever the thread count. Small arrays are mapped on the calling thread.
    func parallelMap<T>(threads: Int, minimumCount: Int = 4096, _ transform: (Element) -> T) -> [T] {
        let n = count
        guard threads > 1, n >= minimumCount else { return map(transform) }
        return withoutActuallyEscaping(transform) { transform in
            withUnsafeBufferPointer { source in
                [T](unsafeUninitializedCapacity: n) { output, initialized in
                    let chunks = threads * 4
                    let box = UncheckedBox((source, output, transform))
                    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                        let (source, output, transform) = box.value
                        for i in (n * chunk / chunks)..<(n * (chunk + 1) / chunks) {
                            (output.baseAddress! + i).initialize(to: transform(source[i]))
                        }
                    }
                    initialized = n
                }
            }
        }
    }
}
