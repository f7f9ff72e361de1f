/// A germline element that can start (5') or end (3') an amplicon: a V gene, a D gene with its
/// upstream flank, the IGK intron, a J gene with its downstream flank, the Kde element, TRDD3.
struct GermlineElement: Sendable {
    enum Role: Sendable { case v, dUpstream, intron, j, kde, d3Downstream }
    let segment: GermlineSegment
    let role: Role
    /// The indexed sequence.
    let sequence: [UInt8]
    /// 5' elements: where the junction starts; 3' elements: where it ends (exclusive).
    let anchor: Int
    /// Alleles whose indexed sequence is identical to this one's (they always tie).
    var alleles: [String] = []
    /// Where `sequence` starts in the segment's own sequence (V elements keep only the 3' part).
    var segmentOffset = 0

    var locus: Locus { segment.locus }
    var isFivePrime: Bool { role == .v || role == .dUpstream || role == .intron }
}

/// One read's rearrangement as found: locus, kind, segment calls, and the junction within the read
/// turned to the V-to-J direction.
public struct ReadAnnotation: Sendable, Equatable {
    public var locus: Locus
    public var kind: RearrangementKind
    public var vCall: String
    public var dCall: String
    public var jCall: String
    /// The read in V-to-J direction (reverse-complemented when `reversed`).
    public var sequence: [UInt8]
    public var reversed: Bool
    public var junctionStart: Int
    public var junctionEnd: Int
    /// Ungapped alignments of the V and J genes on `sequence` (nil for elements that are not genes).
    public var vAlignment: SegmentAlignment?
    public var jAlignment: SegmentAlignment?
    /// Junction bases that are germline of the 5' element (from the junction start) and of the 3'
    /// element (up to the junction end): what recombination did not add.
    public var templatedFivePrime = 0
    public var templatedThreePrime = 0

    public var junction: ArraySlice<UInt8> { sequence[junctionStart..<junctionEnd] }
}

/// Where a germline gene lies on a read: 0-based half-open ranges on the read and on the gene.
public struct SegmentAlignment: Sendable, Equatable, Hashable {
    public var readStart: Int
    public var readEnd: Int
    public var germlineStart: Int
    public var germlineEnd: Int
    public var germlineLength: Int

    /// AIRR CIGAR: query bases before (S), germline bases skipped (N), the match (M), query after (S).
    public func cigar(readLength: Int) -> String {
        var text = ""
        if readStart > 0 { text += "\(readStart)S" }
        if germlineStart > 0 { text += "\(germlineStart)N" }
        text += "\(readEnd - readStart)M"
        if readLength > readEnd { text += "\(readLength - readEnd)S" }
        return text
    }
}

/// Why a read got no annotation; every read is counted under one of these or as annotated.
public enum UnassignedReason: String, Error, Sendable, CaseIterable, Codable {
    /// No germline segment found at all.
    case noGermline = "no_germline_hit"
    /// A 5' segment but no 3' one in the same orientation (or the reverse).
    case noFivePrime = "no_v_or_5prime_element"
    case noThreePrime = "no_j_or_3prime_element"
    /// Both found, but the junction anchors are not both inside the read.
    case junctionNotCovered = "junction_not_covered"
    /// The segments found do not form a known rearrangement.
    case incompatibleSegments = "incompatible_segments"
}

/// Seed-and-extend annotation: k-mers of the read are looked up in an index of the 5' and 3'
/// germline elements (in both orientations); the best diagonal of each element places its anchor in
/// the read, and a base-by-base comparison along that diagonal ranks the candidate alleles.
public final class Annotator: Sendable {
    let elements: [GermlineElement]
    private let scanner: KmerScanner
    /// k-mer -> (element, offset in element) pairs.
    private let table: KmerTable<Hit>
    private let dGenes: [Locus: [GermlineSegment]]
    private let maxElementLength: Int
    /// Per element, flat: whether it is a 5' element, and its rank in allele-name order.
    private let isFivePrime: [Bool]
    private let alleleRank: [Int]
    /// (locus, 6-mer code) -> (index in dGenes[locus], offset in the gene), for D calls.
    private let dSeedTable: [Locus: [Int: [(Int, Int)]]]

    static let maxHitsPerKmer = 48

    struct Hit: Sendable {
        var element: Int32
        var offset: Int32
    }

    public init(germline: GermlineReference, loci: [Locus] = [.IGH, .IGK, .IGL, .TRB, .TRG, .TRD], k: Int = 12) {
        scanner = KmerScanner(k: k)
        var elements: [GermlineElement] = []
        for segment in germline.segments where loci.contains(segment.locus) {
            switch segment.kind {
            case .V:
                guard let anchor = segment.anchor else { continue }
                let start = max(0, anchor - 90)
                var element = GermlineElement(segment: segment, role: .v, sequence: Array(segment.sequence[start...]),
                                              anchor: anchor - start)
                element.segmentOffset = start
                elements.append(element)
            case .D:
                if !segment.upstream.isEmpty {
                    let flank = Array(segment.upstream.suffix(70))
                    elements.append(GermlineElement(segment: segment, role: .dUpstream, sequence: flank + segment.sequence,
                                                    anchor: flank.count))
                } else if !segment.downstream.isEmpty {
                    elements.append(GermlineElement(segment: segment, role: .d3Downstream,
                                                    sequence: segment.sequence + segment.downstream.prefix(50),
                                                    anchor: segment.sequence.count))
                }
            case .J:
                guard let anchor = segment.anchor else { continue }
                elements.append(GermlineElement(segment: segment, role: .j, sequence: segment.sequence + segment.downstream.prefix(30),
                                                anchor: anchor + 3))
            case .KDE:
                elements.append(GermlineElement(segment: segment, role: .kde, sequence: Array(segment.sequence.prefix(90)), anchor: 20))
            case .INTRON:
                let kept = Array(segment.sequence.suffix(90))
                elements.append(GermlineElement(segment: segment, role: .intron, sequence: kept, anchor: kept.count - 20))
            }
        }
        // Alleles that differ only outside the indexed window are one element with several names:
        // fewer k-mer hits per read, and the ties are listed all the same.
        var unique: [GermlineElement] = []
        var seen: [String: Int] = [:]
        for var element in elements {
            let key = "\(element.role)|\(element.locus)|\(element.anchor)|" + String(decoding: element.sequence, as: UTF8.self)
            if let index = seen[key] {
                unique[index].alleles.append(element.segment.allele)
            } else {
                element.alleles = [element.segment.allele]
                seen[key] = unique.count
                unique.append(element)
            }
        }
        elements = unique
        var entries: [(UInt32, Hit)] = []
        for (e, element) in elements.enumerated() {
            scanner.forEach(element.sequence) { position, kmer in
                entries.append((kmer, Hit(element: Int32(e), offset: Int32(position))))
            }
        }
        let table = KmerTable(entries)
        self.elements = elements
        self.table = table
        maxElementLength = elements.map(\.sequence.count).max() ?? 0
        isFivePrime = elements.map(\.isFivePrime)
        var rank = [Int](repeating: 0, count: elements.count)
        for (r, e) in elements.indices.sorted(by: { elements[$0].segment.allele < elements[$1].segment.allele }).enumerated() { rank[e] = r }
        alleleRank = rank
        var dGenes: [Locus: [GermlineSegment]] = [:]
        for segment in germline.segments where segment.kind == .D && segment.upstream.isEmpty && segment.downstream.isEmpty {
            dGenes[segment.locus, default: []].append(segment)
        }
        self.dGenes = dGenes
        var dSeedTable: [Locus: [Int: [(Int, Int)]]] = [:]
        for (locus, genes) in dGenes {
            for (g, gene) in genes.enumerated() where gene.sequence.count >= Self.dSeed {
                for offset in 0...(gene.sequence.count - Self.dSeed) {
                    if let code = Self.code(gene.sequence[offset..<offset + Self.dSeed]) { dSeedTable[locus, default: [:]][code, default: []].append((g, offset)) }
                }
            }
        }
        self.dSeedTable = dSeedTable
    }

    /// Best placement of one element on the read: diagonal (read position - element position) and
    /// the number of k-mer hits on it.
    struct Placement {
        var element: Int
        var diagonal: Int
        var hits: Int
        var score = 0
    }

    /// Element placements for one orientation of the read. First the k-mer hits of every element
    /// are counted in a flat array; only the elements with at least half the hits of the best one on
    /// their side (5' or 3') then get their diagonals counted (by sorting a short list of keys).
    struct Seed {
        var counts: [Int32]
        var touched: [Int32] = []
        var found: [(position: Int, range: Range<Int>)] = []
        var bestFive: Int32 = 0
        var bestThree: Int32 = 0
        var strength: Int32 { bestFive + bestThree }
    }

    /// First pass over one orientation: k-mer hits per element.
    private func seed(_ read: [UInt8]) -> Seed {
        var counts = [Int32](repeating: 0, count: elements.count)
        var touched: [Int32] = []
        // Hit ranges per read position, kept for the second pass.
        var found: [(position: Int, range: Range<Int>)] = []
        table.hits.withUnsafeBufferPointer { hits in
            scanner.forEach(read) { position, kmer in
                // Every other k-mer: 12-mers overlapping by 10 still seed every element that
                // shares 13 nt with the read, at half the lookups.
                guard position & 1 == 0 else { return }
                let range = table.range(kmer)
                // k-mers shared by very many elements (conserved framework motifs) say little about
                // which element it is and cost the most: the diagonal score decides among alleles.
                guard !range.isEmpty && range.count <= Self.maxHitsPerKmer else { return }
                found.append((position, range))
                for h in range {
                    let e = Int(hits[h].element)
                    if counts[e] == 0 { touched.append(Int32(e)) }
                    counts[e] += 1
                }
            }
        }
        var bestFive: Int32 = 0, bestThree: Int32 = 0
        for e in touched {
            if isFivePrime[Int(e)] { bestFive = max(bestFive, counts[Int(e)]) } else { bestThree = max(bestThree, counts[Int(e)]) }
        }
        return Seed(counts: counts, touched: touched, found: found, bestFive: bestFive, bestThree: bestThree)
    }

    /// Second pass, for the chosen orientation only: the best diagonal of each element that has at
    /// least half the hits of the best one on its side. Hits are bucketed by element (the first
    /// pass counted them), then each bucket's diagonals are counted in one histogram: linear time.
    private func placements(_ seed: Seed, readLength: Int) -> [Placement] {
        guard !seed.touched.isEmpty else { return [] }
        var selected: [Int32] = []
        for e in seed.touched {
            let best = isFivePrime[Int(e)] ? seed.bestFive : seed.bestThree
            let count = seed.counts[Int(e)]
            if count >= 2 && count * 2 >= best { selected.append(e) }
        }
        guard !selected.isEmpty else { return [] }
        selected.sort()
        // Bucket start of each selected element; -1 marks the others.
        var cursor = seed.counts
        for e in seed.touched { cursor[Int(e)] = -1 }
        var bucketStarts: [Int] = []
        var total: Int32 = 0
        for e in selected {
            bucketStarts.append(Int(total))
            cursor[Int(e)] = total
            total += seed.counts[Int(e)]
        }
        var diagonals = [Int32](repeating: 0, count: Int(total))
        table.hits.withUnsafeBufferPointer { hits in
            for (position, range) in seed.found {
                for h in range {
                    let e = Int(hits[h].element)
                    guard cursor[e] >= 0 else { continue }
                    diagonals[Int(cursor[e])] = Int32(position) - hits[h].offset
                    cursor[e] += 1
                }
            }
        }
        // Diagonals lie in -(longest element) ... read length.
        let shift = maxElementLength
        var histogram = [Int32](repeating: 0, count: shift + readLength + 1)
        var result: [Placement] = []
        result.reserveCapacity(selected.count)
        for (b, e) in selected.enumerated() {
            let bucket = bucketStarts[b]..<bucketStarts[b] + Int(seed.counts[Int(e)])
            var bestDiagonal = Int32.max, bestHits: Int32 = 0
            for d in diagonals[bucket] {
                let slot = Int(d) + shift
                histogram[slot] += 1
                let n = histogram[slot]
                // Most hits; the smallest diagonal on ties.
                if n > bestHits || (n == bestHits && d < bestDiagonal) { bestHits = n; bestDiagonal = d }
            }
            for d in diagonals[bucket] { histogram[Int(d) + shift] = 0 }
            result.append(Placement(element: Int(e), diagonal: Int(bestDiagonal), hits: Int(bestHits)))
        }
        return result
    }

    /// Matches minus 3 x mismatches of the element against the read along a diagonal, over the
    /// element part that lies on its germline side of the junction anchor.
    private func score(_ placement: Placement, _ read: [UInt8]) -> Int {
        let element = elements[placement.element]
        let range: Range<Int> = element.isFivePrime ? 0..<element.anchor + (element.role == .v ? 3 : 0)
                                                    : (element.role == .j ? max(0, element.anchor - 3) : element.anchor)..<element.sequence.count
        var total = 0
        for offset in range {
            let position = offset + placement.diagonal
            guard position >= 0 && position < read.count else { continue }
            total += read[position] == element.sequence[offset] ? 1 : -3
        }
        return total
    }

    /// The best-scoring 5' or 3' candidates (ties kept), given the placements of one orientation.
    private func bestCandidates(_ placements: [Placement], fivePrime: Bool, _ read: [UInt8]) -> [Placement] {
        let side = placements.filter { isFivePrime[$0.element] == fivePrime }
        guard let topHits = side.map(\.hits).max(), topHits >= 2 else { return [] }
        var scored = side.filter { $0.hits * 2 >= topHits }.map { placement -> Placement in
            var p = placement
            p.score = score(p, read)
            return p
        }
        guard let topScore = scored.map(\.score).max(), topScore >= 12 else { return [] }
        scored = scored.filter { $0.score == topScore }
        return scored.sorted { alleleRank[$0.element] < alleleRank[$1.element] }
    }

    /// - Parameter callD: find the D gene of VDJ junctions (callers that group reads by junction can
    ///   call `dCall` once per junction instead).
    public func annotate(_ bases: [UInt8], callD: Bool = true) -> Result<ReadAnnotation, UnassignedReason> {
        let forward = bases
        let reverse = reverseComplement(bases)
        let seedForward = seed(forward), seedReverse = seed(reverse)
        if seedForward.touched.isEmpty && seedReverse.touched.isEmpty { return .failure(.noGermline) }
        // Orientation: the one whose best 5' plus best 3' elements have more k-mer hits.
        let reversed = seedReverse.strength > seedForward.strength
        let read = reversed ? reverse : forward
        let chosen = placements(reversed ? seedReverse : seedForward, readLength: read.count)
        let fives = bestCandidates(chosen, fivePrime: true, read)
        let threes = bestCandidates(chosen, fivePrime: false, read)
        guard let five = fives.first else { return .failure(.noFivePrime) }
        guard let three = threes.first else { return .failure(.noThreePrime) }
        let fiveElement = elements[five.element], threeElement = elements[three.element]
        guard fiveElement.locus == threeElement.locus else { return .failure(.incompatibleSegments) }
        let locus = fiveElement.locus
        let start = fiveElement.anchor + five.diagonal
        let end = threeElement.anchor + three.diagonal
        guard start >= 0, end <= read.count, end - start >= 3 else { return .failure(.junctionNotCovered) }
        let kind: RearrangementKind
        switch (fiveElement.role, threeElement.role) {
        case (.v, .j): kind = [.IGH, .TRB, .TRD].contains(locus) ? .VDJ : .VJ
        case (.dUpstream, .j): kind = .DJ
        case (.v, .kde): kind = .vKde
        case (.intron, .kde): kind = .intronKde
        case (.v, .d3Downstream): kind = .VD
        case (.dUpstream, .d3Downstream): kind = .DD
        default: return .failure(.incompatibleSegments)
        }
        func calls(_ candidates: [Placement]) -> String {
            Set(candidates.flatMap { elements[$0.element].alleles }).sorted().joined(separator: ",")
        }
        var annotation = ReadAnnotation(locus: locus, kind: kind, vCall: "", dCall: "", jCall: "", sequence: read,
                                        reversed: reversed, junctionStart: start, junctionEnd: end)
        switch fiveElement.role {
        case .v, .intron: annotation.vCall = calls(fives)
        default: annotation.dCall = calls(fives)
        }
        switch threeElement.role {
        case .j, .kde: annotation.jCall = calls(threes)
        default:
            if kind == .VD { annotation.dCall = calls(threes) } else { annotation.jCall = calls(threes) }
        }
        if kind == .VDJ && callD { annotation.dCall = dCall(locus, Array(read[start..<end])) }
        var fiveLength = 0
        while start + fiveLength < end, fiveElement.anchor + fiveLength < fiveElement.sequence.count,
              read[start + fiveLength] == fiveElement.sequence[fiveElement.anchor + fiveLength] { fiveLength += 1 }
        var threeLength = 0
        while end - 1 - threeLength >= start + fiveLength, threeElement.anchor - 1 - threeLength >= 0,
              read[end - 1 - threeLength] == threeElement.sequence[threeElement.anchor - 1 - threeLength] { threeLength += 1 }
        annotation.templatedFivePrime = fiveLength
        annotation.templatedThreePrime = threeLength
        if fiveElement.role == .v { annotation.vAlignment = alignV(fiveElement, five.diagonal, read) }
        if threeElement.role == .j { annotation.jAlignment = alignJ(threeElement, three.diagonal, read) }
        return .success(annotation)
    }

    /// The V gene on its diagonal: from where it enters the read to the last base of the germline
    /// run that still matches after the Cys codon (trimmed 3' ends stop there).
    func alignV(_ element: GermlineElement, _ diagonal: Int, _ read: [UInt8]) -> SegmentAlignment {
        let first = max(0, -diagonal)  // element offset of the first read base
        var end = element.anchor + 3
        while end < element.sequence.count, end + diagonal < read.count, read[end + diagonal] == element.sequence[end] { end += 1 }
        end = min(end, read.count - diagonal)
        return SegmentAlignment(readStart: first + diagonal, readEnd: end + diagonal,
                                germlineStart: element.segmentOffset + first, germlineEnd: element.segmentOffset + end,
                                germlineLength: element.segment.sequence.count)
    }

    /// The J gene on its diagonal: from the first base of the germline run that matches before the
    /// Trp/Phe codon (trimmed 5' ends start later) to the end of the gene or of the read.
    func alignJ(_ element: GermlineElement, _ diagonal: Int, _ read: [UInt8]) -> SegmentAlignment {
        var start = element.anchor - 3
        while start > 0, start - 1 + diagonal >= 0, read[start - 1 + diagonal] == element.sequence[start - 1] { start -= 1 }
        let geneEnd = element.segment.sequence.count
        let end = min(geneEnd, read.count - diagonal)
        return SegmentAlignment(readStart: start + diagonal, readEnd: end + diagonal, germlineStart: start, germlineEnd: end,
                                germlineLength: geneEnd)
    }

    /// D genes with the longest exact match (at least 6 nt) inside the junction; ties listed.
    public func dCall(_ locus: Locus, _ junction: [UInt8]) -> String {
        dMatch(locus, junction).calls
    }

    /// Length of the longest exact D-gene match (at least 6 nt) inside `junction`, 0 if none.
    public func dMatchLength(_ locus: Locus, _ junction: [UInt8]) -> Int {
        dMatch(locus, junction).length
    }

    private func dMatch(_ locus: Locus, _ junction: [UInt8]) -> (calls: String, length: Int) {
        guard let genes = dGenes[locus], let dSeeds = dSeedTable[locus], junction.count >= Self.dSeed else { return ("", 0) }
        // Every exact match of 6 nt or more starts with a shared 6-mer: look those up, then extend.
        var longest = [Int](repeating: 0, count: genes.count)
        for start in 0...(junction.count - Self.dSeed) {
            guard let code = Self.code(junction[start..<start + Self.dSeed]), let places = dSeeds[code] else { continue }
            for (gene, offset) in places where offset == 0 || start == 0 || genes[gene].sequence[offset - 1] != junction[start - 1] {
                var length = Self.dSeed
                let d = genes[gene].sequence
                while offset + length < d.count, start + length < junction.count, d[offset + length] == junction[start + length] { length += 1 }
                longest[gene] = max(longest[gene], length)
            }
        }
        guard let best = longest.max(), best >= Self.dSeed else { return ("", 0) }
        return (genes.indices.filter { longest[$0] == best }.map { genes[$0].allele }.joined(separator: ","), best)
    }

    static let dSeed = 6

    /// 2-bit code of a short A/C/G/T word, nil if it holds another letter.
    static func code(_ word: ArraySlice<UInt8>) -> Int? {
        var value = 0
        for base in word {
            switch base {
            case UInt8(ascii: "A"): value = value << 2
            case UInt8(ascii: "C"): value = value << 2 | 1
            case UInt8(ascii: "G"): value = value << 2 | 2
            case UInt8(ascii: "T"): value = value << 2 | 3
            default: return nil
            }
        }
        return value
    }
}
