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
