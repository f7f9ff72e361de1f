import Foundation

/// The contract's identifier rule: [A-Za-z0-9._-]{1,64} (and not `.` or `..`). Identifiers become
/// folder and file names, so nothing else may pass. `maxLength` is raised only for derived ids
/// (clone ids are a sample id plus a suffix).
public func isIdentifier(_ value: some StringProtocol, maxLength: Int = 64) -> Bool {
    let allowed = value.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7a) || $0 == 0x2e || $0 == 0x5f || $0 == 0x2d }
    return allowed && (1...maxLength).contains(value.utf8.count) && value != "." && value != ".."
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

/// HTML-escapes text for element content and attribute values.
public func htmlEscape(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.count)
    for c in text.unicodeScalars {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.unicodeScalars.append(c)
        }
    }
    return out
}
