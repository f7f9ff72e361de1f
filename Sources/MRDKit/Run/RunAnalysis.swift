import Foundation

/// Options of `mrd run` and `mrd aggregate`.
public struct RunOptions: Sendable {
    public var outdir = "."
    public var threads = ProcessInfo.processInfo.activeProcessorCount
    public var spikeInsPath: String?
    /// A germline folder in the bundled one's layout; nil: the bundled set.
    public var germlineDirectory: String?
    public var baseline = BaselineOptions()
    public var followUp = FollowUpOptions()
    public var resume = false
    /// How compressed read files are decoded (`--threads` reaches the bzip2 decoder through it).
    public var decoding = DecoderSettings()
    public var commandLine: [String] = []
    /// Add throughput and an ETA to each sample's log line (on a terminal, or with --progress).
    public var progress = false
    /// `--pdf`: each patient page also printed to DIR/patients/<patient_id>.pdf.
    public var pdfRenderer: PDFRenderer?
    public init() {}

    var threshold: Double { followUp.threshold }
}

/// What happened to one sample of a run.
public struct SampleOutcome: Sendable {
    public var sample: SheetSample
    public var ok = false
    public var error: String?
    public var reused = false
    public var seconds = 0.0
    public var totalReads = 0
    /// Reads given a rearrangement (baselines) or a locus (follow-ups, controls), for the report's QC.
    public var assignedReads: Int?
    /// Where a control's reads went (its own outputs are only rows of controls.tsv).
    public var readAccounting: [String: Int]?
    public var inputHash = ""
    /// A follow-up's call, and its calls.tsv row (failed follow-ups have the row only).
    public var call: CallRecord?
    public var callsRow: CallsRow?

    public init(sample: SheetSample) { self.sample = sample }
}

/// The outcome of `mrd run`.
public struct RunResult: Sendable {
    public var outcomes: [SampleOutcome] = []
    public var calls: [CallsRow] = []
    public var controls: [ControlHit] = []
    public var qcFlags: [String] = []
    /// Each patient's baseline clones (after the check across patients), for the patient pages.
    public var clonesByPatient: [String: [BaselineClone]] = [:]
    /// Per follow-up, the ids of its detected clones (from its mrd.tsv).
    public var detectedClones: [String: Set<String>] = [:]
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

    var baselineOptions: BaselineOptions {
        var baseline = options.baseline
        baseline.threads = options.threads
        return baseline
    }

    var followUpOptions: FollowUpOptions {
        var followUp = options.followUp
        followUp.threads = options.threads
        return followUp
    }

    func sampleDirectory(_ id: String) -> String {
        ((options.outdir as NSString).appendingPathComponent("samples") as NSString).appendingPathComponent(id)
    }

    func loadContext() throws -> AnalysisContext {
        try AnalysisContext.load(germlineDirectory: options.germlineDirectory, loci: options.baseline.loci, spikeInsPath: options.spikeInsPath)
    }

    /// Runs every sample; a sample that fails is recorded and the others go on.
    public func run(log: @escaping @Sendable (String) -> Void) throws -> RunResult {
        // An output folder that cannot be written fails the run before any sample is read.
        try createOutputFolder(options.outdir)
        let context = try loadContext()
        let spikeHash = try options.spikeInsPath.map { try contentHash([$0]) } ?? "none"
        var result = RunResult()
        var progress = RunProgress(samples: sheet.samples, progress: options.progress, log: log)
        let baselineSettings = options.baseline
        let settings = "v\(MRD.version) \(options.followUp.fingerprint) "
            + "baseline=\(baselineSettings.minFraction)/\(baselineSettings.minReads)/\(baselineSettings.minUntemplated) spikes=\(spikeHash)"

        // Baselines, and earlier runs' clones files: each patient's clones (or why there are none).
        var patientClones: [String: Result<(path: String, clones: [BaselineClone]), SampleFailure>] = [:]
        for sample in sheet.samples where sample.role == .baseline {
            var outcome = SampleOutcome(sample: sample)
            let directory = sampleDirectory(sample.sampleID)
            let clonesPath = BaselineSample.clonesPath(in: directory, sampleID: sample.sampleID)
            var warning: String?
            do {
                outcome.inputHash = try contentHash(sample.reads1 + sample.reads2) + " " + settings
                let clones: [BaselineClone]
                let summary: BaselineSummary
                if options.resume, let record = SampleCompletion.load(directory, sample.sampleID), record.ok, record.inputHash == outcome.inputHash,
                   FileManager.default.fileExists(atPath: clonesPath) {
                    outcome.reused = true
                    clones = try ClonesFile.read(path: clonesPath)
                    summary = try BaselineSummary.read(path: BaselineSample.summaryPath(in: directory, sampleID: sample.sampleID))
                } else {
                    let start = Date()
                    let baseline = try BaselineSample(sampleID: sample.sampleID, input: sample.input(options.decoding))
                        .run(context: context, options: baselineOptions, directory: directory, commandLine: options.commandLine)
                    outcome.seconds = Date().timeIntervalSince(start)
                    (clones, summary) = (baseline.clones, baseline.summary)
                }
                outcome.totalReads = summary.totalReads
                outcome.assignedReads = summary.assignedReads
                outcome.ok = true
                if summary.warns { warning = summary.summaryLine }
                try SampleCompletion(ok: true, inputHash: outcome.inputHash, totalReads: outcome.totalReads).write(directory, sample.sampleID)
                patientClones[sample.patientID] = .success((clonesPath, clones))
            } catch {
                outcome.error = describe(error)
                patientClones[sample.patientID] = .failure(SampleFailure(message: "its patient's baseline \(sample.sampleID) failed"))
            }
            progress.report(outcome)
            if let warning { log(warning) }
            result.outcomes.append(outcome)
        }
        for sample in sheet.samples where sample.clones != nil && patientClones[sample.patientID] == nil {
            do {
                patientClones[sample.patientID] = .success((sample.clones!, try IndexClonesInput.load(path: sample.clones!, annotator: context.annotator,
                                                                                                     options: baselineOptions)))
            } catch {
                patientClones[sample.patientID] = .failure(SampleFailure(message: "clones file: \(describe(error))"))
            }
        }

        try markSharedClones(&patientClones)

        // Follow-ups, one tracker per patient.
        var trackers: [String: FollowUpTracker] = [:]
        let followUpOptions = self.followUpOptions
        for sample in sheet.samples where sample.role == .followup {
            var outcome = SampleOutcome(sample: sample)
            let directory = sampleDirectory(sample.sampleID)
            do {
                guard let clones = patientClones[sample.patientID] else { throw SampleFailure(message: "no baseline for patient \(sample.patientID)") }
                let (clonesPath, baselineClones) = try clones.get()
                outcome.inputHash = try contentHash(sample.reads1 + sample.reads2 + [clonesPath]) + " " + settings
                    + " dna=\(sample.dnaNanograms.map { String($0) } ?? "") cells=\(sample.cells.map { String($0) } ?? "")"
                    // Which clones are tracked can change without the clones file (the check across patients).
                    + " tracked=" + baselineClones.filter(\.trackable).map(\.cloneID).joined(separator: ",")
                let outputs = FollowUpSample.outputPaths(in: directory, sampleID: sample.sampleID)
                let call: CallRecord
                if options.resume, let record = SampleCompletion.load(directory, sample.sampleID), record.ok, record.inputHash == outcome.inputHash,
                   outputs.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) {
                    outcome.reused = true
                    call = try CallRecord.read(path: outputs[1])
                } else {
                    let start = Date()
                    let tracker = trackers[sample.patientID]
                        ?? FollowUpSample.tracker(clones: baselineClones, context: context, options: followUpOptions)
                    trackers[sample.patientID] = tracker
                    call = try FollowUpSample(sampleID: sample.sampleID, input: sample.input(options.decoding), dnaNanograms: sample.dnaNanograms, cells: sample.cells)
                        .run(tracker: tracker, context: context, options: followUpOptions, directory: directory, commandLine: options.commandLine)
                    outcome.seconds = Date().timeIntervalSince(start)
                }
                outcome.record(call)
                try SampleCompletion(ok: true, inputHash: outcome.inputHash, totalReads: outcome.totalReads).write(directory, sample.sampleID)
            } catch {
                outcome.error = describe(error)
                outcome.callsRow = Self.failedRow(sample, threshold: options.threshold, error: outcome.error!)
            }
            progress.report(outcome)
            result.outcomes.append(outcome)
        }

        let clonesByPatient = patientClones.compactMapValues { try? $0.get().clones }
        try finish(&result, clonesByPatient: clonesByPatient, context: context) { progress.report($0) }
        return result
    }

    /// Index clones shared between patients are not tracked (`SharedClones`); the clones.tsv and
    /// baseline.json of this run's baselines are rewritten to say so (clones files from earlier
    /// runs are the user's and stay as they are).
    func markSharedClones(_ patientClones: inout [String: Result<(path: String, clones: [BaselineClone]), SampleFailure>]) throws {
        var loaded: [String: [BaselineClone]] = [:]
        for (patient, entry) in patientClones { if case .success(let value) = entry { loaded[patient] = value.clones } }
        for patient in SharedClones.mark(&loaded).sorted() {
            guard case .success(let value) = patientClones[patient] else { continue }
            let clones = loaded[patient]!
            if let sample = sheet.samples.last(where: { $0.role == .baseline && $0.patientID == patient }) {
                let directory = sampleDirectory(sample.sampleID)
                if BaselineSample.clonesPath(in: directory, sampleID: sample.sampleID) == value.path {
                    try BaselineSample.rewriteIndexClones(clones, directory: directory, sampleID: sample.sampleID)
                }
            }
            patientClones[patient] = .success((value.path, clones))
        }
    }

    /// The part `mrd run` and `mrd aggregate` share: controls scanned for every patient's index
    /// clones, then calls.tsv, controls.tsv, report.html, MultiQC files and run.json.
    func finish(_ result: inout RunResult, clonesByPatient: [String: [BaselineClone]], context: AnalysisContext,
                log report: (SampleOutcome) -> Void) throws {
        let allClones = clonesByPatient.keys.sorted().flatMap { patient in clonesByPatient[patient]!.map { (patient, $0) } }
        let controlTracker = FollowUpSample.tracker(clones: allClones.map(\.1), context: context, options: followUpOptions)
        let minReads = options.followUp.detection.minReads
        for sample in sheet.samples where sample.role == .control {
            var outcome = SampleOutcome(sample: sample)
            do {
                let start = Date()
                let counts = try controlTracker.run(sample.input(options.decoding), sampleID: sample.sampleID)
                for (t, count) in counts.clones.enumerated() {
                    let patient = allClones[controlTracker.tracked[t]].0
                    let reads = count.reads + count.evolvedReads
                    result.controls.append(ControlHit(controlID: sample.sampleID, patientID: patient, cloneID: count.clone.cloneID,
                                                      locus: count.clone.locus, reads: reads, contaminated: reads >= minReads))
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
        if result.controls.contains(where: \.contaminated) { result.qcFlags.append("control_contamination") }
        Self.flagContamination(&result)
        try scanForForeignClones(&result, clonesByPatient: clonesByPatient, tracker: controlTracker, owners: allClones.map(\.0))
        if result.outcomes.contains(where: { $0.sample.role == .control && !$0.ok }) { result.qcFlags.append("control_failed") }
        result.calls = result.outcomes.compactMap(\.callsRow).sorted(by: CallsRow.order)
        result.clonesByPatient = clonesByPatient
        for outcome in result.outcomes where outcome.sample.role == .followup && outcome.ok {
            let path = FollowUpSample.outputPaths(in: sampleDirectory(outcome.sample.sampleID), sampleID: outcome.sample.sampleID)[0]
            if let rows = try? MRDTable.read(path: path) { result.detectedClones[outcome.sample.sampleID] = Set(rows.filter(\.detected).map(\.cloneID)) }
        }
        try RunReports.write(result, sheet: sheet, options: options)
    }

    /// Each follow-up's first reads scanned for the other patients' index clones (`ForeignClones`):
    /// in `finish`, so that `mrd run` and `mrd aggregate` write the same calls.tsv. A follow-up
    /// whose reads cannot be read here keeps its call, and the run's QC flags say the check was not
    /// made (`other_patient_check_failed`). The same scan measures the run's background of each
    /// clone (`RunBackground`), against which positives are then held (`run_background`).
    func scanForForeignClones(_ result: inout RunResult, clonesByPatient: [String: [BaselineClone]], tracker: FollowUpTracker,
                              owners allOwners: [String]) throws {
        let patientsWithMarkers = Set(tracker.tracked.map { allOwners[$0] })
        guard clonesByPatient.count > 1, !patientsWithMarkers.isEmpty else { return }
        let owners = tracker.tracked.map { allOwners[$0] }
        var flagged: [String] = []
        // Each clone's reads per read scanned in other patients' follow-ups: what index hopping and
        // carry-over put into any sample of the run (`RunBackground`).
        var background = RunBackground(clones: tracker.tracked.count)
        for o in result.outcomes.indices where result.outcomes[o].sample.role == .followup {
            guard var row = result.outcomes[o].callsRow, row.callDetail != CallDetail.failed.rawValue else { continue }
            let sample = result.outcomes[o].sample
            // Only clones of other patients can be found: skip a patient who is the only one with markers.
            guard patientsWithMarkers.contains(where: { $0 != sample.patientID }) else { continue }
            let counts: FollowUpCounts
            do {
                counts = try tracker.run(sample.input(options.decoding), sampleID: sample.sampleID, recordLimit: ForeignClones.scannedReads)
            } catch {
                result.qcFlags.append("other_patient_check_failed")
                continue
            }
            let hits = ForeignClones.hits(sampleID: sample.sampleID, patientID: sample.patientID, counts: counts, owners: owners)
            guard !hits.isEmpty else {
                background.add(counts, patientID: sample.patientID, owners: owners)
                continue
            }
            ForeignClones.flag(&row, hits: hits)
            result.outcomes[o].callsRow = row
            flagged.append(sample.sampleID)
        }
        if !flagged.isEmpty { result.qcFlags.append("other_patient_clone") }
        // Positives that the run's background of their marker explains.
        var explained: [String] = []
        for o in result.outcomes.indices where result.outcomes[o].sample.role == .followup {
            guard var row = result.outcomes[o].callsRow, let call = result.outcomes[o].call, row.call == MRDCallKind.positive.rawValue,
                  let top = call.topClone,
                  let t = tracker.tracked.indices.first(where: { owners[$0] == row.patientID && tracker.clones[tracker.tracked[$0]].cloneID == top }),
                  let rate = background.rate(t), rate > 0 else { continue }
            let expected = rate * Double(call.totalReads)
            guard Statistics.regularizedGammaP(Double(max(call.leukemicReads, 1)), expected) >= 0.001 else { continue }
            row.qcFlags.append("run_background")
            row.qcPass = false
            row.reason += String(format: " Other patients' follow-ups of the run carry %@'s reads at a rate that predicts %.1f of this sample's %d reads of it (index hopping, carry-over): the positive may be that background (qc_pass F).",
                                 top, expected, call.leukemicReads)
            result.outcomes[o].callsRow = row
            explained.append(row.sampleID)
        }
        if !explained.isEmpty { result.qcFlags.append("run_background") }
    }

    /// Follow-ups of a patient whose index clone a control carries get `control_contamination`.
    /// The control's reads of the clone are the background any sample of the run may carry (index
    /// hopping or carry-over): a detection that background explains (Poisson upper tail at or above
    /// 0.001, as the detection rule's bleed test) fails QC, so it is neither a positive with
    /// `qc_pass` T nor a negative; one far beyond it keeps its call and says so.
    static func flagContamination(_ result: inout RunResult) {
        let hits = result.controls.filter(\.contaminated)
        guard !hits.isEmpty else { return }
        for o in result.outcomes.indices where result.outcomes[o].sample.role == .followup {
            guard var row = result.outcomes[o].callsRow, row.callDetail != CallDetail.failed.rawValue else { continue }
            let mine = hits.filter { $0.patientID == row.patientID }
            guard !mine.isEmpty else { continue }
            row.qcFlags.append("control_contamination")
            let seen = mine.map { "\($0.cloneID) in \($0.controlID) (\($0.reads) read\($0.reads == 1 ? "" : "s"))" }.joined(separator: ", ")
            let call = result.outcomes[o].call
            let background = Double(mine.filter { $0.cloneID == call?.topClone }.map(\.reads).max() ?? 0)
            let reads = call?.leukemicReads ?? 0
            let explained = row.detected && background > 0 && Statistics.regularizedGammaP(Double(max(reads, 1)), background) >= 0.001
            if explained {
                row.qcPass = false
                if row.call == MRDCallKind.negative.rawValue {
                    row.call = MRDCallKind.indeterminate.rawValue
                    row.callDetail = CallDetail.qcFail.rawValue
                    row.reason = "Detected below the threshold with \(reads) reads, no more than a control of the run carries (\(seen)): "
                        + "the reads may be carry-over or index hopping, so neither negativity nor a level can be claimed."
                } else {
                    row.reason += " A control of the run carries as many reads of the marker (\(seen)): the positive may be carry-over or index hopping (qc_pass F)."
                }
            } else if row.detected {
                row.reason += " A control carries reads of this patient's index clone (\(seen)); this sample's \(reads) reads are well beyond that."
            } else {
                row.reason += " A control carries reads of this patient's index clone (\(seen)); nothing was detected here."
            }
            result.outcomes[o].callsRow = row
        }
    }

    /// `mrd aggregate`: the run-level outputs from the per-sample outputs already under
    /// `outdir/samples` (written by `mrd baseline` and `mrd track`, e.g. from a workflow's jobs).
    /// A follow-up without its call.json is a failed sample.
    public func aggregate(log: @escaping @Sendable (String) -> Void) throws -> RunResult {
        let context = try loadContext()
        var result = RunResult()
        var clonesByPatient: [String: [BaselineClone]] = [:]
        var failedPatients: [String: String] = [:]
        for sample in sheet.samples where sample.role == .baseline {
            var outcome = SampleOutcome(sample: sample)
            let directory = sampleDirectory(sample.sampleID)
            do {
                clonesByPatient[sample.patientID] = try ClonesFile.read(path: BaselineSample.clonesPath(in: directory, sampleID: sample.sampleID))
                outcome.ok = true
                if let summary = try? BaselineSummary.read(path: BaselineSample.summaryPath(in: directory, sampleID: sample.sampleID)) {
                    (outcome.totalReads, outcome.assignedReads) = (summary.totalReads, summary.assignedReads)
                }
            } catch {
                outcome.error = describe(error)
                failedPatients[sample.patientID] = "its patient's baseline \(sample.sampleID) failed"
            }
            result.outcomes.append(outcome)
        }
        for sample in sheet.samples where sample.clones != nil && clonesByPatient[sample.patientID] == nil && failedPatients[sample.patientID] == nil {
            do {
                clonesByPatient[sample.patientID] = try IndexClonesInput.load(path: sample.clones!, annotator: context.annotator, options: baselineOptions)
            } catch {
                failedPatients[sample.patientID] = "clones file: \(describe(error))"
            }
        }
        SharedClones.mark(&clonesByPatient)
        for sample in sheet.samples where sample.role == .followup {
            var outcome = SampleOutcome(sample: sample)
            let path = FollowUpSample.callPath(in: sampleDirectory(sample.sampleID), sampleID: sample.sampleID)
            do {
                if let reason = failedPatients[sample.patientID] { throw SampleFailure(message: reason) }
                outcome.record(try CallRecord.read(path: path))
            } catch {
                outcome.error = FileManager.default.fileExists(atPath: path) ? describe(error) : "\(path): no call.json (the sample's mrd track did not finish)"
                outcome.callsRow = Self.failedRow(sample, threshold: options.threshold, error: outcome.error!)
            }
            result.outcomes.append(outcome)
        }
        try finish(&result, clonesByPatient: clonesByPatient, context: context) { outcome in
            log("\(outcome.sample.sampleID) (control): " + (outcome.ok ? "ok, \(outcome.totalReads) reads" : "FAILED: \(outcome.error ?? "")"))
        }
        return result
    }

    /// The calls.tsv row of a follow-up from its call: what both `mrd run` and `mrd aggregate` use,
    /// so that calls.tsv does not depend on which of them wrote it.
    static func callsRow(_ sample: SheetSample, _ call: CallRecord) -> CallsRow {
        var row = CallsRow(patientID: sample.patientID, sampleID: sample.sampleID, timepoint: sample.timepoint, day: sample.day,
                           threshold: call.threshold, detected: call.detected, quantifiable: call.quantifiable, call: call.call,
                           normalization: "\(call.templateMethod)+\(call.cellsMethod)" + (call.levelBasis == LevelBasis.reads.rawValue ? "+reads_fraction" : ""),
                           qcPass: call.qcPass, callDetail: call.callDetail)
        row.totalReads = call.totalReads
        row.cellsAssessed = call.cellsAssessed
        row.clonesTracked = call.clonesTracked
        row.clonesDetected = call.clonesDetected
        row.leukemicReads = call.leukemicReads
        row.leukemicTemplates = call.leukemicTemplates
        row.mrdLevel = call.mrdLevel
        row.ciLow = call.mrdCILow
        row.ciHigh = call.mrdCIHigh
        row.lod = call.lod
        row.loq = call.loq
        row.reason = call.reason
        row.readFraction = call.readFraction
        row.markers = call.markers
        row.qcFlags = call.qcFlags
        return row
    }

    /// A follow-up that could not be processed.
    static func failedRow(_ sample: SheetSample, threshold: Double, error: String) -> CallsRow {
        var row = CallsRow(patientID: sample.patientID, sampleID: sample.sampleID, timepoint: sample.timepoint, day: sample.day, threshold: threshold,
                           call: MRDCallKind.indeterminate.rawValue, callDetail: CallDetail.failed.rawValue)
        row.reason = "The sample could not be processed (\(error.replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\n", with: " "))): fix the input and re-run."
        return row
    }

    func describe(_ error: Error) -> String {
        if let error = error as? ReadError { return error.description }
        if let error = error as? OutputError { return error.description }
        if let error = error as? SampleFailure { return error.message }
        return String(describing: error)
    }
}

extension SampleOutcome {
    /// A follow-up finished (now, or in an earlier run): its call, row and read counts.
    mutating func record(_ call: CallRecord) {
        self.call = call
        callsRow = RunAnalysis.callsRow(sample, call)
        totalReads = call.totalReads
        assignedReads = call.locusReads
        ok = true
    }
}

extension SheetSample {
    func input(_ decoding: DecoderSettings) -> SampleInput { SampleInput(read1: reads1, read2: reads2, decoding: decoding) }
}

extension SampleCompletion {
    func write(_ directory: String, _ id: String) throws { try AtomicFile.write(text, to: Self.path(directory, id)) }
}

struct SampleFailure: Error, Sendable {
    var message: String
}

/// One progress line per finished sample, with throughput and an ETA when asked for. Progress is
/// measured in input bytes (compressed or not: what is left to read).
struct RunProgress {
    let total: Int
    let totalBytes: Double
    let progress: Bool
    let log: @Sendable (String) -> Void
    var done = 0
    var doneBytes = 0.0, skippedBytes = 0.0, workSeconds = 0.0

    init(samples: [SheetSample], progress: Bool, log: @escaping @Sendable (String) -> Void) {
        total = samples.count
        totalBytes = samples.reduce(0.0) { $0 + Self.bytes($1) }
        self.progress = progress
        self.log = log
    }

    static func bytes(_ sample: SheetSample) -> Double {
        (sample.reads1 + sample.reads2).reduce(0.0) { sum, path in
            sum + Double(((try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? NSNumber)?.int64Value ?? 0)
        }
    }

    mutating func report(_ outcome: SampleOutcome) {
        done += 1
        let status = outcome.ok ? (outcome.reused ? "ok (unchanged, kept)" : "ok") : "FAILED: \(outcome.error ?? "")"
        var line = "[\(done)/\(total)] \(outcome.sample.sampleID) (\(outcome.sample.role.rawValue)): \(status)"
        if outcome.ok && !outcome.reused { line += String(format: ", %d reads, %.1f s", outcome.totalReads, outcome.seconds) }
        let sampleBytes = Self.bytes(outcome.sample)
        if outcome.reused { skippedBytes += sampleBytes } else { doneBytes += sampleBytes; workSeconds += outcome.seconds }
        if progress && outcome.ok && !outcome.reused && outcome.seconds > 0 {
            let remaining = totalBytes - doneBytes - skippedBytes
            let rate = doneBytes / max(workSeconds, 1e-6)
            line += String(format: " (%.0f reads/s, %.1f MB/s); ETA %.0f s", Double(outcome.totalReads) / outcome.seconds,
                           sampleBytes / outcome.seconds / 1e6, max(0, remaining) / max(rate, 1))
        }
        log(line)
    }
}

/// Each tracked clone's reads per read scanned, pooled over the follow-ups of patients other than
/// its own: those reads can only be index hopping or carry-over, which reach the clone's own
/// patient's samples at the same rate. (Pooled, not the highest: one hopped read among 50,000
/// scanned would otherwise predict 20 in a sample of a million.) A follow-up that carries another
/// patient's clone at that patient's own rate (`other_patient_clone`) is no background.
struct RunBackground {
    var reads: [Int]
    var scanned: [Int]

    init(clones: Int) {
        reads = [Int](repeating: 0, count: clones)
        scanned = [Int](repeating: 0, count: clones)
    }

    mutating func add(_ counts: FollowUpCounts, patientID: String, owners: [String]) {
        guard counts.totalReads > 0 else { return }
        for (t, count) in counts.clones.enumerated() where owners[t] != patientID {
            reads[t] += count.reads + count.evolvedReads
            scanned[t] += counts.totalReads
        }
    }

    /// Nil when no other patient's follow-up was scanned.
    func rate(_ t: Int) -> Double? { scanned[t] > 0 ? Double(reads[t]) / Double(scanned[t]) : nil }
}
