import Foundation

/// Options of `mrd run`.
public struct RunOptions: Sendable {
    public var outdir = "."
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    public var threshold = 1e-4
    public var spikeInsPath: String?
    public var umiLength = 0
    public var resume = false
    public var tolerance = MatchTolerance()
    public var detection = DetectionRule()
    public var countEvolved = true
    public var baseline = BaselineOptions()
    public var commandLine: [String] = []
    /// Add throughput and an ETA to each sample's log line (on a terminal, or with --progress).
    public var progress = false
    public init() {}
}

/// One row of calls.tsv.
public struct CallsRow: Sendable, Equatable {
    public static let columns = ["patient_id", "sample_id", "timepoint", "day", "total_reads", "cells_assessed", "clones_tracked",
                                 "clones_detected", "leukemic_reads", "leukemic_templates", "mrd_level", "mrd_ci_low", "mrd_ci_high", "lod",
                                 "threshold", "detected", "quantifiable", "call", "normalization", "qc_pass", "loq", "call_detail"]
    public var patientID: String
    public var sampleID: String
    public var day: Int?
    /// The row's cells in `columns` order.
    public var fields: [String]

    /// A follow-up that could not be processed.
    init(failed sample: SheetSample, threshold: Double) {
        patientID = sample.patientID
        sampleID = sample.sampleID
        day = sample.day
        fields = [sample.patientID, sample.sampleID, sample.timepoint, sample.day.map(String.init) ?? "", "", "", "", "", "", "", "", "",
                  "", "", BaselineReports.number(threshold), "F", "F", "indeterminate", "", "F", "", "failed"]
    }

    /// The row of a follow-up from its call.json: what both `mrd run` and `mrd aggregate` use, so
    /// that calls.tsv does not depend on which of them wrote it.
    init(sample: SheetSample, callJSON path: String) throws {
        guard let data = FileManager.default.contents(atPath: path),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ReadError(.malformedRecord, file: path, "expected the call.json of mrd track")
        }
        func number(_ key: String) -> String {
            guard let value = json[key] as? NSNumber else { return "" }
            return BaselineReports.number(value.doubleValue)
        }
        func integer(_ key: String) -> String { (json[key] as? NSNumber).map { String($0.intValue) } ?? "" }
        func flag(_ key: String) -> String { (json[key] as? Bool) == true ? "T" : "F" }
        func text(_ key: String) -> String { json[key] as? String ?? "" }
        patientID = sample.patientID
        sampleID = sample.sampleID
        day = sample.day
        fields = [sample.patientID, sample.sampleID, sample.timepoint, sample.day.map(String.init) ?? "", integer("total_reads"),
                  number("cells_assessed"), integer("clones_tracked"), integer("clones_detected"), integer("leukemic_reads"),
                  number("leukemic_templates"), number("mrd_level"), number("mrd_ci_low"), number("mrd_ci_high"), number("lod"),
                  number("threshold"), flag("detected"), flag("quantifiable"), text("call"),
                  "\(text("template_method"))+\(text("cells_method"))", flag("qc_pass"), number("loq"), text("call_detail")]
        qcFlags = json["qc_flags"] as? [String] ?? []
        if let perCopy = json["reads_per_copy"] as? [String: NSNumber] {
            readsPerCopy = perCopy.filter { $0.key != "all" }.sorted { $0.key < $1.key }
                .map { "\($0.key) \(String(format: "%.3g", $0.value.doubleValue))" }.joined(separator: ", ")
        }
    }

    /// For the report: the call's QC flags and reads per spike-in copy by locus.
    public var qcFlags: [String] = []
    public var readsPerCopy = ""

    public func value(_ column: String) -> String { fields[Self.columns.firstIndex(of: column)!] }

    /// The contract's order: patient_id, day (empty last), sample_id.
    static func order(_ a: CallsRow, _ b: CallsRow) -> Bool {
        if a.patientID != b.patientID { return a.patientID < b.patientID }
        switch (a.day, b.day) {
        case let (x?, y?) where x != y: return x < y
        case (nil, _?): return false
        case (_?, nil): return true
        default: return a.sampleID < b.sampleID
        }
    }
}

/// What happened to one sample of a run.
public struct SampleOutcome: Sendable {
    public var sample: SheetSample
    public var ok: Bool
    public var error: String?
    public var reused = false
    public var seconds = 0.0
    public var totalReads = 0
    /// Reads given a rearrangement (baselines) or a locus (follow-ups, controls), for the report's QC.
    public var assignedReads: Int?
    /// Where a control's reads went (its own outputs are only rows of controls.tsv).
    public var readAccounting: [String: Int]?
    public var inputHash = ""
    public var callsRow: CallsRow?
}

/// One control sample's reads of one index clone.
public struct ControlHit: Sendable {
    public var controlID: String
    public var patientID: String
    public var cloneID: String
    public var locus: Locus
    public var reads: Int
}

/// The outcome of `mrd run`.
public struct RunResult: Sendable {
    public var outcomes: [SampleOutcome] = []
    public var calls: [CallsRow] = []
    public var controls: [ControlHit] = []
    public var qcFlags: [String] = []
    public var failed: [SampleOutcome] { outcomes.filter { !$0.ok } }
}

/// `mrd run`: a whole sequencing run from its sample sheet. Samples run one after another, each on
/// all threads (the reader, decoder and workers of one sample already keep every core busy, and
/// the germline index is built once for the run); baselines first, then follow-ups, then controls.
public struct RunAnalysis: Sendable {
    public let sheet: SampleSheet
    public let options: RunOptions

    public init(sheet: SampleSheet, options: RunOptions) {
        self.sheet = sheet
        self.options = options
    }

    /// The tracking options of every follow-up and control of the run.
    var trackOptions: TrackOptions {
        var track = TrackOptions()
        track.threads = options.threads
        track.tolerance = options.tolerance
        track.countEvolved = options.countEvolved
        track.umiLength = options.umiLength
        return track
    }

    func sampleDirectory(_ id: String) -> String {
        ((options.outdir as NSString).appendingPathComponent("samples") as NSString).appendingPathComponent(id)
    }

    /// Runs every sample; a sample that fails is recorded and the others go on.
    public func run(log: @escaping @Sendable (String) -> Void) throws -> RunResult {
        // An output folder that cannot be written fails the run before any sample is read.
        try createOutputFolder(options.outdir)
        let spikes = try options.spikeInsPath.map(readSpikeIns) ?? []
        let spikeHash = try options.spikeInsPath.map { try contentHash([$0]) } ?? "none"
        let germline = try GermlineReference.bundled()
        let annotator = Annotator(germline: germline, loci: options.baseline.loci)
        var result = RunResult()
        let total = sheet.samples.count
        var done = 0
        // Progress is measured in input bytes (compressed or not, what is left to read).
        func bytes(_ sample: SheetSample) -> Double {
            (sample.reads1 + sample.reads2).reduce(0.0) { sum, path in
                sum + Double(((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0)
            }
        }
        let totalBytes = sheet.samples.reduce(0.0) { $0 + bytes($1) }
        var doneBytes = 0.0, skippedBytes = 0.0, workSeconds = 0.0
        func report(_ outcome: SampleOutcome) {
            done += 1
            let status = outcome.ok ? (outcome.reused ? "ok (unchanged, kept)" : "ok") : "FAILED: \(outcome.error ?? "")"
            var line = "[\(done)/\(total)] \(outcome.sample.sampleID) (\(outcome.sample.role.rawValue)): \(status)"
            if outcome.ok && !outcome.reused { line += String(format: ", %d reads, %.1f s", outcome.totalReads, outcome.seconds) }
            let sampleBytes = bytes(outcome.sample)
            if outcome.reused { skippedBytes += sampleBytes } else { doneBytes += sampleBytes; workSeconds += outcome.seconds }
            if options.progress && outcome.ok && !outcome.reused && outcome.seconds > 0 {
                let remaining = totalBytes - doneBytes - skippedBytes
                let rate = doneBytes / max(workSeconds, 1e-6)
                line += String(format: " (%.0f reads/s, %.1f MB/s); ETA %.0f s", Double(outcome.totalReads) / outcome.seconds,
                               sampleBytes / outcome.seconds / 1e6, max(0, remaining) / max(rate, 1))
            }
            log(line)
        }
        let settings = "v\(MRD.version) threshold=\(options.threshold) tolerance=\(options.tolerance.costPer50) umi=\(options.umiLength) "
            + "evolved=\(options.countEvolved) detection=\(options.detection.minReads)/\(options.detection.templateFraction) "
            + "baseline=\(options.baseline.minFraction)/\(options.baseline.minReads)/\(options.baseline.minUntemplated) spikes=\(spikeHash)"

        // Baselines, and earlier runs' clones files: each patient's clones (nil when unusable, with why).
        var patientClones: [String: Result<(path: String, clones: [BaselineClone]), SampleFailure>] = [:]
        for sample in sheet.samples where sample.role == .baseline {
            var outcome = SampleOutcome(sample: sample, ok: false)
            let directory = sampleDirectory(sample.sampleID)
            let clonesPath = (directory as NSString).appendingPathComponent("\(sample.sampleID).clones.tsv")
            do {
                outcome.inputHash = try contentHash(sample.reads1 + sample.reads2) + " " + settings
                if options.resume, let record = SampleRecord.load(directory, sample.sampleID), record.ok, record.inputHash == outcome.inputHash,
                   FileManager.default.fileExists(atPath: clonesPath) {
                    outcome.reused = true
                    outcome.totalReads = record.totalReads
                } else {
                    let start = Date()
                    var baselineOptions = options.baseline
                    baselineOptions.threads = options.threads
                    let analysis = BaselineAnalysis(annotator: annotator, spikeIns: spikes, options: baselineOptions)
                    let baseline = try analysis.run(SampleInput(read1: sample.reads1, read2: sample.reads2), sampleID: sample.sampleID)
                    try BaselineReports.write(baseline, to: directory, inputs: sample.reads1 + sample.reads2, commandLine: options.commandLine)
                    outcome.seconds = Date().timeIntervalSince(start)
                    outcome.totalReads = baseline.totalReads
                }
                outcome.ok = true
                outcome.assignedReads = readCounts((directory as NSString).appendingPathComponent("\(sample.sampleID).baseline.json")).assigned
                try SampleRecord(ok: true, inputHash: outcome.inputHash, totalReads: outcome.totalReads).save(directory, sample.sampleID)
                patientClones[sample.patientID] = .success((clonesPath, try readBaselineClones(path: clonesPath)))
            } catch {
                outcome.error = describe(error)
                patientClones[sample.patientID] = .failure(SampleFailure(message: "its patient's baseline \(sample.sampleID) failed"))
            }
            report(outcome)
            result.outcomes.append(outcome)
        }
        for sample in sheet.samples where sample.clones != nil && patientClones[sample.patientID] == nil {
            do {
                patientClones[sample.patientID] = .success((sample.clones!, try readBaselineClones(path: sample.clones!)))
            } catch {
                patientClones[sample.patientID] = .failure(SampleFailure(message: "clones file: \(describe(error))"))
            }
        }

        // Follow-ups, one tracker per patient.
        var trackers: [String: FollowUpTracker] = [:]
        for sample in sheet.samples where sample.role == .followup {
            var outcome = SampleOutcome(sample: sample, ok: false)
            let directory = sampleDirectory(sample.sampleID)
            do {
                guard let clones = patientClones[sample.patientID] else { throw SampleFailure(message: "no baseline for patient \(sample.patientID)") }
                let (clonesPath, baselineClones) = try clones.get()
                outcome.inputHash = try contentHash(sample.reads1 + sample.reads2 + [clonesPath]) + " " + settings
                    + " dna=\(sample.dnaNanograms.map { String($0) } ?? "") cells=\(sample.cells.map { String($0) } ?? "")"
                let outputs = ["mrd.tsv", "call.json"].map { (directory as NSString).appendingPathComponent("\(sample.sampleID).\($0)") }
                if options.resume, let record = SampleRecord.load(directory, sample.sampleID), record.ok, record.inputHash == outcome.inputHash,
                   outputs.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) {
                    outcome.reused = true
                    outcome.totalReads = record.totalReads
                } else {
                    let start = Date()
                    let tracker = trackers[sample.patientID] ?? FollowUpTracker(clones: baselineClones, germline: germline, annotator: annotator,
                                                                                spikeIns: spikes, options: trackOptions)
                    trackers[sample.patientID] = tracker
                    let counts = try tracker.run(SampleInput(read1: sample.reads1, read2: sample.reads2), sampleID: sample.sampleID)
                    var callOptions = CallOptions()
                    callOptions.threshold = options.threshold
                    callOptions.dnaNanograms = sample.dnaNanograms
                    callOptions.cells = sample.cells
                    callOptions.useUMIs = options.umiLength > 0
                    callOptions.countEvolved = options.countEvolved
                    callOptions.detection = options.detection
                    let call = Quantifier.call(counts, spikes: spikes, spikeLoci: tracker.index.spikeLoci, options: callOptions)
                    try TrackReports.write(call, spikes: spikes, spikeReads: counts.spikeInReads, detection: options.detection, to: directory,
                                           inputs: sample.reads1 + sample.reads2, commandLine: options.commandLine)
                    outcome.seconds = Date().timeIntervalSince(start)
                    outcome.totalReads = counts.totalReads
                }
                outcome.callsRow = try CallsRow(sample: sample, callJSON: outputs[1])
                outcome.assignedReads = readCounts(outputs[1]).assigned
                outcome.ok = true
                try SampleRecord(ok: true, inputHash: outcome.inputHash, totalReads: outcome.totalReads).save(directory, sample.sampleID)
            } catch {
                outcome.error = describe(error)
                outcome.callsRow = CallsRow(failed: sample, threshold: options.threshold)
            }
            report(outcome)
            result.outcomes.append(outcome)
        }

        let clonesByPatient = patientClones.compactMapValues { try? $0.get().clones }
        try finish(&result, clonesByPatient: clonesByPatient, germline: germline, annotator: annotator, spikes: spikes, log: report)
        return result
    }

    /// The part `mrd run` and `mrd aggregate` share: controls scanned for every patient's index
    /// clones, then calls.tsv, controls.tsv, report.html, MultiQC files and run.json.
    func finish(_ result: inout RunResult, clonesByPatient: [String: [BaselineClone]], germline: GermlineReference, annotator: Annotator,
                spikes: [SpikeInCalibrator], log report: (SampleOutcome) -> Void) throws {
        let allClones = clonesByPatient.keys.sorted().flatMap { patient in clonesByPatient[patient]!.map { (patient, $0) } }
        let controlTracker = FollowUpTracker(clones: allClones.map(\.1), germline: germline, annotator: annotator, spikeIns: spikes,
                                             options: trackOptions)
        for sample in sheet.samples where sample.role == .control {
            var outcome = SampleOutcome(sample: sample, ok: false)
            do {
                let start = Date()
                let counts = try controlTracker.run(SampleInput(read1: sample.reads1, read2: sample.reads2), sampleID: sample.sampleID)
                for (t, count) in counts.clones.enumerated() {
                    let patient = allClones[controlTracker.tracked[t]].0
                    result.controls.append(ControlHit(controlID: sample.sampleID, patientID: patient, cloneID: count.clone.cloneID,
                                                      locus: count.clone.locus, reads: count.reads + count.evolvedReads))
                }
                outcome.ok = true
                outcome.totalReads = counts.totalReads
                outcome.assignedReads = counts.readsPerLocus.values.reduce(0, +)
                outcome.readAccounting = ["locus_reads": outcome.assignedReads!, "spike_in_reads": counts.spikeInReads.reduce(0, +),
                                          "unassigned_reads": counts.readsWithoutLocus]
                outcome.seconds = Date().timeIntervalSince(start)
            } catch {
                outcome.error = describe(error)
            }
            report(outcome)
            result.outcomes.append(outcome)
        }
        if result.controls.contains(where: { $0.reads >= options.detection.minReads }) { result.qcFlags.append("control_contamination") }
        if result.outcomes.contains(where: { $0.sample.role == .control && !$0.ok }) { result.qcFlags.append("control_failed") }
        result.calls = result.outcomes.compactMap(\.callsRow).sorted(by: CallsRow.order)
        try RunReports.write(result, sheet: sheet, options: options)
    }

    /// `mrd aggregate`: the run-level outputs from the per-sample outputs already under
    /// `outdir/samples` (written by `mrd baseline` and `mrd track`, e.g. from a workflow's jobs).
    /// A follow-up without its call.json is a failed sample.
    public func aggregate(log: @escaping @Sendable (String) -> Void) throws -> RunResult {
        let spikes = try options.spikeInsPath.map(readSpikeIns) ?? []
        let germline = try GermlineReference.bundled()
        let annotator = Annotator(germline: germline, loci: options.baseline.loci)
        var result = RunResult()
        var clonesByPatient: [String: [BaselineClone]] = [:]
        var failedPatients: [String: String] = [:]
        for sample in sheet.samples where sample.role == .baseline {
            var outcome = SampleOutcome(sample: sample, ok: false)
            let directory = sampleDirectory(sample.sampleID)
            let clonesPath = (directory as NSString).appendingPathComponent("\(sample.sampleID).clones.tsv")
            do {
                clonesByPatient[sample.patientID] = try readBaselineClones(path: clonesPath)
                outcome.ok = true
                (outcome.totalReads, outcome.assignedReads) = readCounts((directory as NSString).appendingPathComponent("\(sample.sampleID).baseline.json"))
            } catch {
                outcome.error = describe(error)
                failedPatients[sample.patientID] = "its patient's baseline \(sample.sampleID) failed"
            }
            result.outcomes.append(outcome)
        }
        for sample in sheet.samples where sample.clones != nil && clonesByPatient[sample.patientID] == nil && failedPatients[sample.patientID] == nil {
            do {
                clonesByPatient[sample.patientID] = try readBaselineClones(path: sample.clones!)
            } catch {
                failedPatients[sample.patientID] = "clones file: \(describe(error))"
            }
        }
        for sample in sheet.samples where sample.role == .followup {
            var outcome = SampleOutcome(sample: sample, ok: false)
            let path = (sampleDirectory(sample.sampleID) as NSString).appendingPathComponent("\(sample.sampleID).call.json")
            do {
                if let reason = failedPatients[sample.patientID] { throw SampleFailure(message: reason) }
                outcome.callsRow = try CallsRow(sample: sample, callJSON: path)
                (outcome.totalReads, outcome.assignedReads) = readCounts(path)
                outcome.ok = true
            } catch {
                outcome.error = FileManager.default.fileExists(atPath: path) ? describe(error) : "\(path): no call.json (the sample's mrd track did not finish)"
                outcome.callsRow = CallsRow(failed: sample, threshold: options.threshold)
            }
            result.outcomes.append(outcome)
        }
        try finish(&result, clonesByPatient: clonesByPatient, germline: germline, annotator: annotator, spikes: spikes) { outcome in
            log("\(outcome.sample.sampleID) (control): " + (outcome.ok ? "ok, \(outcome.totalReads) reads" : "FAILED: \(outcome.error ?? "")"))
        }
        return result
    }

    func describe(_ error: Error) -> String {
        if let error = error as? ReadError { return error.description }
        if let error = error as? OutputError { return error.description }
        if let error = error as? SampleFailure { return error.message }
        return String(describing: error)
    }
}

/// Total and assigned reads from a sample's baseline.json (assigned_reads) or call.json (the reads
/// of every locus).
func readCounts(_ path: String) -> (total: Int, assigned: Int?) {
    guard let data = FileManager.default.contents(atPath: path),
          let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return (0, nil) }
    let total = (json["total_reads"] as? NSNumber)?.intValue ?? 0
    if let assigned = json["assigned_reads"] as? NSNumber { return (total, assigned.intValue) }
    if let loci = json["reads_per_locus"] as? [String: NSNumber] { return (total, loci.values.reduce(0) { $0 + $1.intValue }) }
    return (total, nil)
}

struct SampleFailure: Error, Sendable {
    var message: String
}

/// A sample's completion record (`samples/ID/ID.run.json`), written after its outputs: what
/// `--resume` trusts.
struct SampleRecord: Codable {
    var ok: Bool
    var inputHash: String
    var totalReads: Int

    static func path(_ directory: String, _ id: String) -> String { (directory as NSString).appendingPathComponent("\(id).run.json") }

    static func load(_ directory: String, _ id: String) -> SampleRecord? {
        guard let data = FileManager.default.contents(atPath: path(directory, id)) else { return nil }
        return try? JSONDecoder().decode(SampleRecord.self, from: data)
    }

    func save(_ directory: String, _ id: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(String(decoding: try encoder.encode(self), as: UTF8.self) + "\n", to: Self.path(directory, id))
    }
}
