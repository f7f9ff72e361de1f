import Foundation
@testable import MRDKit

/// The package root, found from this file's path.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
let specimenDirectory = packageRoot.appendingPathComponent("TestReads/specimens")

/// One row of TestReads/specimens/manifest.tsv.
struct Specimen: CustomStringConvertible, Sendable {
    var file: String
    var mate: String
    var valid: Bool
    var format: String
    var compression: String
    var reads: Int
    var bases: Int
    var twin: String
    var exitCode: Int32
    var line: Int?
    var error: String

    var path: String { specimenDirectory.appendingPathComponent(file).path }
    var matePath: String { specimenDirectory.appendingPathComponent(mate).path }
    var description: String { file }

    static let all: [Specimen] = {
        let text = try! String(contentsOf: specimenDirectory.appendingPathComponent("manifest.tsv"), encoding: .utf8)
        var rows = text.split(separator: "\n", omittingEmptySubsequences: true).map {
            $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
        }
        let header = rows.removeFirst()
        return rows.map { fields in
            var row: [String: String] = [:]
            for (key, value) in zip(header, fields) { row[key] = value }
            return Specimen(file: row["file"]!, mate: row["mate"]!, valid: row["expect"] == "valid",
                            format: row["format"]!, compression: row["compression"]!,
                            reads: Int(row["reads"]!) ?? 0, bases: Int(row["bases"]!) ?? 0, twin: row["twin"]!,
                            exitCode: Int32(row["exit_code"]!)!, line: Int(row["line"]!), error: row["error"]!)
        }
    }()

    static var valid: [Specimen] { all.filter(\.valid) }
    /// Invalid single files (paired-end mismatches are listed with their mate).
    static var invalidSingle: [Specimen] { all.filter { !$0.valid && $0.mate.isEmpty } }
    static var invalidPairs: [Specimen] { all.filter { !$0.valid && !$0.mate.isEmpty } }
}

/// A record copied out of its batch, for comparisons.
struct OwnedRecord: Equatable, CustomStringConvertible {
    var header: String
    var sequence: String
    var quality: String
    var line: Int

    init(_ record: FastxRecord) {
        header = String(decoding: record.header, as: UTF8.self)
        sequence = record.sequenceString
        quality = record.qualityString
        line = record.line
    }

    var description: String { "@\(header) line \(line)" }
}

/// Reads every record of a reader, batch by batch.
func readAll(_ reader: FastxReader, batchCapacity: Int = 4 << 20, maxRecords: Int = .max) throws -> [OwnedRecord] {
    let batch = RecordBatch(capacity: batchCapacity)
    var records: [OwnedRecord] = []
    while try reader.fill(batch, maxRecords: maxRecords) {
        for i in 0..<batch.count { records.append(OwnedRecord(batch[i])) }
    }
    return records
}

func readAll(path: String, inflate: InflateBackend = .automatic) throws -> [OwnedRecord] {
    try readAll(FastxReader(path: path, decoding: DecoderSettings(inflate: inflate)))
}

/// The backends to test gzip with: zlib always, ISA-L where this machine has it.
let inflateBackends: [InflateBackend] = IsalGzipDecoder.isAvailable ? [.zlib, .isal] : [.zlib]

func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("mrd-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}

/// A tool of the project's Python environment (.venv, made by Scripts/setup).
func projectTool(_ name: String) -> URL {
    packageRoot.appendingPathComponent(".venv/bin/\(name)")
}

/// A trackable IGH index clone (900 reads, 80% of its locus at diagnosis) for quantification tests.
func ighMarker() -> BaselineClone {
    var clone = BaselineClone(cloneID: "P5_DX_IGH_1", sampleID: "P5_DX", locus: .IGH, kind: .VDJ, vCall: "IGHV3-23*01", jCall: "IGHJ4*02",
                              junction: Array("TGTGCGAGAGATCGGGGTTACTGG".utf8), count: 900, trackable: true,
                              target: Array("AAAAAAAAAATGTGCGAGAGATCGGGGTTACTGGCCCCCCCCCC".utf8))
    clone.fraction = 0.8
    return clone
}
