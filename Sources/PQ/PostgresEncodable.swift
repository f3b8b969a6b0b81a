import Foundation

/// A Swift value that can be sent as a query parameter, in PostgreSQL's text format.
///
/// `nil` (``postgresText`` returning `nil`) is SQL NULL. The server converts the text to the
/// parameter's type, so a `String` may be bound where a `uuid` or `jsonb` is expected.
public protocol PostgresEncodable: Sendable {
    /// The value in PostgreSQL's text input format, or `nil` for NULL.
    var postgresText: String? { get }
}

/// SQL NULL, for a parameter list: `[PostgresNull(), "x"]`.
public struct PostgresNull: PostgresEncodable {
    public init() {}
    public var postgresText: String? { nil }
}

extension String: PostgresEncodable {
    public var postgresText: String? { self }
}

extension Substring: PostgresEncodable {
    public var postgresText: String? { String(self) }
}

extension Int: PostgresEncodable {
    public var postgresText: String? { String(self) }
}

extension Int32: PostgresEncodable {
    public var postgresText: String? { String(self) }
}

extension Int64: PostgresEncodable {
    public var postgresText: String? { String(self) }
}

extension Double: PostgresEncodable {
    public var postgresText: String? { String(self) }
}

extension Bool: PostgresEncodable {
    public var postgresText: String? { self ? "t" : "f" }
}

extension UUID: PostgresEncodable {
    public var postgresText: String? { UUIDText.format(self) }
}

extension Date: PostgresEncodable {
    /// ISO 8601 in UTC with microseconds, which every `DateStyle` accepts as input.
    public var postgresText: String? { PostgresDateFormat.format(self) }
}

extension Data: PostgresEncodable {
    /// `bytea` hex format (`\x0a1b...`).
    public var postgresText: String? {
        "\\x" + map { String(format: "%02x", $0) }.joined()
    }
}

extension Optional: PostgresEncodable where Wrapped: PostgresEncodable {
    public var postgresText: String? { self?.postgresText }
}

extension Array: PostgresEncodable where Element: PostgresEncodable {
    /// An array literal (`{"a","b"}`); every element quoted, NULL elements as `NULL`.
    public var postgresText: String? {
        let items = map { element -> String in
            guard let text = element.postgresText else { return "NULL" }
            // Escaped per Unicode scalar, as the server reads the literal: a quote or backslash
            // followed by a combining mark is one Swift Character, which a Character-based
            // replacement (String.replacingOccurrences) would not match.
            var escaped = String.UnicodeScalarView()
            escaped.append("\"")
            for scalar in text.unicodeScalars {
                if scalar == "\\" || scalar == "\"" { escaped.append("\\") }
                escaped.append(scalar)
            }
            escaped.append("\"")
            return String(escaped)
        }
        return "{" + items.joined(separator: ",") + "}"
    }
}
