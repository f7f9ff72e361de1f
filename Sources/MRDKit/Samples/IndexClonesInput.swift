import Foundation

/// A patient's index clones for `--clones` (and the sheet's `clones` column), from any of three
/// files recognised by their content (contract v3):
/// - clones.tsv of `mrd baseline` (every clonotype; `trackable` says which are index clones);
/// - an AIRR Rearrangement TSV (MiXCR, IgBLAST/Change-O, Vidjil exports): each row an index clone,
///   `junction` and `locus` or `v_call` required, `sequence` used for the flanks when it holds the
///   junction; mrd's own ID.airr.tsv also carries `mrd_trackable`, and its other rows are kept as
///   the near-neighbours tracking must tell apart;
/// - a FASTA of index-clone sequences (`>clone_id`, then a sequence spanning the junction),
///   annotated as baseline reads are.
/// Every index clone is held to the checks a baseline clone is (junction of 18 nt or more, ACGT
/// only, ids unique); one that fails is kept but not trackable, with its reason.
public enum IndexClonesInput {
    public enum Format: String, Sendable { case clonesTable = "clones.tsv", airr = "AIRR TSV", fasta = "FASTA" }

    static let flank = 10

    public static func sniff(path: String) throws -> Format {
        guard FileManager.default.fileExists(atPath: path) else { throw ReadError(.missingInput, file: path, "no such clones file") }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ReadError(.unreadableInput, file: path, "cannot read the index-clone file")
        }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 65_536)) ?? Data()
        let text = String(decoding: head, as: UTF8.self)
        guard let first = text.split(whereSeparator: \.isNewline).first(where: { !$0.allSatisfy(\.isWhitespace) }) else {
            throw ReadError(.malformedRecord, file: path, line: 1, "empty: expected clones.tsv (mrd baseline), an AIRR Rearrangement TSV or a FASTA of clone sequences")
        }
        let line = first.trimmingCharacters(in: .whitespaces)
        if line.hasPrefix(">") { return .fasta }
        let header = Set(line.split(separator: "\t").map { $0.trimmingCharacters(in: .whitespaces) })
        if header.isSuperset(of: ["clone_id", "trackable", "target"]) { return .clonesTable }
        if header.contains("junction") && (header.contains("locus") || header.contains("v_call")) { return .airr }
        throw ReadError(.malformedRecord, file: path, line: 1,
                        "expected clones.tsv (mrd baseline: clone_id, trackable, target ...), an AIRR Rearrangement TSV (junction, and locus or v_call) or a FASTA of clone sequences ('>clone_id' lines)")
    }

    public static func load(path: String, annotator: Annotator, options: BaselineOptions = BaselineOptions()) throws -> [BaselineClone] {
        let clones: [BaselineClone]
        switch try sniff(path: path) {
        case .clonesTable: return try ClonesFile.read(path: path)
        case .airr: clones = try airr(path: path, options: options)
        case .fasta: clones = try fasta(path: path, annotator: annotator, options: options)
        }
        try rejectRepertoire(clones, path: path)
        return clones
    }

    /// Index clones given from elsewhere are every row of their file (mrd's own airr.tsv excepted:
    /// its `mrd_trackable` says which): a leukemia has a handful of markers. More rows than this to
    /// track is a whole repertoire export (every normal clone of the diagnosis would be counted as
    /// leukemic in follow-ups, a false positive) or several patients' clones in one file.
    static let maximumForeignIndexClones = 100

    static func rejectRepertoire(_ clones: [BaselineClone], path: String) throws {
        let tracked = clones.filter(\.trackable).count
        guard tracked > maximumForeignIndexClones else { return }
        throw ReadError(.malformedRecord, file: path,
                        "\(tracked) rows to track as index clones: expected the leukemia's few index clones (at most \(maximumForeignIndexClones)), "
                        + "not a whole repertoire or several patients' clones; select the index clones, or give mrd baseline's clones.tsv")
    }

    /// The baseline's checks of an index clone given from elsewhere; nil when it passes.
    static func check(_ junction: [UInt8], options: BaselineOptions) -> String? {
        let selection = IndexCloneSelection(options: options)
        return selection.tooShort(junction) ?? selection.ambiguous(junction)
    }

    static func locus(named name: String, vCall: String) -> Locus? {
        if let locus = Locus(rawValue: name.uppercased()) { return locus }
        let gene = vCall.split(separator: ",").first.map { String($0.trimmingCharacters(in: .whitespaces).prefix(3)).uppercased() } ?? ""
        return Locus(rawValue: gene)
    }

    /// The target (the junction with up to `flank` bases each side) and the clone's own bases before
    /// it (`BaselineClone.upstream`), from `strand` (V-to-J) where the junction is `junction`.
    static func targetAndUpstream(_ strand: [UInt8], junction: Range<Int>) -> (target: [UInt8], upstream: [UInt8]) {
        let start = max(0, junction.lowerBound - flank)
        return (Array(strand[start..<min(strand.count, junction.upperBound + flank)]), BaselineClone.upstream(of: strand, before: start))
    }

    /// The same from `sequence` (either strand), else the junction alone and no upstream bases.
    static func targetAndUpstream(junction: [UInt8], sequence: [UInt8]) -> (target: [UInt8], upstream: [UInt8]) {
        for strand in [sequence, reverseComplement(sequence)] where !strand.isEmpty {
            if let range = strand.firstRange(of: junction) { return targetAndUpstream(strand, junction: range) }
        }
        return (junction, [])
    }

    static func airr(path: String, options: BaselineOptions) throws -> [BaselineClone] {
        try airr(table: try DelimitedTable.load(path: path, dialect: .tsv, what: "AIRR rearrangement table of index clones"), options: options)
    }

    /// An AIRR TSV's index clones from its bytes (what the fuzz probe feeds).
    public static func airr(bytes: [UInt8], path: String, options: BaselineOptions = BaselineOptions()) throws -> [BaselineClone] {
        try airr(table: try DelimitedTable.parse(bytes: bytes, path: path, dialect: .tsv, what: "AIRR rearrangement table of index clones"),
                 options: options)
    }

    static func airr(table: DelimitedTable, options: BaselineOptions) throws -> [BaselineClone] {
        let path = table.path
        try table.requireColumns(["junction"])
        let sample = "clones:" + ((path as NSString).lastPathComponent)
        let ownTrackable = table.column("mrd_trackable") != nil
        var clones: [BaselineClone] = []
        var seen = Set<String>()
        for r in 0..<table.rowCount {
            let line = table.line(r)
            func value(_ name: String) -> String { table.column(name) == nil ? "" : table.value(r, name).trimmingCharacters(in: .whitespaces) }
            guard table.fieldCount(r) == table.header.count else {
                throw ReadError(.malformedRecord, file: path, line: line, "expected \(table.header.count) tab-separated fields, found \(table.fieldCount(r))")
            }
            let junction = Array(value("junction").uppercased().utf8)
            guard !junction.isEmpty else { throw ReadError(.malformedRecord, file: path, line: line, "column junction: empty (an index clone needs its junction)") }
            let vCall = value("v_call")
            guard let locus = locus(named: value("locus"), vCall: vCall) else {
                throw ReadError(.malformedRecord, file: path, line: line,
                                "no locus: column locus is '\(printable(value("locus")))' and v_call '\(printable(vCall))' names none of IGH, IGK, IGL, TRA, TRB, TRG, TRD (mrd tracks IGH, IGK, IGL, TRB, TRG, TRD)")
            }
            var id = value("sequence_id")
            if id.isEmpty { id = value("clone_id") }
            if id.isEmpty { id = "clone\(r + 1)" }
            id = id.replacingOccurrences(of: ";", with: "_")
            guard seen.insert(id).inserted else { throw ReadError(.malformedRecord, file: path, line: line, "clone id '\(printable(id))' given twice") }
            let count = Int(value("duplicate_count")) ?? Int(value("consensus_count")) ?? Int(value("clone_count")) ?? 0
            let located = targetAndUpstream(junction: junction, sequence: Array(value("sequence").uppercased().utf8))
            var clone = BaselineClone(cloneID: id, sampleID: sample, locus: locus, kind: .complete(locus), vCall: vCall, dCall: value("d_call"),
                                      jCall: value("j_call"), junction: junction, count: count, trackable: true, target: located.target)
            clone.upstream = located.upstream
            clone.junctionAA = value("junction_aa").isEmpty ? nil : value("junction_aa")
            if ownTrackable && value("mrd_trackable") != "T" {
                clone.trackable = false
                clone.notTrackableReason = value("mrd_not_trackable_reason")
            } else if let problem = check(junction, options: options) {
                clone.trackable = false
                clone.notTrackableReason = problem
            }
            clones.append(clone)
        }
        return clones
    }

    static func fasta(path: String, annotator: Annotator, options: BaselineOptions) throws -> [BaselineClone] {
        guard let data = FileManager.default.contents(atPath: path) else { throw ReadError(.unreadableInput, file: path, "cannot read the index-clone FASTA") }
        var records: [(id: String, line: Int, sequence: [UInt8])] = []
        for (n, raw) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty { continue }
            if line.hasPrefix(">") {
                let id = line.dropFirst().split(whereSeparator: \.isWhitespace).first.map(String.init) ?? ""
                guard !id.isEmpty else { throw ReadError(.malformedRecord, file: path, line: n + 1, "a '>' line without a clone id") }
                records.append((id.replacingOccurrences(of: ";", with: "_"), n + 1, []))
            } else {
                guard !records.isEmpty else { throw ReadError(.malformedRecord, file: path, line: n + 1, "sequence before the first '>clone_id' line") }
                let bases = Array(line.uppercased().utf8)
                guard bases.allSatisfy({ "ACGTN".utf8.contains($0) }) else {
                    throw ReadError(.malformedRecord, file: path, line: n + 1, "record '\(printable(records.last!.id))': expected bases A, C, G, T or N")
                }
                records[records.count - 1].sequence += bases
            }
        }
        guard !records.isEmpty else { throw ReadError(.malformedRecord, file: path, line: 1, "no '>clone_id' record") }
        var seen = Set<String>()
        let sample = "clones:" + ((path as NSString).lastPathComponent)
        return try records.map { record in
            guard seen.insert(record.id).inserted else { throw ReadError(.malformedRecord, file: path, line: record.line, "clone id '\(printable(record.id))' given twice") }
            guard case .success(let a) = annotator.annotate(record.sequence) else {
                throw ReadError(.malformedRecord, file: path, line: record.line,
                                "record '\(printable(record.id))': no junction found: expected a human IG/TR rearrangement with enough V (or D) and J sequence to place them (about 30 nt beyond the junction on each side; \(record.sequence.count) nt given)")
            }
            let junction = Array(a.junction)
            let located = targetAndUpstream(a.sequence, junction: a.junctionStart..<a.junctionEnd)
            var clone = BaselineClone(cloneID: record.id, sampleID: sample, locus: a.locus, kind: a.kind, vCall: a.vCall, dCall: a.dCall,
                                      jCall: a.jCall, junction: junction, count: 0, trackable: true, target: located.target)
            clone.upstream = located.upstream
            clone.junctionAA = a.kind.junctionAA(junction)
            if let problem = check(junction, options: options) {
                clone.trackable = false
                clone.notTrackableReason = problem
            }
            return clone
        }
    }
}
