import Foundation

/// The sequence of a clone that may be tracked: the consensus of its reads, base by base outward
/// from its junction, instead of one read.
///
/// A clonotype's representative is one read (the longest), with that read's sequencing errors;
/// and among full-length reads of one amplicon the longest are those with an insertion error. Its
/// errors in the V lower the clone's `v_identity` (two in a 300-nt V: 0.7%, enough to move a CLL
/// clone across the 98% line of IGHV mutation status) and stand in its AIRR alignments. The clones
/// that reach the index-clone thresholds (those with a junction consensus: `Clonotype.consensus`)
/// get their reads' consensus instead, from the sample's first `reads` reads: every read that holds
/// the clone's junction exactly, in either orientation, adds its bases at their distance from the
/// junction (a sequencing indel shifts one read's bases, which the others outvote). The consensus
/// runs outward while at least `minDepth` reads, and a quarter of the deepest coverage on that
/// side, cover a position and one base holds more than half of them (random UMI bases, or a
/// minority of VH-replaced reads, stop it or are outvoted; reads with an inserted base, which run
/// one base past the amplicon's end, stop at the quarter).
/// It replaces the representative only when it locates forward with the same junction, locus and
/// kind; its V and J alignments, gapped V and D placement are worked out on it. Sums of counts over
/// the first reads: the same result whatever the thread count.
public enum CloneSequenceConsensus {
    /// Reads of the sample (the first ones) looked at: an index clone is >= 5% of its locus.
    public static let reads = 50_000
    /// Fewest reads covering a consensus position.
    static let minDepth = 3
    /// Fewest reads holding the junction for a consensus at all.
    static let minReads = 5
    /// Shortest junction looked for (a shorter one could occur by chance in another clone's read;
    /// an index clone's is at least 18 nt): longer than the finder's 16-nt anchors.
    static let minJunctionLength = 18
    /// Most clones refined (the largest above the thresholds come first in clone order).
    static let maxClones = 64

    /// Base counts (A, C, G, T) at each distance from the junction, on each side.
    struct Profile: Sendable {
        var upstream: [UInt32] = []
        var downstream: [UInt32] = []
        var reads = 0

        mutating func add(_ base: UInt8, at distance: Int, upstream isUpstream: Bool) {
            let code = Int(KmerScanner.code[Int(base)])
            guard code < 4 else { return }
            if isUpstream { Self.grow(&upstream, to: 4 * (distance + 1)); upstream[4 * distance + code] += 1 }
            else { Self.grow(&downstream, to: 4 * (distance + 1)); downstream[4 * distance + code] += 1 }
        }

        mutating func merge(_ other: Profile) {
            Self.grow(&upstream, to: other.upstream.count)
            for i in other.upstream.indices { upstream[i] += other.upstream[i] }
            Self.grow(&downstream, to: other.downstream.count)
            for i in other.downstream.indices { downstream[i] += other.downstream[i] }
            reads += other.reads
        }

        /// Zero counts appended up to `count` entries.
        private static func grow(_ counts: inout [UInt32], to count: Int) {
            if counts.count < count { counts.append(contentsOf: repeatElement(0, count: count - counts.count)) }
        }

        /// The consensus bases of one side, nearest the junction first.
        static func consensus(_ counts: [UInt32]) -> [UInt8] {
            var bases: [UInt8] = []
            var deepest: UInt32 = 0
            for d in 0..<(counts.count / 4) {
                let c = counts[(4 * d)..<(4 * d + 4)]
                let depth = c.reduce(0, +)
                deepest = max(deepest, depth)
                // Ties go to the first letter (A, C, G, T): the same choice on every run. Past the
                // end of the full-length reads only those with an inserted base go on: a quarter
                // of the deepest coverage stops it there.
                guard let best = c.indices.max(by: { c[$0] < c[$1] || (c[$0] == c[$1] && $0 > $1) }),
                      depth >= UInt32(minDepth), 4 * depth >= deepest, 2 * c[best] > depth else { break }
                bases.append(letters[best - 4 * d])
            }
            return bases
        }

        static let letters: [UInt8] = Array("ACGT".utf8)
    }

    /// The other mate of an unmerged pair one of whose mates holds a clone's junction: for a long
    /// amplicon read 2x150, the V-side read, whose V decides among V alleles that the junction-side
    /// read's few V bases leave tied. `order` is its pair's place in the sample (batch, record).
    struct Mate: Sendable {
        var order: (batch: Int, record: Int)
        var bases: [UInt8]
    }
    /// V-side mates kept per clone: the first ones in sample order (the same whatever the threads).
    static let maxMates = 40
    /// Fewest V-side mates with a V call of the clone's locus for their vote to narrow its V call.
    static let minMateVotes = 5

    struct Tally {
        var profiles: [Profile]
        var starts: [Int]
        var mates: [[Mate]] = []
        let merger = PairMerger()
        var pairs = PairCounts()
    }

    /// The clonotypes refined: those with a junction consensus (up to `maxClones`, in clone order).
    static func chosen(_ clonotypes: [Clonotype]) -> [Int] {
        Array(clonotypes.indices.filter { !clonotypes[$0].consensus.isEmpty && clonotypes[$0].junction.count >= minJunctionLength }
            .prefix(maxClones))
    }

    /// The junctions looked for (each clone's V-to-J and reverse-complemented), found in one pass
    /// over a read: the 16-mer at the middle of each (its N region, which other clones do not
    /// share) is an anchor, a bit filter over the anchors' hashes lets most read positions go at
    /// one probe, and a hit is confirmed by comparing the whole junction. 64 clones cost about
    /// what one costs (a search per clone and strand took 0.32 s for 64 on 50,000 reads).
    struct JunctionFinder: Sendable {
        /// Needle 2k is clone k's junction V-to-J, 2k + 1 its reverse complement.
        let needles: [[UInt8]]
        /// Where each needle's anchor starts in it.
        let anchorOffsets: [Int]
        let anchors: [UInt32: [Int]]
        let filter: [UInt64]
        static let k = 16, filterBits = 20

        init(junctions: [[UInt8]]) {
            needles = junctions.flatMap { [$0, reverseComplement($0)] }
            anchorOffsets = needles.map { ($0.count - Self.k) / 2 }
            var anchors: [UInt32: [Int]] = [:]
            var filter = [UInt64](repeating: 0, count: (1 << Self.filterBits) / 64)
            for (i, needle) in needles.enumerated() {
                guard let code = Self.code(needle[anchorOffsets[i]..<(anchorOffsets[i] + Self.k)]) else { continue }
                anchors[code, default: []].append(i)
                let h = Self.slot(code)
                filter[h >> 6] |= 1 << UInt64(h & 63)
            }
            self.anchors = anchors
            self.filter = filter
        }

        static func slot(_ code: UInt32) -> Int { Int((code &* 0x9E37_79B1) >> UInt32(32 - filterBits)) }

        static func code<C: Collection>(_ bases: C) -> UInt32? where C.Element == UInt8 {
            var code: UInt32 = 0
            for b in bases {
                let c = KmerScanner.code[Int(b)]
                guard c < 4 else { return nil }
                code = code << 2 | UInt32(c)
            }
            return code
        }

        /// The first start of each needle in the read (-1: none), into `starts` (one per needle).
        func find(_ read: UnsafeBufferPointer<UInt8>, starts: inout [Int]) {
            for i in starts.indices { starts[i] = -1 }
            let n = read.count, k = Self.k
            var code: UInt32 = 0, valid = 0
            filter.withUnsafeBufferPointer { filter in
                for p in 0..<n {
                    let c = KmerScanner.code[Int(read[p])]
                    guard c < 4 else { valid = 0; continue }
                    code = code << 2 | UInt32(c)
                    valid += 1
                    guard valid >= k else { continue }
                    let h = Self.slot(code)
                    guard filter[h >> 6] & (1 << UInt64(h & 63)) != 0, let hits = anchors[code] else { continue }
                    for needle in hits where starts[needle] < 0 {
                        let start = p + 1 - k - anchorOffsets[needle], length = needles[needle].count
                        guard start >= 0, start + length <= n else { continue }
                        let equal = needles[needle].withUnsafeBytes { memcmp(read.baseAddress! + start, $0.baseAddress!, length) == 0 }
                        if equal { starts[needle] = start }
                    }
                }
            }
        }
    }

    /// Adds the read's bases to every profile whose junction it holds (V-to-J, else
    /// reverse-complemented); returns the first such clone (-1: none).
    @discardableResult
    static func add(_ read: UnsafeBufferPointer<UInt8>, finder: JunctionFinder, starts: inout [Int], to profiles: inout [Profile]) -> Int {
        guard read.count >= Self.minJunctionLength else { return -1 }
        var first = -1
        finder.find(read, starts: &starts)
        let n = read.count
        for k in profiles.indices {
            let length = finder.needles[2 * k].count
            if starts[2 * k] >= 0 {
                let p = starts[2 * k]
                if first < 0 { first = k }
                profiles[k].reads += 1
                for d in 0..<p { profiles[k].add(read[p - 1 - d], at: d, upstream: true) }
                for d in 0..<(n - p - length) { profiles[k].add(read[p + length + d], at: d, upstream: false) }
            } else if starts[2 * k + 1] >= 0 {
                // Reverse-complemented: V-to-J upstream is past the junction in the read.
                let p = starts[2 * k + 1]
                if first < 0 { first = k }
                profiles[k].reads += 1
                for d in 0..<(n - p - length) { profiles[k].add(complementTable[Int(read[p + length + d])], at: d, upstream: true) }
                for d in 0..<p { profiles[k].add(complementTable[Int(read[p - 1 - d])], at: d, upstream: false) }
            }
        }
        return first
    }

    /// The profiles of `chosen` clonotypes over the sample's first `reads` reads (pairs merged as
    /// everywhere; an unmerged pair's two mates each add what they hold).
    /// With them, each clone's V-side mates (`Mate`), the first `maxMates` in sample order.
    static func profiles(_ clonotypes: [Clonotype], chosen: [Int], input: SampleInput, threads: Int) throws -> (profiles: [Profile], mates: [[[UInt8]]]) {
        let junctions = chosen.map { clonotypes[$0].junction }
        let finder = JunctionFinder(junctions: junctions)
        let reader = try SampleReader(input.readingAhead(chunks: 2, of: 1 << 20))
        reader.recordLimit = reads
        let tallies = try BatchPipeline.run(reader, workers: max(1, threads), batchCapacity: 1 << 20,
                                            makeTally: { Tally(profiles: Array(repeating: Profile(), count: junctions.count),
                                                               starts: Array(repeating: -1, count: 2 * junctions.count),
                                                               mates: Array(repeating: [], count: junctions.count)) }) { batch, tally in
            for i in 0..<batch.count {
                if let merged = tally.merger.merged(batch, i, counts: &tally.pairs) {
                    add(merged.sequence, finder: finder, starts: &tally.starts, to: &tally.profiles)
                    continue
                }
                let first = batch.read1[i].sequence
                let one = add(first, finder: finder, starts: &tally.starts, to: &tally.profiles)
                guard let mates = batch.read2 else { continue }
                let two = add(mates[i].sequence, finder: finder, starts: &tally.starts, to: &tally.profiles)
                // One mate holds a junction, the other none: the other is its V side (or J side).
                // Each worker sees its batches in sample order, so its first ones are its earliest.
                if (one < 0) != (two < 0) {
                    let k = max(one, two)
                    if tally.mates[k].count < maxMates {
                        tally.mates[k].append(Mate(order: (batch.sequenceNumber, i), bases: Array(one < 0 ? first : mates[i].sequence)))
                    }
                }
            }
        }
        var profiles = Array(repeating: Profile(), count: junctions.count)
        for tally in tallies { for k in profiles.indices { profiles[k].merge(tally.profiles[k]) } }
        let mates = junctions.indices.map { k in
            Array(tallies.flatMap { $0.mates[k] }.sorted { $0.order < $1.order }.prefix(maxMates).map(\.bases))
        }
        return (profiles, mates)
    }

    /// A clone's V call narrowed by its V-side mates: of its tied alleles, those that most mates
    /// with a V of the clone's locus call (each mate's own tied alleles), when at least
    /// `minMateVotes` such mates exist and those alleles are called by more than half of them.
    /// Never an allele outside the tie: the mates only decide what the junction side could not
    /// (60 nt of FR3 leave IGHV4-30-2, 4-30-4, 4-39, 4-4 and 4-59 alleles tied; read 1's FR1-CDR2
    /// tells them apart). The representative's V alignments follow the new first allele.
    static func narrowV(_ clone: inout Clonotype, mates: [[UInt8]], annotator: Annotator, scratch: inout AnnotationScratch) {
        let tied = clone.vCall.split(separator: ",").map(String.init)
        guard tied.count > 1, mates.count >= minMateVotes else { return }
        var votes: [String: Int] = [:], voters = 0
        for mate in mates {
            guard let calls = annotator.vOnlyCalls(mate, scratch: &scratch), calls.locus == clone.locus else { continue }
            voters += 1
            for allele in tied where calls.alleles.contains(allele) { votes[allele, default: 0] += 1 }
        }
        guard voters >= minMateVotes, let top = votes.values.max(), 2 * top > voters else { return }
        let narrowed = tied.filter { votes[$0] == top }
        guard narrowed.count < tied.count else { return }
        clone.vCall = narrowed.joined(separator: ",")
        if narrowed[0] != tied[0], let v = clone.vAlignment {
            if let (gapped, germline) = annotator.gappedV(read: clone.representative, junctionStart: clone.representativeJunctionStart,
                                                         ungapped: v, allele: narrowed[0]) {
                clone.vGapped = gapped
                clone.vGermline = germline
            }
        }
    }

    /// Replaces the representative of each chosen clonotype by its reads' consensus where one can
    /// be made and placed. Returns how many were replaced.
    @discardableResult
    public static func refine(_ clonotypes: inout [Clonotype], input: SampleInput, annotator: Annotator, threads: Int) throws -> Int {
        let chosen = Self.chosen(clonotypes)
        guard !chosen.isEmpty else { return 0 }
        let (profiles, mates) = try Self.profiles(clonotypes, chosen: chosen, input: input, threads: threads)
        var scratch = AnnotationScratch(annotator)
        var replaced = 0
        for (k, c) in chosen.enumerated() {
            narrowV(&clonotypes[c], mates: mates[k], annotator: annotator, scratch: &scratch)
        }
        for (k, c) in chosen.enumerated() where profiles[k].reads >= minReads {
            let clone = clonotypes[c]
            let upstream = Profile.consensus(profiles[k].upstream)
            let downstream = Profile.consensus(profiles[k].downstream)
            let sequence = Array(upstream.reversed()) + clone.junction + downstream
            guard let placed = annotator.placeForward(sequence, locus: clone.locus, kind: clone.kind, junction: clone.junction, scratch: &scratch),
                  placed.junctionStart == upstream.count,
                  // A V (J) the representative had is kept: the consensus must align one too.
                  clone.vAlignment == nil || placed.v != nil, clone.jAlignment == nil || placed.j != nil else { continue }
            let shift = placed.junctionStart - clone.representativeJunctionStart
            var refined = clone
            refined.representative = sequence
            refined.representativeReversed = false
            refined.representativeJunctionStart = placed.junctionStart
            refined.vAlignment = placed.v
            refined.jAlignment = placed.j
            refined.vGapped = nil
            refined.vGermline = []
            if let v = placed.v, let allele = clone.vCall.split(separator: ",").first,
               let (gapped, germline) = annotator.gappedV(read: sequence, junctionStart: placed.junctionStart, ungapped: v, allele: String(allele)) {
                refined.vGapped = gapped
                refined.vGermline = germline
            }
            if var d = clone.dOnRepresentative {
                d.start += shift
                refined.dOnRepresentative = d
            }
            refined.consensusReads = profiles[k].reads
            clonotypes[c] = refined
            replaced += 1
        }
        return replaced
    }
}
