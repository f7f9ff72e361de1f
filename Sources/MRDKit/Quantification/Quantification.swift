import Foundation

/// How leukemic reads become templates (molecules of the marker in the reaction).
public enum TemplateMethod: String, Sendable, Codable {
    /// Reads per copy from spike-in calibrators of known copy number.
    case spikeIn = "spike_in"
    /// Error-corrected distinct UMIs.
    case umi
    /// Neither given: templates = reads (flagged).
    case reads
}

/// How the number of cells assessed is known.
public enum CellsMethod: String, Sendable, Codable {
    case dnaInput = "dna_input"
    case cells
    case none
}

/// What a follow-up's `mrd_level` is a share of.
public enum LevelBasis: String, Sendable, CaseIterable {
    /// Leukemic templates per cell assessed (the DNA input or cell count is needed).
    case cells
    /// The marker's share of its locus reads, asked for on purpose (`--level-basis reads`): not a
    /// level per cell, and `normalization` says so.
    case reads
}

/// Options of the quantification and call.
public struct CallOptions: Sendable {
    public var levelBasis = LevelBasis.cells
    /// QC codes the sample inherits from its patient's baseline (e.g. `shared_index_clone`).
    public var inheritedFlags: [String] = []
    /// Why the patient has no trackable clone (from the baseline), for the reason of a no_marker call.
    public var noMarkerDetail: String?
    public var threshold = CallRule.defaultThreshold
    /// DNA input in ng (6.5 pg per diploid cell), or cells directly; at most one.
    public var dnaNanograms: Double?
    public var cells: Double?
    public var useUMIs = false
    public var countEvolved = true
    public var detection = DetectionRule()
    /// Negative-binomial size of one template's PCR yield (CV^2 = 1/r + 1/size), as measured for
    /// multiplex immune-receptor PCR; carried into the interval, the LoD and the LoQ.
    public var pcrSize = 3.0
    /// Fewest reads in a sample before it is flagged `low_reads`.
    public var minTotalReads = 1_000
    public init() {}
}

/// When a clone counts as detected. Chosen from the dilution experiment of docs/detection.md; its
/// limit of blank and LoD are measured in the analytical validation, docs/validation.md.
///
/// A clone is detected when its reads reach `max(minReads, ceil(templateFraction x reads per
/// template))` (a stray read, hopped from another sample or misassigned, is one read, while a
/// template yields about `reads per template` of them) and when they are more than an abundant
/// neighbour's misreads explain (Poisson upper tail below `bleedSignificance`).
public struct DetectionRule: Sendable, Equatable {
    public var minReads = 2
    public var templateFraction = 0.25
    public var bleedSignificance = 0.001
    public init(minReads: Int = 2, templateFraction: Double = 0.25) {
        self.minReads = minReads
        self.templateFraction = templateFraction
    }

    /// Fewest reads that count as a detection at this depth.
    public func requiredReads(readsPerTemplate: Double) -> Int {
        max(minReads, Int((templateFraction * readsPerTemplate).rounded(.up)))
    }

    public func detects(reads: Int, readsPerTemplate: Double, expectedBleed: Double) -> Bool {
        guard reads >= requiredReads(readsPerTemplate: readsPerTemplate) else { return false }
        guard expectedBleed > 0 else { return true }
        // P(Poisson(bleed) >= reads) = P(reads, bleed), the regularized lower incomplete gamma.
        return Statistics.regularizedGammaP(Double(reads), expectedBleed) < bleedSignificance
    }
}

/// The spike-in calibration of one sample.
public struct SpikeInFit: Sendable {
    /// Reads per spike-in copy per locus (spikes of that locus), and over all spikes.
    public var readsPerCopy: [Locus: Double] = [:]
    public var overallReadsPerCopy = 0.0
    /// Standard error of ln(reads per copy), per locus and overall.
    public var logStandardError: [Locus: Double] = [:]
    public var overallLogStandardError = 0.0
    /// Spikes whose reads/copy is off the fit by more than 3x (with >= 10 reads expected).
    public var outliers: [String] = []
    public var flags: [String] = []

    /// How far one locus's reads per copy may lie from another's, as a log standard error: 95% of
    /// loci within 3x (primer efficiencies of one multiplex differ so; simulated 0.2-5x).
    public static let betweenLociLogSE = log(3.0) / 1.959963984540054

    /// Calibration for a locus: its own spikes, else all spikes (flagged by the caller). Another
    /// locus's spike-ins measure another PCR: their fit's error plus the spread between loci (the
    /// larger of the loci's own spread, where two or more have spike-ins, and 3x at 95%), which
    /// leaves no LoQ, so a level from them is never `quantifiable` (a TRG-calibrated IGH marker at
    /// 3x TRG's efficiency read 3.4x high with qc_pass T).
    func forLocus(_ locus: Locus) -> (readsPerCopy: Double, logSE: Double, ownLocus: Bool) {
        if let own = readsPerCopy[locus], own > 0 { return (own, logStandardError[locus] ?? 0, true) }
        let logs = readsPerCopy.values.filter { $0 > 0 }.map { log($0) }
        var spread = Self.betweenLociLogSE
        if logs.count >= 2 {
            let mean = logs.reduce(0, +) / Double(logs.count)
            spread = max(spread, sqrt(logs.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(logs.count - 1)))
        }
        return (overallReadsPerCopy, sqrt(overallLogStandardError * overallLogStandardError + spread * spread), false)
    }

    /// Fits reads = readsPerCopy x copies (Poisson maximum likelihood: total reads / total copies),
    /// per locus where spikes of the locus exist.
    public static func fit(spikes: [SpikeInCalibrator], loci: [Locus?], reads: [Int]) -> SpikeInFit {
        var fit = SpikeInFit()
        func estimate(_ members: [Int]) -> (Double, Double)? {
            let totalReads = members.reduce(0) { $0 + reads[$1] }, totalCopies = members.reduce(0.0) { $0 + spikes[$1].copies }
            guard totalReads > 0, totalCopies > 0 else { return nil }
            let rate = Double(totalReads) / totalCopies
            // Counting noise of the reads (quasi-Poisson: scaled up by the spikes' over-dispersion
            // around the fit, Pearson chi-square / (n - 1), when the spikes disagree more than
            // counting explains) and of the pipetted copies.
            var dispersion = 1.0
            if members.count >= 2 {
                let chiSquare = members.reduce(0.0) { sum, s in
                    let expected = rate * spikes[s].copies
                    return sum + (Double(reads[s]) - expected) * (Double(reads[s]) - expected) / expected
                }
                dispersion = max(1, chiSquare / Double(members.count - 1))
            }
            return (rate, sqrt(dispersion / Double(totalReads) + 1 / totalCopies))
        }
        guard !spikes.isEmpty else { return fit }
        if let (rate, se) = estimate(Array(spikes.indices)) {
            fit.overallReadsPerCopy = rate
            fit.overallLogStandardError = se
        } else {
            fit.flags.append("spike_in_missing")
            return fit
        }
        for locus in Locus.allCases {
            let members = spikes.indices.filter { loci[$0] == locus }
            guard !members.isEmpty else { continue }
            if let (rate, se) = estimate(members) {
                fit.readsPerCopy[locus] = rate
                fit.logStandardError[locus] = se
            } else if !fit.flags.contains("spike_in_missing") {
                fit.flags.append("spike_in_missing")
            }
        }
        for (s, spike) in spikes.enumerated() {
            let rate = loci[s].flatMap { fit.readsPerCopy[$0] } ?? fit.overallReadsPerCopy
            let expected = rate * spike.copies
            guard expected >= 10 else { continue }
            let observed = Double(reads[s])
            if observed > 3 * expected || observed < expected / 3 { fit.outliers.append(spike.id) }
        }
        if !fit.outliers.isEmpty { fit.flags.append("spike_in_outlier") }
        return fit
    }
}

/// One tracked clone's quantity.
public struct CloneLevel: Sendable {
    public var count: TrackedCloneCount
    /// Reads that count as leukemic (evolved included when counted).
    public var leukemicReads: Int
    public var templates: Double
    /// Templates / cells; nil without a cell count (or the read fraction with `--level-basis reads`).
    public var level: Double?
    /// Net reads / reads of the clone's locus.
    public var readFraction: Double
    public var detected: Bool
    /// Calibrated by spike-ins of its own locus (or by UMIs): comparable with other such clones.
    public var ownCalibration: Bool
    public var readsPerTemplate: Double
    public var calibrationLogSE: Double
    /// UMIs: the expected share of the clone's molecules that yielded a counted UMI (1 otherwise).
    public var umiRecovery = 1.0
}

/// Everything call.json says.
public struct MRDCall: Sendable {
    public var sampleID: String
    public var totalReads: Int
    public var readsPerLocus: [Locus: Int]
    /// Reads with no locus (primer dimers, off-target): with the loci and spike-ins, every read.
    public var readsWithoutLocus = 0
    public var spikeInReads: Int
    public var templateMethod: TemplateMethod
    public var cellsMethod: CellsMethod
    public var cellsAssessed: Double?
    public var clonesTracked: Int
    public var clonesDetected: Int
    public var leukemicReads: Int
    public var leukemicTemplates: Double
    public var mrdLevel: Double?
    public var readFraction: Double?
    public var levelBasis: LevelBasis
    public var ciLow: Double?
    public var ciHigh: Double?
    public var lod: Double?
    public var loq: Double?
    public var threshold: Double
    public var detected: Bool
    public var quantifiable: Bool
    public var call: MRDCallKind
    public var callDetail: CallDetail
    public var qcPass: Bool
    public var qcFlags: [String]
    public var clones: [CloneLevel]
    public var fit: SpikeInFit?
    public var topClone: String?
    public var evolvedReads: Int
    /// The LoD in leukemic templates (what the input must hold for the LoD to reach a level).
    public var lodTemplates: Double?
    public var umiProfile: UMIProfile?
    /// With UMIs and spike-ins: the spike-ins' distinct UMIs over their copies.
    public var umiCapture: Double?
    /// Ids of the tracked clones.
    public var markers: [String]
    /// One sentence: why this call, and for an indeterminate one what would resolve it.
    public var reason = ""
}

/// From counts to templates, cells, the level with its interval, the LoD/LoQ and the call, as the
/// contract defines them (README, "How a follow-up is called").
public enum Quantifier {
    public static let picogramsPerCell = 6.5
    /// 100 ug of DNA (15.4 million cells): more than any amplicon MRD assay takes (the most
    /// sensitive ones put up to 20 ug, 3 million cells, into several reactions).
    public static let maximumPlausibleCells = 100_000 * 1000 / picogramsPerCell

    /// Detected templates of a marker from which a 20-fold shortfall of the leukemia's main marker
    /// cannot be chance: each blast carries both.
    public static let discordantTemplates = 50.0
    public static let discordantRatio = 0.05

    /// A marker detected with at least `discordantTemplates` while the leukemia's main marker (the
    /// tracked clone with the largest share at diagnosis, its locus read) has under 5% of that
    /// (reads hopped from other samples at most): a normal clone kept through therapy (a T-cell
    /// clone in a B-ALL, a B-cell clone beside it) reads as MRD at its own steady level, or the
    /// leukemia evolved past its main marker; neither is a level to report unconfirmed. Markers of
    /// one leukemia differ a few-fold (both alleles, subclones), not 20-fold. (A main marker whose
    /// locus has no read at all is `marker_locus_not_amplified`'s, not this.)
    static func markersDiscordant(_ levels: [CloneLevel], readsPerLocus: [Locus: Int]) -> Bool {
        guard let lead = mainMarker(levels), (readsPerLocus[levels[lead].count.clone.locus] ?? 0) > 0 else { return false }
        guard let other = levels.indices.filter({ $0 != lead && levels[$0].detected }).map({ levels[$0].templates }).max(),
              other >= discordantTemplates else { return false }
        return levels[lead].templates < discordantRatio * other
    }

    /// Two markers whose reads here moved `discordantChange`-fold apart from their ratio at
    /// diagnosis: the one with `discordantTemplates` or more predicts, at that ratio, at least
    /// `discordantExpectedReads` of the other, which has under a tenth of them. Every blast carries
    /// all its markers, so their reads keep the diagnosis's ratio in a follow-up of the same assay
    /// (within Poisson noise and a few-fold of subclones and read layout); a normal clone tracked as
    /// a marker holds its own steady level while the leukemia falls (a normal TRD clone at 4.9% beside
    /// a T-ALL's TRB marker at 1.1%, 12-fold from their diagnosis ratio, set the level 4.8x high).
    /// Reads, not templates: both samples' locus efficiencies cancel in the ratio.
    /// The main marker itself reading high is no such sign (the reported level is the highest
    /// marker's, and the main marker is the leukemia's by its share at diagnosis); a marker whose
    /// locus has no read here is `marker_locus_not_amplified`'s, not this.
    static func markersMovedApart(_ levels: [CloneLevel], readsPerLocus: [Locus: Int]) -> Bool {
        let lead = mainMarker(levels)
        for (h, high) in levels.enumerated() where h != lead && high.templates >= discordantTemplates && high.count.clone.count > 0 {
            for low in levels where low.count.clone.cloneID != high.count.clone.cloneID && low.count.clone.count > 0
                && (readsPerLocus[low.count.clone.locus] ?? 0) > 0 {
                let expected = Double(high.leukemicReads) * Double(low.count.clone.count) / Double(high.count.clone.count)
                if expected >= discordantExpectedReads && Double(low.leukemicReads) * discordantChange < expected { return true }
            }
        }
        return false
    }

    /// The leukemia's main marker: the tracked clone with the largest share of its locus at
    /// diagnosis (ties by clone id).
    static func mainMarker(_ levels: [CloneLevel]) -> Int? {
        levels.indices.filter { levels[$0].count.clone.fraction > 0 }.max { a, b in
            (levels[a].count.clone.fraction, levels[b].count.clone.cloneID) < (levels[b].count.clone.fraction, levels[a].count.clone.cloneID)
        }
    }

    public static let discordantChange = 10.0
    public static let discordantExpectedReads = 20.0

    /// From this many reads per molecule (the spike-ins' UMI families), a clone read once per UMI is strays.
    public static let familyReadsForStrays = 3.0
    /// Under this share of the spike-ins' copies recovered as distinct UMIs, UMIs do not quantify.
    public static let minimumUMICapture = 0.5
    /// Under this many reads per UMI, a detected clone's molecules were mostly read once, and many
    /// not at all (without spike-ins to say how many): `umi_undersampled`.
    public static let minimumReadsPerUMI = 2.0

    /// The spike-ins' distinct UMIs over their known copies (nil without spike-ins or their UMIs).
    public static func umiCapture(spikes: [SpikeInCalibrator], umis: [Int]?) -> Double? {
        umiCapture(spikes: spikes, umis: umis, of: Array(spikes.indices))
    }

    /// The same for one locus's own spike-ins (nil when it has none with copies).
    public static func umiCapture(spikes: [SpikeInCalibrator], loci: [Locus?], umis: [Int]?, locus: Locus) -> Double? {
        guard loci.count == spikes.count else { return nil }
        return umiCapture(spikes: spikes, umis: umis, of: spikes.indices.filter { loci[$0] == locus })
    }

    private static func umiCapture(spikes: [SpikeInCalibrator], umis: [Int]?, of members: [Int]) -> Double? {
        guard let umis, umis.count == spikes.count else { return nil }
        let copies = members.reduce(0.0) { $0 + spikes[$1].copies }
        guard copies > 0 else { return nil }
        return Double(members.reduce(0) { $0 + umis[$1] }) / copies
    }

    /// The share of a clone's molecules that yield at least one counted UMI, from the share of the
    /// spike-ins' copies whose UMIs were read (`capture`: molecules with no read at all are lost)
    /// and the share of the clone's reads that span its target (`coverage`: a molecule whose every
    /// read stopped short is lost too). Reads per molecule are negative binomial with the PCR
    /// size the LoD assumes: P(no read) = (1 + m/size)^-size = 1 - capture gives the mean m, and a
    /// molecule's spanning reads have mean m x coverage. Capture 1 (or more: UMI errors) and
    /// coverage 1 recover every molecule.
    public static func umiRecovery(capture: Double, coverage: Double, pcrSize: Double) -> Double {
        if capture >= 1 { return 1 }
        let c = max(capture, 0.01), spanning = min(max(coverage, 0.01), 1)
        if spanning >= 1 { return c }
        let mean = pcrSize * (pow(1 - c, -1 / pcrSize) - 1)
        return 1 - pow(1 + mean * spanning / pcrSize, -pcrSize)
    }

    /// Distinct UMIs of one clone above which its UMIs undercount its molecules by a few percent
    /// or more: 5% of the one-mismatch neighbourhoods of L-base UMIs (22,600 for 12 bases, 131 for 8).
    public static func umiSaturation(length: Int) -> Double {
        0.05 * pow(4, Double(length)) / Double(3 * length + 1)
    }

    public static func call(_ counts: FollowUpCounts, spikes: [SpikeInCalibrator], spikeLoci: [Locus?], options: CallOptions) -> MRDCall {
        var flags: [String] = []
        // UMIs that are not random (a --umi on reads without them) do not count molecules.
        var umisUsable = options.useUMIs && (counts.umiProfile?.looksRandom ?? true)
        if options.useUMIs && !umisUsable { flags.append("umi_not_random") }
        // UMIs count the molecules that were read, not those in the tube: when the spike-ins' UMIs
        // recover under half of their known copies (too few reads for the library, or poor
        // tagging), the clone's UMIs undercount its templates as much, and the LoD taken from them
        // claims a sensitivity the library never had. The spike-ins' reads per copy then quantify.
        let umiCapture = umisUsable ? Self.umiCapture(spikes: spikes, umis: counts.spikeInUMIs) : nil
        if let umiCapture, umiCapture < Self.minimumUMICapture {
            flags.append("umi_capture_low")
            umisUsable = false
        }
        let templateMethod: TemplateMethod = umisUsable ? .umi : (spikes.isEmpty ? .reads : .spikeIn)
        // The sample's reads per molecule, from the spike-ins' UMI families. When molecules were
        // read 3 times or more on average, a clone whose every UMI was read once is no molecule of
        // this sample: stray reads (hopped from another sample of the run, carry-over), each of
        // which UMIs would otherwise count as a template (two hopped reads: 4e-4 of 5,000 cells).
        let spikeReadTotal = counts.spikeInReads.reduce(0, +)
        var readsPerMolecule: Double?
        if templateMethod == .umi, let molecules = counts.spikeInUMIs?.reduce(0, +), molecules > 0 {
            readsPerMolecule = Double(spikeReadTotal) / Double(molecules)
        }
        var fit: SpikeInFit?
        if !spikes.isEmpty {
            let f = SpikeInFit.fit(spikes: spikes, loci: spikeLoci, reads: counts.spikeInReads)
            fit = f
            flags += f.flags
        }
        if templateMethod == .reads { flags.append("templates_from_reads") }
        let cellsMethod: CellsMethod
        var cells: Double?
        if let ng = options.dnaNanograms {
            cellsMethod = .dnaInput
            cells = ng * 1000 / picogramsPerCell
        } else if let n = options.cells {
            cellsMethod = .cells
            cells = n
        } else {
            cellsMethod = .none
        }
        if counts.totalReads < options.minTotalReads { flags.append("low_reads") }
        let assigned = counts.readsPerLocus.values.reduce(0, +) + spikeReadTotal
        if counts.totalReads > 0 && Double(assigned) < 0.1 * Double(counts.totalReads) { flags.append("low_assignment") }
        for flag in options.inheritedFlags where !flags.contains(flag) { flags.append(flag) }
        // The sample's own reads: a library of another species (its J genes read as human ones).
        if counts.vIdentity.isLow && !flags.contains("low_v_identity") { flags.append("low_v_identity") }

        var levels: [CloneLevel] = []
        var fallbackLoci = false, coverageFromSample = false
        // The sample's own orientation share, for the clones' coverage in its read layout.
        let spikeForwardShare = ReadCoverage.spikeInForwardShare(counts)
        for count in counts.clones {
            let leukemicReads = count.reads + (options.countEvolved ? count.evolvedReads : 0)
            // Reads an abundant neighbour's misreads explain are not leukemic molecules.
            let netReads = max(0, Double(leukemicReads) - count.expectedBleedReads)
            var templates = netReads, perTemplate = 1.0, logSE = 0.0, ownCalibration = false, recovery = 1.0
            // The share of the clone's reads that span its target: a clone read fully from one end
            // only yields that share of a spike-in's reads per copy (or of its molecules' UMIs).
            var coverage = count.clone.coverage
            let coverageUsed = templateMethod == .umi ? umiCapture != nil : templateMethod == .spikeIn && (fit?.overallReadsPerCopy ?? 0) > 0
            if coverageUsed, let share = spikeForwardShare,
               let own = ReadCoverage.sampleCoverage(forward: count.forwardReads, count: count.reads, forwardShare: share),
               max(own / coverage, coverage / own) > ReadCoverage.sampleCoverageFactor {
                coverage = own
                coverageFromSample = true
            }
            switch templateMethod {
            case .spikeIn:
                if let fit, fit.overallReadsPerCopy > 0 {
                    let calibration = fit.forLocus(count.clone.locus)
                    if !calibration.ownLocus { fallbackLoci = true }
                    ownCalibration = calibration.ownLocus
                    perTemplate = calibration.readsPerCopy * coverage
                    logSE = calibration.logSE
                    templates = netReads / perTemplate
                }
            case .umi:
                // UMIs count the molecules that were read across the target; with spike-ins the
                // share of molecules that were is known (their copies against their UMIs, the
                // locus's own where it has them), and the count is scaled up by it: at 79% capture
                // and half the reads spanning a long junction, 54 UMIs were 130 molecules.
                if let overall = umiCapture {
                    let capture = Self.umiCapture(spikes: spikes, loci: spikeLoci, umis: counts.spikeInUMIs, locus: count.clone.locus) ?? overall
                    recovery = Self.umiRecovery(capture: capture, coverage: coverage, pcrSize: options.pcrSize)
                }
                templates = Double(count.umis) / recovery
                perTemplate = count.umis > 0 ? Double(leukemicReads) / templates : 1
                ownCalibration = true
            case .reads: break
            }
            let locusReads = counts.readsPerLocus[count.clone.locus] ?? 0
            let readFraction = locusReads > 0 ? netReads / Double(locusReads) : 0
            let level: Double? = options.levelBasis == .reads ? readFraction : cells.map { templates / $0 }
            levels.append(CloneLevel(count: count, leukemicReads: leukemicReads, templates: templates, level: level,
                                     readFraction: readFraction,
                                     detected: options.detection.detects(reads: leukemicReads, readsPerTemplate: perTemplate,
                                                                         expectedBleed: count.expectedBleedReads)
                                         && !(templateMethod == .umi && (readsPerMolecule ?? 0) >= Self.familyReadsForStrays
                                              && count.largestUMIFamily < 2),
                                     ownCalibration: ownCalibration, readsPerTemplate: perTemplate,
                                     calibrationLogSE: logSE, umiRecovery: recovery))
        }
        if fallbackLoci { flags.append("spike_in_locus_fallback") }
        if coverageFromSample { flags.append("coverage_from_sample") }
        if Self.markersDiscordant(levels, readsPerLocus: counts.readsPerLocus) || Self.markersMovedApart(levels, readsPerLocus: counts.readsPerLocus) {
            flags.append("discordant_markers")
        }
        // Without spike-ins, the detected clones' own families: under 2 reads per UMI most of
        // their molecules were read once and many never, so templates and level are a lower bound.
        if templateMethod == .umi, umiCapture == nil {
            let detected = levels.filter(\.detected)
            let reads = detected.reduce(0) { $0 + $1.leukemicReads }, umis = detected.reduce(0) { $0 + $1.count.umis }
            if umis > 0 && Double(reads) < Self.minimumReadsPerUMI * Double(umis) { flags.append("umi_undersampled") }
        }
        // UMIs too short for the molecules they count: past a few percent of what L random bases
        // tell apart after one-mismatch error correction (4^L / (3L + 1) neighbourhoods), two
        // molecules often share a UMI or fall one mismatch apart and are counted once.
        if templateMethod == .umi, let length = counts.umiProfile?.length,
           let most = counts.clones.map(\.umis).max(), Double(most) > Self.umiSaturation(length: length) {
            flags.append("umi_saturated")
        }
        // A tracked locus with no read at all, neither of its rearrangements nor of its own
        // spike-ins: its PCR failed or was not run, and an undetected marker there says nothing
        // (B-cell aplasia after anti-CD19 therapy leaves IGH without normal reads, but its spike-ins
        // still show that the PCR worked).
        let trackedLoci = Set(counts.clones.map(\.clone.locus))
        let silentLoci = trackedLoci.filter { locus in
            (counts.readsPerLocus[locus] ?? 0) == 0
                && !zip(spikeLoci, counts.spikeInReads).contains { $0.0 == locus && $0.1 > 0 }
        }
        if !silentLoci.isEmpty { flags.append(silentLoci.count == trackedLoci.count ? "marker_loci_not_amplified" : "marker_locus_not_amplified") }
        let qcPass = !flags.contains { QCCode.failing.contains($0) }

        // The sample's marker: the highest detected clone, else the clone with most reads (for the
        // interval and LoD), ties by clone id. Clones calibrated by their own locus's spike-ins (or
        // UMIs) come first: a level from another locus's spike-ins measures another PCR.
        let detectedLevels = levels.filter(\.detected)
        let pool = detectedLevels.isEmpty ? levels : detectedLevels
        let ranked = pool.contains(where: \.ownCalibration) ? pool.filter(\.ownCalibration) : pool
        let top = ranked.max { a, b in
            let (x, y) = (a.level ?? a.readFraction, b.level ?? b.readFraction)
            if x != y { return x < y }
            if a.leukemicReads != b.leukemicReads { return a.leukemicReads < b.leukemicReads }
            return a.count.clone.cloneID > b.count.clone.cloneID
        }
        let detected = !detectedLevels.isEmpty
        var result = MRDCall(sampleID: counts.sampleID, totalReads: counts.totalReads, readsPerLocus: counts.readsPerLocus,
                             readsWithoutLocus: counts.readsWithoutLocus, spikeInReads: spikeReadTotal, templateMethod: templateMethod, cellsMethod: cellsMethod, cellsAssessed: cells,
                             clonesTracked: counts.clones.count, clonesDetected: detectedLevels.count,
                             leukemicReads: detected ? top!.leukemicReads : 0, leukemicTemplates: detected ? top!.templates : 0,
                             // 0 when nothing was detected; nil without a marker or a cell count.
                             mrdLevel: top?.level.map { detected ? $0 : 0 },
                             readFraction: top.map { detected ? $0.readFraction : 0 }, levelBasis: options.levelBasis,
                             ciLow: nil, ciHigh: nil, lod: nil, loq: nil,
                             threshold: options.threshold, detected: detected, quantifiable: false, call: .indeterminate, callDetail: .noMarker,
                             qcPass: qcPass, qcFlags: flags, clones: levels, fit: fit, topClone: top?.count.clone.cloneID,
                             evolvedReads: top?.count.evolvedReads ?? 0, umiProfile: counts.umiProfile,
                             markers: counts.clones.map(\.clone.cloneID))
        result.umiCapture = umiCapture
        guard let top else {  // no marker: indeterminate, no_marker
            result.reason = CallReason.sentence(result, options: options)
            return result
        }
        let perTemplate = top.readsPerTemplate
        let logSE = top.calibrationLogSE
        let templates = detected ? top.templates : 0
        // Variance of the template estimate per template: cells (Poisson), reads of a template
        // (1/r), PCR over-dispersion (1/size); UMIs count molecules, so only the first remains,
        // with the binomial thinning of the molecules whose UMIs were not read (1 / recovery).
        let dispersion = templateMethod == .umi ? 1 / top.umiRecovery : 1 + 1 / max(perTemplate, 1e-9) + 1 / options.pcrSize
        if let cells, options.levelBasis == .cells {
            let effective = templates / dispersion
            let (low, high) = Statistics.poissonInterval(effective)
            let z = 1.959963984540054
            func widen(_ bound: Double, up: Bool) -> Double {
                let scaled = bound * dispersion
                guard templates > 0 else { return up ? scaled * exp(z * logSE) : 0 }
                guard scaled > 0 else { return 0 }
                let spread = sqrt(pow(log(scaled / templates), 2) + pow(z * logSE, 2))
                return templates * exp(up ? spread : -spread)
            }
            result.ciLow = widen(low, up: false) / cells
            result.ciHigh = widen(high, up: true) / cells
            let lodTemplates = detectionLimit(readsPerTemplate: perTemplate,
                                              minReads: options.detection.requiredReads(readsPerTemplate: perTemplate), pcrSize: options.pcrSize)
            result.lod = lodTemplates / cells
            result.lodTemplates = lodTemplates
            // LoQ: where the template estimate's CV reaches 30% (checked against replicates in
            // docs/validation.md: empirical LoQ 15-20 cells with spike-ins).
            let loqVariance = 0.09 - logSE * logSE
            if loqVariance > 0 {
                let loqTemplates = max(lodTemplates, dispersion / loqVariance)
                result.loq = loqTemplates / cells
                result.quantifiable = detected && templates >= loqTemplates
            }
        } else if detected && options.levelBasis == .reads {
            result.quantifiable = true  // a locus fraction, exact for what was sequenced
        }
        // More leukemic templates than cells assessed (a level above 100%): each leukemic cell
        // carries one template of a marker, so the cell count or DNA input is wrong (units: 0.5
        // for 500 ng?), or the spike-in copies are. The level is no measurement then.
        if options.levelBasis == .cells, detected, let level = result.mrdLevel, level > 1 {
            result.qcFlags.append("level_exceeds_cells")
            result.qcPass = false
        }
        // More DNA than any amplicon assay takes (a unit slip: 975000 for 975 ng, or pg for ng):
        // the cell count would make a tiny LoD, and a negative look far more sensitive than it is.
        if let cells, cells > Self.maximumPlausibleCells {
            result.qcFlags.append("input_implausible")
            result.qcPass = false
        }

        // Detected under the threshold by a sample whose LoD is above it: nothing detected there
        // would be indeterminate (too few cells), so a few reads cannot make it negative (3 reads,
        // 8.6e-5, interval to 3.2e-4, LoD 1.6e-4, in a follow-up whose truth was 2.1e-4).
        if CallRule.belowThresholdAboveLoD(detected: detected, level: result.mrdLevel, lod: result.lod, threshold: options.threshold) {
            result.qcFlags.append("below_threshold_above_lod")
            result.qcPass = false
        }
        (result.call, result.callDetail) = CallRule(threshold: options.threshold).decide(
            CallRule.Evidence(detected: detected, level: result.mrdLevel, lod: result.lod, quantifiable: result.quantifiable, qcPass: result.qcPass,
                              cellCountKnown: cells != nil || options.levelBasis == .reads))
        result.reason = CallReason.sentence(result, options: options)
        return result
    }

    /// Expected leukemic templates in the input at which a clone is detected with 95% probability:
    /// templates ~ Poisson(mu), each yielding NB(r, size) reads (UMIs: each template one UMI), and
    /// the detection rule's minimum reads. About 3 when r is large and the rule asks for few reads.
    public static func detectionLimit(readsPerTemplate r: Double, minReads: Int, pcrSize: Double) -> Double {
        func detectionProbability(_ mu: Double) -> Double {
            var probability = 0.0
            let upper = Int(mu + 12 * sqrt(mu + 1) + 20)
            for n in 1...upper {
                let p = Statistics.poissonProbability(n, mean: mu)
                if p < 1e-15 && Double(n) > mu { break }
                let detectedGivenN = 1 - Statistics.negativeBinomialBelow(minReads, mean: Double(n) * max(r, 1e-9), size: Double(n) * pcrSize)
                probability += p * detectedGivenN
            }
            return probability
        }
        var low = 0.0, high = 3.0
        while detectionProbability(high) < 0.95 && high < 1e7 { high *= 2 }
        for _ in 0..<60 {
            let mid = (low + high) / 2
            if detectionProbability(mid) < 0.95 { low = mid } else { high = mid }
        }
        return high
    }
}
