import Foundation

/// One clonotype of a diagnostic sample.
public struct Clonotype: Sendable, Equatable {
    public var cloneID = ""
    public var locus: Locus
    public var kind: RearrangementKind
    public var vCall: String
    public var dCall: String
    public var jCall: String
    public var junction: [UInt8]
    public var count: Int
    public var locusReads = 0
    public var trackable = false
    public var target: [UInt8] = []
    /// Why a clone above the fraction threshold is not trackable, else empty.
    public var notTrackableReason = ""
    /// A representative read (V-to-J direction) and whether it was reverse-complemented.
    public var representative: [UInt8]
    public var representativeReversed: Bool
    public var representativeJunctionStart: Int
    /// Reads whose consensus the representative is (`CloneSequenceConsensus`); 0: it is one read.
    public var consensusReads = 0
    /// Germline bases at the junction's ends on the representative read.
    public var templatedFivePrime = 0
    public var templatedThreePrime = 0
    /// Consensus of the clonotype's reads over the junction and its flanks, and where the junction
    /// starts in it (the target is taken from it).
    public var consensus: [UInt8] = []
    public var consensusJunctionStart = 0
    /// The consensus of the clone's V bases before its target (`Group.consensus`), for clones.tsv.
    public var consensusUpstream: [UInt8] = []
    /// Templates (reads / reads per spike-in copy of the locus; reads without spike-ins).
    public var templates = 0.0
    /// Whether `templates` come from spike-ins of the clone's own locus: only such templates are
    /// comparable across loci (each locus has its own PCR and pooling).
    public var templatesCalibrated = false
    /// Reads of the clonotype read V-to-J (the rest were reverse-complemented).
    public var forwardCount = 0
    /// Share of the clone's molecules' reads that can span its junction and flanks, relative to a
    /// molecule read fully from both ends (1 when the orientations are covered alike; about 1/2
    /// when reads from one end stop short of a long junction): see `ReadCoverage`.
    public var coverage = 1.0
    /// V and J alignments on the representative read.
    public var vAlignment: SegmentAlignment? = nil
    public var jAlignment: SegmentAlignment? = nil
    /// The representative's gapped V alignment and that allele's sequence (for AIRR output).
    public var vGapped: GeneAlignment? = nil
    public var vGermline: [UInt8] = []
    /// The J allele's gene sequence and, for VDJ, where the D gene matched (start on the
    /// representative, its bases): for AIRR alignments.
    public var jGermline: [UInt8] = []
    public var dOnRepresentative: PlacedGermline? = nil
    /// Mean Phred quality of the clonotype's reads (as built, before folding) at each junction
    /// position, rounded down (reads without qualities count as Q40): sequencing errors sit at
    /// low-quality bases, true variants do not. One byte a position: a large diagnosis has 100k+
    /// clonotypes, most of them one read.
    public var junctionMeanQualities: [UInt8] = []
    /// For clones above the fraction threshold: the most similar other clonotype of the locus and
    /// its junction edit distance (up to `IndexCloneSelection.nearestSearchLimit`; nil when none is that close).
    public var nearestCloneID: String?
    public var nearestDistance: Int?
    /// Junction bases no germline segment explains (N and P nucleotides, or sequencing errors of
    /// the representative): few of them make a junction that normal cells share.
    public var untemplated = 0

    public var fraction: Double { locusReads == 0 ? 0 : Double(count) / Double(locusReads) }
    public var junctionString: String { String(decoding: junction, as: UTF8.self) }
    public var productive: Bool? { kind.productive(junction) }
    /// Mean Phred quality of the clonotype's reads at one junction position, rounded down (40 when unknown).
    public func meanQuality(at position: Int) -> Double { Self.meanQuality(junctionMeanQualities, count: count, at: position) }

    /// The same from a clone's mean qualities and read count (also for a group before its clonotype is made).
    static func meanQuality(_ means: [UInt8], count: Int, at position: Int) -> Double {
        guard position < means.count, count > 0 else { return 40 }
        return Double(means[position])
    }
    public var junctionAA: String? { kind.junctionAA(junction) }
}

/// Options of `mrd baseline`.
public struct BaselineOptions: Sendable {
    public var loci: [Locus] = Locus.allCases
    public var minFraction = 0.05
    public var minReads = 20
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    /// Shortest junction that can be tracked apart from the background.
    public var minJunctionLength = 18
    /// Smallest share of the leading clone's templates (both loci calibrated by their own spike-ins)
    /// or of its locus fraction (otherwise) for an index clone of the other lineage (TR in a B-ALL,
    /// IG in a T-ALL): every leukemic cell carries each marker, so such a clone far below the
    /// leading one is a normal expanded clone (a CMV-driven T-cell clone at 5% of TRB) or a minor
    /// subclone. See `IndexCloneSelection`.
    public var minDominance = 0.2
    /// Fewest untemplated junction bases for an index clone of a kind other than VDJ (see
    /// `Clonotype.untemplated`).
    public var minUntemplated = 4
    /// Distinct read sequences memoised per worker, each on its second sighting (0 turns the memo
    /// off; results are the same).
    public var memoCapacity = 1 << 14
    /// The bound on distinct junction groups (see `GroupLimit`).
    public var groupLimit = GroupLimit.standard
    /// Bytes of reads per batch handed to a worker (the group limit counts in batches).
    public var batchCapacity = 4 << 20
    public init() {}
}

/// What a diagnostic sample contained.
public struct BaselineResult: Sendable {
    public var sampleID: String
    public var totalReads = 0
    /// Paired-end input: pairs read and merged (nil for single-end).
    public var pairs: PairCounts?
    public var assignedReads = 0
    public var spikeInReads = 0
    public var spikeInReadsByID: [String: Int] = [:]
    public var unassigned: [UnassignedReason: Int] = [:]
    public var readsPerLocus: [Locus: Int] = [:]
    /// Reads of junctions first met after the group limit was reached: in their locus's reads and
    /// the assigned reads, in no clonotype (see `GroupLimit`).
    public var notKeptReads = 0
    /// Distinct junction groups held when the limit was reached, and the reads read by then (nil: never reached).
    public var groupLimitReached: (groups: Int, reads: Int)?
    public var clonotypes: [Clonotype] = []
    public var trackable: [Clonotype] { clonotypes.filter(\.trackable) }
    /// Why there is no trackable clone, when there is none.
    public var noTrackableReason: String?
}

/// Majority call, ties broken alphabetically.
func majority(_ calls: [String: Int]) -> String {
    calls.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key ?? ""
}
