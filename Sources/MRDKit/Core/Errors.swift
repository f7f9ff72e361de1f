/// A problem with an input file: where it is (file, line, record) and what was expected there.
///
/// Its `description` is the text after `mrd: error: ` in the contract's message form
/// `<file>:<line or record>: <what was expected>`.
public struct ReadError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// The path does not exist (exit 66).
        case missingInput
        /// The path exists but cannot be read: permissions, a directory, an I/O error (exit 66).
        case unreadableInput
        /// No records at all.
        case emptyInput
        /// Not FASTQ or FASTA, or a compression format we do not read.
        case unrecognizedFormat
        /// A record breaks the FASTQ/FASTA layout (missing `@`, `>` or `+`, length mismatch).
        case malformedRecord
        /// The file ends inside a record.
        case truncatedRecord
        /// A sequence or quality character outside the allowed alphabet.
        case invalidCharacter
        /// A gzip or bzip2 stream with bad data or a failed CRC/length check.
        case corruptCompression
        /// A gzip or bzip2 stream that ends before its end marker.
        case truncatedCompression
        /// Paired-end mates that disagree in name or number.
        case mateMismatch
        /// One file given twice (two lanes, or as read 1 and read 2): a usage slip (exit 64).
        case repeatedInput
    }

    public let kind: Kind
    public let file: String
    /// 1-based line of the (decompressed) text where the problem was seen, when known.
    public let line: Int?
    /// Identifier of the record concerned, when known.
    public let recordID: String?
    /// What was expected and what was found.
    public let message: String

    public init(_ kind: Kind, file: String, line: Int? = nil, recordID: String? = nil, _ message: String) {
        self.kind = kind
        self.file = file
        self.line = line
        self.recordID = recordID
        self.message = message
    }

    public var description: String {
        var text = file
        if let line { text += ":\(line)" }
        text += ": "
        if let recordID { text += "record '\(recordID)': " }
        return text + message
    }

    /// The contract's exit code: 66 for input missing or unreadable, 65 for malformed data.
    public var exitCode: Int32 {
        switch kind {
        case .missingInput, .unreadableInput: return 66
        case .repeatedInput: return 64
        default: return 65
        }
    }

    /// The same error placed at a line of the decompressed text (decompressors do not know lines).
    func at(line: Int) -> ReadError {
        ReadError(kind, file: file, line: self.line ?? line, recordID: recordID, message)
    }
}

/// An output I/O failure (exit 74).
public struct OutputError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let message: String
    public var description: String { "\(file): \(message)" }

    public init(file: String, message: String) {
        self.file = file
        self.message = message
    }
}
