import Foundation
import PlatformTestSupport
import PostgresTestSupport
import TenantPlatform
import Testing

/// `pgperm org sso set` for both kinds of provider, and `pgperm org sso test` against a real
/// OpenID provider (oidc-provider-mock) and one that is not there.
@Suite("Platform: pgperm org sso commands")
struct OrganizationSSOCommandTests {
    @Test("set an OpenID Connect provider with just-in-time membership, test it; a provider that is down fails with the reason",
          .enabled(if: TenantCommandTests.binary != nil, "needs the pgperm binary (swift build)"))
    func setAndTest() async throws {
        let issuer = try await MockOpenIDProvider.shared.issuer()
        let cluster = try await TestPostgres.shared.localCluster()
        let suffix = UUID().uuidString.prefix(6).lowercased()
        let directory = FileManager.default.temporaryDirectory.appending(path: "pgperm-sso-\(suffix)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try """
            MASTER_DB_HOST=\(cluster.host)
            MASTER_DB_PORT=\(cluster.port ?? 5432)
            MASTER_DB_NAME=master_sso_\(suffix)
            TENANT_DB_PREFIX=s\(suffix)
            TENANT_ENCRYPTION_KEY=\(EncryptionKey.generateHex())
            """.write(to: directory.appending(path: ".env"), atomically: true, encoding: .utf8)
        let configuration = try PlatformConfiguration.resolve(environment: [:], dotEnv: try DotEnv.load(directory.appending(path: ".env")))
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = { (arguments: [String], input: String) in try await TenantCommandTests.pgperm(arguments, in: directory, input: input) }

        #expect(try await run(["org", "create", "--name", "Contoso", "--admin-email", "it@contoso.com"], "").status == 0)
        let both = try await run(["org", "sso", "set", "Contoso", "--issuer", issuer, "--entra-tenant-id", UUID().uuidString,
                            "--client-id", "portal"], "")
        #expect(both.status != 0)
        #expect(both.output.contains("exactly one of --entra-tenant-id"), "\(both.output)")
        let set = try await run(["org", "sso", "set", "Contoso", "--issuer", issuer, "--client-id", "portal", "--allowed-domain",
                           "contoso.com", "--jit", "--jit-perm-set", "USER", "--client-secret-stdin"], "s3cret\n")
        #expect(set.status == 0, "\(set.output)")
        #expect(set.output.contains("OpenID Connect") && set.output.contains(issuer))
        #expect(set.output.contains("on, with set USER"))
        #expect(!set.output.contains("s3cret"))

        let tested = try await run(["org", "sso", "test", "Contoso"], "")
        #expect(tested.status == 0, "\(tested.output)")
        #expect(tested.output.contains("\(issuer)/oauth2/authorize"))
        #expect(tested.output.contains("RSA"))
        #expect(tested.output.contains("The provider answers as expected."))

        let closed = try MockOpenIDProvider.freePort()
        #expect(try await run(["org", "sso", "set", "Contoso", "--issuer", "http://127.0.0.1:\(closed)", "--client-id", "portal",
                         "--allowed-domain", "contoso.com"], "").status == 0)
        let down = try await run(["org", "sso", "test", "Contoso", "--timeout", "2"], "")
        #expect(down.status != 0)
        #expect(down.output.contains("sso_provider_unavailable"), "\(down.output)")
        #expect(down.output.contains("http://127.0.0.1:\(closed)/.well-known/openid-configuration") || down.output.contains("discovery document"))

        await PlatformFixture(platform: try await Platform.start(configuration), cluster: cluster, keyHex: "").tearDown()
    }
}
