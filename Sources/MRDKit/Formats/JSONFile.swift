import Foundation

/// How mrd writes and reads its JSON files (call.json, baseline.json, run.json, completion
/// records): pretty-printed with sorted keys, one final line end; typed records through Codable.
public enum JSONFile {
    public static func text<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        // Encoding plain records (strings, numbers, arrays, dictionaries) cannot fail.
        let data = try! encoder.encode(value)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Reads a record; a missing file is exit 66, a file that is not the record is exit 65.
    public static func read<T: Decodable>(_ type: T.Type, path: String, what: String) throws -> T {
        guard FileManager.default.fileExists(atPath: path) else { throw ReadError(.missingInput, file: path, "no such \(what)") }
        guard let data = FileManager.default.contents(atPath: path) else { throw ReadError(.unreadableInput, file: path, "cannot read the \(what)") }
        return try decode(type, data: data, path: path, what: what)
    }

    public static func decode<T: Decodable>(_ type: T.Type, data: Data, path: String, what: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch let error as DecodingError {
            let detail: String
            switch error {
            case .keyNotFound(let key, _): detail = "no field '\(key.stringValue)'"
            case .typeMismatch(_, let context), .valueNotFound(_, let context):
                detail = "field '\(context.codingPath.map(\.stringValue).joined(separator: "."))' has the wrong type"
            case .dataCorrupted: detail = "not valid JSON"
            @unknown default: detail = "not readable"
            }
            throw ReadError(.malformedRecord, file: path, "expected the \(what): \(detail)")
        }
    }
}

/// An optional field written as `null` when absent (the contract lists these fields in every
/// file), and read back whether it is `null` or missing.
@propertyWrapper
public struct Nullable<Value: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    public var wrappedValue: Value?

    public init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        wrappedValue = container.decodeNil() ? nil : try container.decode(Value.self)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}

extension KeyedDecodingContainer {
    /// A `Nullable` field may be missing altogether.
    public func decode<V>(_ type: Nullable<V>.Type, forKey key: Key) throws -> Nullable<V> {
        try decodeIfPresent(type, forKey: key) ?? Nullable(wrappedValue: nil)
    }
}
