import TenantPlatform
import Testing

@Suite("Platform: domain names and email addresses")
struct AddressValidationTests {
    @Test("domain names are normalised to lower case without a trailing dot")
    func validDomains() throws {
        #expect(try DomainName.normalized(" Example.COM ") == "example.com")
        #expect(try DomainName.normalized("mail.example.co.uk.") == "mail.example.co.uk")
        #expect(try DomainName.normalized("xn--bcher-kva.example") == "xn--bcher-kva.example")
        #expect(try DomainName.normalized("a-1.b2") == "a-1.b2")
        let longestLabel = String(repeating: "a", count: 63)
        #expect(try DomainName.normalized("\(longestLabel).com") == "\(longestLabel).com")
    }

    @Test("malformed domains are refused", arguments: [
        "", "example", ".example.com", "example..com", "-a.com", "a-.com", "*.example.com", "user@example.com",
        "exa mple.com", "exa_mple.com", "192.168.0.1", "example.com/", String(repeating: "a", count: 64) + ".com",
        Array(repeating: "abcdefghi", count: 26).joined(separator: "."),
    ])
    func invalidDomains(domain: String) {
        #expect(throws: PlatformError(.invalidDomain, "'\(domain)' is not a domain name",
                                      hint: "Use a domain such as example.com (letters, digits, hyphens and dots; no @, no wildcard).")) {
            try DomainName.normalized(domain)
        }
    }

    @Test("email addresses keep their local part and lower-case their domain")
    func validEmails() throws {
        #expect(try EmailAddress.normalized(" Ops.Team+x@Example.COM ") == "Ops.Team+x@example.com")
    }

    @Test("malformed email addresses are refused", arguments: [
        "", "ops", "@example.com", "ops@", "ops@example", "ops@@example.com", "o ps@example.com", "ops@example.com.",
        "a@b@example.com", String(repeating: "a", count: 65) + "@example.com",
    ])
    func invalidEmails(address: String) {
        let error = #expect(throws: PlatformError.self) { try EmailAddress.normalized(address) }
        #expect(error?.code == .invalidEmail)
    }
}
