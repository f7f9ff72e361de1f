import Foundation

/// FID.call.json: a follow-up's quantities, call and QC, as the contract lists them, then mrd's
/// extensions. What `mrd run` and `mrd aggregate` build calls.tsv from.
public struct CallRecord: Codable, Sendable, Equatable {
    public struct DetectionRuleRecord: Codable, Sendable, Equatable {
        public var minReads: Int
        public var templateFraction: Double
        public var bleedSignificance: Double
        enum CodingKeys: String, CodingKey {
            case minReads = "min_reads", templateFraction = "template_fraction", bleedSignificance = "bleed_significance"
        }
        public init(minReads: Int, templateFraction: Double, bleedSignificance: Double) {
            self.minReads = minReads
            self.templateFraction = templateFraction
            self.bleedSignificance = bleedSignificance
        }
    }

    public var sampleID: String
    public var version: String
    public var commandLine: [String]
    public var inputs: [String]
    public var totalReads: Int
    public var readsPerLocus: [String: Int]
    public var spikeInReads: Int
    /// `spike_in`, `umi` or `reads`.
    public var templateMethod: String
    /// `dna_input`, `cells` or `none`.
    public var cellsMethod: String
    @Nullable public var cellsAssessed: Double?
    public var clonesTracked: Int
    public var clonesDetected: Int
    public var leukemicReads: Int
    public var leukemicTemplates: Double
    /// Empty without a cell count (contract v3), unless the level basis is reads.
    @Nullable public var mrdLevel: Double?
    @Nullable public var mrdCILow: Double?
    @Nullable public var mrdCIHigh: Double?
    @Nullable public var lod: Double?
    @Nullable public var loq: Double?
    public var threshold: Double
    public var detected: Bool
    public var quantifiable: Bool
    public var call: String
    public var callDetail: String
    public var qcPass: Bool
    public var qcFlags: [String]
    // Extensions.
    @Nullable public var topClone: String?
    public var evolvedReads: Int
    /// total_reads = sum of reads_per_locus + spike_in_reads + the unassigned reads.
    public var unassignedReads: [String: Int]
    public var detectionRule: DetectionRuleRecord
    public var spikeInReadsByID: [String: Int]
    /// Reads per spike-in copy by locus and over all spikes (`all`), when spike-ins were given.
    public var readsPerCopy: [String: Double]?
    public var spikeInOutliers: [String]?
    // Contract v3.
    /// The marker's net reads / its locus reads.
    @Nullable public var readFraction: Double?
    /// `cells` or `reads` (`--level-basis`).
    public var levelBasis: String
    /// One sentence: why this call (and for an indeterminate one, what would resolve it).
    public var reason: String
    /// Ids of the tracked clones.
    public var markers: [String]
    /// The UMI check, with UMIs.
    public var umiCheck: UMICheckRecord?
    /// Paired-end input: pairs read, merged into one read, and not merged; null for single-end.
    @Nullable public var readPairs: Int? = nil
    @Nullable public var mergedPairs: Int? = nil
    @Nullable public var unmergedPairs: Int? = nil
    /// Paired-end input read from one interleaved file per lane rather than mate files; null for single-end.
    @Nullable public var interleaved: Bool? = nil

    public struct UMICheckRecord: Codable, Sendable, Equatable {
        public var length: Int
        public var reads: Int
        public var topTenShare: Double
        public var meanTopBaseShare: Double
        public var random: Bool
        /// The spike-ins' distinct UMIs over their known copies (with spike-ins).
        public var spikeInCapture: Double?
        enum CodingKeys: String, CodingKey {
            case length, reads, topTenShare = "top_ten_share", meanTopBaseShare = "mean_top_base_share", random
            case spikeInCapture = "spike_in_capture"
        }
        public init(length: Int, reads: Int, topTenShare: Double, meanTopBaseShare: Double, random: Bool, spikeInCapture: Double? = nil) {
            self.spikeInCapture = spikeInCapture
            self.length = length
            self.reads = reads
            self.topTenShare = topTenShare
            self.meanTopBaseShare = meanTopBaseShare
            self.random = random
        }
    }

    enum CodingKeys: String, CodingKey {
        case sampleID = "sample_id", version, commandLine = "command_line", inputs, totalReads = "total_reads"
        case readsPerLocus = "reads_per_locus", spikeInReads = "spike_in_reads", templateMethod = "template_method"
        case cellsMethod = "cells_method", cellsAssessed = "cells_assessed", clonesTracked = "clones_tracked"
        case clonesDetected = "clones_detected", leukemicReads = "leukemic_reads", leukemicTemplates = "leukemic_templates"
        case mrdLevel = "mrd_level", mrdCILow = "mrd_ci_low", mrdCIHigh = "mrd_ci_high", lod, loq, threshold, detected
        case quantifiable, call, callDetail = "call_detail", qcPass = "qc_pass", qcFlags = "qc_flags", topClone = "top_clone"
        case evolvedReads = "evolved_reads", unassignedReads = "unassigned_reads", detectionRule = "detection_rule"
        case spikeInReadsByID = "spike_in_reads_by_id", readsPerCopy = "reads_per_copy", spikeInOutliers = "spike_in_outliers"
        case readFraction = "read_fraction", levelBasis = "level_basis", reason, markers, umiCheck = "umi_check"
        case readPairs = "read_pairs", mergedPairs = "merged_pairs", unmergedPairs = "unmerged_pairs"
        case interleaved
    }

    public var text: String { JSONFile.text(self) }

    public static func read(path: String) throws -> CallRecord {
        try JSONFile.read(CallRecord.self, path: path, what: "call.json of mrd track")
    }

    /// Reads assigned to a locus.
    public var locusReads: Int { readsPerLocus.values.reduce(0, +) }
}
