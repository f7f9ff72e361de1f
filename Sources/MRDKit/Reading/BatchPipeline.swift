import Dispatch
import Foundation

/// Reader thread -> bounded queue of batches -> N workers, each with a private tally -> merge.
///
/// As in fastp, the reader hands out multi-MiB batches and workers never share state while they
/// run; the caller merges the tallies, so results cannot depend on the thread count as long as
/// the merge is order-independent (or sorts by `ReadBatch.sequenceNumber`).
public enum BatchPipeline {
    /// Reads the whole sample and returns one tally per worker.
    /// - Parameters:
    ///   - workers: worker threads (at least 1); the reader runs on a thread of its own.
    ///   - batchesPerWorker: batches in flight per worker; bounds memory.
    ///   - makeTally: a fresh tally for each worker.
    ///   - process: work on one batch; runs concurrently on different batches and tallies.
    public static func run<Tally>(
        _ reader: SampleReader,
        workers: Int,
        batchCapacity: Int = 4 << 20,
        batchesPerWorker: Int = 2,
        makeTally: () -> Tally,
        process: @escaping @Sendable (ReadBatch, inout Tally) throws -> Void
    ) throws -> [Tally] {
        try drive(reader, workers: workers, batchCapacity: batchCapacity, batchesPerWorker: batchesPerWorker,
                  broadcast: false, makeTally: makeTally) { batch, _, tally in try process(batch, &tally) }
    }

    /// Which share of each batch a worker owns: the reads whose key hash (bits 20-35, apart from
    /// the low bits that place entries in a worker's hash tables) is `worker` modulo `workers`.
    public struct Partition: Sendable {
        public let worker: Int
        public let workers: Int

        @inline(__always)
        public func owns(_ hash: UInt64) -> Bool { workers == 1 || Int((hash >> 20 & 0xFFFF) % UInt64(workers)) == worker }
    }

    /// As `run`, but every batch goes to every worker, and each worker handles only the reads its
    /// `Partition` owns (by a hash of their content). A work memo per worker then sees each
    /// distinct read in one worker only, so no read is worked out twice; hashing a read costs far
    /// less than annotating it. The batch is recycled once all workers are done with it. One batch
    /// per worker in flight: every batch is shared by all workers, and annotation is slow next to
    /// filling a batch, so a second one per worker only held 4 MiB more each (no speed measured).
    ///
    /// With `epochBatches`, the workers meet after every that many batches (the same batches
    /// whatever the worker count: the reader cuts them by size): `atEpochEnd` runs on one thread
    /// with every tally while the others wait, so a decision taken there (from all tallies at once)
    /// depends on the input only, not on the thread count or on timing.
    public static func runPartitioned<Tally>(
        _ reader: SampleReader,
        workers: Int,
        batchCapacity: Int = 4 << 20,
        batchesPerWorker: Int = 1,
        epochBatches: Int = 0,
        atEpochEnd: @escaping @Sendable (UnsafeMutableBufferPointer<Tally>) -> Void = { _ in },
        makeTally: () -> Tally,
        process: @escaping @Sendable (ReadBatch, Partition, inout Tally) throws -> Void
    ) throws -> [Tally] {
        let workerCount = max(1, workers)
        return try drive(reader, workers: workerCount, batchCapacity: batchCapacity, batchesPerWorker: batchesPerWorker,
                         broadcast: true, epochBatches: epochBatches, atEpochEnd: atEpochEnd, makeTally: makeTally) { batch, worker, tally in
            try process(batch, Partition(worker: worker, workers: workerCount), &tally)
        }
    }

    /// The reader thread and the workers: with `broadcast`, each worker has its own queue and gets
    /// every batch; otherwise the workers share one queue and each batch goes to one of them.
    private static func drive<Tally>(
        _ reader: SampleReader,
        workers: Int,
        batchCapacity: Int,
        batchesPerWorker: Int,
        broadcast: Bool,
        epochBatches: Int = 0,
        atEpochEnd: @escaping @Sendable (UnsafeMutableBufferPointer<Tally>) -> Void = { _ in },
        makeTally: () -> Tally,
        process: @escaping @Sendable (ReadBatch, Int, inout Tally) throws -> Void
    ) throws -> [Tally] {
        precondition(epochBatches == 0 || broadcast, "epochs need every worker to see every batch")
        let workerCount = max(1, workers)
        let poolSize = workerCount * batchesPerWorker + 1
        let free = BlockingQueue<ReadBatch>(capacity: poolSize)
        let queues = (0..<(broadcast ? workerCount : 1)).map { _ in BlockingQueue<ReadBatch>(capacity: poolSize) }
        for _ in 0..<poolSize { free.push(ReadBatch(paired: reader.isPaired, capacity: batchCapacity)) }
        let failure = FirstError()
        let pending = broadcast ? PendingWorkers() : nil

        let readerBox = UncheckedBox(reader)
        let readerDone = DispatchSemaphore(value: 0)
        let readerThread = Thread {
            defer { queues.forEach { $0.close() }; readerDone.signal() }
            while let batch = free.pop() {
                do {
                    guard try readerBox.value.next(into: batch) else { return }
                } catch {
                    failure.record(error)
                    return
                }
                pending?.start(batch, workers: workerCount)
                for queue in queues where !queue.push(batch) { return }
            }
        }
        readerThread.name = "mrd-read"
        readerThread.stackSize = 1 << 20
        readerThread.start()

        let tallies = UnsafeMutableBufferPointer<Tally>.allocate(capacity: workerCount)
        for i in 0..<workerCount { (tallies.baseAddress! + i).initialize(to: makeTally()) }
        defer { tallies.baseAddress!.deinitialize(count: workerCount); tallies.deallocate() }
        let talliesBox = UncheckedBox(tallies)
        let barrier = EpochBarrier(parties: workerCount)
        // Threads of their own, not concurrentPerform: that runs at most as many iterations at once
        // as there are cores, and with `broadcast` a batch is recycled only after every worker has
        // seen it, so a worker that never started (--threads above the core count) would stall
        // the reader for good.
        runOnThreads(workerCount) { worker in
            let inbox = queues[broadcast ? worker : 0]
            var batches = 0
            while let batch = inbox.pop() {
                do {
                    try process(batch, worker, &talliesBox.value[worker])
                } catch {
                    failure.record(error)
                    barrier.breakUp()
                    free.close()
                    queues.forEach { $0.close() }
                    return
                }
                if pending?.finish(batch) ?? true { free.push(batch) }
                batches += 1
                if epochBatches > 0 && batches % epochBatches == 0 {
                    guard barrier.arrive({ atEpochEnd(talliesBox.value) }) else { return }
                }
            }
        }
        // Unblock the reader if a worker stopped early, then wait for it to let go of the files.
        free.close()
        readerDone.wait()
        if let error = failure.error { throw error }
        return Array(tallies)
    }
}

/// Runs `body(0..<count)` on `count` threads at once and waits for all of them.
func runOnThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let finished = DispatchSemaphore(value: 0)
    for index in 0..<count {
        let thread = Thread {
            body(index)
            finished.signal()
        }
        thread.name = "mrd-worker-\(index)"
        thread.stackSize = 8 << 20
        thread.start()
    }
    for _ in 0..<count { finished.wait() }
}

/// Where the workers meet at the end of an epoch: the last to arrive runs the epoch's work while
/// the others wait. A worker that fails breaks it up, so that no one waits for it for ever.
final class EpochBarrier: @unchecked Sendable {
    private let condition = NSCondition()
    private let parties: Int
    private var arrived = 0
    private var generation = 0
    private var broken = false

    init(parties: Int) { self.parties = parties }

    /// Waits for the other parties (the last one runs `work` first); false once broken up.
    func arrive(_ work: () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        if broken { return false }
        arrived += 1
        if arrived == parties {
            work()
            arrived = 0
            generation += 1
            condition.broadcast()
            return true
        }
        let mine = generation
        while generation == mine && !broken { condition.wait() }
        return !broken
    }

    func breakUp() {
        condition.lock()
        broken = true
        condition.broadcast()
        condition.unlock()
    }
}

/// How many workers still have each batch in hand.
private final class PendingWorkers: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [ObjectIdentifier: Int] = [:]

    func start(_ batch: ReadBatch, workers: Int) {
        lock.lock()
        counts[ObjectIdentifier(batch)] = workers
        lock.unlock()
    }

    /// True when the last worker is done with `batch`.
    func finish(_ batch: ReadBatch) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        let left = counts[ObjectIdentifier(batch)]! - 1
        counts[ObjectIdentifier(batch)] = left == 0 ? nil : left
        return left == 0
    }
}

/// Keeps the first error reported from any thread.
final class FirstError: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Error?

    func record(_ error: Error) {
        lock.lock()
        if stored == nil { stored = error }
        lock.unlock()
    }

    var error: Error? {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }
}
