import Foundation

/// Parameters of V(D)J recombination for one locus. Defaults follow published repertoire
/// statistics (docs/simulator.md): exonuclease trimming of a few nucleotides per end (0-15, skewed to
/// few), N additions by TdT (geometric; ~6-8 nt per side in IGH, ~1-2 in IGK), occasional P
/// nucleotides at untrimmed ends.
public struct LocusModel: Sendable {
    public var locus: Locus
    /// Kinds of rearrangement and their shares.
    public var kinds: [(RearrangementKind, Double)]
    public var meanNAddition: Double
    public var meanTrimV: Double = 2.5
    public var meanTrimD5: Double = 4
    public var meanTrimD3: Double = 4
    public var meanTrimJ: Double = 4.5
    public var maxTrim = 15
    public var pNucleotideChance = 0.25
    /// Gene usage skew: weight of the gene at usage rank r is 1 / r^s.
    public var usageExponent = 1.1

    public static func standard(_ locus: Locus) -> LocusModel {
        switch locus {
        case .IGH: return LocusModel(locus: .IGH, kinds: [(.VDJ, 0.9), (.DJ, 0.1)], meanNAddition: 7)
        case .IGK: return LocusModel(locus: .IGK, kinds: [(.VJ, 0.8), (.vKde, 0.12), (.intronKde, 0.08)], meanNAddition: 1.5)
        case .IGL: return LocusModel(locus: .IGL, kinds: [(.VJ, 1)], meanNAddition: 1.5)
        case .TRB: return LocusModel(locus: .TRB, kinds: [(.VDJ, 0.9), (.DJ, 0.1)], meanNAddition: 4.5)
        case .TRG: return LocusModel(locus: .TRG, kinds: [(.VJ, 1)], meanNAddition: 5)
        case .TRD: return LocusModel(locus: .TRD, kinds: [(.VDJ, 0.7), (.VD, 0.15), (.DD, 0.15)], meanNAddition: 6)
        }
    }
}

/// Where the V primers of a multiplex assay sit, which sets how much V an amplicon carries.
public enum AmpliconDesign: String, Sendable, CaseIterable {
    /// Framework 3 (EuroClonality/BIOMED-2 FR3, clonoSEQ-like): 60-90 nt of V before the Cys codon.
    case fr3
    /// Framework 2 (BIOMED-2 FR2): 150-170 nt of V.
    case fr2
    /// Framework 1 (EuroClonality-NGS IGH FR1, LymphoTrack FR1): nearly the whole V region.
    case fr1
}

/// Builds rearrangements from a germline reference: choose segments by a skewed usage, trim, add P
/// and N nucleotides, and cut the amplicon a V-to-J multiplex PCR of the chosen design would make.
public struct RecombinationModel: Sendable {
    public let germline: GermlineReference
    public var models: [Locus: LocusModel]
    public var design = AmpliconDesign.fr3

    /// Genes usable per locus and kind (one allele per gene, functional, anchored), in usage order,
    /// with cumulative weights.
    struct Pool: Sendable {
        var segments: [GermlineSegment]
        var cumulative: [Double]
    }
    private var pools: [String: Pool] = [:]

    public init(germline: GermlineReference, models: [Locus: LocusModel]? = nil) {
        self.germline = germline
        var all: [Locus: LocusModel] = [:]
        for locus in Locus.allCases { all[locus] = models?[locus] ?? .standard(locus) }
        self.models = all
        for locus in Locus.allCases {
            let exponent = all[locus]!.usageExponent
            for kind in [SegmentKind.V, .D, .J] {
                var seen = Set<String>()
                var usable: [GermlineSegment] = []
                for segment in germline.segments(locus, kind) where segment.isFunctional && !seen.contains(segment.gene) {
                    if kind != .D && segment.anchor == nil { continue }
                    if kind == .D && segment.upstream.isEmpty && !segment.downstream.isEmpty { continue }  // TRDD3+down copy
                    if kind == .V && segment.anchor! < 60 { continue }
                    // A V whose codon 104 is no Cys (OGRDB's IGKV2-29*01 reads TGA) is annotated, but
                    // is no model for simulated clones: its gene's next allele is taken.
                    if kind == .V && !GermlineReference.isCysteine(segment.sequence, segment.anchor!) { continue }
                    seen.insert(segment.gene)
                    usable.append(segment)
                }
                // A fixed, seed-independent usage order: skew is a property of the model.
                var order = SeededRandom(seed: 0x5EED_0F_05A6E, stream: "\(locus)\(kind)")
                usable.shuffle(using: &order)
                var total = 0.0
                let cumulative = usable.indices.map { rank -> Double in
                    total += 1 / pow(Double(rank + 1), exponent)
                    return total
                }
                pools["\(locus)\(kind)"] = Pool(segments: usable, cumulative: cumulative)
            }
            // D-J joins: D genes with their upstream flank, by the same usage order as the D genes.
            let dOrder = pools["\(locus)D"]!.segments.map(\.gene)
            let withUpstream = germline.segments(locus, .D).filter { $0.isFunctional && !$0.upstream.isEmpty }
            var seenUp = Set<String>()
            let upSegments = (dOrder + withUpstream.map(\.gene)).compactMap { gene -> GermlineSegment? in
                guard !seenUp.contains(gene), let s = withUpstream.first(where: { $0.gene == gene }) else { return nil }
                seenUp.insert(gene)
                return s
            }
            var upTotal = 0.0
            pools["\(locus)Dup"] = Pool(segments: upSegments, cumulative: upSegments.indices.map { rank in
                upTotal += 1 / pow(Double(rank + 1), exponent)
                return upTotal
            })
        }
    }

    func pool(_ locus: Locus, _ kind: SegmentKind) -> Pool { pools["\(locus)\(kind)"]! }

    /// D genes for D-J joins: the `+up` copies, which carry the upstream flank the amplicon starts in.
    func pool(_ locus: Locus, _ kind: PoolKind) -> Pool { pools["\(locus)Dup"]! }
    enum PoolKind { case dWithUpstream }

    func randomSegment(_ locus: Locus, _ kind: PoolKind, using random: inout SeededRandom) -> GermlineSegment {
        let pool = pool(locus, kind)
        return pool.segments[random.pick(cumulative: pool.cumulative)]
    }

    /// Usage probability of each gene, for tests and docs.
    public func usage(_ locus: Locus, _ kind: SegmentKind) -> [(gene: String, probability: Double)] {
        let pool = pool(locus, kind)
        var previous = 0.0
        return zip(pool.segments, pool.cumulative).map { segment, c in
            defer { previous = c }
            return (segment.gene, (c - previous) / pool.cumulative.last!)
        }
    }

    /// Record of the random choices behind one rearrangement (for statistics tests).
    public struct Choices: Sendable, Equatable {
        public var trimV = 0, trimD5 = 0, trimD3 = 0, trimJ = 0
        public var n1 = 0, n2 = 0
        public var pNucleotides = 0
    }

    public func rearrange(_ locus: Locus, using random: inout SeededRandom) -> Rearrangement {
        let model = models[locus]!
        var target = random.uniform() * model.kinds.reduce(0) { $0 + $1.1 }
        var kind = model.kinds[0].0
        for (k, share) in model.kinds {
            if target < share { kind = k; break }
            target -= share
        }
        var choices = Choices()
        return rearrange(locus, kind: kind, using: &random, choices: &choices)
    }

    /// The V segment (or intron/Kde element) of a given name, for clonal evolution and spike-ins.
    public func segment(named allele: String) -> GermlineSegment? {
        germline.segment(named: allele)
    }

    public func randomSegment(_ locus: Locus, _ kind: SegmentKind, using random: inout SeededRandom) -> GermlineSegment {
        let pool = pool(locus, kind)
        return pool.segments[random.pick(cumulative: pool.cumulative)]
    }

    private func trim(_ mean: Double, limit: Int, _ model: LocusModel, _ random: inout SeededRandom) -> Int {
        var value = random.geometric(mean: mean)
        while value > model.maxTrim { value = random.geometric(mean: mean) }
        return min(value, max(0, limit))
    }

    private func nucleotides(_ count: Int, _ random: inout SeededRandom) -> [UInt8] {
        let bases: [UInt8] = Array("ACGT".utf8)
        // TdT favours G/C slightly.
        return (0..<count).map { _ in
            let u = random.uniform()
            return u < 0.2 ? bases[0] : u < 0.5 ? bases[1] : u < 0.8 ? bases[2] : bases[3]
        }
    }

    /// Where the multiplex V primer sits, as bases upstream of the Cys codon: fixed per gene, in the
    /// framework region of the design (FR1: within the first 10 bases of the V region).
    static func primerOffset(_ segment: GermlineSegment, design: AmpliconDesign = .fr3) -> Int {
        var hash: UInt32 = 2166136261
        for byte in segment.gene.utf8 { hash = (hash ^ UInt32(byte)) &* 16777619 }
        let anchor = segment.anchor ?? 60
        switch design {
        case .fr3: return min(anchor, 60 + Int(hash % 31))
        case .fr2: return min(anchor, 150 + Int(hash % 21))
        case .fr1: return max(0, anchor - Int(hash % 10))
        }
    }

    /// Bases at the amplicon's 5' end that hypermutation leaves alone: a mutated primer site would not
    /// amplify (and primers carry the germline bases anyway).
    static let primerLength = 20

    /// Somatic hypermutation of the V bases upstream of the Cys codon: substitutions at distinct
    /// positions, as many as leave `identity` of those bases germline (transitions twice as likely as
    /// transversions, as in SHM spectra), outside the primer; and with `indelChance` one codon deleted
    /// or inserted in V (SHM indels are mostly in frame). The junction, D and J are left as they are, so
    /// the truth junction and calls stay valid; `vIdentity` records the identity reached.
    public func hypermutate(_ rearrangement: inout Rearrangement, identity: Double, indelChance: Double = 0.1,
                            using random: inout SeededRandom) {
        let vLength = rearrangement.junctionStart
        let first = min(Self.primerLength, vLength)
        var positions = Array(first..<vLength)
        let wanted = min(positions.count, Int((max(0, 1 - identity) * Double(vLength)).rounded()))
        for k in 0..<wanted {
            let pick = k + random.below(positions.count - k)
            positions.swapAt(k, pick)
            let position = positions[k]
            let base = rearrangement.sequence[position]
            let transition: [UInt8: UInt8] = [65: 71, 71: 65, 67: 84, 84: 67]
            let transversions: [UInt8: [UInt8]] = [65: [67, 84], 71: [67, 84], 67: [65, 71], 84: [65, 71]]
            guard let partner = transition[base] else { continue }
            rearrangement.sequence[position] = random.uniform() < 2.0 / 3 ? partner : transversions[base]![random.below(2)]
        }
        rearrangement.vIdentity = vLength == 0 ? 1 : 1 - Double(wanted) / Double(vLength)
        // One codon in or out, away from the primer and at least 30 nt before the Cys codon.
        guard vLength - 30 > first + 30, random.bernoulli(indelChance) else { return }
        let position = first + 30 + random.below(vLength - 30 - (first + 30))
        if random.bernoulli(0.5) {
            rearrangement.sequence.removeSubrange(position..<(position + 3))
            rearrangement.junctionStart -= 3
            rearrangement.junctionEnd -= 3
        } else {
            let bases: [UInt8] = Array("ACGT".utf8)
            rearrangement.sequence.insert(contentsOf: (0..<3).map { _ in bases[random.below(4)] }, at: position)
            rearrangement.junctionStart += 3
            rearrangement.junctionEnd += 3
        }
    }

    public func rearrange(_ locus: Locus, kind: RearrangementKind, using random: inout SeededRandom,
                          choices: inout Choices, fixedV: GermlineSegment? = nil) -> Rearrangement {
        let model = models[locus]!
        var sequence: [UInt8] = []
        var junctionStart = 0
        var vCall = "", dCall = "", jCall = ""

        func pNucleotides(_ end: ArraySlice<UInt8>, fivePrime: Bool) -> [UInt8] {
            guard random.bernoulli(model.pNucleotideChance) else { return [] }
            let length = 1 + random.below(2)
            choices.pNucleotides += length
            // Palindrome of the untrimmed end: the reverse complement of its last (or first) bases.
            let piece = fivePrime ? Array(end.prefix(length)) : Array(end.suffix(length))
            return reverseComplement(piece)
        }

        // 5' part: a V segment, a D segment with its upstream flank, or the IGK intron.
        switch kind {
        case .VDJ, .VJ, .vKde, .VD:
            let v = fixedV ?? (kind == .VD ? (germline.segments(.TRD, .V).first { $0.gene == "TRDV2" && $0.anchor != nil }
                                              ?? randomSegment(locus, .V, using: &random))
                                           : randomSegment(locus, .V, using: &random))
            vCall = v.allele
            let anchor = v.anchor!
            let start = anchor - Self.primerOffset(v, design: design)
            choices.trimV = trim(model.meanTrimV, limit: v.sequence.count - (anchor + 3), model, &random)
            sequence = Array(v.sequence[start..<(v.sequence.count - choices.trimV)])
            junctionStart = anchor - start
            if choices.trimV == 0 { sequence += pNucleotides(v.sequence[...], fivePrime: false) }
        case .DJ, .DD:
            // D-J joins keep the D's upstream flank: draw from the `+up` copies.
            let d = kind == .DD ? germline.segments(.TRD, .D).first { $0.gene == "TRDD2" && !$0.upstream.isEmpty }!
                                : randomSegment(locus, .dWithUpstream, using: &random)
            dCall = d.allele
            let flank = d.upstream.suffix(70)
            choices.trimD3 = trim(model.meanTrimD3, limit: d.sequence.count - 2, model, &random)
            sequence = Array(flank) + d.sequence[..<(d.sequence.count - choices.trimD3)]
            junctionStart = flank.count
            if choices.trimD3 == 0 { sequence += pNucleotides(d.sequence[...], fivePrime: false) }
        case .intronKde:
            let intron = germline.segments(.IGK, .INTRON)[0]
            vCall = intron.allele
            let keep = Array(intron.sequence.suffix(80))
            choices.trimV = trim(model.meanTrimV, limit: 10, model, &random)
            sequence = Array(keep[..<(keep.count - choices.trimV)])
            junctionStart = keep.count - 20
        }

        // Middle: N, and for VDJ a D segment and a second N.
        choices.n1 = random.geometric(mean: model.meanNAddition)
        sequence += nucleotides(choices.n1, &random)
        if kind == .VDJ {
            let d = randomSegment(locus, .D, using: &random)
            dCall = d.allele
            choices.trimD5 = trim(model.meanTrimD5, limit: d.sequence.count / 2, model, &random)
            choices.trimD3 = trim(model.meanTrimD3, limit: d.sequence.count - choices.trimD5 - 2, model, &random)
            if choices.trimD5 == 0 { sequence += pNucleotides(d.sequence[...], fivePrime: true) }
            sequence += d.sequence[choices.trimD5..<(d.sequence.count - choices.trimD3)]
            if choices.trimD3 == 0 { sequence += pNucleotides(d.sequence[...], fivePrime: false) }
            choices.n2 = random.geometric(mean: model.meanNAddition)
            sequence += nucleotides(choices.n2, &random)
        }

        // 3' part: J with its downstream flank, the Kde element, or TRDD3 with its flank.
        let junctionEnd: Int
        switch kind {
        case .VDJ, .VJ, .DJ:
            let j = randomSegment(locus, .J, using: &random)
            jCall = j.allele
            choices.trimJ = trim(model.meanTrimJ, limit: j.anchor!, model, &random)
            if choices.trimJ == 0 { sequence += pNucleotides(j.sequence[...], fivePrime: true) }
            let jStart = sequence.count
            sequence += j.sequence[choices.trimJ...]
            junctionEnd = jStart + (j.anchor! - choices.trimJ) + 3
            sequence += j.downstream.prefix(15)
        case .vKde, .intronKde:
            let kde = germline.segments(.IGK, .KDE)[0]
            jCall = kde.allele
            choices.trimJ = trim(model.meanTrimJ, limit: 15, model, &random)
            let kdeStart = sequence.count
            sequence += kde.sequence[choices.trimJ..<min(kde.sequence.count, 70)]
            junctionEnd = kdeStart + 20 - choices.trimJ
        case .VD, .DD:
            let d3 = germline.segments(.TRD, .D).first { $0.gene == "TRDD3" && !$0.downstream.isEmpty }!
            if kind == .VD { dCall = d3.allele } else { jCall = d3.allele }
            choices.trimJ = trim(model.meanTrimD5, limit: d3.sequence.count - 3, model, &random)
            sequence += d3.sequence[choices.trimJ...]
            junctionEnd = sequence.count
            sequence += d3.downstream.prefix(40)
        }
        return Rearrangement(locus: locus, kind: kind, vCall: vCall, dCall: dCall, jCall: jCall, sequence: sequence,
                             junctionStart: junctionStart, junctionEnd: junctionEnd)
    }
}
