import CSequenceKernels
import Foundation

/// A delimited text table with one header line: the one parser behind every table mrd reads.
///
/// - `tsv`: the contract's TSV (tab-separated, no quoting; a value never holds a tab or line end).
/// - `csv`: comma-separated with RFC 4180 quoting (`"a,b"`, `""` for a quote inside; a quoted field
///   may span lines), as spreadsheets write sample sheets and clinical files.
///
/// Fields are kept as byte ranges of one buffer (a diagnostic sample's clones.tsv has tens of
/// thousands of rows), turned into strings only when asked for. Line ends may be CRLF. Empty lines
/// are skipped; every row keeps the line it starts on, for messages.
public struct DelimitedTable: Sendable {
    public enum Dialect: Sendable { case tsv, csv }

    public let path: String
    /// Header names, surrounding spaces trimmed.
    public let header: [String]
    /// Unescaped field bytes, back to back.
    private var storage: [UInt8] = []
    /// Field k spans storage[fieldBounds[2k] ..< fieldBounds[2k + 1]].
    private var fieldBounds: [Int] = []
    /// Row r holds fields rowStarts[r] ..< rowStarts[r + 1].
    private var rowStarts: [Int] = [0]
    private var rowLines: [Int] = []
    private let columnIndex: [String: Int]
    /// Header names that appear more than once (the first one is used).
    public let repeatedColumns: [String]

    /// Parses `bytes` (UTF-8 text); `path` names the table in messages.
    public init(bytes: [UInt8], path: String, dialect: Dialect) {
        self.path = path
        // A UTF-8 byte order mark, as spreadsheets save "CSV UTF-8" and Windows editors save text:
        // not part of the first column's name.
        let bytes = bytes.starts(with: Self.byteOrderMark) ? Array(bytes.dropFirst(Self.byteOrderMark.count)) : bytes
        var table = Parsed()
        switch dialect {
        case .tsv: table.parseTSV(bytes)
        case .csv: table.parseCSV(bytes)
        }
        var header: [String] = []
        if table.lines.first == 1 {
            header = (0..<(table.rowStarts[1] - table.rowStarts[0])).map { k in
                String(decoding: table.storage[table.bounds[2 * k]..<table.bounds[2 * k + 1]], as: UTF8.self).trimmingCharacters(in: .whitespaces)
            }
            // The header is not a row.
            table.rowStarts.removeFirst()
            table.lines.removeFirst()
        }
        storage = table.storage
        fieldBounds = table.bounds
        rowStarts = table.rowStarts
        rowLines = table.lines
        self.header = header
        var index: [String: Int] = [:], repeated: [String] = []
        for (i, name) in header.enumerated() {
            if index[name] == nil { index[name] = i } else if !repeated.contains(name) { repeated.append(name) }
        }
        columnIndex = index
        repeatedColumns = repeated
        // A header that is one field holding another table's separator: the file was saved with
        // the wrong one (spreadsheets save "CSV" with semicolons where the decimal mark is a comma).
        var hint: String?
        if header.count == 1, let only = header.first {
            switch dialect {
            case .csv where only.contains(";"):
                hint = "the file is semicolon-separated (as spreadsheets save CSV where the decimal mark is a comma): save it comma-separated, with decimal points"
            case .csv where only.contains("\t"):
                hint = "the file is tab-separated: save it comma-separated"
            case .tsv where only.contains(","):
                hint = "the file is comma-separated: save it tab-separated"
            case .tsv where only.contains(";"):
                hint = "the file is semicolon-separated: save it tab-separated"
            default: break
            }
        }
        separatorHint = hint
    }

    static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    /// Why the header did not split into columns, when it holds another separator than the
    /// dialect's; for the missing-columns message.
    public let separatorHint: String?

    /// Reads a table file, with the contract's errors: missing (66), unreadable (66), not UTF-8
    /// text or without a header line (65). `what` names the file in messages ("clones file").
    public static func load(path: String, dialect: Dialect, what: String) throws -> DelimitedTable {
        guard FileManager.default.fileExists(atPath: path) else { throw ReadError(.missingInput, file: path, "no such \(what)") }
        guard let data = FileManager.default.contents(atPath: path) else { throw ReadError(.unreadableInput, file: path, "cannot read the \(what)") }
        return try parse(bytes: [UInt8](data), path: path, dialect: dialect, what: what)
    }

    /// Parses a table's bytes with the checks of `load` (UTF-8, a header line).
    public static func parse(bytes: [UInt8], path: String, dialect: Dialect, what: String) throws -> DelimitedTable {
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw ReadError(.malformedRecord, file: path, line: 1, "expected UTF-8 text (\(what))")
        }
        let table = DelimitedTable(bytes: bytes, path: path, dialect: dialect)
        guard !table.header.isEmpty, table.header != [""] else {
            throw ReadError(.emptyInput, file: path, line: 1, "expected a header line (\(what))")
        }
        return table
    }

    public var rowCount: Int { rowLines.count }
    /// The line a row starts on (1 is the header).
    public func line(_ row: Int) -> Int { rowLines[row] }
    public func fieldCount(_ row: Int) -> Int { rowStarts[row + 1] - rowStarts[row] }

    /// Field `index` of `row` as bytes.
    public func bytes(_ row: Int, _ index: Int) -> ArraySlice<UInt8> {
        let k = rowStarts[row] + index
        return storage[fieldBounds[2 * k]..<fieldBounds[2 * k + 1]]
    }

    public func field(_ row: Int, _ index: Int) -> String { String(decoding: bytes(row, index), as: UTF8.self) }

    /// Every field of a row.
    public func fields(_ row: Int) -> [String] { (0..<fieldCount(row)).map { field(row, $0) } }

    /// The index of a header name (its first appearance).
    public func column(_ name: String) -> Int? { columnIndex[name] }

    /// Of `names`, those the header lacks, in the order given.
    public func missingColumns(_ names: [String]) -> [String] { names.filter { columnIndex[$0] == nil } }

    /// The value of a named column in a row: empty when the table has no such column or the row
    /// is short.
    public func value(_ row: Int, _ name: String) -> String {
        guard let i = columnIndex[name], i < fieldCount(row) else { return "" }
        return field(row, i)
    }

    /// A missing-columns error at the header, or nil when every column is there.
    public func requireColumns(_ names: [String]) throws {
        let missing = missingColumns(names)
        guard missing.isEmpty else {
            throw ReadError(.malformedRecord, file: path, line: 1, missingColumnsMessage(missing))
        }
    }

    /// "missing column(s) a, b", with the separator hint when the header did not split.
    public func missingColumnsMessage(_ missing: [String]) -> String {
        withSeparatorHint("missing column\(missing.count > 1 ? "s" : "") \(missing.joined(separator: ", "))")
    }

    /// A message about the header, with `separatorHint` after it when there is one.
    public func withSeparatorHint(_ message: String) -> String {
        message + (separatorHint.map { ": \($0)" } ?? "")
    }

    /// The splitter's output.
    private struct Parsed {
        var storage: [UInt8] = []
        var bounds: [Int] = []
        var rowStarts: [Int] = [0]
        var lines: [Int] = []

        mutating func endRow(line: Int) {
            rowStarts.append(bounds.count / 2)
            lines.append(line)
        }

        mutating func parseTSV(_ bytes: [UInt8]) {
            storage = bytes
            var start = 0, line = 1
            while start < bytes.count {
                var end = bytes[start...].firstIndex(of: 10) ?? bytes.count
                let next = end + 1
                if end > start && bytes[end - 1] == 13 { end -= 1 }
                if end > start {
                    var fieldStart = start
                    for i in start..<end where bytes[i] == 9 {
                        bounds.append(fieldStart); bounds.append(i)
                        fieldStart = i + 1
                    }
                    bounds.append(fieldStart); bounds.append(end)
                    endRow(line: line)
                }
                start = next
                line += 1
            }
        }

        mutating func parseCSV(_ bytes: [UInt8]) {
            storage.reserveCapacity(bytes.count)
            var i = 0, line = 1, recordLine = 1
            var quoted = false, atFieldStart = true, fieldStart = 0
            var fieldsInRecord = 0
            func endField() {
                bounds.append(fieldStart); bounds.append(storage.count)
                fieldStart = storage.count
                fieldsInRecord += 1
            }
            func endRecord() {
                // An empty line is one empty field: not a row.
                if fieldsInRecord == 1 && bounds[bounds.count - 1] == bounds[bounds.count - 2] {
                    bounds.removeLast(2)
                } else {
                    endRow(line: recordLine)
                }
                fieldsInRecord = 0
            }
            while i < bytes.count {
                let c = bytes[i]
                i += 1
                if quoted {
                    if c == 34 {
                        if i < bytes.count && bytes[i] == 34 { storage.append(34); i += 1 } else { quoted = false }
                    } else {
                        if c == 10 { line += 1 }
                        storage.append(c)
                    }
                    continue
                }
                switch c {
                case 34 where atFieldStart:
                    quoted = true
                    atFieldStart = false
                case 44:
                    endField()
                    atFieldStart = true
                case 13:
                    continue
                case 10:
                    endField()
                    endRecord()
                    line += 1
                    recordLine = line
                    atFieldStart = true
                default:
                    storage.append(c)
                    atFieldStart = false
                }
            }
            if storage.count > fieldStart || fieldsInRecord > 0 {
                endField()
                endRecord()
            }
        }
    }
}

/// A tab-separated table built as bytes (formatting each row through `[String].joined` costs
/// more than the analysis for samples with tens of thousands of clonotypes).
public struct TableWriter: Sendable {
    private var bytes: [UInt8] = []

    public init() {}

    /// A whole row of strings.
    public mutating func row(_ fields: [String]) {
        for (i, field) in fields.enumerated() {
            if i > 0 { bytes.append(9) }
            append(field)
        }
        bytes.append(10)
    }

    private mutating func append(_ text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    public mutating func field(_ text: String) { append(text); bytes.append(9) }
    public mutating func field(_ letters: [UInt8]) { bytes.append(contentsOf: letters); bytes.append(9) }
    public mutating func field(_ value: Int) { append(String(value)); bytes.append(9) }
    public mutating func field(_ value: Bool) { bytes.append(value ? 84 : 70); bytes.append(9) }
    /// Ends a row whose last field was added with `field` (turns its tab into the line end).
    public mutating func endRow() { bytes[bytes.count - 1] = 10 }

    public var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// How numbers are written in mrd's tables.
public enum TableNumber {
    /// Six significant digits, plain or scientific notation as printf's `%.6g`; `0` for zero.
    public static func g6(_ value: Double) -> String {
        if value == 0 { return "0" }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 32) { buffer in
            let length = Int(mrd_format_g6(value, buffer.baseAddress!, 32))
            return String(decoding: UnsafeRawBufferPointer(start: buffer.baseAddress!, count: length), as: UTF8.self)
        }
    }

    /// `decimals` digits after the point, as printf's `%.Nf` (and `String(format:)`, which a table
    /// of 10^5 rows spends most of its time in); finite values of magnitude under 1e15.
    public static func fixed(_ value: Double, decimals: Int) -> String {
        guard value.isFinite, abs(value) < 1e15 else { return String(format: "%.\(decimals)f", value) }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 48) { buffer in
            let length = Int(mrd_format_fixed(value, Int32(decimals), buffer.baseAddress!, 48))
            return String(decoding: UnsafeRawBufferPointer(start: buffer.baseAddress!, count: length), as: UTF8.self)
        }
    }

    /// `g6`, or empty for a value that is not available.
    public static func g6(_ value: Double?) -> String { value.map(g6) ?? "" }

    /// Ten significant digits (statistics of the outcome tables); empty when not available.
    public static func g10(_ value: Double?) -> String {
        guard let value else { return "" }
        if value == 0 { return "0" }
        return String(format: "%.10g", value)
    }

    /// Whole numbers without a decimal point, others in their shortest exact form (inputs such as
    /// copies, DNA input and days, which must read back as the same value).
    public static func plain(_ value: Double) -> String {
        if value == 0 { return "0" }
        if value == value.rounded() && abs(value) < 1e15 { return String(Int(value)) }
        return "\(value)"
    }

    /// A contract boolean.
    public static func flag(_ value: Bool) -> String { value ? "T" : "F" }
    /// An optional boolean: empty when it does not apply.
    public static func flag(_ value: Bool?) -> String { value.map(flag) ?? "" }
}
