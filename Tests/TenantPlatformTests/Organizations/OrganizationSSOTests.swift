import Foundation
import PlatformTestSupport
import PQ
import TenantPlatform
import Testing

@Suite("Platform: organization SSO settings")
struct OrganizationSSOTests {
    static let directory = "7F8A1B2C-3D4E-4F50-8A6B-7C8D9E0F1A2B"
    static let client = "11111111-2222-4333-8444-555555555555"

    @Test("settings are saved normalised; the secret is sealed, hidden unless revealed, and revealing it is audited")
    func setAndRead() async throws {
        try await PlatformFixture.run { f in
            let organizations = f.platform.organizations
            let acme = try await organizations.create(name: "Acme", adminEmail: "it@acme.example")
            let saved = try await organizations.setSSO(of: "Acme", entraTenantID: Self.directory, clientID: Self.client,
                                                       clientSecret: "Xy9~entra.secret", allowedDomains: ["Acme.example", "acme.example.", "eu.acme.example"])
            #expect(saved.entraTenantID == Self.directory.lowercased())
            #expect(saved.clientID == Self.client)
            #expect(saved.allowedDomains == ["acme.example", "eu.acme.example"])
            #expect(saved.clientSecret == nil)
            #expect(try await organizations.require("Acme").hasSSO)
            #expect(try await organizations.sso(of: "Acme") == saved)
            #expect(try await organizations.sso(of: "Acme", revealingSecret: true)?.clientSecret == "Xy9~entra.secret")

            // Sealed in the table: not the plain secret, and it opens only with the key and this organization's context.
            let sealed = try #require(try await f.masterStrings("SELECT client_secret_encrypted FROM platform.organization_sso").first)
            #expect(sealed.hasPrefix("v1:"))
            #expect(!sealed.contains("entra.secret"))
            let context = "organization:\(acme.id.description):sso"
            #expect(try f.configuration.cipher.open(sealed, context: context) == "Xy9~entra.secret")
            #expect(await platformErrorKind {
                _ = try f.configuration.cipher.open(sealed, context: "organization:\(UUID().uuidString.lowercased()):sso")
            } == .wrongEncryptionKey)
            let otherKey = CredentialCipher(key: try EncryptionKey(hex: EncryptionKey.generateHex(), version: 1))
            #expect(await platformErrorKind { _ = try otherKey.open(sealed, context: context) } == .wrongEncryptionKey)

            #expect(try await f.auditActions() == ["organization.create", "organization.sso_set", "organization.sso_secret_shown"])
            #expect(try await f.masterStrings("SELECT details::text FROM platform.audit_log").allSatisfy { !$0.contains("entra.secret") })
        }
    }

    @Test("a sealed secret copied onto another organization's row does not open there")
    func secretBoundToOrganization() async throws {
        try await PlatformFixture.run { f in
            let organizations = f.platform.organizations
            try await organizations.create(name: "Acme", adminEmail: "it@acme.example")
            try await organizations.create(name: "Globex", adminEmail: "it@globex.example")
            try await organizations.setSSO(of: "Acme", entraTenantID: Self.directory, clientID: Self.client,
                                           clientSecret: "acme secret", allowedDomains: [])
            try await organizations.setSSO(of: "Globex", entraTenantID: "globex.onmicrosoft.com", clientID: Self.client,
                                           clientSecret: "globex secret", allowedDomains: [])
            _ = try await f.masterStrings("""
                UPDATE platform.organization_sso SET client_secret_encrypted = (
                    SELECT s.client_secret_encrypted FROM platform.organization_sso s JOIN platform.organization o USING (organization_id)
                     WHERE o.name = 'Acme')
                 WHERE organization_id = (SELECT organization_id FROM platform.organization WHERE name = 'Globex')
                RETURNING 'copied'
                """)
            #expect(await platformErrorKind {
                _ = try await organizations.sso(of: "Globex", revealingSecret: true)
            } == .wrongEncryptionKey)
            #expect(try await organizations.sso(of: "Globex")?.entraTenantID == "globex.onmicrosoft.com", "the rest still reads")
        }
    }

    @Test("setting again without a secret keeps it; removing deletes the settings")
    func updateAndRemove() async throws {
        try await PlatformFixture.run { f in
            let organizations = f.platform.organizations
            try await organizations.create(name: "Acme", adminEmail: "it@acme.example")
            try await organizations.setSSO(of: "Acme", entraTenantID: Self.directory, clientID: Self.client,
                                           clientSecret: "first", allowedDomains: ["acme.example"])
            try await organizations.setSSO(of: "Acme", entraTenantID: "acme.onmicrosoft.com", clientID: Self.client,
                                           clientSecret: nil, allowedDomains: [])
            var settings = try #require(try await organizations.sso(of: "Acme", revealingSecret: true))
            #expect(settings.clientSecret == "first")
            #expect(settings.entraTenantID == "acme.onmicrosoft.com")
            #expect(settings.allowedDomains == [])

            try await organizations.setSSO(of: "Acme", entraTenantID: Self.directory, clientID: Self.client,
                                           clientSecret: "second", allowedDomains: [])
            settings = try #require(try await organizations.sso(of: "Acme", revealingSecret: true))
            #expect(settings.clientSecret == "second")

            try await organizations.removeSSO(of: "Acme")
            #expect(try await organizations.sso(of: "Acme") == nil)
            #expect(try await organizations.require("Acme").hasSSO == false)
            #expect(await platformErrorKind { try await organizations.removeSSO(of: "Acme") } == .ssoNotConfigured)
            #expect(try await f.masterStrings("""
                SELECT details->>'client_secret' FROM platform.audit_log WHERE action = 'organization.sso_set' ORDER BY audit_id
                """) == ["replaced", "kept", "replaced"])
            #expect(try await f.auditActions().last == "organization.sso_remove")
        }
    }

    @Test("malformed settings are refused and nothing is stored")
    func refusals() async throws {
        try await PlatformFixture.run { f in
            let organizations = f.platform.organizations
            try await organizations.create(name: "Acme", adminEmail: "it@acme.example")
            func attempt(directory: String = Self.directory, client: String = Self.client, secret: String? = "secret",
                         domains: [String] = ["acme.example"]) async -> PlatformError.Code? {
                await platformErrorKind {
                    try await organizations.setSSO(of: "Acme", entraTenantID: directory, clientID: client,
                                                   clientSecret: secret, allowedDomains: domains)
                }
            }
            #expect(await attempt(domains: ["acme.example", "*.acme.example"]) == .invalidDomain)
            #expect(await attempt(domains: ["it@acme.example"]) == .invalidDomain)
            #expect(await attempt(client: "acme-app") == .invalidSSOSettings)
            #expect(await attempt(directory: "not a directory!") == .invalidSSOSettings)
            #expect(await attempt(secret: " \n") == .invalidSSOSettings)
            #expect(await attempt(secret: nil) == .invalidSSOSettings, "the first settings need a secret")
            #expect(try await organizations.sso(of: "Acme") == nil)
            #expect(try await f.auditActions() == ["organization.create"])
        }
    }
}
