/// The words every room shares: AIRR loci, the contract's rearrangement kinds, the genetic code
/// and base complements.

/// Immune-receptor loci, as AIRR names them.
public enum Locus: String, Sendable, CaseIterable, Codable, Comparable {
    case IGH, IGK, IGL, TRB, TRG, TRD

    /// Position in `allCases` (without making the array: sorting and keying 10^5 clonotypes ask often).
    public var order: Int {
        switch self {
        case .IGH: 0
        case .IGK: 1
        case .IGL: 2
        case .TRB: 3
        case .TRG: 4
        case .TRD: 5
        }
    }

    public static func < (a: Locus, b: Locus) -> Bool { a.order < b.order }
}

/// Kinds of rearrangement, as the contract names them.
public enum RearrangementKind: String, Sendable, CaseIterable, Codable {
    case VDJ, VJ, DJ
    case vKde = "V-KDE"
    case intronKde = "INTRON-KDE"
    case VD, DD

    public var isComplete: Bool { self == .VDJ || self == .VJ }

    /// A V-to-J rearrangement of `locus`: VDJ on the loci with D genes (IGH, TRB, TRD), else VJ.
    public static func complete(_ locus: Locus) -> RearrangementKind { [.IGH, .TRB, .TRD].contains(locus) ? .VDJ : .VJ }

    /// In frame and without a stop codon; nil for incomplete rearrangements.
    public func productive(_ junction: [UInt8]) -> Bool? {
        guard isComplete else { return nil }
        guard junction.count % 3 == 0 else { return false }
        // On the bytes: String.contains(String) goes through Foundation's locale-aware search.
        return !Codon.translate(junction).utf8.contains(UInt8(ascii: "*"))
    }

    /// The junction translated, for complete rearrangements in frame; else nil.
    public func junctionAA(_ junction: [UInt8]) -> String? {
        guard isComplete, !junction.isEmpty, junction.count % 3 == 0 else { return nil }
        return Codon.translate(junction)
    }
}

/// The standard genetic code.
public enum Codon {
    /// Amino acids in TCAG x TCAG x TCAG order.
    private static let aminoAcids: [UInt8] = Array("FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG".utf8)
    /// Base -> 0...3 in TCAG order (either case), 4 for any other letter.
    private static let baseIndex: [UInt8] = {
        var table = [UInt8](repeating: 4, count: 256)
        for (i, c) in "TCAG".utf8.enumerated() {
            table[Int(c)] = UInt8(i)
            table[Int(c | 0x20)] = UInt8(i)
        }
        return table
    }()

    /// The protein of whole codons; a codon with a letter other than A/C/G/T is `X`.
    public static func translate(_ nucleotides: [UInt8]) -> String {
        var protein: [UInt8] = []
        protein.reserveCapacity(nucleotides.count / 3)
        var i = 0
        while i + 3 <= nucleotides.count {
            let a = baseIndex[Int(nucleotides[i])], b = baseIndex[Int(nucleotides[i + 1])], c = baseIndex[Int(nucleotides[i + 2])]
            protein.append(a > 3 || b > 3 || c > 3 ? UInt8(ascii: "X") : aminoAcids[Int(a) * 16 + Int(b) * 4 + Int(c)])
            i += 3
        }
        return String(decoding: protein, as: UTF8.self)
    }
}

/// Reverse complement over IUPAC letters (other bytes kept).
public func reverseComplement(_ s: [UInt8]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: s.count)
    for (i, b) in s.enumerated() { out[s.count - 1 - i] = complementTable[Int(b)] }
    return out
}

let complementTable: [UInt8] = {
    var t = (0..<256).map { UInt8($0) }
    let pairs = ["AT", "CG", "GC", "TA", "UA", "RY", "YR", "KM", "MK", "SS", "WW", "BV", "VB", "DH", "HD", "NN"]
    for pair in pairs {
        let a = pair.utf8.first!, b = pair.utf8.last!
        t[Int(a)] = b
        t[Int(a | 0x20)] = b | 0x20
    }
    return t
}()
