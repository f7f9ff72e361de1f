import Foundation

/// One row of a baseline's ID.clones.tsv: a clonotype of the diagnostic sample, trackable or not.
public struct BaselineClone: Sendable, Equatable {
    public var cloneID: String
    public var sampleID: String
    public var locus: Locus
    public var kind: RearrangementKind
    public var vCall: String
    public var dCall = ""
    public var jCall: String
    public var junction: [UInt8]
    public var junctionAA: String?
    public var productive: Bool?
    public var count: Int
    public var fraction = 0.0
    public var locusReads = 0
    public var trackable: Bool
    public var target: [UInt8]
    // Extensions (appended after the contract's columns).
    public var nearestCloneID: String?
    public var nearestDistance: Int?
    public var notTrackableReason = ""
    public var untemplated: Int?
    /// Share of the clone's reads that can span its target relative to a spike-in's (`ReadCoverage`).
    public var coverage = 1.0
    /// Identity of the clone's V to its germline allele over the aligned V (gapped), as airr.tsv's.
    public var vIdentity: Double?
    /// Up to `upstreamLength` of the clone's own bases just before its target (its V, V-to-J
    /// direction), from the diagnosis; empty when unknown. The tracker tells a VH replacement from
    /// the clone's own reads by them: its germline V would call every read of a hypermutated clone,
    /// or of a V allele missing from the germline set, a replacement.
    public var upstream: [UInt8] = []
    public static let upstreamLength = 30

    /// Up to `upstreamLength` bases of `sequence` (V-to-J) before `start`, where a clone's target
    /// starts on it; empty when one of them is not A/C/G/T (an N of the read: clones.tsv's
    /// `upstream` holds bases only).
    public static func upstream(of sequence: [UInt8], before start: Int) -> [UInt8] {
        let bases = sequence[max(0, start - upstreamLength)..<start]
        return bases.allSatisfy(ClonesFile.isNucleotide) ? Array(bases) : []
    }

    public init(cloneID: String, sampleID: String, locus: Locus, kind: RearrangementKind, vCall: String, dCall: String = "",
                jCall: String, junction: [UInt8], count: Int, trackable: Bool, target: [UInt8]) {
        self.cloneID = cloneID
        self.sampleID = sampleID
        self.locus = locus
        self.kind = kind
        self.vCall = vCall
        self.dCall = dCall
        self.jCall = jCall
        self.junction = junction
        self.count = count
        self.trackable = trackable
        self.target = target
    }

    public var junctionString: String { String(decoding: junction, as: UTF8.self) }
}

/// ID.clones.tsv: the contract's columns in their order, then mrd's extensions.
public enum ClonesFile {
    public static let columns = ["clone_id", "sample_id", "locus", "v_call", "d_call", "j_call", "junction", "junction_aa",
                                 "junction_length", "productive", "clone_count", "clone_fraction", "locus_reads",
                                 "trackable", "target", "rearrangement",
                                 // Extensions (appended, as the contract allows).
                                 "nearest_clone_id", "nearest_distance", "not_trackable_reason", "untemplated_nt", "coverage", "v_identity",
                                 "upstream"]
    /// What tracking needs; the other columns are read when present.
    static let required = ["clone_id", "sample_id", "locus", "v_call", "j_call", "junction", "clone_count", "trackable", "target", "rearrangement"]

    /// The table's text, rows in the order given.
    public static func text(_ clones: [BaselineClone]) -> String {
        var tsv = TableWriter()
        tsv.row(columns)
        addRows(clones[...], to: &tsv)
        return tsv.text
    }

    /// The same text, its rows formatted in chunks side by side on `threads` threads.
    public static func text(_ clones: [BaselineClone], threads: Int) -> String {
        let chunk = 4096
        guard threads > 1, clones.count > chunk else { return text(clones) }
        var header = TableWriter()
        header.row(columns)
        let ranges = stride(from: 0, to: clones.count, by: chunk).map { $0..<min($0 + chunk, clones.count) }
        let parts = ranges.parallelMap(threads: threads, minimumCount: 2) { range -> String in
            var tsv = TableWriter()
            addRows(clones[range], to: &tsv)
            return tsv.text
        }
        return header.text + parts.joined()
    }

    private static func addRows(_ clones: ArraySlice<BaselineClone>, to tsv: inout TableWriter) {
        for c in clones {
            tsv.field(c.cloneID); tsv.field(c.sampleID); tsv.field(c.locus.rawValue)
            tsv.field(c.vCall); tsv.field(c.dCall); tsv.field(c.jCall); tsv.field(c.junction)
            tsv.field(c.junctionAA ?? ""); tsv.field(c.junction.count); tsv.field(TableNumber.flag(c.productive))
            tsv.field(c.count); tsv.field(TableNumber.g6(c.fraction)); tsv.field(c.locusReads); tsv.field(c.trackable)
            tsv.field(c.target); tsv.field(c.kind.rawValue)
            tsv.field(c.nearestCloneID ?? ""); tsv.field(c.nearestDistance.map(String.init) ?? ""); tsv.field(c.notTrackableReason)
            tsv.field(c.untemplated.map(String.init) ?? "")
            tsv.field(TableNumber.g6(c.coverage))
            tsv.field(c.vIdentity.map { TableNumber.fixed($0, decimals: 4) } ?? "")
            tsv.field(c.upstream)
            tsv.endRow()
        }
    }

    /// Reads ID.clones.tsv (the contract's columns; more may follow) and checks every value, so that a
    /// damaged file is refused with its line instead of tracking the wrong thing.
    public static func read(path: String) throws -> [BaselineClone] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ReadError(.missingInput, file: path, "no such clones file (expected the ID.clones.tsv of `mrd baseline`)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReadError(.unreadableInput, file: path, "cannot read the clones file")
        }
        return try parse(bytes: [UInt8](data), path: path)
    }

    static func isNucleotide(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "A") || byte == UInt8(ascii: "C") || byte == UInt8(ascii: "G") || byte == UInt8(ascii: "T")
    }

    private static func isNucleotideOrN(_ byte: UInt8) -> Bool { isNucleotide(byte) || byte == UInt8(ascii: "N") }

    /// Parses the bytes of a clones.tsv; `path` names it in messages.
    public static func parse(bytes: [UInt8], path: String) throws -> [BaselineClone] {
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw ReadError(.malformedRecord, file: path, line: 1, "expected UTF-8 text (a clones.tsv of `mrd baseline`)")
        }
        let table = DelimitedTable(bytes: bytes, path: path, dialect: .tsv)
        guard !table.header.isEmpty else {
            throw ReadError(.emptyInput, file: path, line: 1, "expected a header line starting with 'clone_id'")
        }
        try table.requireColumns(required)
        // Column indexes looked up once, not per field of every row (files of thousands of clones).
        let columnCloneCount = table.column("clone_count")
        let columnCloneFraction = table.column("clone_fraction")
        let columnCloneId = table.column("clone_id")
        let columnCoverage = table.column("coverage")
        let columnVIdentity = table.column("v_identity")
        let columnUpstream = table.column("upstream")
        let columnDCall = table.column("d_call")
        let columnJCall = table.column("j_call")
        let columnJunctionAa = table.column("junction_aa")
        let columnLocus = table.column("locus")
        let columnLocusReads = table.column("locus_reads")
        let columnNearestCloneId = table.column("nearest_clone_id")
        let columnNearestDistance = table.column("nearest_distance")
        let columnNotTrackableReason = table.column("not_trackable_reason")
        let columnProductive = table.column("productive")
        let columnRearrangement = table.column("rearrangement")
        let columnSampleId = table.column("sample_id")
        let columnTrackable = table.column("trackable")
        let columnUntemplatedNt = table.column("untemplated_nt")
        let columnVCall = table.column("v_call")
        let columnJunction = table.column("junction")!, columnTarget = table.column("target")!
        var clones: [BaselineClone] = []
        var seen = Set<String>()
        for r in 0..<table.rowCount {
            let line = table.line(r)
            guard table.fieldCount(r) == table.header.count else {
                throw ReadError(.malformedRecord, file: path, line: line,
                                "expected \(table.header.count) tab-separated fields, found \(table.fieldCount(r))")
            }
            func value(_ column: Int?) -> String { column.map { table.field(r, $0) } ?? "" }
            func bad(_ name: String, _ expected: String) -> ReadError {
                ReadError(.malformedRecord, file: path, line: line, "column \(name): expected \(expected), found '\(printable(table.value(r, name)))'")
            }
            let id = value(columnCloneId)
            guard isIdentifier(id, maxLength: 128) else { throw bad("clone_id", "a clone id (A-Z a-z 0-9 . _ -)") }
            guard isIdentifier(value(columnSampleId)) else { throw bad("sample_id", "a sample id (A-Z a-z 0-9 . _ -, at most 64)") }
            guard seen.insert(id).inserted else {
                throw ReadError(.malformedRecord, file: path, line: line, "clone_id '\(id)' appears twice")
            }
            guard let locus = Locus(rawValue: value(columnLocus)) else { throw bad("locus", "one of IGH, IGK, IGL, TRB, TRG, TRD") }
            guard let kind = RearrangementKind(rawValue: value(columnRearrangement)) else {
                throw bad("rearrangement", "one of " + RearrangementKind.allCases.map(\.rawValue).joined(separator: ", "))
            }
            let junction = Array(table.bytes(r, columnJunction))
            guard !junction.isEmpty, junction.allSatisfy(isNucleotideOrN) else { throw bad("junction", "a nucleotide sequence (A/C/G/T/N)") }
            guard let count = Int(value(columnCloneCount)), count >= 0 else { throw bad("clone_count", "a count") }
            let trackable: Bool
            switch value(columnTrackable) {
            case "T": trackable = true
            case "F": trackable = false
            default: throw bad("trackable", "T or F")
            }
            let target = Array(table.bytes(r, columnTarget))
            if trackable {
                guard target.count >= junction.count, target.allSatisfy(isNucleotide) else {
                    throw bad("target", "the A/C/G/T sequence holding the junction of a trackable clone")
                }
                guard let _ = target.firstRange(of: junction) else {
                    throw ReadError(.malformedRecord, file: path, line: line, "column target: the junction of clone '\(id)' is not inside its target")
                }
            }
            var clone = BaselineClone(cloneID: id, sampleID: value(columnSampleId), locus: locus, kind: kind, vCall: value(columnVCall),
                                      dCall: value(columnDCall), jCall: value(columnJCall), junction: junction, count: count,
                                      trackable: trackable, target: target)
            // The other columns, where present (files of other tools may lack them).
            if !value(columnJunctionAa).isEmpty { clone.junctionAA = value(columnJunctionAa) }
            switch value(columnProductive) {
            case "T": clone.productive = true
            case "F": clone.productive = false
            case "": break
            default: throw bad("productive", "T, F or empty")
            }
            if !value(columnCloneFraction).isEmpty {
                guard let fraction = Double(value(columnCloneFraction)), (0...1).contains(fraction) else { throw bad("clone_fraction", "a fraction") }
                clone.fraction = fraction
            }
            if !value(columnLocusReads).isEmpty {
                guard let reads = Int(value(columnLocusReads)), reads >= 0 else { throw bad("locus_reads", "a count") }
                clone.locusReads = reads
            }
            if !value(columnNearestCloneId).isEmpty { clone.nearestCloneID = value(columnNearestCloneId) }
            if !value(columnNearestDistance).isEmpty {
                guard let distance = Int(value(columnNearestDistance)), distance >= 0 else { throw bad("nearest_distance", "an edit distance") }
                clone.nearestDistance = distance
            }
            clone.notTrackableReason = value(columnNotTrackableReason)
            if !value(columnUntemplatedNt).isEmpty {
                guard let untemplated = Int(value(columnUntemplatedNt)), untemplated >= 0 else { throw bad("untemplated_nt", "a count") }
                clone.untemplated = untemplated
            }
            if !value(columnCoverage).isEmpty {
                guard let coverage = Double(value(columnCoverage)), coverage > 0, coverage <= 1 else { throw bad("coverage", "a share above 0, at most 1") }
                clone.coverage = coverage
            }
            if !value(columnVIdentity).isEmpty {
                guard let identity = Double(value(columnVIdentity)), identity > 0, identity <= 1 else { throw bad("v_identity", "a share above 0, at most 1") }
                clone.vIdentity = identity
            }
            if let column = columnUpstream {
                let upstream = Array(table.bytes(r, column))
                guard upstream.count <= BaselineClone.upstreamLength, upstream.allSatisfy(isNucleotide) else {
                    throw bad("upstream", "at most \(BaselineClone.upstreamLength) bases A/C/G/T (the clone's V before its target) or empty")
                }
                clone.upstream = upstream
            }
            clones.append(clone)
        }
        return clones
    }
}
