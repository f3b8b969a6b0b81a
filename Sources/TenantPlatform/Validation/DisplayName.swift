import Foundation

/// Names people read in lists: tenant and organization names. One rule for both, checked
/// where a name enters the platform (CLI or portal), so a bad name is a clear refusal
/// rather than a constraint violation deep in provisioning.
public enum DisplayName {
    /// The longest name, in Unicode scalars (not characters: one character can carry
    /// thousands of combining marks).
    public static let maximumLength = 200

    /// The name in Unicode NFC without surrounding whitespace.
    ///
    /// - Parameters:
    ///   - name: the name as entered.
    ///   - noun: what is named, for the message (`"tenant"`, `"organization"`).
    /// - Throws: ``PlatformError`` `.invalidName` when the name is blank, longer than
    ///   ``maximumLength``, or holds a control or invisible formatting character anywhere
    ///   (zero-width characters, bidi overrides such as U+202E, line separators): such
    ///   characters let two names look alike or make one read backwards, as the auth
    ///   schema's `auth.is_blank` guards against for its own names.
    public static func normalized(_ name: String, of noun: String) throws -> String {
        let trimmed = name.precomposedStringWithCanonicalMapping.trimmingCharacters(in: .whitespacesAndNewlines)
        let hint = "Use 1 to \(maximumLength) visible characters and spaces, e.g. Acme Corporation."
        guard !trimmed.isEmpty else {
            throw PlatformError(.invalidName, "the \(noun) name is empty or blank", hint: hint)
        }
        let length = trimmed.unicodeScalars.count
        guard length <= maximumLength else {
            throw PlatformError(.invalidName, "the \(noun) name is \(length) characters long; the limit is \(maximumLength)",
                                hint: hint)
        }
        if let invisible = trimmed.unicodeScalars.first(where: isInvisible) {
            throw PlatformError(.invalidName,
                                "the \(noun) name contains \(String(format: "U+%04X", invisible.value)), a control or invisible formatting character",
                                hint: hint + " Zero-width, direction-override and control characters are refused.")
        }
        return trimmed
    }

    /// Controls (tab, NUL), formats (zero-width, bidi marks and overrides, BOM, soft hyphen)
    /// and line or paragraph separators.
    private static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator: true
        default: false
        }
    }
}
