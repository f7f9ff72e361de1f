import Foundation

/// A spike-in calibrator: synthetic template of known copy number per reaction.
public struct SpikeInCalibrator: Sendable, Equatable {
    public var id: String
    public var sequence: [UInt8]
    public var copies: Double

    public init(id: String, sequence: [UInt8], copies: Double) {
        self.id = id
        self.sequence = sequence
        self.copies = copies
    }
}

/// spikes.tsv: `spike_id sequence copies` (copies added per reaction), one header line.
public enum SpikeInsFile {
    public static let columns = ["spike_id", "sequence", "copies"]

    public static func read(path: String) throws -> [SpikeInCalibrator] {
        guard let data = FileManager.default.contents(atPath: path), String(validating: [UInt8](data), as: UTF8.self) != nil else {
            throw ReadError(FileManager.default.fileExists(atPath: path) ? .unreadableInput : .missingInput, file: path,
                            "cannot read the spike-in table (expected UTF-8 TSV: spike_id, sequence, copies)")
        }
        return try parse(bytes: [UInt8](data), path: path)
    }

    /// Parses the bytes of a spike-in table (UTF-8 text); `path` names it in messages.
    public static func parse(bytes: [UInt8], path: String) throws -> [SpikeInCalibrator] {
        let table = DelimitedTable(bytes: bytes, path: path, dialect: .tsv)
        guard table.header.filter({ !$0.isEmpty }).prefix(3).elementsEqual(columns) else {
            throw ReadError(.malformedRecord, file: path, line: 1, table.withSeparatorHint("expected the header 'spike_id<TAB>sequence<TAB>copies'"))
        }
        var spikes: [SpikeInCalibrator] = []
        for r in 0..<table.rowCount {
            let line = table.line(r)
            let fields = table.fields(r)
            guard fields.count >= 3 else {
                throw ReadError(.malformedRecord, file: path, line: line, "expected 3 tab-separated fields, found \(fields.count)")
            }
            guard isIdentifier(fields[0]) else {
                throw ReadError(.malformedRecord, file: path, line: line,
                                "spike_id '\(printable(fields[0]))': expected an identifier of 1-64 characters from A-Z a-z 0-9 . _ -")
            }
            let sequence = Array(fields[1].uppercased().utf8)
            guard sequence.count >= 30, sequence.allSatisfy({ "ACGT".utf8.contains($0) }) else {
                throw ReadError(.malformedRecord, file: path, line: line, "spike '\(fields[0])': expected a sequence of A/C/G/T, 30 nt or longer")
            }
            guard let copies = Double(fields[2]), copies > 0, copies.isFinite else {
                throw ReadError(.malformedRecord, file: path, line: line, "spike '\(fields[0])': expected a positive copy number, found '\(fields[2])'")
            }
            guard !spikes.contains(where: { $0.id == fields[0] }) else {
                throw ReadError(.malformedRecord, file: path, line: line, "spike '\(fields[0])' is listed twice")
            }
            spikes.append(SpikeInCalibrator(id: fields[0], sequence: sequence, copies: copies))
        }
        return spikes
    }

    /// The table's text (whole copy numbers without a decimal point).
    public static func text(_ spikes: [SpikeInCalibrator]) -> String {
        var writer = TableWriter()
        writer.row(columns)
        for spike in spikes { writer.row([spike.id, String(decoding: spike.sequence, as: UTF8.self), TableNumber.plain(spike.copies)]) }
        return writer.text
    }
}
