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
        let workerCount = max(1, workers)
        let poolSize = workerCount * batchesPerWorker + 1
        let free = BlockingQueue<ReadBatch>(capacity: poolSize)
        let full = BlockingQueue<ReadBatch>(capacity: poolSize)
        for _ in 0..<poolSize { free.push(ReadBatch(paired: reader.input.isPaired, capacity: batchCapacity)) }
        let failure = FirstError()

        let readerBox = UncheckedBox(reader)
        let readerDone = DispatchSemaphore(value: 0)
        let readerThread = Thread {
            defer { full.close(); readerDone.signal() }
            while let batch = free.pop() {
                do {
                    guard try readerBox.value.next(into: batch) else { return }
                } catch {
                    failure.record(error)
                    return
                }
                if !full.push(batch) { return }
            }
        }
        readerThread.name = "mrd-read"
        readerThread.stackSize = 1 << 20
        readerThread.start()

        let tallies = UnsafeMutableBufferPointer<Tally>.allocate(capacity: workerCount)
        for i in 0..<workerCount { (tallies.baseAddress! + i).initialize(to: makeTally()) }
        defer { tallies.baseAddress!.deinitialize(count: workerCount); tallies.deallocate() }
        let talliesBox = UncheckedBox(tallies)
        DispatchQueue.concurrentPerform(iterations: workerCount) { worker in
            while let batch = full.pop() {
                do {
                    try process(batch, &talliesBox.value[worker])
                } catch {
                    failure.record(error)
                    free.close()
                    full.close()
                    return
                }
                free.push(batch)
            }
        }
        // Unblock the reader if a worker stopped early, then wait for it to let go of the files.
        free.close()
        readerDone.wait()
        if let error = failure.error { throw error }
        return Array(tallies)
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
