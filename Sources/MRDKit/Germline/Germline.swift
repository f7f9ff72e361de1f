import Foundation

/// Gene segment types, plus the non-gene elements of incomplete rearrangements.
public enum SegmentKind: String, Sendable, Codable {
    case V, D, J
    /// Kappa-deleting element and the JK-CK intron RSS (IGK-Kde rearrangements).
    case KDE, INTRON
}

/// Alleles of the bundled AIRR-C reference sets that IMGT/GENE-DB knows by another name. Calls
/// list IMGT's name beside AIRR-C's (one sequence, two names, as AIRR-C itself lists identical
/// alleles of duplicated genes), so that labs whose reports use IMGT names find theirs. Applied only
/// to an allele of that name whose sequence is the bundled one (FNV-1a of its bases): a user's
/// germline folder with another sequence under the name is left alone.
/// - IGHV4-NL1*01 ("not localised") is IMGT's IGHV4-59*08: identical, base for base, to the
///   germline of the AIRR Community's IGHV4-59*08 rows (TestReads/real/airr-standards).
public enum GermlineSynonyms {
    public static let imgt: [String: (sequenceHash: UInt64, name: String)] = [
        "IGHV4-NL1*01": (0x3a71_b909_af34_d825, "IGHV4-59*08"),
    ]

    /// IMGT's name for `segment`, when it has another one.
    public static func imgtName(of segment: GermlineSegment) -> String? {
        guard let synonym = imgt[segment.allele], fnv1a(segment.sequence) == synonym.sequenceHash else { return nil }
        return synonym.name
    }

    static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }
}

/// One germline allele: its name, its sequence (upper case, IMGT gaps removed), and, for the
/// `+up`/`+down` files, the genomic flank that incomplete rearrangements keep.
public struct GermlineSegment: Sendable, Equatable {
    /// Allele name, e.g. `IGHV3-23*01`.
    public let allele: String
    public let locus: Locus
    public let kind: SegmentKind
    /// The gene itself.
    public let sequence: [UInt8]
    /// Genomic sequence 5' of the gene (from `+up` files), else empty.
    public let upstream: [UInt8]
    /// Genomic sequence 3' of the gene (from `+down` files), else empty.
    public let downstream: [UInt8]
    /// IMGT functionality (`F`, `ORF`, `P`), empty when the file does not say.
    public let functionality: String
    /// V: offset of the first base of the conserved Cys codon (2nd-CYS, IMGT 104).
    /// J: offset of the first base of the Trp (IGHJ) or Phe (others) codon (IMGT 118).
    public let anchor: Int?

    /// Gene name without the allele: `IGHV3-23`.
    public var gene: String { Self.gene(of: allele) }
    /// The gene of an allele name: `IGHV3-23*01` -> `IGHV3-23`.
    public static func gene<S: StringProtocol>(of allele: S) -> String {
        let name = String(allele)
        return name.split(separator: "*").first.map(String.init) ?? name
    }
    /// Family: `IGHV3`.
    public var family: String { String(gene.split(separator: "-").first ?? Substring(gene)) }
    public var isFunctional: Bool { functionality.isEmpty || functionality.hasPrefix("F") || functionality.hasPrefix("(F") || functionality.hasPrefix("[F") }
}

/// A human germline reference: V, D, J sets per locus plus the elements of incomplete
/// rearrangements, loaded from a folder in the layout of `Resources/germline` (OGRDB for IG, IMGT
/// for TR). The default is the copy shipped inside the package.
public struct GermlineReference: Sendable {
    public let segments: [GermlineSegment]
    public let directory: URL

    /// The allele named `name` in calls: its own name, or IMGT's where `GermlineSynonyms` lists one
    /// (the first name of a sorted call may be the synonym).
    public func segment(named name: some StringProtocol) -> GermlineSegment? {
        if let segment = segments.first(where: { $0.allele == name }) { return segment }
        guard let original = GermlineSynonyms.imgt.first(where: { $0.value.name == name })?.key else { return nil }
        return segments.first { $0.allele == original && GermlineSynonyms.imgtName(of: $0) == String(name) }
    }

    /// The reference shipped with mrd.
    public static func bundled() throws -> GermlineReference {
        guard let url = Bundle.module.url(forResource: "germline", withExtension: nil) else {
            throw ReadError(.missingInput, file: "germline", "the bundled germline folder is missing from the package resources")
        }
        return try GermlineReference(directory: url)
    }

    /// Loads every FASTA file under `directory/human/{ogrdb,imgt}`.
    public init(directory: URL) throws {
        self.directory = directory
        var segments: [GermlineSegment] = []
        var ungappedV = Set<Int>()
        let files: [(String, Locus, SegmentKind, Flank)] = [
            ("ogrdb/IGHV", .IGH, .V, .none), ("ogrdb/IGHD", .IGH, .D, .none), ("imgt/IGHJ+down", .IGH, .J, .down),
            ("imgt/IGHD+up", .IGH, .D, .up),
            ("ogrdb/IGKV", .IGK, .V, .none), ("imgt/IGKJ+down", .IGK, .J, .down),
            ("imgt/IGK-KDE", .IGK, .KDE, .none), ("imgt/IGK-INTRON", .IGK, .INTRON, .none),
            ("ogrdb/IGLV", .IGL, .V, .none), ("ogrdb/IGLJ", .IGL, .J, .none),
            ("imgt/TRBV", .TRB, .V, .none), ("imgt/TRBD+up", .TRB, .D, .up), ("imgt/TRBJ+down", .TRB, .J, .down),
            ("imgt/TRGV", .TRG, .V, .none), ("imgt/TRGJ+down", .TRG, .J, .down),
            ("imgt/TRDV", .TRD, .V, .none), ("imgt/TRDD+up", .TRD, .D, .up), ("imgt/TRDJ+down", .TRD, .J, .down),
            ("imgt/TRDD3+down", .TRD, .D, .down),
        ]
        for (name, locus, kind, flank) in files {
            let url = directory.appendingPathComponent("human/\(name).fasta")
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw ReadError(.missingInput, file: url.path, "germline file missing (expected the layout of the bundled germline folder)")
            }
            for (header, raw) in try Self.readFASTA(url) {
                if kind == .V && !raw.contains(UInt8(ascii: ".")) { ungappedV.insert(segments.count) }
                segments.append(Self.segment(header: header, raw: raw, locus: locus, kind: kind, flank: flank, file: name))
            }
        }
        Self.placeUngappedCysteines(&segments, ungapped: ungappedV)
        Self.alignCysteinesWithSiblings(&segments, ungapped: ungappedV)
        self.segments = segments
    }

    enum Flank { case none, up, down }

    /// The segments of one locus and kind (for D: the plain genes and the `+up`/`+down` copies, which
    /// carry their flank in `upstream`/`downstream`).
    public func segments(_ locus: Locus, _ kind: SegmentKind) -> [GermlineSegment] {
        segments.filter { $0.locus == locus && $0.kind == kind }
    }

    /// Records of a FASTA file as (header, sequence bytes with white space removed). Worked on as
    /// bytes: the germline files are ASCII, and loading them is part of every command's start-up.
    static func readFASTA(_ url: URL) throws -> [(String, [UInt8])] {
        let data = try Data(contentsOf: url)
        var records: [(String, [UInt8])] = []
        var header: String?
        var sequence: [UInt8] = []
        data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count && bytes[end] != 10 && bytes[end] != 13 { end += 1 }
                if end > start {
                    if bytes[start] == UInt8(ascii: ">") {
                        if let header { records.append((header, sequence)) }
                        header = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(start + 1)..<end]), as: UTF8.self)
                        sequence = []
                    } else {
                        for byte in bytes[start..<end] where byte != 32 && byte != 9 { sequence.append(byte) }
                    }
                }
                start = end + 1
            }
        }
        if let header { records.append((header, sequence)) }
        return records
    }

    static func segment(header: String, raw: [UInt8], locus: Locus, kind: SegmentKind, flank: Flank, file: String) -> GermlineSegment {
        // IMGT headers: accession|allele|species|functionality|...; OGRDB: allele only.
        let fields = header.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
        let allele = fields.count > 1 ? fields[1] : header.split(separator: " ").first.map(String.init) ?? header
        let functionality = fields.count > 3 ? fields[3].trimmingCharacters(in: .whitespaces) : ""
        let dot = UInt8(ascii: ".")
        let gapped = raw.filter { $0 != dot }
        var gene = gapped[...], up = gapped[0..<0], down = gapped[0..<0]
        if flank != .none {
            // In +up/+down files the lower-case part is the gene, the upper-case part the flank.
            let isLower: (UInt8) -> Bool = { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") }
            if flank == .up, let first = gapped.firstIndex(where: isLower) {
                up = gapped[..<first]; gene = gapped[first...]
            } else if flank == .down, let last = gapped.lastIndex(where: isLower) {
                gene = gapped[...last]; down = gapped[(last + 1)...]
            }
        }
        func upper<C: Collection>(_ letters: C) -> [UInt8] where C.Element == UInt8 {
            letters.map { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") ? $0 - 32 : $0 }
        }
        let sequence = upper(gene)
        var anchor: Int?
        switch kind {
        case .V:
            // Gapped IMGT V-REGIONs put the 2nd-CYS at gapped positions 310-312, IMGT's junction
            // start whatever the codon: an ORF or pseudogene whose Cys is mutated (TRBV17's TAC,
            // TRBV26's TAT, TRBV7-3*02's CGT) starts its junctions there too, not at another TGY.
            if raw.count >= 312 && raw.contains(dot) {
                let before = raw.prefix(309).filter { $0 != dot }.count
                if before + 3 <= sequence.count { anchor = before }
            }
            if anchor == nil { anchor = findCysteine(sequence) }
        case .J:
            anchor = findJAnchor(sequence, locus: locus)
        default:
            break
        }
        return GermlineSegment(allele: allele, locus: locus, kind: kind, sequence: sequence,
                               upstream: upper(up), downstream: upper(down),
                               functionality: functionality, anchor: anchor)
    }

    /// An ungapped V-REGION in a file of gapped ones (IMGT gives some pseudogene and partial alleles
    /// without gaps, frameshifts included) takes its Cys from a gapped allele of the same gene whose
    /// 21 nt around the Cys occur in it once: reading frames from codon 1 are wrong after a frameshift.
    /// An allele with no gapped allele of its gene (TRGV6, TRGV7, TRBV7-5, TRBV5-2: pseudogenes that
    /// rearrange, and are tracked markers when they do) takes the TGY codon of its last 45 nt whose
    /// 21 nt around it are most like those of the gapped V alleles of its locus: at least
    /// `relativeProbeMinimum` alike, and no other place as alike. (Its reading frame from codon 1 put
    /// TRBV7-5's Cys two codons early and TRBV5-2's out of frame, and found none in TRGV6/TRGV7, which
    /// then were no V element at all: a TRGV6 read was called TRGV2, a TRGV7 read not annotated.)
    /// Files without gapped alleles (OGRDB's) keep the reading-frame Cys; an allele of theirs with
    /// none in frame (a frameshift: IGKV2-29*01, which was no V element, its reads called
    /// IGKV2-29*02) is placed the same way against the alleles of its gene and locus that have one.
    /// (IGLV3-2*03 stays unplaced: 13 of the 21 bases round any IGLV Cys at best.)
    static func placeUngappedCysteines(_ segments: inout [GermlineSegment], ungapped: Set<Int>) {
        var gappedByGene: [String: [Int]] = [:], gappedByLocus: [Locus: [Int]] = [:]
        for (i, segment) in segments.enumerated() where segment.kind == .V && !ungapped.contains(i) && segment.anchor != nil {
            gappedByGene[segment.gene, default: []].append(i)
            gappedByLocus[segment.locus, default: []].append(i)
        }
        func placed(_ segment: GermlineSegment, anchor: Int) -> GermlineSegment {
            GermlineSegment(allele: segment.allele, locus: segment.locus, kind: segment.kind, sequence: segment.sequence,
                            upstream: segment.upstream, downstream: segment.downstream, functionality: segment.functionality, anchor: anchor)
        }
        for i in ungapped.sorted() {
            if let place = cysteine(of: segments[i], byGene: gappedByGene, byLocus: gappedByLocus, segments) {
                segments[i] = placed(segments[i], anchor: place)
            }
        }
        var framedByGene: [String: [Int]] = [:], framedByLocus: [Locus: [Int]] = [:], unplaced: [Int] = []
        for (i, segment) in segments.enumerated() where segment.kind == .V && gappedByLocus[segment.locus] == nil {
            if segment.anchor == nil {
                unplaced.append(i)
            } else {
                framedByGene[segment.gene, default: []].append(i)
                framedByLocus[segment.locus, default: []].append(i)
            }
        }
        for i in unplaced {
            if let place = cysteine(of: segments[i], byGene: framedByGene, byLocus: framedByLocus, siblingMismatches: 2, segments) {
                segments[i] = placed(segments[i], anchor: place)
            }
        }
    }

    /// The Cys of `segment` from reference alleles (with their Cys): where the 21 nt around a
    /// sibling's occur once (with up to `siblingMismatches` differences: IGKV2-29*01 reads TGA for
    /// its siblings' Cys codon, and IMGT's gapped alleles start junctions there whatever the
    /// codon); else the TGY codon of its last 45 nt most like the locus references'.
    private static func cysteine(of segment: GermlineSegment, byGene: [String: [Int]], byLocus: [Locus: [Int]],
                                 siblingMismatches: Int = 0, _ segments: [GermlineSegment]) -> Int? {
        for sibling in byGene[segment.gene] ?? [] {
            let reference = segments[sibling].sequence, anchor = segments[sibling].anchor!
            guard anchor >= 15, anchor + 6 <= reference.count else { continue }
            let probe = Array(reference[(anchor - 15)..<(anchor + 6)])
            let places = segment.sequence.indices.dropLast(probe.count - 1).filter { start in
                var differences = 0
                for k in 0..<probe.count where segment.sequence[start + k] != probe[k] { differences += 1 }
                return differences <= siblingMismatches
            }
            guard places.count == 1 else { continue }
            return places[0] + 15
        }
        guard let relatives = byLocus[segment.locus] else { return nil }
        let sequence = segment.sequence
        var best = 0, bestPlaces = Set<Int>()
        for place in max(15, sequence.count - 45)..<max(15, sequence.count - 5) where isCysteine(sequence, place) {
            for relative in relatives {
                let reference = segments[relative].sequence, anchor = segments[relative].anchor!
                guard anchor >= 15, anchor + 6 <= reference.count else { continue }
                var alike = 0
                for k in -15..<6 where sequence[place + k] == reference[anchor + k] { alike += 1 }
                if alike > best { best = alike; bestPlaces = [place] } else if alike == best { bestPlaces.insert(place) }
            }
        }
        if best >= relativeProbeMinimum, bestPlaces.count == 1, let place = bestPlaces.first { return place }
        return nil
    }

    static let relativeProbeMinimum = 17

    /// An ungapped allele with two Cys codons in a row (IGHV4-4*01's Y-C-C-A-R, a Tyr codon of its
    /// siblings' Y-Y-C-A-R read as Cys) takes the one its gene's other alleles have: the Cys as far
    /// from the V-REGION's 3' end as most of them (in frame with the first choice). Else its
    /// junctions would start a codon early, and reads of other genes would align to it a codon off.
    static func alignCysteinesWithSiblings(_ segments: inout [GermlineSegment], ungapped: Set<Int>) {
        var byGene: [String: [Int]] = [:]
        for i in ungapped.sorted() where segments[i].anchor != nil { byGene[segments[i].gene, default: []].append(i) }
        for (_, alleles) in byGene.sorted(by: { $0.key < $1.key }) where alleles.count > 2 {
            for i in alleles {
                var votes: [Int: Int] = [:]
                for j in alleles where j != i { votes[segments[j].sequence.count - segments[j].anchor!, default: 0] += 1 }
                let ranked = votes.sorted { ($0.value, -$0.key) > ($1.value, -$1.key) }
                guard let mode = ranked.first, ranked.count == 1 || ranked[1].value < mode.value else { continue }
                let segment = segments[i], anchor = segment.anchor!, place = segment.sequence.count - mode.key
                guard place != anchor, place % 3 == anchor % 3, isCysteine(segment.sequence, place) else { continue }
                segments[i] = GermlineSegment(allele: segment.allele, locus: segment.locus, kind: segment.kind, sequence: segment.sequence,
                                              upstream: segment.upstream, downstream: segment.downstream,
                                              functionality: segment.functionality, anchor: place)
            }
        }
    }

    static func isCysteine(_ s: [UInt8], _ i: Int) -> Bool {
        i >= 0 && i + 3 <= s.count && s[i] == UInt8(ascii: "T") && s[i + 1] == UInt8(ascii: "G")
            && (s[i + 2] == UInt8(ascii: "T") || s[i + 2] == UInt8(ascii: "C"))
    }

    /// The conserved Cys of an ungapped V-REGION (which starts at codon 1): the last in-frame TGY in
    /// its 3' part, preferring one after a Tyr codon (the Y-Y-C motif of FR3).
    static func findCysteine(_ s: [UInt8]) -> Int? {
        guard s.count >= 30 else { return nil }
        var candidates: [Int] = []
        var i = (max(0, s.count - 40) / 3) * 3
        while i + 3 <= s.count {
            if isCysteine(s, i) { candidates.append(i) }
            i += 3
        }
        func tyrosine(_ j: Int) -> Bool {
            j >= 0 && s[j] == UInt8(ascii: "T") && s[j + 1] == UInt8(ascii: "A")
                && (s[j + 2] == UInt8(ascii: "T") || s[j + 2] == UInt8(ascii: "C"))
        }
        return candidates.last(where: { tyrosine($0 - 3) }) ?? candidates.last
    }

    /// The J anchor: the first W-G-x-G (IGHJ) or F-G-x-G (others) motif, TGG/TTY GGN NNN GGN.
    static func findJAnchor(_ s: [UInt8], locus: Locus) -> Int? {
        guard s.count >= 12 else { return nil }
        let G = UInt8(ascii: "G"), T = UInt8(ascii: "T"), C = UInt8(ascii: "C")
        func motif(_ i: Int, trp: Bool, strict: Bool) -> Bool {
            let first = trp ? (s[i] == T && s[i + 1] == G && s[i + 2] == G)
                            : (s[i] == T && s[i + 1] == T && (s[i + 2] == T || s[i + 2] == C))
            return first && (!strict || (s[i + 3] == G && s[i + 4] == G)) && s[i + 9] == G && s[i + 10] == G
        }
        let preferTrp = locus == .IGH
        // Strict W/F-G-x-G first; then W/F-x-x-G, which a few J genes have (TRGJP1: F-A-E-G).
        for strict in [true, false] {
            for trp in preferTrp ? [true, false] : [false, true] {
                for i in 0...(s.count - 12) where motif(i, trp: trp, strict: strict) { return i }
            }
        }
        return nil
    }
}
