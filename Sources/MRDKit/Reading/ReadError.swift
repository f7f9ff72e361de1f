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
        default: return 65
        }
    }

    /// The same error placed at a line of the decompressed text (decompressors do not know lines).
    func at(line: Int) -> ReadError {
        ReadError(kind, file: file, line: self.line ?? line, recordID: recordID, message)
    }
}

/// Printable form of a byte found where something else was expected: `'x'` or `0x1f`.
func describeByte(_ byte: UInt8) -> String {
    if byte >= 0x21 && byte < 0x7f { return "'\(Character(Unicode.Scalar(byte)))'" }
    if byte == 0x20 { return "a space" }
    if byte == 0x09 { return "a tab" }
    if byte == 0x0a { return "an empty line" }
    if byte == 0x0d { return "a carriage return" }
    return "byte 0x" + String(byte, radix: 16, uppercase: false).leftPadded(to: 2, with: "0")
}

/// A short printable excerpt of a line for error messages.
func excerpt(_ bytes: UnsafeBufferPointer<UInt8>, limit: Int = 40) -> String {
    var text = ""
    for byte in bytes.prefix(limit) {
        if byte >= 0x20 && byte < 0x7f { text.unicodeScalars.append(Unicode.Scalar(byte)) } else { text += "\\x" + String(byte, radix: 16).leftPadded(to: 2, with: "0") }
    }
    if bytes.count > limit { text += "..." }
    return "'" + text + "'"
}

/// A value quoted back in a message, made safe for a terminal or log: control characters,
/// non-ASCII and backslashes escaped, at most `limit` characters.
public func printable(_ value: some StringProtocol, limit: Int = 60) -> String {
    var text = ""
    for byte in value.utf8.prefix(limit) {
        if byte >= 0x20 && byte < 0x7f && byte != 0x5c { text.unicodeScalars.append(Unicode.Scalar(byte)) } else {
            text += "\\x" + String(byte, radix: 16).leftPadded(to: 2, with: "0")
        }
    }
    if value.utf8.count > limit { text += "..." }
    return text
}

extension String {
    func leftPadded(to width: Int, with pad: Character) -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
