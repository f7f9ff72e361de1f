/// One recombined receptor gene as sequenced: the amplicon (V-to-J direction), where its junction
/// lies, and the germline segments it was built from.
public struct Rearrangement: Sendable, Equatable, Hashable {
    public var locus: Locus
    public var kind: RearrangementKind
    /// Allele names; empty where the kind has no such segment. For Kde rearrangements `jCall` names
    /// the element (`KDE`), and `vCall` is the intron element (`Intron`) for intron-Kde.
    public var vCall: String
    public var dCall: String
    public var jCall: String
    /// The amplicon, 5' (V side) to 3' (J side).
    public var sequence: [UInt8]
    /// The junction is `sequence[junctionStart..<junctionEnd]`: for complete rearrangements the IMGT
    /// junction (Cys to Trp/Phe, both included); for incomplete ones the span between the
    /// documented anchors (see README, "Junctions of incomplete rearrangements").
    public var junctionStart: Int
    public var junctionEnd: Int
    /// Share of the V bases upstream of the Cys codon left germline (simulated somatic hypermutation).
    public var vIdentity = 1.0

    public var junction: [UInt8] { Array(sequence[junctionStart..<junctionEnd]) }
    public var junctionString: String { String(decoding: junction, as: UTF8.self) }

    /// In frame and without a stop codon (complete rearrangements only).
    public var productive: Bool? { kind.productive(junction) }

    /// The junction translated, for complete rearrangements in frame.
    public var junctionAA: String? { kind.junctionAA(junction) }
}
