import Foundation

/// `mrd annotate`: every read of a file (or the merged/joined pair) as one AIRR Rearrangement row,
/// in input order: locus, V/D/J calls, junction, gapped V alignment and identity, or the reason it
/// got none. For checking annotation against other tools and for sequences that are not a sample
/// (a lab's clone FASTA, a set of expert-annotated rearrangements).
public struct ReadAnnotationRun {
    public let input: SampleInput
    public let threads: Int

    public init(input: SampleInput, threads: Int) {
        self.input = input
        self.threads = threads
    }

    /// Reads annotated and unassigned, by reason; locus counts.
    public struct Summary: Sendable, Equatable {
        public var reads = 0
        public var assigned = 0
        /// Unassigned reads too short for their whole junction whose calls were given all the same.
        public var partial = 0
        public var perLocus: [Locus: Int] = [:]
        public var unassigned: [UnassignedReason: Int] = [:]
        public var pairs = PairCounts()
        /// V identities of the reads with a gapped V, for `low_v_identity`.
        public var vIdentity = VIdentityHistogram()

        mutating func add(_ other: Summary) {
            reads += other.reads
            vIdentity.merge(other.vIdentity)
            pairs.add(other.pairs)
            assigned += other.assigned
            partial += other.partial
            for (k, v) in other.perLocus { perLocus[k, default: 0] += v }
            for (k, v) in other.unassigned { unassigned[k, default: 0] += v }
        }

        /// One line for stderr: the assigned share and the commonest reasons.
        public var line: String {
            let share = reads == 0 ? 0 : 100 * Double(assigned) / Double(reads)
            var text = "\(assigned) of \(reads) reads annotated (\(String(format: "%.1f", share))%)"
            let loci = perLocus.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }
            if !loci.isEmpty { text += ": " + loci.joined(separator: ", ") }
            if pairs.readPairs > 0 { text += "; \(pairs.mergedPairs) of \(pairs.readPairs) pairs merged" }
            let reasons = unassigned.filter { $0.value > 0 }.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.rawValue < $1.key.rawValue }
            if !reasons.isEmpty { text += "; unassigned: " + reasons.prefix(3).map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", ") }
            if partial > 0 { text += " (\(partial) of them too short for the whole junction: locus and calls only)" }
            if vIdentity.isLow, let median = vIdentity.median() {
                text += ". low_v_identity: the V genes are a median \(String(format: "%.0f", 100 * median))% identical to the human germline: not a human library, a wrong --germline, or exceptionally hypermutated"
            }
            return text
        }
    }

    /// Writes the AIRR TSV to `path` (atomically: nothing under that name unless complete).
    public func run(annotator: Annotator, path: String) throws -> Summary {
        let reader = try SampleReader(input)
        let file = try AtomicFile(path: path)
        try file.write(AIRRFile.text([]))
        let writer = OrderedChunks(file)
        let tallies: [Summary]
        do {
            tallies = try BatchPipeline.run(reader, workers: max(1, threads), makeTally: { Summary() }) { batch, summary in
                var scratch = AnnotationScratch(annotator)
                let merger = PairMerger()
                var rows: [AIRRRearrangement] = []
                rows.reserveCapacity(batch.count)
                for i in 0..<batch.count {
                    summary.reads += 1
                    // Paired-end: overlapping mates are one read, the whole amplicon.
                    let mergedRead = merger.merged(batch, i, counts: &summary.pairs)
                    let merged = mergedRead != nil
                    let record = mergedRead ?? batch.read1[i]
                    var result = annotator.annotate(record.sequence, scratch: &scratch, callD: true, gapped: true)
                    var uncovered = annotator.uncoveredCalls(scratch)
                    var used = record
                    // Mates that do not overlap: the mate when read 1 does not span the junction;
                    // when both do, the one that read the junction at the better quality (as
                    // `mrd baseline` counts the pair).
                    if !merged, let mates = batch.read2 {
                        let mate = annotator.annotate(mates[i].sequence, scratch: &scratch, callD: true, gapped: true)
                        if uncovered == nil, case .failure = result { uncovered = annotator.uncoveredCalls(scratch) }
                        switch (result, mate) {
                        case (.failure, .success): result = mate; used = mates[i]
                        case (.success(let own), .success(let other))
                            where expectedJunctionErrors(mates[i].quality, readLength: mates[i].sequence.count, reversed: other.reversed,
                                                         junctionStart: other.junctionStart, junctionEnd: other.junctionEnd)
                            < expectedJunctionErrors(record.quality, readLength: record.sequence.count, reversed: own.reversed,
                                                     junctionStart: own.junctionStart, junctionEnd: own.junctionEnd):
                            result = mate; used = mates[i]
                        default: break
                        }
                    }
                    var row = AIRRRearrangement(sequenceID: record.idString, sequence: used.sequenceString)
                    switch result {
                    case .failure(let reason):
                        summary.unassigned[reason, default: 0] += 1
                        row.mrdUnassignedReason = reason.rawValue
                        // Too short for the whole junction, yet V and J (or D, Kde) placed on one
                        // locus: the calls are given, the junction and alignments are not.
                        if reason == .junctionNotCovered, let calls = uncovered {
                            row.fill(from: calls)
                            summary.partial += 1
                        }
                    case .success(let annotation):
                        summary.assigned += 1
                        summary.perLocus[annotation.locus, default: 0] += 1
                        row.fill(from: annotation, annotator: annotator)
                        if let identity = row.vIdentity { summary.vIdentity.add(identity) }
                    }
                    rows.append(row)
                }
                try writer.put(batch.sequenceNumber, AIRRFile.text(rows, header: false))
            }
            try writer.finish()
            try file.commit()
        } catch {
            // Workers may still be finishing batches and the command exits on this error: the
            // temporary file goes now, not when the last reference to it is dropped.
            writer.abandon(error)
            throw error
        }
        var total = Summary()
        for tally in tallies { total.add(tally) }
        return total
    }
}

/// Text chunks written in sequence-number order whatever order the workers finish them in; a chunk
/// waits only until the ones before it are done (the pipeline bounds how far ahead workers get).
final class OrderedChunks: @unchecked Sendable {
    private let file: AtomicFile
    private let lock = NSLock()
    private var next = 0
    private var waiting: [Int: String] = [:]
    private var failure: Error?

    init(_ file: AtomicFile) { self.file = file }

    func put(_ number: Int, _ text: String) throws {
        lock.lock()
        defer { lock.unlock() }
        if let failure { throw failure }
        waiting[number] = text
        do {
            while let ready = waiting.removeValue(forKey: next) {
                try file.write(ready)
                next += 1
            }
        } catch {
            failure = error
            throw error
        }
    }

    /// Stops all further writes and removes the unfinished file.
    func abandon(_ error: Error) {
        lock.lock()
        defer { lock.unlock() }
        if failure == nil { failure = error }
        file.discard()
    }

    func finish() throws {
        lock.lock()
        defer { lock.unlock() }
        if let failure { throw failure }
        precondition(waiting.isEmpty, "batches missing before \(waiting.keys.min() ?? 0)")
    }
}

extension AIRRRearrangement {
    /// sequence_alignment / germline_alignment: V (gapped), the bases between V and J against N (the
    /// D gene's bases where it matched: `d` = its start on `sequence` and its bases), then J; one
    /// column per character, so the two are equally long.
    mutating func setAlignments(sequence: [UInt8], v: GeneAlignment, vGermline: [UInt8], j: SegmentAlignment, jGermline: [UInt8],
                                d: PlacedGermline?) {
        var (readColumns, germlineColumns) = v.columns(read: sequence, germline: vGermline)
        let middleStart = v.readEnd, jStart = max(j.readStart, middleStart)
        if middleStart < jStart {
            for p in middleStart..<jStart {
                readColumns.append(sequence[p])
                if let d, p >= d.start, p < d.start + d.bases.count { germlineColumns.append(d.bases[p - d.start]) }
                else { germlineColumns.append(UInt8(ascii: "N")) }
            }
        }
        if j.readEnd > jStart {
            for p in jStart..<j.readEnd {
                readColumns.append(sequence[p])
                let g = j.germlineStart + p - j.readStart
                germlineColumns.append(g < jGermline.count ? jGermline[g] : UInt8(ascii: "N"))
            }
        }
        sequenceAlignment = String(decoding: readColumns, as: UTF8.self)
        germlineAlignment = String(decoding: germlineColumns, as: UTF8.self)
    }

    /// The calls of a read too short for its whole junction: locus, calls and orientation only.
    mutating func fill(from calls: UncoveredCalls) {
        revComp = calls.reversed
        locus = calls.locus.rawValue
        vCall = calls.vCall; dCall = calls.dCall; jCall = calls.jCall
    }

    /// The annotation's fields, coordinates on the read turned V-to-J (`rev_comp` says whether that
    /// is the reverse complement of `sequence`, as AIRR has it).
    mutating func fill(from a: ReadAnnotation, annotator: Annotator) {
        let length = a.sequence.count
        revComp = a.reversed
        locus = a.locus.rawValue
        vCall = a.vCall; jCall = a.jCall
        let junctionBases = Array(a.junction)
        junction = String(decoding: junctionBases, as: UTF8.self)
        junctionLength = junctionBases.count
        junctionAA = a.kind.junctionAA(junctionBases) ?? ""
        productive = a.kind.productive(junctionBases)
        dCall = a.dCall
        var dPlace: Annotator.DPlacement?
        if a.kind == .VDJ, let place = annotator.dPlacement(a.locus, junctionBases) {
            dPlace = place
            let start = a.junctionStart + place.junctionStart
            dSequenceStart = start + 1; dSequenceEnd = start + place.length
            dGermlineStart = place.germlineStart + 1; dGermlineEnd = place.germlineStart + place.length
            var cigar = ""
            if start > 0 { cigar += "\(start)S" }
            if place.germlineStart > 0 { cigar += "\(place.germlineStart)N" }
            cigar += "\(place.length)M"
            if length > start + place.length { cigar += "\(length - start - place.length)S" }
            dCigar = cigar
        }
        if let v = a.vGapped {
            vCigar = v.cigar(readLength: length)
            vIdentity = v.identity
            (vSequenceStart, vSequenceEnd, vGermlineStart, vGermlineEnd) = (v.readStart + 1, v.readEnd, v.germlineStart + 1, v.germlineEnd)
        } else if let v = a.vAlignment {
            vCigar = v.cigar(readLength: length)
            (vSequenceStart, vSequenceEnd, vGermlineStart, vGermlineEnd) = (v.readStart + 1, v.readEnd, v.germlineStart + 1, v.germlineEnd)
        }
        if let j = a.jAlignment {
            jCigar = j.cigar(readLength: length)
            (jSequenceStart, jSequenceEnd, jGermlineStart, jGermlineEnd) = (j.readStart + 1, j.readEnd, j.germlineStart + 1, j.germlineEnd)
        }
        if let v = a.vGapped, let j = a.jAlignment, let jGermline = annotator.jGene(a.jCall.split(separator: ",").first.map(String.init) ?? "") {
            var d: PlacedGermline?
            if let place = dPlace, let gene = annotator.dGene(a.locus, allele: String(place.calls.split(separator: ",")[0])) {
                d = PlacedGermline(start: a.junctionStart + place.junctionStart, bases: Array(gene[place.germlineStart..<(place.germlineStart + place.length)]))
            }
            setAlignments(sequence: a.sequence, v: v, vGermline: a.vGermline, j: j, jGermline: jGermline, d: d)
        }
    }
}
