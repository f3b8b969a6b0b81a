import AdminPortal
import Foundation
import HummingbirdTesting
import PlatformTestSupport
import TenantPlatform

/// A platform on the disposable cluster with the portal in front of it, driven through
/// Hummingbird's in-process test client, and a superadmin to sign in with.
struct PortalFixture {
    let platform: PlatformFixture
    static let superadminEmail = "root@example.com"
    static let password = "correct horse battery"

    var admins: AdminUserStore { AdminUserStore(platform: platform.platform) }

    static func run(_ configuration: PortalConfiguration = .init(),
                    _ body: @Sendable (PortalFixture, PortalClient) async throws -> Void) async throws {
        try await PlatformFixture.run { platformFixture in
            let fixture = PortalFixture(platform: platformFixture)
            _ = try await fixture.admins.create(email: superadminEmail, password: password, superadmin: true)
            let server = PortalServer(platform: platformFixture.platform, configuration: configuration)
            try await server.application().test(.router) { client in
                try await body(fixture, PortalClient(client))
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
