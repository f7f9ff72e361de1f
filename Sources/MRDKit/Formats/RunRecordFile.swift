import Foundation

/// DIR/run.json: every sample of a run with its status, and the run's QC flags.
public struct RunRecord: Codable, Sendable, Equatable {
    public struct Sample: Codable, Sendable, Equatable {
        public var sampleID: String
        public var patientID: String
        public var role: String
        /// `ok` or `failed`.
        public var status: String
        @Nullable public var error: String?
        public var reused: Bool
        public var totalReads: Int
        public var seconds: Double
        public var inputHash: String
        /// Where a control's reads went (its own outputs are only rows of controls.tsv).
        public var readAccounting: [String: Int]?

        enum CodingKeys: String, CodingKey {
            case sampleID = "sample_id", patientID = "patient_id", role, status, error, reused, totalReads = "total_reads"
            case seconds, inputHash = "input_hash", readAccounting = "read_accounting"
        }

        public init(sampleID: String, patientID: String, role: String, status: String, error: String?, reused: Bool, totalReads: Int,
                    seconds: Double, inputHash: String, readAccounting: [String: Int]?) {
            self.sampleID = sampleID
            self.patientID = patientID
            self.role = role
            self.status = status
            self.error = error
            self.reused = reused
            self.totalReads = totalReads
            self.seconds = seconds
            self.inputHash = inputHash
            self.readAccounting = readAccounting
        }
    }

    public var version: String
    public var commandLine: [String]
    public var sheet: String
    public var outdir: String
    /// ISO 8601 time the run finished.
    public var finished: String
    public var samples: [Sample]
    public var qcFlags: [String]
    public var failedSamples: [String]
    public var threshold: Double

    enum CodingKeys: String, CodingKey {
        case version, commandLine = "command_line", sheet, outdir, finished, samples, qcFlags = "qc_flags"
        case failedSamples = "failed_samples", threshold
    }

    public init(version: String, commandLine: [String], sheet: String, outdir: String, finished: String, samples: [Sample],
                qcFlags: [String], failedSamples: [String], threshold: Double) {
        self.version = version
        self.commandLine = commandLine
        self.sheet = sheet
        self.outdir = outdir
        self.finished = finished
        self.samples = samples
        self.qcFlags = qcFlags
        self.failedSamples = failedSamples
        self.threshold = threshold
    }

    public var text: String { JSONFile.text(self) }

    public static func read(path: String) throws -> RunRecord { try JSONFile.read(RunRecord.self, path: path, what: "run.json of mrd run") }
}

/// A sample's completion record (`samples/ID/ID.run.json`), written after its outputs: what
/// `--resume` trusts.
public struct SampleCompletion: Codable, Sendable, Equatable {
    public var ok: Bool
    public var inputHash: String
    public var totalReads: Int

    public init(ok: Bool, inputHash: String, totalReads: Int) {
        self.ok = ok
        self.inputHash = inputHash
        self.totalReads = totalReads
    }

    public static func path(_ directory: String, _ id: String) -> String { (directory as NSString).appendingPathComponent("\(id).run.json") }

    /// The record, or nil when there is none or it cannot be read (the sample is then redone).
    public static func load(_ directory: String, _ id: String) -> SampleCompletion? {
        try? JSONFile.read(SampleCompletion.self, path: path(directory, id), what: "completion record")
    }

    public var text: String { JSONFile.text(self) }
}
