import Foundation

/// One sample of a run's sheet.csv.
public struct SheetSample: Sendable, Equatable {
    public enum Role: String, Sendable { case baseline, followup, control }
    public var line: Int
    public var patientID: String
    public var sampleID: String
    public var role: Role
    public var timepoint: String
    public var day: Int?
    /// Lane files, resolved against the sheet's folder.
    public var reads1: [String]
    public var reads2: [String]
    public var dnaNanograms: Double?
    public var cells: Double?
    /// An earlier run's clones.tsv for this patient, resolved against the sheet's folder.
    public var clones: String?
}

/// Every problem of a sheet, each with its line: a run never starts on a sheet with one.
public struct SheetError: Error, CustomStringConvertible, Sendable {
    public let problems: [String]
    public var description: String { problems.joined(separator: "\n") }
}

/// A checked sample sheet (see the contract: `patient_id,sample_id,role,timepoint,day,r1,r2,dna_ng,cells[,clones]`).
public struct SampleSheet: Sendable {
    public let path: String
    public let samples: [SheetSample]

    public static let requiredColumns = ["patient_id", "sample_id", "role", "timepoint", "day", "r1", "r2", "dna_ng", "cells"]

    /// Reads and checks the sheet; throws `SheetError` listing every problem, or `ReadError` when the
    /// file itself cannot be read.
    public init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw ReadError(.missingInput, file: path, "no such sample sheet")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ReadError(.unreadableInput, file: path, "cannot read the sample sheet")
        }
        try self.init(bytes: [UInt8](data), path: path)
    }

    /// Checks a sheet's bytes; `path` names it in messages and anchors relative file names.
    public init(bytes: [UInt8], path: String) throws {
        self.path = path
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw ReadError(.unreadableInput, file: path, "cannot read the sample sheet as UTF-8 text")
        }
        let folder = (path as NSString).deletingLastPathComponent
        func resolve(_ name: String) -> String {
            name.hasPrefix("/") || name == "-" ? name : (folder.isEmpty ? name : (folder as NSString).appendingPathComponent(name))
        }
        var problems: [String] = []
        func problem(_ line: Int, _ message: String) { problems.append("\(path):\(line): \(message)") }
        // Read files by identity (device and inode; the path where the file is missing), with the
        // sample and line that named them first: two samples on one file is a sheet slip that
        // would give one sample another's reads (a month-3 call made on the induction sample).
        var fileOwners: [String: (sample: String, line: Int)] = [:]
        func identity(_ file: String) -> String { SampleReader.fileIdentity(file) ?? (file as NSString).standardizingPath }

        let table = DelimitedTable(bytes: bytes, path: path, dialect: .csv)
        guard !table.header.isEmpty else { throw SheetError(problems: ["\(path):1: expected a header line: " + Self.requiredColumns.joined(separator: ",")]) }
        let header = table.header
        for name in table.repeatedColumns { problem(1, "column '\(name)' appears twice") }
        let missing = table.missingColumns(Self.requiredColumns)
        if !missing.isEmpty { problem(1, table.missingColumnsMessage(missing)) }
        guard missing.isEmpty else { throw SheetError(problems: problems) }
        var column: [String: Int] = [:]
        for name in header where column[name] == nil { column[name] = table.column(name) }

        var samples: [SheetSample] = []
        var firstLine: [String: Int] = [:]
        for r in 0..<table.rowCount {
            let row = (line: table.line(r), fields: table.fields(r))
            if row.fields.allSatisfy({ $0.trimmingCharacters(in: .whitespaces).isEmpty }) { continue }
            guard row.fields.count == header.count else {
                problem(row.line, "expected \(header.count) comma-separated fields, found \(row.fields.count)")
                continue
            }
            func value(_ name: String) -> String { column[name].map { row.fields[$0].trimmingCharacters(in: .whitespaces) } ?? "" }
            var ok = true
            // Values reach TSV outputs and messages: no tabs, line ends or other control characters
            // (a quoted CSV field may hold them).
            for (name, index) in column.sorted(by: { $0.value < $1.value })
            where row.fields[index].unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f || ($0.value >= 0x80 && $0.value < 0xa0) }) {
                problem(row.line, "\(printable(name)) '\(printable(row.fields[index]))': control characters (tab, line end) are not allowed")
                ok = false
            }
            if value("timepoint").unicodeScalars.count > 64 {
                problem(row.line, "timepoint '\(printable(value("timepoint")))': expected a label of at most 64 characters")
                ok = false
            }
            let patient = value("patient_id"), sample = value("sample_id")
            for (name, id) in [("patient_id", patient), ("sample_id", sample)] where !isIdentifier(id) {
                problem(row.line, "\(name) '\(printable(id))' is not an identifier (1-64 characters of A-Z a-z 0-9 . _ -)")
                ok = false
            }
            if let first = firstLine[sample], isIdentifier(sample) {
                problem(row.line, "sample_id '\(printable(sample))' already used on line \(first)")
                ok = false
            } else if isIdentifier(sample) {
                firstLine[sample] = row.line
            }
            let role = SheetSample.Role(rawValue: value("role"))
            if role == nil { problem(row.line, "role '\(printable(value("role")))': expected baseline, followup or control"); ok = false }
            var day: Int?
            if !value("day").isEmpty {
                if let d = Int(value("day")), d >= 0 { day = d } else { problem(row.line, "day '\(printable(value("day")))': expected a whole number of days >= 0"); ok = false }
            }
            func positive(_ name: String) -> Double? {
                guard !value(name).isEmpty else { return nil }
                if let x = Double(value(name)), x > 0, x.isFinite { return x }
                problem(row.line, "\(name) '\(printable(value(name)))': expected a positive number")
                ok = false
                return nil
            }
            let dna = positive("dna_ng"), cells = positive("cells")
            if dna != nil && cells != nil { problem(row.line, "give dna_ng or cells, not both"); ok = false }
            let reads1 = value("r1").split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            let reads2 = value("r2").split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            if reads1.isEmpty { problem(row.line, "r1: expected a read file (lanes separated by ';')"); ok = false }
            if !reads2.isEmpty && reads2.count != reads1.count {
                problem(row.line, "r2 lists \(reads2.count) file(s) for \(reads1.count) r1 file(s)")
                ok = false
            }
            var clones: String?
            if !value("clones").isEmpty {
                let resolved = resolve(value("clones"))
                if FileManager.default.fileExists(atPath: resolved) { clones = resolved } else {
                    problem(row.line, "clones '\(printable(value("clones")))': no such file")
                    ok = false
                }
            }
            for name in reads1 + reads2 where name != "-" {
                let key = identity(resolve(name))
                if let owner = fileOwners[key], owner.sample != sample {
                    problem(row.line, "read file '\(printable(name))' is also a read file of sample '\(printable(owner.sample))' (line \(owner.line)); expected each sample's own reads")
                    ok = false
                } else if fileOwners[key] == nil {
                    fileOwners[key] = (sample, row.line)
                }
            }
            guard ok, let role else { continue }
            samples.append(SheetSample(line: row.line, patientID: patient, sampleID: sample, role: role, timepoint: value("timepoint"),
                                       day: day, reads1: reads1.map(resolve), reads2: reads2.map(resolve), dnaNanograms: dna,
                                       cells: cells, clones: clones))
        }
        // Each patient with follow-ups: one baseline row or a clones path.
        let patients = Set(samples.filter { $0.role == .followup }.map(\.patientID))
        for patient in patients.sorted() {
            let rows = samples.filter { $0.patientID == patient }
            let baselines = rows.filter { $0.role == .baseline }
            let clonePaths = Set(rows.compactMap(\.clones))
            if baselines.count > 1 {
                problem(baselines[1].line, "patient '\(printable(patient))' has a second baseline row (first on line \(baselines[0].line))")
            }
            if baselines.isEmpty && clonePaths.isEmpty {
                problem(rows[0].line, "patient '\(printable(patient))' has no baseline row and no clones path")
            }
            if clonePaths.count > 1 { problem(rows[0].line, "patient '\(printable(patient))' names \(clonePaths.count) different clones files") }
        }
        if samples.isEmpty && problems.isEmpty { problems.append("\(path):2: expected at least one sample row") }
        guard problems.isEmpty else { throw SheetError(problems: problems) }
        self.samples = samples
    }
}


/// One row as it is written to a sheet: values as they appear in the file (paths relative).
public struct SheetRow: Sendable, Equatable {
    public var patientID: String
    public var sampleID: String
    public var role: SheetSample.Role
    public var timepoint: String
    public var day: Int?
    public var reads1: [String]
    public var reads2: [String] = []
    public var dnaNanograms: Double?
    public var cells: Double?
    public var clones: String?

    public init(patientID: String, sampleID: String, role: SheetSample.Role, timepoint: String, day: Int?, reads1: [String],
                reads2: [String] = [], dnaNanograms: Double? = nil, cells: Double? = nil, clones: String? = nil) {
        self.patientID = patientID
        self.sampleID = sampleID
        self.role = role
        self.timepoint = timepoint
        self.day = day
        self.reads1 = reads1
        self.reads2 = reads2
        self.dnaNanograms = dnaNanograms
        self.cells = cells
        self.clones = clones
    }
}

extension SampleSheet {
    /// The CSV text of a sheet: the contract's columns (and `clones` when a row has one), values
    /// quoted when they hold a comma or a quote.
    public static func csv(_ rows: [SheetRow]) -> String {
        let withClones = rows.contains { $0.clones != nil }
        func quoted(_ value: String) -> String {
            value.contains(where: { $0 == "," || $0 == "\"" }) ? "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : value
        }
        var text = (requiredColumns + (withClones ? ["clones"] : [])).joined(separator: ",") + "\n"
        for row in rows {
            var fields = [row.patientID, row.sampleID, row.role.rawValue, row.timepoint, row.day.map(String.init) ?? "",
                          row.reads1.joined(separator: ";"), row.reads2.joined(separator: ";"),
                          row.dnaNanograms.map(TableNumber.plain) ?? "", row.cells.map(TableNumber.plain) ?? ""]
            if withClones { fields.append(row.clones ?? "") }
            text += fields.map(quoted).joined(separator: ",") + "\n"
        }
        return text
    }
}

/// The checked sheet as JSON (`mrd run SHEET --plan`): what a workflow plans its jobs from, so that
/// the sheet is parsed and checked in one place only. Paths are resolved against the sheet's folder.
public struct SheetPlan: Codable, Sendable, Equatable {
    public struct Sample: Codable, Sendable, Equatable {
        public var patientID: String
        public var sampleID: String
        public var role: String
        public var timepoint: String
        @Nullable public var day: Int?
        public var r1: [String]
        public var r2: [String]
        @Nullable public var dnaNanograms: Double?
        @Nullable public var cells: Double?
        @Nullable public var clones: String?

        enum CodingKeys: String, CodingKey {
            case patientID = "patient_id", sampleID = "sample_id", role, timepoint, day, r1, r2, dnaNanograms = "dna_ng", cells, clones
        }
    }

    public var sheet: String
    public var samples: [Sample]

    public init(_ sheet: SampleSheet) {
        self.sheet = sheet.path
        samples = sheet.samples.map {
            Sample(patientID: $0.patientID, sampleID: $0.sampleID, role: $0.role.rawValue, timepoint: $0.timepoint, day: $0.day,
                   r1: $0.reads1, r2: $0.reads2, dnaNanograms: $0.dnaNanograms, cells: $0.cells, clones: $0.clones)
        }
    }

    public var text: String { JSONFile.text(self) }
}
