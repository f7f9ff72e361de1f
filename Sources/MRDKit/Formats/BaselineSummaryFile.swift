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

    enum CodingKeys: String, CodingKey {
        case sampleID = "sample_id", version, commandLine = "command_line", inputs, totalReads = "total_reads"
        case assignedReads = "assigned_reads", unassignedReads = "unassigned_reads", spikeInReads = "spike_in_reads"
        case spikeInReadsByID = "spike_in_reads_by_id", readsPerLocus = "reads_per_locus", clonotypes, trackable
        case noTrackableReason = "no_trackable_reason", notTrackable = "not_trackable"
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

    public static func read(path: String) throws -> BaselineSummary {
        try JSONFile.read(BaselineSummary.self, path: path, what: "baseline.json of mrd baseline")
    }
}
