import Foundation

/// Recognises reads of spike-ins by 16-mers that belong to one spike and to no germline element
/// (spike-ins are built on real V and J segments, so only their synthetic core identifies them).
public struct SpikeInMatcher: Sendable {
    public let spikes: [SpikeInCalibrator]
    private let table: KmerTable<Int>
    /// Spike-specific 16-mers per spike and strand: a read must carry half of them.
    private let required: [Int]
    private let scanner = KmerScanner(k: 16)
    private let filter: KmerFilter

    public init(spikes: [SpikeInCalibrator], annotator: Annotator) {
        self.spikes = spikes
        var germlineKmers = Set<UInt32>()
        for element in annotator.elements {
            for strand in [element.sequence, reverseComplement(element.sequence)] {
                scanner.forEach(strand) { _, kmer in germlineKmers.insert(kmer) }
            }
        }
        let specific = spikeSpecificKmers(spikes, excluding: germlineKmers, scanner: scanner)
        table = KmerTable(specific.owners.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        filter = KmerFilter(specific.owners.keys, bits: 16)
        // k-mers at the edges of the synthetic core are only partly synthetic, so a real rearrangement
        // with the same V or J shares a few of them by chance; a spike read carries most of them.
        required = specific.perSpike.map { max(3, $0 / 2) }
    }

    /// The spike a read comes from (half of its spike-specific 16-mers, at least 3), or nil.
    public func match(_ read: [UInt8]) -> Int? {
        var hits = [Int32](repeating: 0, count: spikes.count), touched: [Int32] = [], kmers: [UInt32] = []
        return read.withUnsafeBufferPointer { match($0, hits: &hits, touched: &touched, kmers: &kmers) }
    }

    /// As `match(_:)`, counting in a worker's buffers (`hits` all zero, one per spike; left so;
    /// `kmers` any, grown as needed).
    func match(_ read: UnsafeBufferPointer<UInt8>, hits: inout [Int32], touched: inout [Int32], kmers: inout [UInt32]) -> Int? {
        guard !table.hits.isEmpty else { return nil }
        if hits.count != spikes.count { hits = [Int32](repeating: 0, count: spikes.count) }
        touched.removeAll(keepingCapacity: true)
        // Most reads carry no spike k-mer: the filter (first-level cache) answers for all of them in one C loop.
        let candidates = filter.candidates(read, k: scanner.k, into: &kmers)
        guard candidates > 0 else { return nil }
        table.withLookup { lookup in
            for i in 0..<candidates {
                for h in lookup.range(kmers[i]) {
                    let spike = lookup.hits[h]
                    if hits[spike] == 0 { touched.append(Int32(spike)) }
                    hits[spike] += 1
                }
            }
        }
        // Most hits; the first spike on ties.
        var best = -1
        for spike in touched where best < 0 || hits[Int(spike)] > hits[best] || (hits[Int(spike)] == hits[best] && Int(spike) < best) {
            best = Int(spike)
        }
        let found = best >= 0 && hits[best] >= required[best] ? best : nil
        for spike in touched { hits[Int(spike)] = 0 }
        return found
    }
}

/// The k-mers (both strands) that belong to exactly one spike-in and to no germline k-mer in
/// `germline`: spike-ins are built on real V and J genes, so only their synthetic core identifies
/// them. Also how many of them each spike has on one strand.
func spikeSpecificKmers(_ spikes: [SpikeInCalibrator], excluding germline: Set<UInt32>, scanner: KmerScanner)
    -> (owners: [UInt32: Int], perSpike: [Int]) {
    var owners: [UInt32: Int] = [:]
    var shared = Set<UInt32>()
    for (s, spike) in spikes.enumerated() {
        for strand in [spike.sequence, reverseComplement(spike.sequence)] {
            scanner.forEach(strand) { _, kmer in
                if germline.contains(kmer) { return }
                if let owner = owners[kmer], owner != s { shared.insert(kmer) }
                owners[kmer] = s
            }
        }
    }
    for kmer in shared { owners[kmer] = nil }
    let perSpike = spikes.indices.map { s in
        var count = 0
        scanner.forEach(spikes[s].sequence) { _, kmer in if owners[kmer] == s { count += 1 } }
        return count
    }
    return (owners, perSpike)
}
