import CSequenceKernels

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

/// The calls of a read whose elements were placed but whose junction it does not hold whole.
public struct UncoveredCalls: Sendable, Equatable {
    public var locus: Locus
    public var reversed: Bool
    public var vCall = "", dCall = "", jCall = ""
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
    /// The V gene's gapped alignment (hypermutation, small indels), when asked for.
    public var vGapped: GeneAlignment?
    /// The V allele's whole germline sequence (that of the first tied allele), with `vGapped`.
    public var vGermline: [UInt8] = []
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

/// A `SegmentAlignment` in 20 bytes, for what is kept per group.
struct PackedAlignment: Sendable, Equatable {
    var readStart: Int32, readEnd: Int32, germlineStart: Int32, germlineEnd: Int32, germlineLength: Int32

    init(_ a: SegmentAlignment) {
        readStart = Int32(a.readStart); readEnd = Int32(a.readEnd)
        germlineStart = Int32(a.germlineStart); germlineEnd = Int32(a.germlineEnd); germlineLength = Int32(a.germlineLength)
    }

    var alignment: SegmentAlignment {
        SegmentAlignment(readStart: Int(readStart), readEnd: Int(readEnd), germlineStart: Int(germlineStart),
                         germlineEnd: Int(germlineEnd), germlineLength: Int(germlineLength))
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

/// Per-worker working memory of `Annotator`: buffers reused from read to read, so that annotating
/// a read allocates nothing (as kseq.h reuses its buffers). Not shared between threads.
public struct AnnotationScratch: Sendable {
    /// k-mer hits per element and strand: forward strand first, then the reverse one.
    var counts: [Int32]
    /// Slots of `counts` that are not zero: the first `touchedCount` (room for every slot).
    var touched: [Int32]
    var touchedCount = 0
    /// Read positions (forward strand) with their hit range and whether the read's k-mer there is
    /// the canonical one: the first `foundCount`.
    var found: [mrd_seed] = []
    var foundCount = 0
    /// The seeding kernel's k-mer codes (two per read position).
    var codes: [UInt32] = []
    /// The first pass's hits, slot and diagonal (`mrd_seed_count`): the first `hitCount`, or none
    /// recorded when that is negative (more hits than room; the second pass looks them up again).
    var hitSlots = [Int32](repeating: 0, count: 4096)
    var hitValues = [Int32](repeating: 0, count: 4096)
    var hitCount = 0
    /// Per element of the chosen strand: where its next diagonal goes, -1 when not selected.
    var cursor: [Int32]
    var selected: [Int32] = []
    var diagonals: [Int32] = []
    /// Per diagonal entry: whether its hit lies near the element's junction anchor.
    var near: [UInt8] = []
    var histogram: [Int32] = []
    var placements: [Annotator.Placement] = []
    /// Whether the last read located was taken on its reverse strand (the placements' strand).
    var strandReversed = false
    /// The best 5' and 3' candidates of the last read located (ties, in allele-name order).
    public internal(set) var fives: [Annotator.Placement] = []
    public internal(set) var threes: [Annotator.Placement] = []
    /// The last read located, reverse-complemented (valid when it was reversed).
    var reverse: [UInt8] = []
    /// Scores of the diagonals searched by the J rescue.
    var rescueScores: [Int32] = []
    /// The last read located when it failed only because it does not hold its whole junction
    /// (`junctionNotCovered`): its 5' and 3' placements, for `Annotator.uncoveredCalls`.
    var uncovered: Annotator.Location?
    /// The last read located held 5' candidates but no 3' element (`noThreePrime`): `fives` are its V.
    var fivePrimeOnly = false
    /// Spike-specific k-mer hits per spike-in.
    var spikeHits: [Int32] = []
    var touchedSpikes: [Int32] = []

    /// Zeroes the touched slots' counts (through buffers: a store into an array held in an inout
    /// struct checks its uniqueness each time).
    mutating func clearTouchedCounts() {
        let n = touchedCount
        touched.withUnsafeBufferPointer { touched in
            counts.withUnsafeMutableBufferPointer { counts in
                for i in 0..<n { counts[Int(touched[i])] = 0 }
            }
        }
    }

    public init(_ annotator: Annotator) {
        counts = [Int32](repeating: 0, count: 2 * annotator.elements.count)
        touched = [Int32](repeating: 0, count: 2 * annotator.elements.count)
        cursor = [Int32](repeating: -1, count: annotator.elements.count)
    }
}

/// Seed-and-extend annotation: k-mers of the read are looked up in an index of the 5' and 3'
/// germline elements (both orientations at once, through canonical k-mers); the best diagonal of
/// each element places its anchor in the read, and a base-by-base comparison along that diagonal
/// ranks the candidate alleles.
public final class Annotator: Sendable {
    let elements: [GermlineElement]
    private let k: Int
    /// canonical k-mer -> (element, offset in element, strand) hits.
    private let table: KmerTable<Hit>
    private let dGenes: [Locus: [GermlineSegment]]
    private let maxElementLength: Int
    /// Per element, flat: whether it is a 5' element, its rank in allele-name order, the part
    /// scored against the read (its germline side of the junction anchor), and its bases in one arena.
    private let isFivePrime: [Bool]
    private let elementRole: [GermlineElement.Role]
    private let elementLocus: [Locus]
    private let elementAnchor: [Int]
    private let alleleRank: [Int32]
    /// The part of each element scored in full (around its junction anchor); the score extends from
    /// it towards both ends as far as that pays (`mrd_extension_score`).
    private let coreFrom: [Int32]
    private let coreTo: [Int32]
    private let elementStart: [Int]
    private let elementLength: [Int32]
    /// J and Kde elements per locus, for `rescueThreePrime`.
    private let threePrimeByLocus: [Locus: [Int32]]
    /// Per locus, the distinct gates of its V elements (the Cys codon and the 12 nt before it, 2 bits
    /// a base) and the elements that share each, for `rescueFivePrime`.
    private let vGatesByLocus: [Locus: [(code: UInt32, elements: [Int32])]]
    /// Per J element, its anchor codon and the codon before it, 2 bits a base (`rescueShortJ`).
    private let jGate: [UInt32]
    /// Element offset from which a hit counts as near the junction anchor (V: the last 110 nt).
    private let nearFrom: [Int32]
    private let elementBases: [UInt8]
    /// Each element's alleles as an AIRR call (comma-separated, sorted).
    private let elementCalls: [String]
    /// (locus, 6-mer code) -> (index in dGenes[locus], offset in the gene), for D calls.
    private let dSeedTable: [Locus: DSeedIndex]
    /// J gene sequences by allele, for alignments in AIRR output.
    private let jSequences: [String: [UInt8]]
    private let vSequences: [String: [UInt8]]

    static let maxHitsPerKmer = 400

    /// A k-mer occurrence in an element, in 4 bytes: `packed` = element << 1 | 1 when the
    /// element's k-mer is the canonical (smaller) one of the pair, else element << 1.
    struct Hit: Sendable {
        var packed: UInt16
        var offset: UInt16
        var element: Int { Int(packed >> 1) }
        var canonicalForward: Bool { packed & 1 != 0 }
    }

    public init(germline: GermlineReference, loci: [Locus] = [.IGH, .IGK, .IGL, .TRB, .TRG, .TRD], k: Int = 12) {
        self.k = k
        var elements: [GermlineElement] = []
        for segment in germline.segments where loci.contains(segment.locus) {
            switch segment.kind {
            case .V:
                // The whole V: long amplicons (leader, FR1) and merged pairs call the gene over all
                // of it, and somatic hypermutation leaves seeds somewhere along 300 nt.
                guard let anchor = segment.anchor else { continue }
                elements.append(GermlineElement(segment: segment, role: .v, sequence: segment.sequence, anchor: anchor))
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
            let names = [element.segment.allele] + (GermlineSynonyms.imgtName(of: element.segment).map { [$0] } ?? [])
            if let index = seen[key] {
                unique[index].alleles += names
            } else {
                element.alleles = names
                seen[key] = unique.count
                unique.append(element)
            }
        }
        elements = unique
        // Canonical k-mers: one lookup per read position finds the elements of both strands.
        var entries: [(UInt32, Hit)] = []
        let scanner = KmerScanner(k: k)
        for (e, element) in elements.enumerated() {
            scanner.forEachCanonical(element.sequence) { position, canonical, forward in
                entries.append((canonical, Hit(packed: UInt16(e) << 1 | (forward ? 1 : 0), offset: UInt16(position))))
            }
        }
        precondition(elements.count < 1 << 15 && (elements.map(\.sequence.count).max() ?? 0) < 1 << 16,
                     "germline elements beyond the 4-byte hit layout")
        // Only k-mers shared by very many elements are left out (poly-A and the like). Conserved
        // framework k-mers stay: a read from the J side holds 20-30 nt of V, all of it conserved,
        // and leaving those out lost whole long-junction clones (48 hits was the old cap).
        table = KmerTable(entries, maxHits: Self.maxHitsPerKmer)
        self.elements = elements
        maxElementLength = elements.map(\.sequence.count).max() ?? 0
        isFivePrime = elements.map(\.isFivePrime)
        elementRole = elements.map(\.role)
        elementLocus = elements.map(\.locus)
        elementAnchor = elements.map(\.anchor)
        var rank = [Int32](repeating: 0, count: elements.count)
        for (r, e) in elements.indices.sorted(by: { elements[$0].segment.allele < elements[$1].segment.allele }).enumerated() { rank[e] = Int32(r) }
        alleleRank = rank
        // Cores: the V's Cys codon and the 12 nt before it, the J's Trp/Phe codon and the codon after
        // it, the 6 nt of other elements next to their anchor. Everything else is extension, so a read
        // that ends inside J, starts inside V or runs into a constant region or primer scores what it has.
        let cores = elements.map { element -> (Int32, Int32) in
            let a = element.anchor
            switch element.role {
            case .v: return (Int32(max(0, a - 12)), Int32(a + 3))
            case .j: return (Int32(max(0, a - 3)), Int32(a + 3))
            case .dUpstream, .intron: return (Int32(max(0, a - 6)), Int32(a))
            case .kde, .d3Downstream: return (Int32(a), Int32(min(element.sequence.count, a + 6)))
            }
        }
        coreFrom = cores.map(\.0)
        coreTo = cores.map(\.1)
        elementLength = elements.map { Int32($0.sequence.count) }
        var threes: [Locus: [Int32]] = [:]
        for (e, element) in elements.enumerated() where element.role == .j || element.role == .kde { threes[element.locus, default: []].append(Int32(e)) }
        threePrimeByLocus = threes
        var gates: [Locus: [UInt32: [Int32]]] = [:]
        for (e, element) in elements.enumerated() where element.role == .v {
            let a = element.anchor
            guard a >= Self.fiveRescueGateLength - 3, a + 3 <= element.sequence.count else { continue }
            gates[element.locus, default: [:]][Self.gateCode(of: element.sequence[(a + 3 - Self.fiveRescueGateLength)..<(a + 3)]), default: []].append(Int32(e))
        }
        jGate = elements.map { element in
            guard element.role == .j, element.anchor >= 6, element.anchor <= element.sequence.count else { return UInt32.max }
            return Self.gateCode(of: element.sequence[(element.anchor - 6)..<element.anchor])
        }
        vGatesByLocus = gates.mapValues { $0.map { (code: $0.key, elements: $0.value) }.sorted { $0.code < $1.code } }
        nearFrom = elements.map { $0.role == .v ? Int32(max(0, $0.anchor - 110)) : 0 }
        var starts: [Int] = [], bases: [UInt8] = []
        for element in elements {
            starts.append(bases.count)
            bases += element.sequence
        }
        elementStart = starts
        elementBases = bases
        elementCalls = elements.map { Set($0.alleles).sorted().joined(separator: ",") }
        var dGenes: [Locus: [GermlineSegment]] = [:]
        for segment in germline.segments where segment.kind == .D && segment.upstream.isEmpty && segment.downstream.isEmpty {
            dGenes[segment.locus, default: []].append(segment)
        }
        self.dGenes = dGenes
        var dSeedTable: [Locus: DSeedIndex] = [:]
        for (locus, genes) in dGenes { dSeedTable[locus] = DSeedIndex(genes.map(\.sequence)) }
        self.dSeedTable = dSeedTable
        var jSequences: [String: [UInt8]] = [:]
        for segment in germline.segments where segment.kind == .J && loci.contains(segment.locus) { jSequences[segment.allele] = segment.sequence }
        self.jSequences = jSequences
        var vSequences: [String: [UInt8]] = [:]
        for segment in germline.segments where segment.kind == .V && loci.contains(segment.locus) {
            vSequences[segment.allele] = segment.sequence
            if let synonym = GermlineSynonyms.imgtName(of: segment) { vSequences[synonym] = segment.sequence }
        }
        self.vSequences = vSequences
    }

    /// The gapped V alignment of a read turned V-to-J, from its ungapped V alignment (on the
    /// diagonal that placed the junction) and the allele's name; with that allele's sequence.
    public func gappedV(read: [UInt8], junctionStart: Int, ungapped v: SegmentAlignment, allele: String) -> (GeneAlignment, [UInt8])? {
        guard let germline = vSequences[allele] else { return nil }
        return GeneAligner.alignV(read: read, junctionStart: junctionStart, ungapped: v, germline: germline).map { ($0, germline) }
    }

    /// A J allele's gene sequence (without flank).
    public func jGene(_ allele: String) -> [UInt8]? { jSequences[allele] }

    /// A D allele's gene sequence, of the genes that D calls are made from.
    public func dGene(_ locus: Locus, allele: String) -> [UInt8]? {
        dGenes[locus]?.first { $0.allele == allele }?.sequence
    }

    /// Placement of one element on the read: diagonal (read position - element position), the
    /// number of k-mer hits of the element on the chosen strand, and its score along the diagonal.
    public struct Placement: Sendable {
        var element: Int32
        var diagonal: Int32
        var hits: Int32
        var score: Int32 = 0
    }

    /// Where a read's rearrangement lies; the candidate alleles are in the scratch's `fives` and
    /// `threes`, and a reversed read's reverse complement in its `reverse`.
    struct Location {
        var locus: Locus
        var kind: RearrangementKind
        var reversed: Bool
        var junctionStart: Int
        var junctionEnd: Int
        var five: Placement
        var three: Placement
    }

    /// Which AIRR call a 5' or 3' element's alleles go into.
    enum CallField { case v, d, j }

    /// The call fields of a location's 5' and 3' elements.
    func callFields(_ location: Location) -> (five: CallField, three: CallField) {
        let five: CallField
        switch elementRole[Int(location.five.element)] {
        case .v, .intron: five = .v
        default: five = .d
        }
        let three: CallField
        switch elementRole[Int(location.three.element)] {
        case .j, .kde: three = .j
        default: three = location.kind == .VD ? .d : .j
        }
        return (five, three)
    }

    /// The AIRR call of tied candidates: their alleles, sorted, comma-separated.
    func calls<C: Collection>(_ candidates: C) -> String where C.Element == Int32 {
        if candidates.count == 1 { return elementCalls[Int(candidates.first!)] }
        return Set(candidates.flatMap { elements[Int($0)].alleles }).sorted().joined(separator: ",")
    }

    /// The V alleles (ties) of a read that holds a V and no J: the V-side mate of a pair whose
    /// other mate holds the junction (a long amplicon read 2x150). Nil when the read has a J, no
    /// V, or a 5' element that is not a V.
    public func vOnlyCalls(_ bases: [UInt8], scratch: inout AnnotationScratch) -> (locus: Locus, alleles: Set<String>)? {
        let result = bases.withUnsafeBufferPointer { locate($0, &scratch) }
        guard case .failure(.noThreePrime) = result, scratch.fivePrimeOnly, let first = scratch.fives.first,
              elementRole[Int(first.element)] == .v else { return nil }
        return (elementLocus[Int(first.element)], Set(scratch.fives.flatMap { elements[Int($0.element)].alleles }))
    }

    /// Finds the rearrangement of one read: orientation, locus, kind, junction and candidates.
    func locate(_ bases: UnsafeBufferPointer<UInt8>, _ scratch: inout AnnotationScratch) -> Result<Location, UnassignedReason> {
        let n = bases.count
        scratch.uncovered = nil
        scratch.fivePrimeOnly = false
        let elementCount = elements.count
        // First pass: k-mer hits per element and strand, at every other read position (12-mers
        // overlapping by 10 still seed every element that shares 13 nt with the read).
        if scratch.found.count < n / 2 + 1 {
            scratch.found = [mrd_seed](repeating: mrd_seed(), count: n + 1)
            scratch.codes = [UInt32](repeating: 0, count: 2 * (n + 1))
        }
        var touchedCount = 0, hitCount = 0
        scratch.foundCount = scratch.counts.withUnsafeMutableBufferPointer { counts in
            scratch.touched.withUnsafeMutableBufferPointer { touched in
                scratch.found.withUnsafeMutableBufferPointer { found in
                    scratch.codes.withUnsafeMutableBufferPointer { codes in
                        scratch.hitSlots.withUnsafeMutableBufferPointer { hitSlots in
                            scratch.hitValues.withUnsafeMutableBufferPointer { hitValues in
                                nearFrom.withUnsafeBufferPointer { nearFrom in
                                    table.withIndex { index in
                                        mrd_seed_count(bases.baseAddress, n, Int32(k), 2, index, elementCount, counts.baseAddress,
                                                       touched.baseAddress, &touchedCount, found.baseAddress, codes.baseAddress,
                                                       nearFrom.baseAddress, hitSlots.baseAddress, hitValues.baseAddress,
                                                       min(hitSlots.count, hitValues.count), &hitCount)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        scratch.touchedCount = touchedCount
        scratch.hitCount = hitCount
        guard touchedCount > 0 else { return .failure(.noGermline) }
        // Through buffers, without a division per slot: an element access of an array held in the
        // inout scratch checks its uniqueness each time.
        var bestFive: (Int32, Int32) = (0, 0), bestThree: (Int32, Int32) = (0, 0)
        scratch.touched.withUnsafeBufferPointer { touched in
            scratch.counts.withUnsafeBufferPointer { counts in
                isFivePrime.withUnsafeBufferPointer { isFivePrime in
                    for i in 0..<touchedCount {
                        let s = Int(touched[i]), count = counts[s]
                        if s < elementCount {
                            if isFivePrime[s] { bestFive.0 = max(bestFive.0, count) } else { bestThree.0 = max(bestThree.0, count) }
                        } else {
                            if isFivePrime[s - elementCount] { bestFive.1 = max(bestFive.1, count) } else { bestThree.1 = max(bestThree.1, count) }
                        }
                    }
                }
            }
        }
        // A lone 12-mer shared with some germline element happens by chance in a few percent of
        // unrelated reads: no germline found.
        if max(bestFive.0, bestFive.1, bestThree.0, bestThree.1) < 2 {
            scratch.clearTouchedCounts()
            return .failure(.noGermline)
        }
        // Orientation: the strand whose best 5' plus best 3' elements have more k-mer hits.
        let reversed = bestFive.1 + bestThree.1 > bestFive.0 + bestThree.0
        scratch.strandReversed = reversed
        placements(strand: reversed ? 1 : 0, readLength: n, bestFive: reversed ? bestFive.1 : bestFive.0,
                   bestThree: reversed ? bestThree.1 : bestThree.0, &scratch)
        scratch.clearTouchedCounts()
        if reversed {
            // Resized in place: trimmed reads vary in length, and a new buffer per read would cost
            // an allocation each.
            if scratch.reverse.count > n { scratch.reverse.removeLast(scratch.reverse.count - n) }
            if scratch.reverse.count < n { scratch.reverse.append(contentsOf: repeatElement(0, count: n - scratch.reverse.count)) }
            scratch.reverse.withUnsafeMutableBufferPointer { out in
                for i in 0..<n { out[n - 1 - i] = complementTable[Int(bases[i])] }
            }
        }
        let candidates: (Bool, Bool)
        if reversed {
            let read = scratch.reverse
            candidates = read.withUnsafeBufferPointer { read in (best(fivePrime: true, read, &scratch), best(fivePrime: false, read, &scratch)) }
        } else {
            candidates = (best(fivePrime: true, bases, &scratch), best(fivePrime: false, bases, &scratch))
        }
        if candidates.0 {
            if reversed { scratch.reverse.withUnsafeBufferPointer { placeCysteineAcrossIndel($0, &scratch) } } else { placeCysteineAcrossIndel(bases, &scratch) }
        } else {
            // A V that seeding missed: a short read (a FR3 or J-side amplicon) holding 20-60 nt of a
            // hypermutated V has no two 12-mers in common with it. Searched for upstream of the J.
            guard candidates.1 else { return .failure(.noFivePrime) }
            let found = reversed ? scratch.reverse.withUnsafeBufferPointer { rescueFivePrime($0, &scratch) }
                                 : rescueFivePrime(bases, &scratch)
            guard found else { return .failure(.noFivePrime) }
        }
        if !candidates.1 {
            // A J that seeding missed (a read ending a few bases into it, mutations in it): the few J
            // alleles of the V's locus are compared base by base downstream of the V instead.
            let found = reversed ? scratch.reverse.withUnsafeBufferPointer { rescueThreePrime($0, &scratch) }
                                 : rescueThreePrime(bases, &scratch)
            guard found else {
                scratch.fivePrimeOnly = candidates.0
                return .failure(.noThreePrime)
            }
        }
        if elementLocus[Int(scratch.fives[0].element)] != elementLocus[Int(scratch.threes[0].element)] {
            // Seeds put a 5' and a 3' element of different loci (a short read whose few V k-mers
            // are shared with another locus's V genes): the side resting on few k-mers is searched
            // for in the other's locus. Failing that, tied candidates of the other side's locus.
            let found = reversed ? scratch.reverse.withUnsafeBufferPointer { reconcileLoci($0, &scratch) } : reconcileLoci(bases, &scratch)
            guard found || keepTiesOfOneLocus(&scratch) else { return .failure(.incompatibleSegments) }
        }
        let five = scratch.fives[0], three = scratch.threes[0]
        // Flat per-element arrays: copying a GermlineElement would retain its strings and arrays.
        let fiveElement = Int(five.element), threeElement = Int(three.element)
        let locus = elementLocus[fiveElement]
        let start = elementAnchor[fiveElement] + Int(five.diagonal)
        let end = elementAnchor[threeElement] + Int(three.diagonal)
        let kind = Self.kind(elementRole[fiveElement], elementRole[threeElement], locus)
        // A D-J (or Dd2-Dd3) read holds the D's germline upstream flank before it; one that starts
        // at the D or holds other bases there is a V-D-J read whose V lies beyond its start (the
        // J-side mate of a long amplicon with a long junction): not covered, as a short read is.
        let fiveHeld = elementRole[fiveElement] != .dUpstream
            || (reversed ? scratch.reverse.withUnsafeBufferPointer { dFlankHeld($0, five) } : dFlankHeld(bases, five))
        guard fiveHeld, start >= 0, end <= n, end - start >= 3 else {
            if let kind {
                scratch.uncovered = Location(locus: locus, kind: kind, reversed: reversed, junctionStart: start, junctionEnd: end,
                                             five: five, three: three)
            }
            return .failure(.junctionNotCovered)
        }
        guard let kind else { return .failure(.incompatibleSegments) }
        return .success(Location(locus: locus, kind: kind, reversed: reversed, junctionStart: start, junctionEnd: end,
                                 five: five, three: three))
    }

    /// Bases of the D's upstream flank a D-J read must hold next to its D, at most 2 of them differing.
    static let minimumDFlank = 10

    /// Whether the read holds the last `minimumDFlank` bases of the D's germline upstream flank
    /// where the placement puts them (a D joined to J keeps its 5' side germline).
    private func dFlankHeld(_ read: UnsafeBufferPointer<UInt8>, _ p: Placement) -> Bool {
        let e = Int(p.element), diagonal = Int(p.diagonal), anchor = elementAnchor[e]
        let first = anchor - Self.minimumDFlank
        guard first >= 0, first + diagonal >= 0, anchor + diagonal <= read.count else { return false }
        let matches = elementBases.withUnsafeBufferPointer { arena in
            mrd_count_matches(read.baseAddress! + first + diagonal, arena.baseAddress! + elementStart[e] + first, Self.minimumDFlank)
        }
        return Self.minimumDFlank - matches <= 2
    }

    /// The rearrangement a 5' and a 3' element make, if they make one.
    private static func kind(_ five: GermlineElement.Role, _ three: GermlineElement.Role, _ locus: Locus) -> RearrangementKind? {
        switch (five, three) {
        case (.v, .j): return .complete(locus)
        case (.dUpstream, .j): return .DJ
        case (.v, .kde): return .vKde
        case (.intron, .kde): return .intronKde
        case (.v, .d3Downstream): return .VD
        case (.dUpstream, .d3Downstream): return .DD
        default: return nil
        }
    }

    /// Calls of a read that `annotate` just left unassigned as `junctionNotCovered` with both its
    /// 5' and 3' elements placed on one locus: what IgBLAST or IMGT would still say of a sequence
    /// too short to hold the whole junction (a 40-60 nt read). Nil after any other outcome. Must be
    /// asked before the scratch locates another read.
    public func uncoveredCalls(_ scratch: AnnotationScratch) -> UncoveredCalls? {
        guard let location = scratch.uncovered else { return nil }
        let fields = callFields(location)
        var calls = UncoveredCalls(locus: location.locus, reversed: location.reversed)
        for (field, candidates) in [(fields.five, scratch.fives), (fields.three, scratch.threes)] {
            let text = self.calls(candidates.lazy.map(\.element))
            switch field {
            case .v: calls.vCall = text
            case .d: calls.dCall = text
            case .j: calls.jCall = text
            }
        }
        return calls
    }

    /// Second pass, for the chosen strand only: the best diagonal of each element that has at
    /// least two hits and half the hits of the best one on its side. Hits are bucketed by element
    /// (the first pass counted them), then each bucket's diagonals are counted in one histogram.
    private func placements(strand: Int, readLength n: Int, bestFive: Int32, bestThree: Int32, _ scratch: inout AnnotationScratch) {
        let elementCount = elements.count
        scratch.placements.removeAll(keepingCapacity: true)
        scratch.selected.removeAll(keepingCapacity: true)
        let base = strand * elementCount, touchedCount = scratch.touchedCount
        var selected = scratch.selected
        scratch.selected = []
        scratch.touched.withUnsafeBufferPointer { touched in
            scratch.counts.withUnsafeBufferPointer { counts in
                isFivePrime.withUnsafeBufferPointer { isFivePrime in
                    for i in 0..<touchedCount {
                        let e = Int(touched[i]) - base
                        guard e >= 0 && e < elementCount else { continue }
                        let count = counts[e + base]
                        if count >= 2 && count * 2 >= (isFivePrime[e] ? bestFive : bestThree) { selected.append(Int32(e)) }
                    }
                }
            }
        }
        scratch.selected = selected
        guard !scratch.selected.isEmpty else { return }
        scratch.selected.sort()
        var total: Int32 = 0
        for e in scratch.selected {
            scratch.cursor[Int(e)] = total
            total += scratch.counts[strand * elementCount + Int(e)]
        }
        if scratch.diagonals.count < Int(total) + 1 {
            scratch.diagonals = [Int32](repeating: 0, count: Int(total) * 2 + 1)
            scratch.near = [UInt8](repeating: 0, count: Int(total) * 2 + 1)
        }
        let shift = maxElementLength
        if scratch.histogram.count < shift + n + 1 { scratch.histogram = [Int32](repeating: 0, count: shift + n + 1) }
        let lastStart = Int32(n - k)
        if scratch.hitCount >= 0 {
            scratch.hitSlots.withUnsafeBufferPointer { hitSlots in
                scratch.hitValues.withUnsafeBufferPointer { hitValues in
                    scratch.cursor.withUnsafeMutableBufferPointer { cursor in
                        scratch.diagonals.withUnsafeMutableBufferPointer { diagonals in
                            scratch.near.withUnsafeMutableBufferPointer { near in
                                mrd_seed_bucket(hitSlots.baseAddress, hitValues.baseAddress, scratch.hitCount, Int32(strand), elementCount, total,
                                                cursor.baseAddress, diagonals.baseAddress, near.baseAddress)
                            }
                        }
                    }
                }
            }
        } else {
            // More hits than the record holds (a long read): looked up again, and room made for next time.
            let needed = -scratch.hitCount * 2
            scratch.hitSlots = [Int32](repeating: 0, count: needed)
            scratch.hitValues = [Int32](repeating: 0, count: needed)
            table.withIndex { index in
                scratch.found.withUnsafeBufferPointer { found in
                    nearFrom.withUnsafeBufferPointer { nearFrom in
                        scratch.cursor.withUnsafeMutableBufferPointer { cursor in
                            scratch.diagonals.withUnsafeMutableBufferPointer { diagonals in
                                scratch.near.withUnsafeMutableBufferPointer { near in
                                    mrd_seed_diagonals(found.baseAddress, scratch.foundCount, index, Int32(strand), lastStart, nearFrom.baseAddress,
                                                       Int(scratch.selected.first!), Int(scratch.selected.last!), total,
                                                       cursor.baseAddress, diagonals.baseAddress, near.baseAddress)
                                }
                            }
                        }
                    }
                }
            }
        }
        // Per element, the diagonal with most hits near the junction anchor (a V with an indel from
        // hypermutation has two diagonals, and the junction lies on the 3' one), else with most hits
        // anywhere; the smallest diagonal on ties.
        var bucketStart = 0
        scratch.histogram.withUnsafeMutableBufferPointer { histogram in
            scratch.diagonals.withUnsafeBufferPointer { diagonals in
                scratch.near.withUnsafeBufferPointer { near in
                    for e in scratch.selected {
                        let bucketEnd = Int(scratch.cursor[Int(e)])
                        scratch.cursor[Int(e)] = -1
                        let diagonal = mrd_best_diagonal(diagonals.baseAddress, near.baseAddress, bucketStart, bucketEnd,
                                                         histogram.baseAddress, shift)
                        bucketStart = bucketEnd
                        scratch.placements.append(Placement(element: e, diagonal: diagonal, hits: scratch.counts[strand * elementCount + Int(e)]))
                    }
                }
            }
        }
    }

    /// The best-scoring 5' or 3' candidates of the placements (ties kept, in allele-name order)
    /// into the scratch's `fives` or `threes`; false when there is none good enough.
    private func best(fivePrime: Bool, _ read: UnsafeBufferPointer<UInt8>, _ scratch: inout AnnotationScratch) -> Bool {
        var out: [Placement]
        if fivePrime { out = scratch.fives; scratch.fives = [] } else { out = scratch.threes; scratch.threes = [] }
        out.removeAll(keepingCapacity: true)
        defer { if fivePrime { scratch.fives = out } else { scratch.threes = out } }
        var topHits: Int32 = 0
        for p in scratch.placements where isFivePrime[Int(p.element)] == fivePrime { topHits = max(topHits, p.hits) }
        guard topHits >= 2 else { return false }
        var topScore = Int32.min
        elementBases.withUnsafeBufferPointer { arena in
            for i in scratch.placements.indices where isFivePrime[Int(scratch.placements[i].element)] == fivePrime
                && scratch.placements[i].hits * 2 >= topHits {
                var p = scratch.placements[i]
                let e = Int(p.element)
                p.score = Int32(mrd_extension_score(read.baseAddress, read.count, arena.baseAddress! + elementStart[e],
                                                    Int(elementLength[e]), Int(coreFrom[e]), Int(coreTo[e]), Int(p.diagonal),
                                                    isFivePrime[e] ? 1 : -1, Self.trimmedExtensionMinimum))
                scratch.placements[i].score = p.score
                Self.keepBest(p, top: &topScore, in: &out)
            }
        }
        if topScore < Self.minimumCoreScore {
            // A V mutated at its Cys region (80% identity): called only on the strength of its whole
            // aligned V, with many k-mer hits behind it.
            guard fivePrime, topHits >= Self.mutatedVMinimumHits, elementRole[Int(out[0].element)] == .v,
                  let total = rerankByGappedV(&out, topHits: topHits, topScore: topScore, read, &scratch),
                  total >= Self.mutatedVMinimumTotal else { out.removeAll(keepingCapacity: true); return false }
        } else if fivePrime && elementRole[Int(out[0].element)] == .v && vStopsShort(out[0], read) {
            rerankByGappedV(&out, topHits: topHits, topScore: topScore, read, &scratch)
        }
        if out.count > 1 { out.sort { alleleRank[Int($0.element)] < alleleRank[Int($1.element)] } }
        return true
    }

    /// V bases upstream of the core that the read holds beyond where the ungapped extension stops
    /// before re-ranking by gapped alignment pays: an indel or a cluster of hypermutations there.
    static let shortfallForGappedV = 20
    /// Candidates re-ranked: those with 3/4 of the most k-mer hits (similar over the whole V,
    /// whatever an indel does to the ungapped score), and those within this ungapped score of the best.
    static let gappedRerankMargin: Int32 = 40

    /// Whether the best V's ungapped extension stops well before the read or the gene begins.
    private func vStopsShort(_ p: Placement, _ read: UnsafeBufferPointer<UInt8>) -> Bool {
        let e = Int(p.element), diagonal = Int(p.diagonal)
        let lowest = max(0, -diagonal), from = Int(coreFrom[e])
        guard from - lowest > Self.shortfallForGappedV, from + diagonal <= read.count else { return false }
        return elementBases.withUnsafeBufferPointer { arena in
            let element = arena.baseAddress! + elementStart[e]
            var run = 0, best = 0, reach = from, mismatches = 0, mismatchesAtReach = 0
            var i = from - 1
            while i >= lowest {
                let same = read[i + diagonal] == element[i]
                run += same ? 1 : -4
                if !same { mismatches += 1 }
                if run > best { best = run; reach = i; mismatchesAtReach = mismatches }
                i -= 1
            }
            // Hypermutated (over 3% of the extended V differs): a sibling allele with an indel of
            // its own, or that the mutations happen to favour, may win ungapped; the gapped score decides.
            let mutated = mismatchesAtReach >= 4 && mismatchesAtReach * 100 > 3 * (from - reach)
            return mutated || reach - lowest > Self.shortfallForGappedV
        }
    }

    /// Re-ranks V candidates by the whole aligned V, scored as IgBLAST scores V (+1 / -1, a gap of
    /// g bases -5 - 2g): a banded affine-gap extension from the core 5'-wards, plus twice the
    /// ungapped run from the core on (the V's 3' end decides the junction). Candidates: those with 3/4
    /// of the most k-mer hits or within 40 of the best ungapped score, each on its own diagonal; the
    /// same and the `rerankWideCandidates` V alleles of the locus most alike ungapped (any with a k-mer
    /// hit on this strand), each on the diagonal that puts its Cys where the best ungapped V puts it.
    /// At 80% identity 12-mer hits are few and fall on the 5' side of an indel, so neither the most
    /// hits nor a candidate's own diagonal can be trusted; the Cys of the best core alignment can.
    /// Ties listed.
    @discardableResult
    private func rerankByGappedV(_ out: inout [Placement], topHits: Int32, topScore: Int32, _ read: UnsafeBufferPointer<UInt8>,
                                 _ scratch: inout AnnotationScratch) -> Int? {
        guard let lead = out.first else { return nil }
        let leadLocus = elementLocus[Int(lead.element)]
        let cys = elementAnchor[Int(lead.element)] + Int(lead.diagonal)
        // Under 92% identity ungapped (heavy hypermutation, or an indel that shifts the V's 5' part)
        // the k-mer hits and the candidates' own diagonals stop being trustworthy: only then are
        // other diagonals and alleles tried (each costs a gapped extension).
        let leadOverlap = ungappedOverlap(Int(lead.element), Int(lead.diagonal), read)
        let heavilyMutated = leadOverlap.length == 0
            || leadOverlap.matches * 100 < Self.heavyMutationIdentityPercent * leadOverlap.length
        // A few dozen placements at most: each scored once (a linear check, no set per read).
        var pool: [Placement] = []
        func add(_ p: Placement) {
            if !pool.contains(where: { $0.element == p.element && $0.diagonal == p.diagonal }) { pool.append(p) }
        }
        for p in scratch.placements where isFivePrime[Int(p.element)] && elementRole[Int(p.element)] == .v
            && (p.hits * 4 >= topHits * 3 || (p.hits * 2 >= topHits && p.score >= topScore - Self.gappedRerankMargin)) {
            add(p)
            if heavilyMutated { add(Placement(element: p.element, diagonal: Int32(cys - elementAnchor[Int(p.element)]), hits: p.hits)) }
        }
        // V alleles of the locus sharing a k-mer with the read, ranked by ungapped matches minus
        // mismatches with their Cys on the lead's.
        let elementCount = elements.count
        var alike: [(score: Int, element: Int)] = []
        if heavilyMutated {
            for slot in scratch.touched[..<scratch.touchedCount] {
                let s = Int(slot)
                guard (s >= elementCount) == scratch.strandReversed else { continue }
                let e = s % elementCount
                guard elementRole[e] == .v, elementLocus[e] == leadLocus else { continue }
                let overlap = ungappedOverlap(e, cys - elementAnchor[e], read)
                if overlap.length > 0 { alike.append((overlap.likeness, e)) }
            }
        }
        alike.sort { $0.score != $1.score ? $0.score > $1.score : $0.element < $1.element }
        // Only those nearly as alike as the best already in the pool: the others would lose anyway,
        // and each costs a gapped extension.
        let pooledBest = alike.first { a in pool.contains { Int($0.element) == a.element } }?.score ?? Int.min
        for (score, e) in alike.prefix(Self.rerankWideCandidates) where score >= pooledBest - Self.rerankWideMargin {
            add(Placement(element: Int32(e), diagonal: Int32(cys - elementAnchor[e]), hits: 0))
        }
        var bestTotal = Int.min
        var winners: [Int] = []  // pool indices
        elementBases.withUnsafeBufferPointer { arena in
            // Most alike first, so that a high total is known early and the extensions of the others
            // stop as soon as they cannot reach it (exact: ties are still found).
            var order = pool.indices.map { (alike: ungappedOverlap(Int(pool[$0].element), Int(pool[$0].diagonal), read).likeness, index: $0) }
            order.sort { $0.alike != $1.alike ? $0.alike > $1.alike : $0.index < $1.index }
            for (_, index) in order {
                let p = pool[index]
                let e = Int(p.element), diagonal = Int(p.diagonal)
                let element = arena.baseAddress! + elementStart[e]
                let from = Int(coreFrom[e])
                let readFrom = from + diagonal
                guard readFrom >= 0, readFrom <= read.count else { continue }
                let downstream = mrd_forward_run_score(read.baseAddress! + readFrom, element + from,
                                                       min(read.count - readFrom, Int(elementLength[e]) - from),
                                                       Self.rerankMatch, Self.rerankMismatch)
                let goal = bestTotal == Int.min ? Int.min : bestTotal - 2 * downstream
                let upstream = mrd_gapped_extension_score(read.baseAddress, readFrom, element, from, Int(GeneAligner.band),
                                                          Self.rerankMatch, Self.rerankMismatch, Self.rerankGapOpen,
                                                          Self.rerankGapExtend, 30, goal)
                let total = upstream + 2 * downstream
                if total > bestTotal { bestTotal = total; winners.removeAll(keepingCapacity: true) }
                if total == bestTotal { winners.append(index) }
            }
        }
        guard !winners.isEmpty else { return nil }
        // One placement per allele (its own and the Cys-aligned diagonal may tie): the first, in pool order.
        winners.sort()
        out.removeAll(keepingCapacity: true)
        for index in winners where !out.contains(where: { $0.element == pool[index].element }) { out.append(pool[index]) }
        return bestTotal
    }

    /// Matches of `element` on `read` along `diagonal` without gaps, over their overlap, and its
    /// length; `likeness` is matches minus mismatches.
    private func ungappedOverlap(_ e: Int, _ diagonal: Int, _ read: UnsafeBufferPointer<UInt8>) -> (matches: Int, length: Int, likeness: Int) {
        let first = max(0, -diagonal), last = min(Int(elementLength[e]), read.count - diagonal)
        guard last > first else { return (0, 0, 0) }
        let matches = elementBases.withUnsafeBufferPointer { arena in
            mrd_count_matches(read.baseAddress! + first + diagonal, arena.baseAddress! + elementStart[e] + first, last - first)
        }
        return (matches, last - first, 2 * matches - (last - first))
    }

    /// IgBLAST's V scores (reward 1, penalty -1, gap existence 5, extension 2).
    static let rerankMatch = 1, rerankMismatch = -1, rerankGapOpen = -5, rerankGapExtend = -2
    /// Ungapped score over the anchor codon and its extensions that places a 5' or 3' element.
    static let minimumCoreScore: Int32 = 12
    /// A V scoring under `minimumCoreScore` at its Cys is still called with this many k-mer hits and
    /// this re-rank total (about 80 more matching than mismatching V bases: random sequence scores
    /// under 40).
    static let mutatedVMinimumHits: Int32 = 6
    static let mutatedVMinimumTotal = 100
    /// Under this ungapped identity of the best V, the re-ranking also tries Cys-aligned diagonals
    /// and the alleles most alike.
    static let heavyMutationIdentityPercent = 92
    /// V alleles most alike ungapped that join the re-ranking whatever their k-mer hits ...
    static let rerankWideCandidates = 8
    /// ... when their ungapped matches minus mismatches are within this of the pool's best.
    static let rerankWideMargin = 6

    /// For 5' and 3' elements of different loci where one side rests on a few k-mers (at most
    /// `reconcileHits`: a short stretch of V or J, or a chance match), that side is searched for
    /// in the other's locus (the V rescue upstream of the J, the J rescue downstream of the V).
    /// Placed only when exactly one side is weak and its rescue finds an element: a V or J held
    /// over 20 nt or more outweighs a framework likeness between loci (an IGL V scores 20 as
    /// IGKV4-1 too), so two well-seeded elements of different loci stay undecided.
    private func reconcileLoci(_ read: UnsafeBufferPointer<UInt8>, _ scratch: inout AnnotationScratch) -> Bool {
        let fives = scratch.fives, threes = scratch.threes
        let weakV = fives[0].hits <= Self.reconcileHits, weakJ = threes[0].hits <= Self.reconcileHits
        let found: Bool
        switch (weakV, weakJ) {
        case (true, false): found = rescueFivePrime(read, &scratch)
        case (false, true): found = elementRole[Int(fives[0].element)] == .v && rescueThreePrime(read, &scratch)
        default: found = false
        }
        if !found {
            scratch.fives = fives
            scratch.threes = threes
        }
        return found
    }

    /// A V whose k-mer hits lie 5' of an indel (hypermutation took or added codons in FR3) is
    /// placed on that side's diagonal, which puts its Cys a codon or more off the read's. When the
    /// last `cysteineWindow` nt of a tied V through its Cys codon match the read poorly on the
    /// placement's diagonal, the diagonals up to `cysteineShiftReach` nt either side are compared
    /// too, and one matching `cysteineShiftGain` bases more takes the V (and the junction's start)
    /// there: the junction is placed by the bases next to it. A clean window (all but a few bases
    /// alike) costs one comparison. (A J is not moved so: its junction side is its 5' part, which
    /// the seeds near its anchor already place; an indel in FR4 past the Trp/Phe codon, a
    /// sequencing slip as often as not, must not move the junction's end.)
    private func placeCysteineAcrossIndel(_ read: UnsafeBufferPointer<UInt8>, _ scratch: inout AnnotationScratch) {
        let window = Self.cysteineWindow, reach = Self.cysteineShiftReach
        elementBases.withUnsafeBufferPointer { arena in
            for t in scratch.fives.indices where elementRole[Int(scratch.fives[t].element)] == .v {
                let e = Int(scratch.fives[t].element), diagonal = Int(scratch.fives[t].diagonal)
                let germline = arena.baseAddress! + elementStart[e]
                let anchorEnd = elementAnchor[e] + 3, from = max(0, anchorEnd - window)
                guard anchorEnd <= Int(elementLength[e]) else { continue }
                let bases = read.baseAddress!, length = read.count
                // Matches of germline [from, anchorEnd) on the diagonal shifted by `shift`, and
                // the bases compared (those inside the read).
                func matches(_ shift: Int) -> (alike: Int, compared: Int) {
                    let offset = diagonal + shift
                    let first = max(from, -offset), last = min(anchorEnd, length - offset)
                    guard first < last else { return (0, 0) }
                    return (mrd_count_matches(bases + first + offset, germline + first, last - first), last - first)
                }
                let placed = matches(0)
                guard placed.compared >= window / 2, placed.compared - placed.alike > Self.cysteineCleanMismatches else { continue }
                var bestShift = 0, bestAlike = placed.alike
                // Nearest shifts first (-1, +1, -2, ...): a tie keeps the nearer one.
                for step in 0..<(2 * reach) {
                    let shift = step % 2 == 0 ? -(step / 2 + 1) : step / 2 + 1
                    let m = matches(shift)
                    if m.alike > bestAlike { bestAlike = m.alike; bestShift = shift }
                }
                if bestShift != 0 && bestAlike >= placed.alike + Self.cysteineShiftGain {
                    scratch.fives[t].diagonal = Int32(diagonal + bestShift)
                }
            }
        }
    }

    /// 18 nt of reach: IMGT HighV-QUEST reports FR3 insertions of up to six codons in real IGH.
    static let cysteineWindow = 30, cysteineShiftReach = 18, cysteineShiftGain = 6, cysteineCleanMismatches = 4

    /// Tied candidates of two loci on one side (IGKJ4 and IGLJ2 share the 18 nt after their Phe
    /// codon; a read ending there scores both alike) and the other side's locus among them: both
    /// sides keep only that locus's candidates (the 5' side's first locus if both sides have two).
    private func keepTiesOfOneLocus(_ scratch: inout AnnotationScratch) -> Bool {
        let fiveLoci = Set(scratch.fives.map { elementLocus[Int($0.element)] })
        let threeLoci = Set(scratch.threes.map { elementLocus[Int($0.element)] })
        let first = elementLocus[Int(scratch.fives[0].element)]
        let common = fiveLoci.intersection(threeLoci)
        guard let locus = common.contains(first) ? first : scratch.threes.lazy.map({ self.elementLocus[Int($0.element)] }).first(where: common.contains)
        else { return false }
        scratch.fives.removeAll { elementLocus[Int($0.element)] != locus }
        scratch.threes.removeAll { elementLocus[Int($0.element)] != locus }
        return true
    }

    /// Seeded k-mer hits that a locus disagreement may overrule.
    static let reconcileHits: Int32 = 2

    /// The best J (or Kde) of the best 5' element's locus placed by ungapped comparison at every
    /// diagonal that puts its anchor 3-200 nt downstream of the 5' anchor; into the scratch's `threes`.
    private func rescueThreePrime(_ read: UnsafeBufferPointer<UInt8>, _ scratch: inout AnnotationScratch) -> Bool {
        guard let five = scratch.fives.first, let candidates = threePrimeByLocus[elementLocus[Int(five.element)]] else { return false }
        let start = elementAnchor[Int(five.element)] + Int(five.diagonal)
        var out = scratch.threes
        out.removeAll(keepingCapacity: true)
        var topScore = Int32.min
        elementBases.withUnsafeBufferPointer { arena in
            for e in candidates {
                let element = Int(e), anchor = elementAnchor[element]
                // The anchor codon must lie inside the read.
                let lowest = start + 3 - anchor, highest = min(start + 200, read.count - 3) - anchor
                guard lowest <= highest else { continue }
                // Every diagonal of this J at once (vectorised across diagonals), then the same ranking.
                let count = highest - lowest + 1
                if scratch.rescueScores.count < count { scratch.rescueScores = [Int32](repeating: 0, count: count) }
                scratch.rescueScores.withUnsafeMutableBufferPointer { scores in
                    mrd_extension_scores(read.baseAddress, read.count, arena.baseAddress! + elementStart[element], Int(elementLength[element]),
                                         Int(coreFrom[element]), Int(coreTo[element]), lowest, highest, -1, Self.trimmedExtensionMinimum,
                                         scores.baseAddress)
                }
                for diagonal in lowest...highest {
                    Self.keepBest(Placement(element: e, diagonal: Int32(diagonal), hits: 0, score: scratch.rescueScores[diagonal - lowest]),
                                  top: &topScore, in: &out)
                }
            }
        }
        // Stricter than a seeded placement: this one was searched for, over a few hundred places.
        if topScore < Self.rescueMinimumScore {
            out.removeAll(keepingCapacity: true)
            rescueShortJ(read, start: start, candidates: candidates, &out)
            if out.isEmpty { rescueJWithIndel(read, start: start, candidates: candidates, &out) }
        }
        sortTies(&out)
        scratch.threes = out
        return !out.isEmpty
    }

    static let rescueMinimumScore: Int32 = 18

    /// The J rescue's second chance, for a read that ends 0-24 nt past the Trp/Phe codon, its J too
    /// short for the extension score or mutated next to the codon (a -4 mismatch there sinks it): J alleles scored
    /// as IgBLAST scores J (+1 / -2) on the run through the anchor codon, leftwards into the junction
    /// and rightwards to the read's end, at places whose codon before the anchor and anchor codon
    /// match 4 of 6; the best wins at 16, or at 12 where the read ends under 10 nt past the anchor.
    /// (A +1/-2 walk over unrelated sequence reaches +s with probability about 3.8^-s: at 16 some
    /// 10^-5 over the thousands of places searched, at 12 over the few hundred near a read's end: measured,
    /// a chance J in 1 read in 20,000 of a real V and 20-120 nt of random sequence, 1 in 17,000 when
    /// the random part is 12-35 nt; 13 left 8-12 nt J ends of real IG/TR reads unassigned. TRD and
    /// TRG keep 13: see below.)
    private func rescueShortJ(_ read: UnsafeBufferPointer<UInt8>, start: Int, candidates: [Int32], _ out: inout [Placement]) {
        // Anchor ends q: the anchor codon and the codon before it inside the read, 3-200 nt after the
        // 5' anchor, under 25 nt before the read's end (a read that goes on past its J held the whole
        // J, and when neither test found it there it is too damaged, errors piling up at a read's
        // end, to place the junction's end by).
        let first = max(start + 3, 6, read.count - Self.shortJEndingBefore + 1), last = min(start + 200, read.count)
        bestGatedJPlaces(read, from: first, through: last, candidates: candidates, mismatches: 2, &out) { element, anchor, diagonal, q in
            let score = mrd_anchored_run_score(read.baseAddress, read.count, element, Int(elementLength[anchor.element]), anchor.offset, diagonal,
                                               Self.shortJSpan, 6, 0, 0, 1, -2)
            // A read that goes on well past the anchor holds the rest of a real J. TRD and TRG keep
            // a point more: TRAJ genes (TRA is no panel locus, and not in the germline) share the
            // bases round the Phe codon with TRDJ1/2 and TRGJ, and a TRA read of a TRAV/DV gene
            // ending there would be called TRD.
            let ending = elementLocus[anchor.element] == .TRD || elementLocus[anchor.element] == .TRG
                ? Self.shortJEndingMinimumScoreTRDTRG : Self.shortJEndingMinimumScore
            return (Int32(score), read.count - q < Self.shortJEndingWithin ? ending : Self.shortJMinimumScore)
        }
    }

    /// Scores each place (J element, anchor end q in `from...through`) whose codon pair (the
    /// anchor codon and the codon before it) differs from the read in at most `mismatches` bases,
    /// checked for every J at once, 2 bits a base (N reads as G here, so this passes all that the
    /// exact gates in C pass); the best places that reach their minimum into `out`, ties kept.
    private func bestGatedJPlaces(_ read: UnsafeBufferPointer<UInt8>, from first: Int, through last: Int, candidates: [Int32], mismatches: Int,
                                  _ out: inout [Placement],
                                  score: (UnsafePointer<UInt8>, (element: Int, offset: Int), Int, Int) -> (score: Int32, minimum: Int32)) {
        guard first <= last, first >= 6 else { return }
        var topScore = Int32.min
        var code: UInt32 = 0
        for i in (first - 6)..<(first - 1) { code = code << 2 | Self.gateCode(read[i]) }
        elementBases.withUnsafeBufferPointer { arena in
            for q in first...last {
                code = (code << 2 | Self.gateCode(read[q - 1])) & 0xFFF
                for e in candidates where elementRole[Int(e)] == .j {
                    let element = Int(e)
                    guard Self.gateMismatches(code, jGate[element], bases: 6) <= mismatches else { continue }
                    let anchor = elementAnchor[element], diagonal = q - anchor
                    let (value, minimum) = score(arena.baseAddress! + elementStart[element], (element, anchor), diagonal, q)
                    guard value >= minimum else { continue }
                    Self.keepBest(Placement(element: e, diagonal: Int32(diagonal), hits: 0, score: value), top: &topScore, in: &out)
                }
            }
        }
    }

    /// The J rescue's last chance: a J with one indel past its Trp/Phe codon (a homopolymer slip in
    /// TGGGGC, or one from hypermutation), scored as IgBLAST scores J (+1 / -2, a gap -5 -2 per
    /// base): the run through the codon, then the best run on the same or a diagonal shifted by one
    /// after a gap; wherever the codon pair matches 5 of 6 (2-bit gate), anywhere 3-200 nt after
    /// the 5' anchor; the best wins at `indelJMinimumScore` (the gap's freedom multiplies the chances a
    /// hundredfold, so 6 more than the short-J bar).
    private func rescueJWithIndel(_ read: UnsafeBufferPointer<UInt8>, start: Int, candidates: [Int32], _ out: inout [Placement]) {
        // Stricter than the short-J gate (5 of 6): this search runs on every read with a V and no J,
        // anywhere downstream.
        bestGatedJPlaces(read, from: max(start + 3, 6), through: min(start + 200, read.count), candidates: candidates, mismatches: 1,
                         &out) { element, anchor, diagonal, _ in
            (Int32(mrd_j_indel_score(read.baseAddress, read.count, element, Int(elementLength[anchor.element]), anchor.offset, diagonal,
                                     Self.shortJSpan, 1, -2, 5, 2, 1)), Self.indelJMinimumScore)
        }
    }

    static let indelJMinimumScore: Int32 = 22
    static let shortJMinimumScore: Int32 = 16
    /// The short-J rescue looks only at anchors under this many bases before the read's end.
    static let shortJEndingBefore = 25
    /// A read that ends within this many bases past the anchor (a few places per J are searched
    /// there): enough at this score.
    static let shortJEndingWithin = 10
    static let shortJEndingMinimumScore: Int32 = 12, shortJEndingMinimumScoreTRDTRG: Int32 = 13
    /// J bases scored leftwards from the anchor (the J's junction side is at most about 20 nt).
    static let shortJSpan = 30

    /// The best V of the 3' element's locus placed by ungapped comparison at every diagonal that puts
    /// its Cys codon inside the read, 9-200 nt upstream of the 3' anchor; into the scratch's `fives`.
    /// Scored as IgBLAST scores V (+1 / -1): the run that ends with the Cys codon, reaching at most
    /// `fiveRescueSpan` bases upstream, plus the V's run past the Cys when over 6 bases; only where the
    /// Cys region is recognisably V (the gate). A ±1 walk over unrelated sequence reaches +20 with
    /// probability about (1/3)^20: some 10^-5 over the few ten thousand places searched.
    private func rescueFivePrime(_ read: UnsafeBufferPointer<UInt8>, _ scratch: inout AnnotationScratch) -> Bool {
        // Upstream of a J or a Kde only: the gates and bars below were set on V-J and V-Kde junctions.
        guard let three = scratch.threes.first, elementRole[Int(three.element)] == .j || elementRole[Int(three.element)] == .kde,
              let gates = vGatesByLocus[elementLocus[Int(three.element)]] else { return false }
        let end = elementAnchor[Int(three.element)] + Int(three.diagonal)
        // Cys codon starts p: the gate inside the read, the codon 9-200 nt before the 3' anchor.
        let gateBefore = Self.fiveRescueGateLength - 3
        let first = max(gateBefore, end - 200), last = min(end - 9, read.count) - 3
        var out = scratch.fives
        out.removeAll(keepingCapacity: true)
        var topScore = Int32.min
        elementBases.withUnsafeBufferPointer { arena in
            func score(_ e: Int32, at p: Int, gateLength: Int, gateMinimum: Int) {
                let element = Int(e), diagonal = p - elementAnchor[element]
                let score = mrd_anchored_run_score(read.baseAddress, read.count, arena.baseAddress! + elementStart[element],
                                                   Int(elementLength[element]), elementAnchor[element] + 3, diagonal, Self.fiveRescueSpan,
                                                   gateLength, gateMinimum, Self.trimmedExtensionMinimum, Self.rerankMatch, Self.rerankMismatch)
                Self.keepBest(Placement(element: e, diagonal: Int32(diagonal), hits: 0, score: Int32(score)), top: &topScore, in: &out)
            }
            // A V cut by the read's start (a short sequence, a J-side amplicon): fewer than 12 nt
            // before its Cys codon, so the gate is what the read holds, matched exactly (one
            // mismatch from 13 bases on).
            let shortFirst = max(Self.fiveRescueShortestGate - 3, end - 200), shortEnd = min(gateBefore, last + 1)
            for p in shortFirst..<max(shortFirst, shortEnd) {
                let length = p + 3, allowed = length >= 13 ? 1 : 0
                let code = Self.gateCode(of: read[0..<length])
                let low: UInt32 = (1 << (2 * UInt32(length))) - 1
                for gate in gates where Self.gateMismatches(code, gate.code & low, bases: length) <= allowed {
                    for e in gate.elements { score(e, at: p, gateLength: length, gateMinimum: length - 2 * allowed) }
                }
            }
            guard first <= last else { return }
            let mask: UInt32 = (1 << (2 * UInt32(Self.fiveRescueGateLength))) - 1
            let maximumMismatches = (Self.fiveRescueGateLength - Self.fiveRescueGateMinimum) / 2
            var code: UInt32 = 0
            for i in (first - gateBefore)..<(first + 2) { code = code << 2 | Self.gateCode(read[i]) }
            for p in first...last {
                code = (code << 2 | Self.gateCode(read[p + 2])) & mask
                // N reads as G here, so this pre-gate passes all that the exact gate in C passes.
                for gate in gates where Self.gateMismatches(code, gate.code, bases: Self.fiveRescueGateLength) <= maximumMismatches {
                    for e in gate.elements {
                        score(e, at: p, gateLength: Self.fiveRescueGateLength, gateMinimum: Self.fiveRescueGateMinimum)
                    }
                }
            }
        }
        // The bar: 20, or less where the read holds less V than that.
        out.removeAll { $0.score < Self.fiveRescueMinimum(basesThroughCys: Int($0.diagonal) + elementAnchor[Int($0.element)] + 3) }
        sortTies(&out)
        scratch.fives = out
        return !out.isEmpty
    }

    /// A base's 2-bit code from its ASCII letter (either case): A 0, C 1, T 2, G 3 (N as G).
    @inline(__always) static func gateCode(_ base: UInt8) -> UInt32 { UInt32(base >> 1 & 3) }

    /// The 2-bit code of up to 16 bases, the first in the highest bits.
    static func gateCode<Bases: Sequence<UInt8>>(of bases: Bases) -> UInt32 { bases.reduce(UInt32(0)) { $0 << 2 | gateCode($1) } }

    /// Bases that differ between two 2-bit codes of `bases` (at most 15) bases: where either bit of
    /// the XOR is set.
    @inline(__always) static func gateMismatches(_ a: UInt32, _ b: UInt32, bases: Int) -> Int {
        let x = a ^ b
        return ((x | x >> 1) & (0x5555_5555 & ((1 << (2 * UInt32(bases))) - 1))).nonzeroBitCount
    }

    /// Candidate placements: the best score so far, ties kept.
    @inline(__always) static func keepBest(_ p: Placement, top: inout Int32, in out: inout [Placement]) {
        if p.score > top {
            top = p.score
            out.removeAll(keepingCapacity: true)
        }
        if p.score == top { out.append(p) }
    }

    /// A rescue's tied placements in allele-name order, then by diagonal (deterministic).
    private func sortTies(_ out: inout [Placement]) {
        if out.count > 1 { out.sort { (alleleRank[Int($0.element)], $0.diagonal) < (alleleRank[Int($1.element)], $1.diagonal) } }
    }

    /// V bases scored upstream of the Cys by `rescueFivePrime` (enough to tell alleles apart; the
    /// cost grows with it for every allele and diagonal).
    static let fiveRescueSpan = 120
    static let fiveRescueMinimumScore: Int32 = 20
    /// Fewest read bases through the Cys codon for a V cut by the read's start.
    static let fiveRescueShortestGate = 10

    /// The V rescue's bar for a Cys codon ending `basesThroughCys` into the read: 20, or for a V
    /// cut by the read's start, all but one of its bases (at least 12), from 21 bases on all but two
    /// (by chance about 1 read in 10^5 of random bases before a J; a run past the Cys counts too).
    static func fiveRescueMinimum(basesThroughCys b: Int) -> Int32 {
        Int32(b <= 20 ? max(12, b - 2) : min(Int(fiveRescueMinimumScore), max(18, b - 4)))
    }
    /// Only diagonals whose Cys codon and the 12 nt before it match 9 of their 15 bases are scored
    /// further (by chance: 1 diagonal in 300).
    static let fiveRescueGateLength = 15, fiveRescueGateMinimum = 3
    /// Germline runs on the junction side of an element count when longer than this: 1-6 bases there
    /// match N nucleotides by chance as often as not.
    static let trimmedExtensionMinimum = 6

    /// - Parameter callD: find the D gene of VDJ junctions (callers that group reads by junction can
    ///   call `dCall` once per junction instead).
    ///   - gapped: also align the V gene with gaps (`vGapped`), as AIRR output wants.
    public func annotate(_ bases: [UInt8], callD: Bool = true, gapped: Bool = false) -> Result<ReadAnnotation, UnassignedReason> {
        var scratch = AnnotationScratch(self)
        return bases.withUnsafeBufferPointer { annotate($0, scratch: &scratch, callD: callD, gapped: gapped) }
    }

    /// As `annotate(_:callD:gapped:)`, with a worker's scratch.
    public func annotate(_ bases: UnsafeBufferPointer<UInt8>, scratch: inout AnnotationScratch, callD: Bool = true,
                         gapped: Bool = false) -> Result<ReadAnnotation, UnassignedReason> {
        switch locate(bases, &scratch) {
        case .failure(let reason): return .failure(reason)
        case .success(let location):
            let read = location.reversed ? scratch.reverse : Array(bases)
            return .success(annotation(location, read: read, scratch: scratch, callD: callD, gapped: gapped))
        }
    }

    /// The full annotation of a located read (`read` in V-to-J direction): calls, templated
    /// junction ends, V and J alignments.
    func annotation(_ location: Location, read: [UInt8], scratch: AnnotationScratch, callD: Bool, gapped: Bool = false) -> ReadAnnotation {
        let fiveElement = elements[Int(location.five.element)], threeElement = elements[Int(location.three.element)]
        let start = location.junctionStart, end = location.junctionEnd
        var annotation = ReadAnnotation(locus: location.locus, kind: location.kind, vCall: "", dCall: "", jCall: "", sequence: read,
                                        reversed: location.reversed, junctionStart: start, junctionEnd: end)
        let fields = callFields(location)
        let fiveCalls = calls(scratch.fives.lazy.map(\.element)), threeCalls = calls(scratch.threes.lazy.map(\.element))
        switch fields.five {
        case .v: annotation.vCall = fiveCalls
        case .d: annotation.dCall = fiveCalls
        case .j: annotation.jCall = fiveCalls
        }
        switch fields.three {
        case .v: annotation.vCall = threeCalls
        case .d: annotation.dCall = threeCalls
        case .j: annotation.jCall = threeCalls
        }
        if location.kind == .VDJ && callD { annotation.dCall = dCall(location.locus, Array(read[start..<end])) }
        (annotation.templatedFivePrime, annotation.templatedThreePrime) = templatedLengths(location, read)
        if fiveElement.role == .v {
            let v = alignV(fiveElement, Int(location.five.diagonal), read)
            annotation.vAlignment = v
            if gapped {
                // Gapped from the Cys codon 5'-wards; the ungapped run from the Cys on as found.
                let germline = fiveElement.segment.sequence
                annotation.vGapped = GeneAligner.alignV(read: read, junctionStart: start, ungapped: v, germline: germline)
                annotation.vGermline = germline
            }
        }
        if threeElement.role == .j { annotation.jAlignment = alignJ(threeElement, Int(location.three.diagonal), read) }
        return annotation
    }

    /// Junction bases that are germline of the 5' element (from the junction start) and of the 3'
    /// element (up to the junction end), on a read turned V-to-J.
    func templatedLengths(_ location: Location, _ read: [UInt8]) -> (five: Int, three: Int) {
        let five = Int(location.five.element), three = Int(location.three.element)
        let start = location.junctionStart, end = location.junctionEnd
        return elementBases.withUnsafeBufferPointer { arena in
            let fiveBases = arena.baseAddress! + elementStart[five], threeBases = arena.baseAddress! + elementStart[three]
            let fiveAnchor = elementAnchor[five], threeAnchor = elementAnchor[three]
            var fiveLength = 0
            while start + fiveLength < end, fiveAnchor + fiveLength < Int(elementLength[five]),
                  read[start + fiveLength] == fiveBases[fiveAnchor + fiveLength] { fiveLength += 1 }
            var threeLength = 0
            while end - 1 - threeLength >= start + fiveLength, threeAnchor - 1 - threeLength >= 0,
                  read[end - 1 - threeLength] == threeBases[threeAnchor - 1 - threeLength] { threeLength += 1 }
            return (fiveLength, threeLength)
        }
    }

    /// Where a sequence given V-to-J (a clone's consensus) places its junction and its V and J
    /// alignments, when it locates forward with exactly `junction` at its locus and kind; else nil.
    func placeForward(_ read: [UInt8], locus: Locus, kind: RearrangementKind, junction: [UInt8],
                      scratch: inout AnnotationScratch) -> (junctionStart: Int, v: SegmentAlignment?, j: SegmentAlignment?)? {
        let located = read.withUnsafeBufferPointer { locate($0, &scratch) }
        guard case .success(let location) = located, !location.reversed, location.locus == locus, location.kind == kind,
              location.junctionStart >= 0, location.junctionEnd <= read.count,
              read[location.junctionStart..<location.junctionEnd].elementsEqual(junction) else { return nil }
        let fiveElement = Int(location.five.element), threeElement = Int(location.three.element)
        return (location.junctionStart,
                elementRole[fiveElement] == .v ? alignV(elements[fiveElement], Int(location.five.diagonal), read) : nil,
                elementRole[threeElement] == .j ? alignJ(elements[threeElement], Int(location.three.diagonal), read) : nil)
    }

    /// What a clonotype keeps of its representative read (whose bytes are at `sequence` in the
    /// tally's arena): where the junction lies, its templated ends and the V and J alignments,
    /// without the calls' strings (a group per distinct junction keeps one, so it is kept small).
    func representative(_ location: Location, read: [UInt8], sequence: ByteArena.Span) -> BaselineTally.Representative {
        let (five, three) = templatedLengths(location, read)
        let fiveElement = Int(location.five.element), threeElement = Int(location.three.element)
        return BaselineTally.Representative(
            sequence: sequence, junctionStart: Int32(location.junctionStart), templatedFivePrime: Int16(five), templatedThreePrime: Int16(three),
            reversed: location.reversed,
            v: elementRole[fiveElement] == .v ? PackedAlignment(alignV(elements[fiveElement], Int(location.five.diagonal), read)) : nil,
            j: elementRole[threeElement] == .j ? PackedAlignment(alignJ(elements[threeElement], Int(location.three.diagonal), read)) : nil)
    }

    /// The V gene on its diagonal: from where it enters the read to the last base of the germline
    /// run that still matches after the Cys codon (trimmed 3' ends stop there).
    func alignV(_ element: GermlineElement, _ diagonal: Int, _ read: [UInt8]) -> SegmentAlignment {
        // From the start of the best-scoring extension upstream of the Cys region (+1 / -4): a
        // primer or leader that is not this allele's germline stays outside.
        let lowest = max(0, -diagonal)  // element offset of the first read base
        var first = max(lowest, element.anchor - 12), run = 0, best = 0
        var i = first - 1
        while i >= lowest {
            run += read[i + diagonal] == element.sequence[i] ? 1 : -4
            if run > best { best = run; first = i }
            i -= 1
        }
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

    /// Where the D gene lies in a junction: its call (ties listed), and the first tied gene's
    /// longest exact match, 0-based on the junction and on that gene.
    public struct DPlacement: Sendable, Equatable {
        public var calls: String
        public var length: Int
        public var junctionStart: Int
        public var germlineStart: Int
        public var germlineLength: Int
    }

    /// The D gene's place in `junction`, nil when no D gene matches 6 nt or more.
    public func dPlacement(_ locus: Locus, _ junction: [UInt8]) -> DPlacement? {
        let match = dMatch(locus, junction)
        guard match.length > 0, let genes = dGenes[locus] else { return nil }
        return DPlacement(calls: match.calls, length: match.length, junctionStart: match.junctionStart, germlineStart: match.germlineStart,
                          germlineLength: genes[match.gene].sequence.count)
    }

    private func dMatch(_ locus: Locus, _ junction: [UInt8]) -> (calls: String, length: Int, gene: Int, junctionStart: Int, germlineStart: Int) {
        guard let genes = dGenes[locus], let seeds = dSeedTable[locus], junction.count >= Self.dSeed else { return ("", 0, 0, 0, 0) }
        // Every exact match of 6 nt or more starts with a shared 6-mer: look those up, then extend.
        var longest = [Int](repeating: 0, count: genes.count)
        var found = [(Int, Int)](repeating: (0, 0), count: genes.count)
        DSeedIndex.forEachSeed(junction) { start, code in
            for place in Int(seeds.starts[code])..<Int(seeds.starts[code + 1]) {
                let gene = Int(seeds.places[place].gene), offset = Int(seeds.places[place].offset)
                let d = genes[gene].sequence
                // Only maximal matches: the one starting a base earlier covers this one.
                guard offset == 0 || start == 0 || d[offset - 1] != junction[start - 1] else { continue }
                var length = Self.dSeed
                while offset + length < d.count, start + length < junction.count, d[offset + length] == junction[start + length] { length += 1 }
                if length > longest[gene] { longest[gene] = length; found[gene] = (start, offset) }
            }
        }
        guard let best = longest.max(), best >= Self.dSeed else { return ("", 0, 0, 0, 0) }
        let tied = genes.indices.filter { longest[$0] == best }
        return (tied.map { genes[$0].allele }.joined(separator: ","), best, tied[0], found[tied[0]].0, found[tied[0]].1)
    }

    static let dSeed = 6

    /// D-gene 6-mers in flat arrays: the places of 6-mer code c are `places[starts[c]..<starts[c + 1]]`.
    struct DSeedIndex: Sendable {
        let starts: [Int32]
        let places: [(gene: Int32, offset: Int32)]

        init(_ genes: [[UInt8]]) {
            var byCode = [[(gene: Int32, offset: Int32)]](repeating: [], count: 1 << (2 * Annotator.dSeed))
            for (g, gene) in genes.enumerated() {
                Self.forEachSeed(gene) { offset, code in byCode[code].append((Int32(g), Int32(offset))) }
            }
            var starts: [Int32] = [0]
            for list in byCode { starts.append(starts.last! + Int32(list.count)) }
            self.starts = starts
            places = byCode.flatMap { $0 }
        }

        /// Calls `body(position, code)` for every 6-mer of upper-case A/C/G/T letters.
        static func forEachSeed(_ sequence: [UInt8], _ body: (Int, Int) -> Void) {
            var value = 0, valid = 0
            for (i, base) in sequence.enumerated() {
                let c: Int
                switch base {
                case UInt8(ascii: "A"): c = 0
                case UInt8(ascii: "C"): c = 1
                case UInt8(ascii: "G"): c = 2
                case UInt8(ascii: "T"): c = 3
                default: valid = 0; continue
                }
                value = (value << 2 | c) & ((1 << (2 * Annotator.dSeed)) - 1)
                valid += 1
                if valid >= Annotator.dSeed { body(i - Annotator.dSeed + 1, value) }
            }
        }
    }
}
