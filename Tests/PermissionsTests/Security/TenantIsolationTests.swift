import Foundation
import Permissions
import PQ
import Testing

/// Row-level isolation of an application table holding rows of two tenants, tried by an
/// application login role (and by the table's owner, whom FORCE binds too).
@Suite("Security: tenant isolation")
struct TenantIsolationTests {
    struct Setup {
        let acme: TenantID, globex: TenantID
        let alice: UserID, gina: UserID
        /// The application's connection: a member of auth_app with DML rights on app.document.
        let app: Connection
        /// The owner's connection: owns app.document, member of auth_admin.
        let owner: Connection
    }

    /// Two tenants with one member each, and app.document with a row of each tenant.
    static func run(_ body: (AuthFixture, Setup) async throws -> Void) async throws {
        try await AuthFixture.run { f in
            let acme = try await f.tenant("Acme"), globex = try await f.tenant("Globex")
            let alice = try await f.member(of: acme, "alice"), gina = try await f.member(of: globex, "gina")
            let (ownerRole, owner) = try await f.login(memberOf: "auth_admin")
            let (appRole, app) = try await f.login(memberOf: "auth_app")
            try await f.connection.execute(script: """
                CREATE SCHEMA app AUTHORIZATION \(ownerRole);
                GRANT USAGE ON SCHEMA app TO \(appRole);
                """)
            try await owner.execute(script: """
                CREATE TABLE app.document (id serial PRIMARY KEY, tenant_id uuid NOT NULL, title text NOT NULL);
                CREATE INDEX ON app.document (tenant_id);
                GRANT SELECT, INSERT, UPDATE, DELETE ON app.document TO \(appRole);
                GRANT USAGE ON SEQUENCE app.document_id_seq TO \(appRole);
                """)
            try await AuthClient(owner).enableTenantIsolation(table: "app.document")
            try await f.sql("INSERT INTO app.document (tenant_id, title) VALUES ($1, 'acme plan'), ($2, 'globex plan')",
                            [acme, globex])
            defer { Task { await app.close(); await owner.close() } }
            try await body(f, Setup(acme: acme, globex: globex, alice: alice, gina: gina, app: app, owner: owner))
        }
    }

    /// Runs `body` in a transaction on `connection` with the tenant context set.
    static func inTenant<T: Sendable>(_ connection: Connection, _ tenant: TenantID, _ user: UserID,
                                      _ body: (Connection) async throws -> T) async throws -> T {
        try await connection.withTransaction { connection in
            try await AuthClient(connection).setTenantContext(tenant: tenant, user: user)
            return try await body(connection)
        }
    }

    static func titles(_ connection: Connection) async throws -> [String] {
        try await connection.query("SELECT title FROM app.document ORDER BY title").rows.map { try $0.decode(String.self, at: 0) }
    }

    /// Rows changed by an UPDATE or DELETE.
    static func changed(_ connection: Connection, _ sql: String, _ binds: [any PostgresEncodable] = []) async throws -> Int {
        try await connection.query(sql, binds).affectedRows ?? -1
    }

    static func expectPolicyViolation(sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async {
        do {
            try await body()
            Issue.record("expected a row-level security violation", sourceLocation: sourceLocation)
        } catch let error as PostgresError {
            #expect(error.code == .insufficientPrivilege, "\(error)", sourceLocation: sourceLocation)
            #expect(error.message.contains("row-level security"), "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test("without a context the application sees no rows and can insert none")
    func noContextNoRows() async throws {
        try await Self.run { (f: AuthFixture, s: Setup) async throws in
            #expect(try await Self.titles(s.app) == [])
            await Self.expectPolicyViolation {
                _ = try await s.app.query("INSERT INTO app.document (tenant_id, title) VALUES ($1, 'x')", [s.acme])
            }
            #expect(try await Self.changed(s.app, "UPDATE app.document SET title = 'x'") == 0)
            #expect(try await Self.changed(s.app, "DELETE FROM app.document") == 0)
            #expect(try await Self.titles(f.connection) == ["acme plan", "globex plan"])
        }
    }

    @Test("in a tenant's context only its rows are visible, writable and insertable")
    func contextShowsOneTenant() async throws {
        try await Self.run { f, s in
            try await Self.inTenant(s.app, s.acme, s.alice) { connection in
                #expect(try await Self.titles(connection) == ["acme plan"])
                try await connection.query("INSERT INTO app.document (tenant_id, title) VALUES ($1, 'acme memo')", [s.acme])
                #expect(try await Self.changed(connection, "UPDATE app.document SET title = title || '!'") == 2)
                #expect(try await Self.changed(connection, "DELETE FROM app.document WHERE tenant_id = $1", [s.globex]) == 0)
                #expect(try await Self.changed(connection, "UPDATE app.document SET title = 'x' WHERE tenant_id = $1", [s.globex]) == 0)
            }
            #expect(try await Self.titles(f.connection) == ["acme memo!", "acme plan!", "globex plan"])
        }
    }

    @Test("rows cannot be inserted into or moved to another tenant")
    func writesAcrossTheBoundaryAreRefused() async throws {
        try await Self.run { f, s in
            await Self.expectPolicyViolation {
                try await Self.inTenant(s.app, s.acme, s.alice) { connection in
                    _ = try await connection.query("INSERT INTO app.document (tenant_id, title) VALUES ($1, 'sneaky')", [s.globex])
                }
            }
            await Self.expectPolicyViolation {
                try await Self.inTenant(s.app, s.acme, s.alice) { connection in
                    _ = try await connection.query("UPDATE app.document SET tenant_id = $1", [s.globex])
                }
            }
            #expect(try await Self.titles(f.connection) == ["acme plan", "globex plan"])
            let globexRows = try await Self.inTenant(s.app, s.globex, s.gina) { try await Self.titles($0) }
            #expect(globexRows == ["globex plan"])
        }
    }

    @Test("the context lasts for its transaction only")
    func contextIsTransactionLocal() async throws {
        try await Self.run { _, s in
            _ = try await Self.inTenant(s.app, s.acme, s.alice) { try await Self.titles($0) }
            #expect(try await AuthClient(s.app).currentTenant() == nil)
            #expect(try await Self.titles(s.app) == [])
        }
    }

    @Test("the table owner is bound too (FORCE)")
    func ownerIsBound() async throws {
        try await Self.run { _, s in
            #expect(try await Self.titles(s.owner) == [])
            let rows = try await Self.inTenant(s.owner, s.globex, s.gina) { try await Self.titles($0) }
            #expect(rows == ["globex plan"])
        }
    }

    @Test("set_tenant_context refuses a user without a live membership of the tenant")
    func contextNeedsLiveMembership() async throws {
        try await Self.run { f, s in
            let app = AuthClient(s.app)
            await expectError(.insufficientPrivilege) {
                try await s.app.withTransaction { try await AuthClient($0).setTenantContext(tenant: s.globex, user: s.alice) }
            }
            try await f.auth.deactivateTenant(s.acme)
            await expectError(.insufficientPrivilege) {
                try await s.app.withTransaction { try await AuthClient($0).setTenantContext(tenant: s.acme, user: s.alice) }
            }
            await PrivilegeTests.expectState(PermissionsError.Code.invalidArgument.sqlState) {
                try await s.app.query("SELECT auth.set_tenant_context(NULL, $1)", [s.alice])
            }
            #expect(try await app.currentTenant() == nil)
        }
    }

    @Test("enable_tenant_isolation validates the column and can run again")
    func enableValidates() async throws {
        try await Self.run { f, s in
            let owner = AuthClient(s.owner)
            try await s.owner.execute(script: "CREATE TABLE app.other (id int, tenant text, tenant_id uuid)")
            await expectError(.invalidTenantColumn) { try await owner.enableTenantIsolation(table: "app.other", tenantColumn: "nope") }
            await expectError(.invalidTenantColumn) { try await owner.enableTenantIsolation(table: "app.other", tenantColumn: "tenant") }
            #expect(try await f.sql("SELECT relrowsecurity FROM pg_class WHERE oid = 'app.other'::regclass").scalar(Bool.self) == false)

            try await owner.enableTenantIsolation(table: "app.document")
            #expect(try await f.sql("SELECT count(*) FROM pg_policies WHERE tablename = 'document'").scalar(Int.self) == 1)
            // ALTER TABLE needs ownership: the application role cannot turn isolation off or on.
            do {
                try await s.app.query("SELECT auth.enable_tenant_isolation('app.document')")
                Issue.record("the application role must not be able to call enable_tenant_isolation")
            } catch let error as PostgresError {
                #expect(error.code == .insufficientPrivilege)
            }
        }
    }
}
