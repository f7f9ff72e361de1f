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
