import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Permissions
import PermissionsHummingbird
import PostgresTestSupport
import PQ
import Testing

@Suite("RequirePermission: Hummingbird routes gated by a PermissionCache")
struct RequirePermissionTests {
    @Test("no identity: 401; a holder passes; a member without the code: 403 with the check's SQLSTATE, detail and hint")
    func signedInAndDenied() async throws {
        try await ServiceFixture.run { s, client in
            var reply = try await s.send(client, .get, "/users", as: nil)
            #expect(reply.status == .unauthorized && reply.error?.code == "not_signed_in", "\(reply)")
            reply = try await s.send(client, .get, "/users", as: s.bob)
            #expect(reply.status == .ok && reply.text == "the users", "\(reply)")
            reply = try await s.send(client, .post, "/users", as: s.bob)
            #expect(reply.status == .forbidden && reply.error?.code == "42501", "\(reply)")
            #expect(reply.error?.detail?.contains("'users.create_user'") == true, "\(reply)")
            #expect(reply.error?.hint?.contains("auth.assign_permission") == true, "\(reply)")
            // The owner holds every code.
            reply = try await s.send(client, .post, "/users", as: s.alice)
            #expect(reply.status == .created, "\(reply)")
            // Answered from memory after the first fill.
            #expect(s.cache.statistics.hits >= 1, "\(s.cache.statistics)")
        }
    }

    @Test("another tenant: the same user is denied where they are not a member")
    func crossTenant() async throws {
        try await ServiceFixture.run { s, client in
            let other = try await s.auth.createTenant(name: "Other", code: "O-\(UUID().uuidString.prefix(8))")
            let bobElsewhere = PermissionIdentity(tenant: other, user: s.bob.user)
            let reply = try await s.send(client, .get, "/users", as: bobElsewhere)
            #expect(reply.status == .forbidden && reply.error?.code == "42501", "\(reply)")
        }
    }

    @Test("a grant and a revocation by another connection reach the routes")
    func changesArrive() async throws {
        try await ServiceFixture.run { s, client in
            #expect(try await s.send(client, .post, "/users", as: s.bob).status == .forbidden)
            try await s.auth.assignPermission(tenant: s.tenant, to: .user(s.bob.user), grant: .permission("users.create_user"))
            try await s.cache.barrier()
            #expect(try await s.send(client, .post, "/users", as: s.bob).status == .created)
            try await s.auth.unassignPermission(tenant: s.tenant, from: .user(s.bob.user), grant: .permission("users.create_user"))
            try await s.cache.barrier()
            #expect(try await s.send(client, .post, "/users", as: s.bob).status == .forbidden)
        }
    }

    @Test("any of, all of")
    func severalCodes() async throws {
        try await ServiceFixture.run { s, client in
            #expect(try await s.send(client, .get, "/any", as: s.bob).status == .ok)
            let reply = try await s.send(client, .get, "/all", as: s.bob)
            #expect(reply.status == .forbidden && reply.error?.detail?.contains("all of the permissions") == true, "\(reply)")
            #expect(try await s.send(client, .get, "/all", as: s.alice).status == .ok)
        }
    }

    @Test("a route requiring an unknown or malformed code: 500 with the SQL check's own SQLSTATE, for every caller")
    func misconfiguredRoute() async throws {
        try await ServiceFixture.run { s, client in
            for user in [s.bob, s.alice] {
                var reply = try await s.send(client, .get, "/typo", as: user)
                #expect(reply.status == .internalServerError && reply.error?.code == "QN003", "\(reply)")
                #expect(reply.error?.message.contains("users.vew") == true || reply.error?.detail?.contains("users.vew") == true, "\(reply)")
                reply = try await s.send(client, .get, "/malformed", as: user)
                #expect(reply.status == .internalServerError && reply.error?.code == "QI002", "\(reply)")
            }
        }
    }

    @Test("the database unreachable when it is needed: 503, never a grant")
    func databaseUnreachable() async throws {
        // Nothing listens on port 1: a cache that is not trusted asks the database, which is not there.
        let pool = ConnectionPool(.init(conninfo: "host=127.0.0.1 port=1 dbname=none connect_timeout=2", maximumConnections: 1))
        let cache = PermissionCache(pool: pool)
        let router = ServiceFixture.router(cache: cache)
        try await Application(router: router).test(.router) { client in
            let identity = PermissionIdentity(tenant: TenantID(UUID()), user: UserID(UUID()))
            let reply = try await ServiceFixture.send(client, .get, "/users", as: identity)
            #expect(reply.status == .serviceUnavailable && reply.error?.code == "permission_check_unavailable", "\(reply)")
        }
        await pool.close()
    }
}

/// The context of the tested service: the identity comes from two test headers, standing
/// for the service's real sign-in.
struct TestServiceContext: PermissionRequestContext {
    var coreContext: CoreRequestContextStorage
    var permissionIdentity: PermissionIdentity?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }
}

struct HeaderIdentity: RouterMiddleware {
    static let tenantHeader = HTTPField.Name("X-Test-Tenant")!
    static let userHeader = HTTPField.Name("X-Test-User")!

    func handle(_ request: Request, context: TestServiceContext,
                next: (Request, TestServiceContext) async throws -> Response) async throws -> Response {
        var context = context
        if let tenant = request.headers[Self.tenantHeader].flatMap(UUID.init(uuidString:)),
           let user = request.headers[Self.userHeader].flatMap(UUID.init(uuidString:)) {
            context.permissionIdentity = PermissionIdentity(tenant: TenantID(tenant), user: UserID(user))
        }
        return try await next(request, context)
    }
}

/// A database with a tenant, its owner alice and bob holding `users.view`, a listening cache,
/// and a Hummingbird app whose routes require codes through ``RequirePermission``.
struct ServiceFixture {
    let auth: AuthClient
    let cache: PermissionCache
    let tenant: TenantID
    let alice: PermissionIdentity
    let bob: PermissionIdentity

    struct Reply: CustomStringConvertible {
        let status: HTTPResponse.Status
        let text: String
        var error: PermissionHTTPError.Body.Content? {
            try? JSONDecoder().decode(PermissionHTTPError.Body.self, from: Data(text.utf8)).error
        }
        var description: String { "\(status.code) \(text)" }
    }

    static func router(cache: PermissionCache) -> Router<TestServiceContext> {
        let router = Router(context: TestServiceContext.self)
        router.add(middleware: HeaderIdentity())
        router.group("users").add(middleware: RequirePermission("users.view", cache: cache)).get { _, _ in "the users" }
        router.group("users").add(middleware: RequirePermission("users.create_user", cache: cache))
            .post { _, _ in Response(status: .created) }
        router.group("any").add(middleware: RequirePermission(anyOf: ["users.create_user", "users.view"], cache: cache))
            .get { _, _ in "any" }
        router.group("all").add(middleware: RequirePermission(allOf: ["users.create_user", "users.view"], cache: cache))
            .get { _, _ in "all" }
        router.group("typo").add(middleware: RequirePermission("users.vew", cache: cache)).get { _, _ in "never" }
        router.group("malformed").add(middleware: RequirePermission("Users View", cache: cache)).get { _, _ in "never" }
        return router
    }

    static func run(_ body: @escaping @Sendable (ServiceFixture, any TestClientProtocol) async throws -> Void) async throws {
        try await withTestDatabase(.auth) { database in
            let connection = try await database.connect()
            let auth = AuthClient(connection)
            for code in ["users.view", "users.create_user"]
            where try await connection.query("SELECT 1 FROM auth.permission WHERE code::text = $1", [code]).isEmpty {
                _ = try await auth.createPermission(code: code, name: code)
            }
            let suffix = UUID().uuidString.prefix(8)
            let alice = try await auth.createUser(username: "alice-\(suffix)")
            let tenant = try await auth.createTenant(name: "Acme", code: "ACME-\(suffix)", owner: alice)
            let bob = try await auth.createUser(username: "bob-\(suffix)")
            try await auth.addUserToTenant(tenant, user: bob)
            try await auth.assignPermission(tenant: tenant, to: .user(bob), grant: .permission("users.view"))

            let pool = ConnectionPool(.init(conninfo: database.conninfo, maximumConnections: 2))
            let cache = PermissionCache(pool: pool)
            let listener = Task { await cache.run() }
            let fixture = ServiceFixture(auth: auth, cache: cache, tenant: tenant,
                                         alice: PermissionIdentity(tenant: tenant, user: alice),
                                         bob: PermissionIdentity(tenant: tenant, user: bob))
            do {
                try await cache.barrier()  // listening
                try await Application(router: router(cache: cache)).test(.router) { client in try await body(fixture, client) }
            } catch {
                listener.cancel()
                await listener.value
                await pool.close()
                await connection.close()
                throw error
            }
            listener.cancel()
            await listener.value
            await pool.close()
            await connection.close()
        }
    }

    func send(_ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String,
              as identity: PermissionIdentity?) async throws -> Reply {
        try await Self.send(client, method, uri, as: identity)
    }

    static func send(_ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String,
                     as identity: PermissionIdentity?) async throws -> Reply {
        var headers: HTTPFields = [:]
        if let identity {
            headers[HeaderIdentity.tenantHeader] = identity.tenant.description
            headers[HeaderIdentity.userHeader] = identity.user.description
        }
        let response = try await client.executeRequest(uri: uri, method: method, headers: headers, body: nil)
        return Reply(status: response.status, text: String(buffer: response.body))
    }
}

