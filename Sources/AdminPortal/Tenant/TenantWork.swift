import Foundation
import Hummingbird
import Permissions
import PQ
import TenantPlatform

/// The code of the tenant's catalogue each administrative route requires (README, "The tenant
/// API": the table of routes). The template sets give them by role: Admin holds every one,
/// Superuser the `view` ones and `tenant.*`, User `users.view` and `groups.view`.
enum TenantAPICode {
    static let viewUsers = "users.view"
    static let createUsers = "users.create_user"
    static let updateUsers = "users.update_user"
    /// Deactivating, activating and removing a member.
    static let deactivateUsers = "users.deactivate_user"
    static let viewGroups = "groups.view"
    static let manageGroups = "groups.manage"
    /// Sets, assignments, the catalogue, a user's effective permissions and why.
    static let viewPermissions = "permissions.view"
    /// Changing sets and assignments: who may do what.
    static let assignPermissions = "permissions.assign"
    static let viewSettings = "tenant.view_settings"
    /// The audit log: for those who administer the tenant, not for every member.
    static let administerTenant = "tenant.update_settings"
}

/// Runs one request of the tenant API as one unit of work in the tenant's database: a
/// transaction whose first statements name the signed-in user as the actor (so the auth audit
/// log names them) and check that they hold the route's code (`auth.require_permission`, 403
/// with SQLSTATE 42501 otherwise). Nothing the route does commits unless all of it succeeds.
///
/// Where the in-process ``PermissionCache`` is used, and where not: the routes that only
/// answer a check (`GET permissions/{code}`, `POST permissions/check`) ask the tenant's
/// cache, since the answer is all they return. The routes here keep the check inside their
/// transaction, reads included: it answers from the same snapshot as the route's own reads
/// and writes, so no route acts on a grant revoked a moment ago (the cache may lag a
/// commit by its invalidation latency); and it costs one statement in a transaction the
/// route opens anyway, where a cached pre-check would only spare the transaction of a
/// denied request. Writes made here drop what the tenant's cache holds at COMMIT, so the
/// check routes see them at once.
struct TenantWork: Sendable {
    let connections: TenantConnectionManager

    /// - Parameters:
    ///   - code: the catalogue code the route requires; nil for what every member may do.
    ///   - editing: a key naming the record a read-modify-write changes (`user:<id>`). Its lock,
    ///     taken before anything is read, makes two requests on the same record run one after
    ///     the other, so the record compared with `If-Match` is the one the change applies to.
    func run<T: Sendable>(
        _ context: PortalContext,
        requiring code: String?,
        editing: String? = nil,
        _ body: (AuthClient, TenantUserSession) async throws -> T
    ) async throws -> T {
        let session = try context.requireTenantUser()
        return try await connections.withUnitOfWork(in: session.platformTenant, actor: session.user) { connection in
            if let editing {
                // The first lock of the transaction, so API requests never wait on each other in a cycle.
                try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                                           ["pgperm.tenant-api:" + editing], prepared: true)
            }
            let auth = AuthClient(connection, cache: connections.existingPermissionCache(for: session.connectionTarget))
            if let code { try await auth.requirePermission(tenant: session.tenant, user: session.user, code: code) }
            return try await body(auth, session)
        }
    }
}

extension PortalContext {
    /// A uuid path parameter as the typed id it names; 400 when it is not a uuid.
    func id<ID: EntityID>(_ type: ID.Type, _ name: String) throws -> ID {
        let text = try parameters.require(name)
        guard let uuid = UUID(uuidString: text) else {
            throw APIError.invalidParameter(name, "must be a uuid such as 0b6f3c1e-4f0a-4c4e-9a57-3f1f7f0e8d21")
        }
        return ID(uuid)
    }
}

extension Request {
    /// `?name=true|false`; nil when absent, 400 for anything else.
    func booleanParameter(_ name: String) throws -> Bool? {
        guard let text = uri.queryParameters.get(name) else { return nil }
        switch text {
        case "true": return true
        case "false": return false
        default: throw APIError.invalidParameter(name, "must be true or false")
        }
    }

    /// `?name=<uuid>` as a typed id; nil when absent, 400 when not a uuid.
    func idParameter<ID: EntityID>(_ type: ID.Type, _ name: String) throws -> ID? {
        guard let text = uri.queryParameters.get(name) else { return nil }
        guard let uuid = UUID(uuidString: text) else { throw APIError.invalidParameter(name, "must be a uuid") }
        return ID(uuid)
    }
}
