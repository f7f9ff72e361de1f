import CSequenceKernels
import Foundation

/// Summary statistics of a set of reads, as `seqkit stats -a` gives them: counts, lengths, mean
/// Phred quality, Q30 share and GC content. Merging is order-independent, so any split of the reads
/// over workers gives the same totals.
public struct ReadStatistics: Sendable, Equatable, Codable {
    public var reads = 0
    public var bases = 0
    public var minLength = Int.max
    public var maxLength = 0
    /// Bases with a quality value (FASTQ) and the sum of their Phred scores.
    public var qualityBases = 0
    public var qualitySum = 0
    /// Bases at Phred >= 30.
    public var q30Bases = 0
    /// G, C and S (either case).
    public var gcBases = 0

    public init() {}

    public mutating func add(_ batch: RecordBatch) {
        let base = UnsafePointer(batch.bytes.baseAddress!.assumingMemoryBound(to: UInt8.self))
        for span in batch.spans {
            let length = Int(span.sequenceLength)
            reads += 1
            bases += length
            minLength = min(minLength, length)
            maxLength = max(maxLength, length)
            gcBases += Int(mrd_count_gc(base + Int(span.sequenceStart), length))
            if span.qualityStart >= 0 {
                var q30: UInt64 = 0
                qualitySum += Int(mrd_quality_sum(base + Int(span.qualityStart), length, &q30))
                qualityBases += length
                q30Bases += Int(q30)
            }
        }
    }

    /// One read given by its bases and (FASTQ) Phred+33 qualities, e.g. a merged pair.
    public mutating func add(sequence: UnsafeBufferPointer<UInt8>, quality: UnsafeBufferPointer<UInt8>) {
        let length = sequence.count
        reads += 1
        bases += length
        minLength = min(minLength, length)
        maxLength = max(maxLength, length)
        guard length > 0 else { return }
        gcBases += Int(mrd_count_gc(sequence.baseAddress!, length))
        if quality.count == length {
            var q30: UInt64 = 0
            qualitySum += Int(mrd_quality_sum(quality.baseAddress!, length, &q30))
            qualityBases += length
            q30Bases += Int(q30)
        }
    }

    public mutating func merge(_ other: ReadStatistics) {
        reads += other.reads
        bases += other.bases
        minLength = min(minLength, other.minLength)
        maxLength = max(maxLength, other.maxLength)
        qualityBases += other.qualityBases
        qualitySum += other.qualitySum
        q30Bases += other.q30Bases
        gcBases += other.gcBases
    }

    public var meanLength: Double { reads == 0 ? 0 : Double(bases) / Double(reads) }
    /// Mean Phred score over all bases; nil without qualities (FASTA).
    public var meanQuality: Double? { qualityBases == 0 ? nil : Double(qualitySum) / Double(qualityBases) }
    public var q30Percent: Double? { qualityBases == 0 ? nil : 100 * Double(q30Bases) / Double(qualityBases) }
    public var gcPercent: Double { bases == 0 ? 0 : 100 * Double(gcBases) / Double(bases) }
}

/// Statistics of one file (or, for paired input, of one mate's lane files).
public struct FileStatistics: Sendable, Equatable {
    public var files: [FileSummary]
    public var statistics: ReadStatistics
    /// With `merge`: the pairs of the sample and how many merged (the same rule and counts as
    /// baseline.json and call.json); the merged reads' own row has `isMerged` set.
    public var pairs: PairCounts?
    public var isMerged = false

    public var fileLabel: String { (isMerged ? "merged:" : "") + files.map(\.file).joined(separator: ";") }
    public var formatLabel: String { Self.distinct(files.map { $0.format?.rawValue ?? "" }) }
    public var compressionLabel: String { Self.distinct(files.map(\.compression.rawValue)) }

    private static func distinct(_ values: [String]) -> String {
        var seen: [String] = []
        for value in values where !seen.contains(value) { seen.append(value) }
        return seen.joined(separator: ",")
    }

    /// Reads a sample and returns statistics for read 1 (and read 2 when paired). With `merge`
    /// (paired input only) a third row describes the merged reads (overlapping pairs merged by
    /// `PairMerger`; unmerged pairs are not in it), and every row carries the pair counts.
    public static func compute(_ input: SampleInput, threads: Int, merge: Bool = false) throws -> [FileStatistics] {
        // A file is described as it is, interleaved or not.
        let reader = try SampleReader(input, detectingInterleaved: false)
        // Statistics describe any FASTQ, old Phred+64 ones included (their mean quality tells).
        reader.checksQualityEncoding = false
        let merging = merge && input.isPaired
        // The reader (and decoder) threads take the other cores; stats work is light (merging is not).
        let workers = merging ? max(1, threads) : max(1, threads - 1)
        let tallies = try BatchPipeline.run(reader, workers: workers,
                                            makeTally: { StatisticsTally(merging: merging) }) { batch, tally in
            tally.first.add(batch.read1)
            guard let mates = batch.read2 else { return }
            tally.second.add(mates)
            guard let merger = tally.merger else { return }
            for i in 0..<batch.read1.count {
                if let read = merger.merged(batch, i, counts: &tally.pairs) {
                    tally.merged.add(sequence: read.sequence, quality: read.quality)
                }
            }
        }
        var total = StatisticsTally(merging: false)
        for tally in tallies {
            total.first.merge(tally.first)
            total.second.merge(tally.second)
            total.merged.merge(tally.merged)
            total.pairs.add(tally.pairs)
        }
        let summaries = reader.summaries
        let lanes = input.read1.count
        let pairs = merging ? total.pairs : nil
        var result = [FileStatistics(files: Array(summaries.prefix(lanes)), statistics: total.first, pairs: pairs)]
        if input.isPaired {
            result.append(FileStatistics(files: Array(summaries.dropFirst(lanes)), statistics: total.second, pairs: pairs))
        }
        if merging {
            result.append(FileStatistics(files: Array(summaries.prefix(lanes)), statistics: total.merged, pairs: pairs, isMerged: true))
        }
        return result
    }
}

/// One worker's statistics of a sample.
private struct StatisticsTally {
    var first = ReadStatistics(), second = ReadStatistics(), merged = ReadStatistics()
    var pairs = PairCounts()
    let merger: PairMerger?

    init(merging: Bool) { merger = merging ? PairMerger() : nil }
}
