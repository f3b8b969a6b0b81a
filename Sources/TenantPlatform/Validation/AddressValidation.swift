import Foundation

/// Domain names (SSO allowed email domains) in the form DNS accepts: checked here so a typo
/// is refused when it is entered, not discovered when nobody can sign in.
public enum DomainName {
    /// The domain in lower case, without surrounding spaces or a trailing dot.
    ///
    /// - Throws: ``PlatformError`` `.invalidDomain` unless it has at least two labels of 1–63
    ///   letters, digits and inner hyphens, 253 characters at most, and a top-level label
    ///   that is not all digits (an IP address is not a mail domain).
    public static func normalized(_ domain: String) throws -> String {
        var name = domain.trimmingCharacters(in: .whitespaces).lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        guard name.count <= 253, labels.count >= 2,
              labels.allSatisfy({ $0.wholeMatch(of: /[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?/) != nil }),
              labels.last?.allSatisfy(\.isNumber) == false else {
            throw PlatformError(.invalidDomain, "'\(domain)' is not a domain name",
                                hint: "Use a domain such as example.com (letters, digits, hyphens and dots; no @, no wildcard).")
        }
        return name
    }
}

/// Email addresses of admin users and organization contacts.
public enum EmailAddress {
    /// The address without surrounding spaces, its domain in lower case (the local part is
    /// kept as typed; lookups compare whole addresses case-insensitively).
    ///
    /// - Throws: ``PlatformError`` `.invalidEmail` unless it is `local@domain` with a
    ///   non-empty local part of at most 64 characters, no spaces, and a valid domain
    ///   (without a trailing dot).
    public static func normalized(_ address: String) throws -> String {
        let trimmed = address.trimmingCharacters(in: .whitespaces)
        let parts = trimmed.split(separator: "@", omittingEmptySubsequences: false)
        let invalid = PlatformError(.invalidEmail, "'\(address)' is not an email address",
                                    hint: "Use an address such as ops@example.com.")
        guard !trimmed.contains(where: \.isWhitespace), parts.count == 2, let local = parts.first, !local.isEmpty, local.count <= 64,
              !parts[1].hasSuffix("."), let domain = try? DomainName.normalized(String(parts[1])) else { throw invalid }
        return "\(local)@\(domain)"
    }
}
