import Foundation

/// ID.baseline.json: where every read of a diagnostic sample went, and which clones are trackable.
public struct BaselineSummary: Codable, Sendable, Equatable {
    public var sampleID: String
    public var version: String
    public var commandLine: [String]
    public var inputs: [String]
    public var totalReads: Int
    public var assignedReads: Int
    /// Reads by reason (every reason listed, 0 included).
    public var unassignedReads: [String: Int]
    public var spikeInReads: Int
    public var spikeInReadsByID: [String: Int]
    public var readsPerLocus: [String: Int]
    public var clonotypes: Int
    public var trackable: [String]
    @Nullable public var noTrackableReason: String?
    /// Why each clone above the fraction threshold is not trackable.
    public var notTrackable: [String: String]
    /// QC codes of the diagnostic sample (`low_assignment`, `low_v_identity`).
    public var qcFlags: [String] = []
    /// Paired-end input (contract v3): pairs read, merged into one read, and not merged; null for single-end.
    @Nullable public var readPairs: Int?
    @Nullable public var mergedPairs: Int?
    @Nullable public var unmergedPairs: Int?
    /// Paired-end input read from one interleaved file per lane (read 1 and read 2 alternately)
    /// rather than mate files; null for single-end.
    @Nullable public var interleaved: Bool?
    /// Median V identity to the germline over the reads with a V (`low_v_identity` under 0.85).
    @Nullable public var medianVIdentity: Double?
    /// The group limit (`group_limit`, see `GroupLimit`): distinct junctions held when it was
    /// reached, the reads read by then, and the reads of junctions first met after it (in their
    /// locus's reads and the assigned reads, in no clonotype); null when it was not reached.
    @Nullable public var groupLimitGroups: Int?
    @Nullable public var groupLimitReads: Int?
    @Nullable public var readsNotKept: Int?

    enum CodingKeys: String, CodingKey {
        case sampleID = "sample_id", version, commandLine = "command_line", inputs, totalReads = "total_reads"
        case assignedReads = "assigned_reads", unassignedReads = "unassigned_reads", spikeInReads = "spike_in_reads"
        case spikeInReadsByID = "spike_in_reads_by_id", readsPerLocus = "reads_per_locus", clonotypes, trackable
        case noTrackableReason = "no_trackable_reason", notTrackable = "not_trackable", qcFlags = "qc_flags"
        case readPairs = "read_pairs", mergedPairs = "merged_pairs", unmergedPairs = "unmerged_pairs"
        case medianVIdentity = "median_v_identity"
        case groupLimitGroups = "group_limit_groups", groupLimitReads = "group_limit_reads", readsNotKept = "reads_not_kept"
        case interleaved
    }

    public init(sampleID: String, version: String, commandLine: [String], inputs: [String], totalReads: Int, assignedReads: Int,
                unassignedReads: [String: Int], spikeInReads: Int, spikeInReadsByID: [String: Int], readsPerLocus: [String: Int],
                clonotypes: Int, trackable: [String], noTrackableReason: String?, notTrackable: [String: String]) {
        self.sampleID = sampleID
        self.version = version
        self.commandLine = commandLine
        self.inputs = inputs
        self.totalReads = totalReads
        self.assignedReads = assignedReads
        self.unassignedReads = unassignedReads
        self.spikeInReads = spikeInReads
        self.spikeInReadsByID = spikeInReadsByID
        self.readsPerLocus = readsPerLocus
        self.clonotypes = clonotypes
        self.trackable = trackable
        self.noTrackableReason = noTrackableReason
        self.notTrackable = notTrackable
    }

    public var text: String { JSONFile.text(self) }

    /// Under this share of reads given a rearrangement or a spike-in, the library is not what mrd
    /// reads (not human IG/TR, mostly primer dimers or off-target product): `low_assignment`.
    public static let minAssignedShare = 0.1
    /// Under this median V identity the V genes are not those of the human germline set: another
    /// species' library, a wrong `--germline`, or a clone hypermutated beyond what human repertoires
    /// show (TestReads/real: hypermutated human sets 0.91 and 0.93, a camelid library 0.80):
    /// `low_v_identity`. Judged on at least this many reads.
    public static let minMedianVIdentity = 0.85
    public static let minReadsForVIdentity = 50

    /// QC codes that say the library may not be what mrd reads: the summary line goes to stderr
    /// even with `--quiet`, and `mrd run` logs it.
    public static let warningCodes = ["low_assignment", "low_v_identity", "group_limit", "reads_short_of_junction"]
    /// From this share of the reads holding a V but no J, a J but no V, or both without the whole
    /// junction between them: `reads_short_of_junction` (simulated 150-nt FR3 runs 0-17%, 1x100 on
    /// them 22-53%).
    public static let maxPartialShare = 0.25
    /// The reads that hold one side of a rearrangement but end before the other.
    public var partialReads: Int {
        [UnassignedReason.noFivePrime, .noThreePrime, .junctionNotCovered].reduce(0) { $0 + (unassignedReads[$1.rawValue] ?? 0) }
    }
    public var warns: Bool { qcFlags.contains { Self.warningCodes.contains($0) } }

    /// One line for stderr: how many reads were assigned, and the commonest reasons the others were not.
    public var summaryLine: String {
        let assigned = assignedReads + spikeInReads
        let share = totalReads > 0 ? Double(assigned) / Double(totalReads) : 0
        var line = "\(sampleID): \(assigned) of \(totalReads) reads assigned (\(String(format: "%.1f", 100 * share))%: \(assignedReads) to a rearrangement, \(spikeInReads) spike-in)"
        if interleaved == true, let pairs = readPairs {
            line += "; read as \(pairs) pairs (one interleaved file per lane: read 1 and read 2 alternately)"
        }
        let unassigned = totalReads - assigned
        if unassigned > 0 {
            let top = unassignedReads.filter { $0.value > 0 }.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(3)
            line += "; unassigned: " + top.map { "\($0.key) \(String(format: "%.0f", 100 * Double($0.value) / Double(totalReads)))%" }.joined(separator: ", ")
        }
        if qcFlags.contains("low_assignment") {
            line += ". low_assignment: under 10% of the reads are human IG/TR rearrangements; check the library (species, primers, adapters) and the --loci"
        }
        if qcFlags.contains("low_v_identity"), let median = medianVIdentity {
            line += ". low_v_identity: the V genes of the assigned reads are a median \(String(format: "%.0f", 100 * median))% identical to the human germline (hypermutated human repertoires: about 90%); not a human library, a wrong --germline, or an exceptionally hypermutated clone: follow-up calls from these clones are not reported as negative"
        }
        if qcFlags.contains("reads_short_of_junction") {
            line += ". reads_short_of_junction: \(String(format: "%.0f", 100 * Double(partialReads) / Double(max(totalReads, 1))))% of the reads hold one side "
                + "of a rearrangement but end before the other (reads shorter than the amplicon, or single-end reads of the V side of long "
                + "amplicons): index clones are chosen among the rest, and a clone whose junction the reads rarely span (a long one) may be "
                + "missed or undercounted; longer or paired-end reads span it"
        }
        if qcFlags.contains("group_limit"), let groups = groupLimitGroups, let reads = groupLimitReads, let notKept = readsNotKept {
            line += ". group_limit: \(groups) distinct junctions after \(reads) reads; later reads of a new junction one difference from a clone of 200+ reads (two from one of 5,000+) were added to it, as the fold would, the \(notKept) others are counted in their locus but in no clonotype: clonotypes first met after that are missing (--max-groups raises the limit)"
        }
        return line
    }

    public static func read(path: String) throws -> BaselineSummary {
        try JSONFile.read(BaselineSummary.self, path: path, what: "baseline.json of mrd baseline")
    }
}
