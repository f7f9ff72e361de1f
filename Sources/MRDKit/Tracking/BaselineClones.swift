import Foundation

/// One row of a baseline's clones.tsv, as `mrd track` needs it.
public struct BaselineClone: Sendable, Equatable {
    public var cloneID: String
    public var sampleID: String
    public var locus: Locus
    public var kind: RearrangementKind
    public var vCall: String
    public var jCall: String
    public var junction: [UInt8]
    public var count: Int
    public var trackable: Bool
    public var target: [UInt8]

    public var junctionString: String { String(decoding: junction, as: UTF8.self) }
}

/// Reads ID.clones.tsv (the contract's columns; more may follow) and checks every value, so that a
/// damaged file is refused with its line instead of tracking the wrong thing.
public func readBaselineClones(path: String) throws -> [BaselineClone] {
    guard FileManager.default.fileExists(atPath: path) else {
        throw ReadError(.missingInput, file: path, "no such clones file (expected the ID.clones.tsv of `mrd baseline`)")
    }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw ReadError(.unreadableInput, file: path, "cannot read the clones file")
    }
    // Bytes, not String: a diagnostic sample's clones.tsv has tens of thousands of rows.
    return try readBaselineClones(bytes: [UInt8](data), path: path)
}

/// Parses the bytes of a clones.tsv; `path` names it in messages.
public func readBaselineClones(bytes: [UInt8], path: String) throws -> [BaselineClone] {
    guard String(validating: bytes, as: UTF8.self) != nil else {
        throw ReadError(.malformedRecord, file: path, line: 1, "expected UTF-8 text (a clones.tsv of `mrd baseline`)")
    }
    var lines = bytes.split(separator: 10, omittingEmptySubsequences: false).map { $0.last == 13 ? $0.dropLast() : $0 }
    if lines.last?.isEmpty == true { lines.removeLast() }
    guard let headerLine = lines.first, !headerLine.isEmpty else {
        throw ReadError(.emptyInput, file: path, line: 1, "expected a header line starting with 'clone_id'")
    }
    let header = headerLine.split(separator: 9, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
    let required = ["clone_id", "sample_id", "locus", "v_call", "j_call", "junction", "clone_count", "trackable", "target", "rearrangement"]
    var column: [String: Int] = [:]
    for (i, name) in header.enumerated() where column[name] == nil { column[name] = i }
    let missing = required.filter { column[$0] == nil }
    guard missing.isEmpty else {
        throw ReadError(.malformedRecord, file: path, line: 1, "missing column\(missing.count > 1 ? "s" : "") \(missing.joined(separator: ", "))")
    }
    var clones: [BaselineClone] = []
    var seen = Set<String>()
    for (n, line) in lines.enumerated().dropFirst() {
        let lineNumber = n + 1
        if line.isEmpty { continue }
        let fields = line.split(separator: 9, omittingEmptySubsequences: false)
        guard fields.count == header.count else {
            throw ReadError(.malformedRecord, file: path, line: lineNumber, "expected \(header.count) tab-separated fields, found \(fields.count)")
        }
        func value(_ name: String) -> String { String(decoding: fields[column[name]!], as: UTF8.self) }
        func raw(_ name: String) -> [UInt8] { Array(fields[column[name]!]) }
        func bad(_ name: String, _ expected: String) -> ReadError {
            ReadError(.malformedRecord, file: path, line: lineNumber, "column \(name): expected \(expected), found '\(printable(value(name)))'")
        }
        let id = value("clone_id")
        guard isIdentifier(id, maxLength: 128) else { throw bad("clone_id", "a clone id (A-Z a-z 0-9 . _ -)") }
        guard isIdentifier(value("sample_id")) else { throw bad("sample_id", "a sample id (A-Z a-z 0-9 . _ -, at most 64)") }
        guard seen.insert(id).inserted else {
            throw ReadError(.malformedRecord, file: path, line: lineNumber, "clone_id '\(id)' appears twice")
        }
        guard let locus = Locus(rawValue: value("locus")) else { throw bad("locus", "one of IGH, IGK, IGL, TRB, TRG, TRD") }
        guard let kind = RearrangementKind(rawValue: value("rearrangement")) else {
            throw bad("rearrangement", "one of " + RearrangementKind.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let junction = raw("junction")
        guard !junction.isEmpty, junction.allSatisfy({ "ACGTN".utf8.contains($0) }) else { throw bad("junction", "a nucleotide sequence (A/C/G/T/N)") }
        guard let count = Int(value("clone_count")), count >= 0 else { throw bad("clone_count", "a count") }
        let trackable: Bool
        switch value("trackable") {
        case "T": trackable = true
        case "F": trackable = false
        default: throw bad("trackable", "T or F")
        }
        let target = raw("target")
        if trackable {
            guard target.count >= junction.count, target.allSatisfy({ "ACGT".utf8.contains($0) }) else {
                throw bad("target", "the A/C/G/T sequence holding the junction of a trackable clone")
            }
            guard let _ = target.firstRange(of: junction) else {
                throw ReadError(.malformedRecord, file: path, line: lineNumber, "column target: the junction of clone '\(id)' is not inside its target")
            }
        }
        clones.append(BaselineClone(cloneID: id, sampleID: value("sample_id"), locus: locus, kind: kind, vCall: value("v_call"),
                                    jCall: value("j_call"), junction: junction, count: count, trackable: trackable, target: target))
    }
    return clones
}
