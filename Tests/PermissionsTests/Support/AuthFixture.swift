import Foundation
import Permissions
import PostgresTestSupport
import PQ
import Testing

/// A fresh database with the auth schema, a connection to it, and an ``AuthClient`` on that
/// connection, plus shortcuts for the objects most tests need.
struct AuthFixture {
    let database: TestDatabase
    let connection: Connection
    let auth: AuthClient

    /// Runs `body` against a new database cloned from the auth template.
    static func run(_ body: (AuthFixture) async throws -> Void) async throws {
        try await withTestDatabase(.auth) { database in
            let connection = try await database.connect()
            defer { Task { await connection.close() } }
            try await body(AuthFixture(database: database, connection: connection, auth: AuthClient(connection)))
        }
    }

    /// A new user with a unique username derived from `name`.
    func user(_ name: String = "user") async throws -> UserID {
        try await auth.createUser(username: "\(name)-\(UUID().uuidString.prefix(8))", email: "\(name)@example.com",
                                  displayName: name.capitalized)
    }

    /// A new tenant with a unique code, owned by `owner` when given.
    func tenant(_ name: String = "Tenant", owner: UserID? = nil) async throws -> TenantID {
        try await auth.createTenant(name: name, code: "T-\(UUID().uuidString.prefix(8))", owner: owner)
    }

    /// A new user who is a member of `tenant`.
    func member(of tenant: TenantID, _ name: String = "member") async throws -> UserID {
        let user = try await user(name)
        try await auth.addUserToTenant(tenant, user: user)
        return user
    }

    /// Adds catalogue codes (and their ancestors) that do not exist yet.
    func catalogue(_ codes: [String]) async throws {
        for code in codes {
            let exists = try await connection.query("SELECT 1 FROM auth.permission WHERE code::text = $1", [code])
            if exists.isEmpty { _ = try await auth.createPermission(code: code, name: code) }
        }
    }

    /// A new login role that is a member of `groupRole` (e.g. `auth_app`), and a connection
    /// to the fixture's database as that role. Roles belong to the whole test cluster, so
    /// each gets a unique name.
    func login(memberOf groupRole: String) async throws -> (role: String, connection: Connection) {
        let role = "login_\(UUID().uuidString.prefix(8).lowercased())"
        let password = UUID().uuidString
        try await sql("CREATE ROLE \(role) LOGIN PASSWORD '\(password)' IN ROLE \(groupRole)")
        return (role, try await database.connect(as: role, password: password))
    }

    /// Runs raw SQL on the fixture's connection.
    @discardableResult
    func sql(_ text: String, _ binds: [any PostgresEncodable] = []) async throws -> QueryResult {
        try await connection.query(text, binds)
    }

    /// Runs raw SQL, throwing the schema's errors as ``PermissionsError``: for calls a wrapper
    /// cannot express (a NULL, half a cursor) and for direct DML that must fail with our SQLSTATE.
    @discardableResult
    func call(_ text: String, _ binds: [any PostgresEncodable] = []) async throws -> QueryResult {
        do {
            return try await connection.query(text, binds)
        } catch let error as PostgresError {
            throw PermissionsError(error) ?? error
        }
    }
}

/// Expects `body` to throw a ``PermissionsError`` with `code`.
func expectError(
    _ code: PermissionsError.Code,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> Void
) async {
    do {
        try await body()
        Issue.record("expected \(code), but nothing was thrown", sourceLocation: sourceLocation)
    } catch let error as PermissionsError {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected \(code), got \(error)", sourceLocation: sourceLocation)
    }
}
