import Foundation

/// A Swift type that can be read from a result column in PostgreSQL's text format.
public protocol PostgresDecodable: Sendable {
    /// Decodes a non-NULL value. Throw ``PostgresError`` of kind `.decoding` when the text
    /// does not fit.
    init(postgresText text: String, type: PostgresType) throws
}

extension PostgresDecodable {
    static func mismatch(_ text: String, _ type: PostgresType) -> PostgresError {
        PostgresError(kind: .decoding,
                      message: "cannot decode a value of type oid \(type.oid) as \(Self.self)",
                      detail: "The value has \(text.count) characters.")
    }
}

extension String: PostgresDecodable {
    public init(postgresText text: String, type: PostgresType) { self = text }
}

extension Int: PostgresDecodable {
    public init(postgresText text: String, type: PostgresType) throws {
        guard let value = Int(text) else { throw Self.mismatch(text, type) }
        self = value
    }
}

extension Int32: PostgresDecodable {
    public init(postgresText text: String, type: PostgresType) throws {
        guard let value = Int32(text) else { throw Self.mismatch(text, type) }
        self = value
    }
}

extension Int64: PostgresDecodable {
    public init(postgresText text: String, type: PostgresType) throws {
        guard let value = Int64(text) else { throw Self.mismatch(text, type) }
        self = value
    }
}

extension Double: PostgresDecodable {
    public init(postgresText text: String, type: PostgresType) throws {
        guard let value = Double(text) else { throw Self.mismatch(text, type) }
        self = value
    }
}

extension Bool: PostgresDecodable {
    public init(postgresText text: String, type: PostgresType) throws {
        switch text {
        case "t", "true": self = true
        case "f", "false": self = false
        default: throw Self.mismatch(text, type)
        }
    }
}

extension UUID: PostgresDecodable {
    public init(postgresText text: String, type: PostgresType) throws {
        guard let value = UUIDText.parse(text) else { throw Self.mismatch(text, type) }
        self = value
    }
}

extension Date: PostgresDecodable {
    /// Reads `date`, `timestamp` (taken as UTC) and `timestamptz` in the ISO `DateStyle`.
    public init(postgresText text: String, type: PostgresType) throws {
        guard let value = PostgresDateFormat.parse(text) else { throw Self.mismatch(text, type) }
        self = value
    }
}

extension Data: PostgresDecodable {
    /// `bytea` is decoded from hex; any other type (`jsonb`, `text`) gives its UTF-8 bytes.
    public init(postgresText text: String, type: PostgresType) throws {
        guard type == .bytea else {
            self = Data(text.utf8)
            return
        }
        guard text.hasPrefix("\\x"), let bytes = Self.hexBytes(text.utf8.dropFirst(2)) else {
            throw Self.mismatch(text, type)
        }
        self = Data(bytes)
    }

    private static func hexBytes(_ digits: Substring.UTF8View) -> [UInt8]? {
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        let chars = Array(digits)
        guard chars.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(chars.count / 2)
        for i in stride(from: 0, to: chars.count, by: 2) {
            guard let high = nibble(chars[i]), let low = nibble(chars[i + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }
}

extension Array: PostgresDecodable where Element: PostgresDecodable {
    /// One-dimensional arrays (`{a,"b c"}`); a NULL element is a decoding error.
    public init(postgresText text: String, type: PostgresType) throws {
        guard let items = PostgresArrayLiteral.parse(text) else { throw Self.mismatch(text, type) }
        self = try items.map { item in
            guard let item else {
                throw PostgresError(kind: .decoding, message: "array element is NULL; decode as an array of optionals")
            }
            return try Element(postgresText: item, type: .text)
        }
    }
}

extension Optional: PostgresDecodable where Wrapped: PostgresDecodable {
    public init(postgresText text: String, type: PostgresType) throws {
        self = try Wrapped(postgresText: text, type: type)
    }
}
