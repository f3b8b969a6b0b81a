/// A setting that is missing or cannot be used; the description says what to do.
public enum ConfigurationError: Error, Sendable, CustomStringConvertible, Equatable {
    case missing(_ name: String, hint: String)
    case malformed(_ name: String, value: String, reason: String, hint: String)

    public var description: String {
        switch self {
        case .missing(let name, let hint):
            "\(name) is not set. \(hint)"
        case .malformed(let name, _, let reason, let hint):
            // The value is left out on purpose: it may be a key or a password.
            "\(name) is invalid: \(reason). \(hint)"
        }
    }
}
