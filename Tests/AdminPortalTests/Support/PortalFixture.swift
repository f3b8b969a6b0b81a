import AdminPortal
import Foundation
import HummingbirdTesting
import PlatformTestSupport
import TenantPlatform
import Testing

/// A platform on the disposable cluster with the portal in front of it, driven through
/// Hummingbird's in-process test client, and a superadmin to sign in with.
struct PortalFixture {
    let platform: PlatformFixture
    static let superadminEmail = "root@example.com"
    static let password = "correct horse battery"

    var admins: AdminUserStore { AdminUserStore(platform: platform.platform) }

    static func run(_ configuration: PortalConfiguration = .init(), logs: LogCapture = LogCapture(),
                    _ body: @Sendable (PortalFixture, PortalClient) async throws -> Void) async throws {
        try await run(configuration, logs: logs, framework: .router) { fixture, client in
            try await body(fixture, PortalClient(client))
        }
    }

    /// The portal listening on a real socket (a free port on localhost), for tests that speak
    /// raw HTTP: wrong Host headers, slow or silent connections.
    static func serve(_ configuration: PortalConfiguration = .init(),
                      _ body: @Sendable (PortalFixture, _ port: Int) async throws -> Void) async throws {
        try await run(configuration, logs: LogCapture(), framework: .live) { fixture, client in
            try await body(fixture, try #require(client.port))
        }
    }

    private static func run(_ configuration: PortalConfiguration, logs: LogCapture, framework: TestingSetup,
                            _ body: @Sendable (PortalFixture, any TestClientProtocol) async throws -> Void) async throws {
        try await PlatformFixture.run { platformFixture in
            let fixture = PortalFixture(platform: platformFixture)
            _ = try await fixture.admins.create(email: superadminEmail, password: password, superadmin: true)
            let server = PortalServer(platform: platformFixture.platform, configuration: configuration, logger: logs.logger)
            try await server.application().test(framework) { client in
                try await body(fixture, client)
            }
        }
    }

    /// A second browser on the same server.
    func newClient(like client: PortalClient) -> PortalClient {
        PortalClient(client.client)
    }

    @discardableResult
    func signInAdmin(_ client: PortalClient, email: String = superadminEmail, password: String = password) async throws -> PortalClient.Reply {
        try await client.send(.post, "/admin/api/session", json: ["email": email, "password": password])
    }

    /// A tenant provisioned directly (faster than through the API), and its initial admin's credentials.
    func createTenant(_ slug: String) async throws -> TenantLifecycle.Credentials {
        try await platform.provisioner.create(name: slug.capitalized, slug: slug)
        return try await platform.lifecycle.credentials(slug: slug)
    }
}
