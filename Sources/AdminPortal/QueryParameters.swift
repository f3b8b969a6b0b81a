import Foundation
import Hummingbird

/// Reads the filters of list routes (`?page=2&status=active`); a value that cannot be used is
/// a 400 naming the parameter (``APIError/invalidParameter(_:_:hint:)``), never a silently
/// ignored filter. Keyset paging (`limit`, `after`) is ``PageRequest``'s.
struct QueryParameters {
    let parameters: Hummingbird.Parameters

    init(_ request: Request) {
        parameters = request.uri.queryParameters
    }

    /// The text, trimmed; nil when absent or blank.
    func text(_ name: String, maximumLength: Int = 200) throws -> String? {
        guard let value = parameters.get(name)?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        guard value.count <= maximumLength, !value.unicodeScalars.contains("\0") else {
            throw APIError.invalidParameter(name, "must be at most \(maximumLength) characters, without NUL")
        }
        return value
    }

    func integer(_ name: String, default value: Int, in range: ClosedRange<Int>) throws -> Int {
        guard let text = try text(name) else { return value }
        guard let number = Int(text), range.contains(number) else {
            throw APIError.invalidParameter(name, "must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    /// One of `allowed`, or nil when absent.
    func choice(_ name: String, of allowed: [String]) throws -> String? {
        guard let text = try text(name) else { return nil }
        guard allowed.contains(text) else { throw APIError.invalidParameter(name, "must be one of \(allowed.joined(separator: ", "))") }
        return text
    }
}
