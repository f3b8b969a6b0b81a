// A Hummingbird service whose routes require permission codes, checked in-process by a
// PermissionCache: `swift run pgperm-hummingbird-example DATABASE_URL`, then
//   curl -H 'Authorization: Bearer <token>' http://127.0.0.1:8080/users
// with the tokens it prints. The README shows this file between the snippet markers.
import Foundation
import Hummingbird
import Permissions
import PermissionsHummingbird
import PQ

// snippet:service
/// The request context: the service's sign-in fills in who is asking, in which tenant.
struct AppContext: PermissionRequestContext {
    var coreContext: CoreRequestContextStorage
    var permissionIdentity: PermissionIdentity?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }
}

/// The service's own sign-in (a session cookie, a JWT, ...); here, bearer tokens it handed out.
struct BearerSignIn: RouterMiddleware {
    let sessions: [String: PermissionIdentity]

    func handle(_ request: Request, context: AppContext,
                next: (Request, AppContext) async throws -> Response) async throws -> Response {
        var context = context
        if let header = request.headers[.authorization], header.hasPrefix("Bearer ") {
            context.permissionIdentity = sessions[String(header.dropFirst("Bearer ".count))]
        }
        return try await next(request, context)
    }
}

let pool = ConnectionPool(.init(conninfo: CommandLine.arguments[1]))
let cache = PermissionCache(pool: pool)
let sessions = try await demoSessions(AuthClient(pool))  // token → tenant and user

let router = Router(context: AppContext.self)
router.add(middleware: BearerSignIn(sessions: sessions))
router.group("users")
    .add(middleware: RequirePermission("users.view", cache: cache))  // 401, 403 or through
    .get { _, _ in "the users" }
router.group("users")
    .add(middleware: RequirePermission("users.create_user", cache: cache))
    .post { _, _ in Response(status: .created) }

let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 8080)))
try await withThrowingDiscardingTaskGroup { group in
    group.addTask { await cache.run() }  // keeps the cache current while the service runs
    try await app.runService()           // until SIGINT or SIGTERM
    group.cancelAll()
}
// snippet:end

/// A tenant with its owner alice (every code) and bob (`users.view`), and a token for each.
func demoSessions(_ auth: AuthClient) async throws -> [String: PermissionIdentity] {
    for code in ["users.view", "users.create_user"] {
        do {
            _ = try await auth.createPermission(code: code, name: code)
        } catch let error as PermissionsError where error.code == .permissionExists {}
    }
    let run = UUID().uuidString.prefix(8).lowercased()
    let alice = try await auth.createUser(username: "alice-\(run)")
    let acme = try await auth.createTenant(name: "Acme", code: "ACME-\(run)", owner: alice)
    let bob = try await auth.createUser(username: "bob-\(run)")
    try await auth.addUserToTenant(acme, user: bob)
    try await auth.assignPermission(tenant: acme, to: .user(bob), grant: .permission("users.view"))
    let sessions = ["alice-\(run)": PermissionIdentity(tenant: acme, user: alice),
                    "bob-\(run)": PermissionIdentity(tenant: acme, user: bob)]
    print("tokens: \(sessions.keys.sorted().joined(separator: ", "))")
    return sessions
}
