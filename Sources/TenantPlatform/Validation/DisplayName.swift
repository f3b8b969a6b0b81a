import Foundation

/// Names people read (tenants, organizations): checked before anything is written, so a
/// value the database or the audit log cannot store (a NUL byte, say) is refused as bad input
/// instead of failing half-way through a change.
public enum DisplayName {
    public static let maximumLength = 200

    /// The name without surrounding whitespace.
    ///
    /// - Parameter kind: what is named, for the message (`tenant`, `organization`).
    /// - Throws: ``PlatformError`` `.invalidName` when it is blank, longer than
    ///   ``maximumLength`` characters, or contains control characters (NUL included).
    public static func normalized(_ name: String, of kind: String) throws -> String {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= maximumLength,
              !trimmed.unicodeScalars.contains(where: { CharacterSet.controlCharacters.contains($0) }) else {
            throw PlatformError(.invalidName, "invalid \(kind) name \(name.debugDescription)",
                                hint: "Use 1 to \(maximumLength) characters without control characters.")
        }
        return trimmed
    }
}
