import Permissions
import PostgresTestSupport
import PQ
import Testing

/// `auth.permission_ancestors` is the catalogue compiled into a function so that a check
/// reads one row; it must always agree with `auth.permission`.
@Suite("Compiled permission catalogue")
struct PermissionLookupTests {
    /// Codes on which the compiled copy and the table disagree (empty when in step).
    static func disagreements(_ f: AuthFixture) async throws -> [String] {
        try await f.sql("""
            SELECT p.code::text FROM auth.permission p
             WHERE auth.permission_ancestors(p.code::text) IS DISTINCT FROM p.ancestor_nos
            UNION ALL
            SELECT 'stale:' || k FROM jsonb_object_keys(
                (regexp_match(pg_get_functiondef('auth.permission_ancestors(text)'::regprocedure), '''(\\{.*\\})''::jsonb'))[1]::jsonb) k
             WHERE NOT EXISTS (SELECT FROM auth.permission p WHERE p.code::text = k)
            """).map { try $0.decode(String.self, at: 0) }
    }

    @Test("it follows functions, direct INSERT, DELETE and TRUNCATE of the catalogue, in the same transaction")
    func followsEveryChange() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["users.create_user", "users.delete_user", "groups"])
            var stale = try await Self.disagreements(f)
            #expect(stale.isEmpty)

            try await f.connection.withTransaction { connection in
                try await connection.query("INSERT INTO auth.permission (code, name) VALUES ('reports.view'::text::ltree, 'View')")
                let known = try await connection.query("SELECT auth.permission_ancestors('reports.view') IS NOT NULL").scalar(Bool.self)
                #expect(known)
            }
            try await f.auth.deletePermission(code: "users.delete_user")
            stale = try await Self.disagreements(f)
            #expect(stale.isEmpty)
            let deleted = try await f.sql("SELECT auth.permission_ancestors('users.delete_user') IS NULL").scalar(Bool.self)
            #expect(deleted)

            try await f.sql("TRUNCATE auth.permission CASCADE")
            let emptied = try await f.sql("SELECT auth.permission_ancestors('groups') IS NULL").scalar(Bool.self)
            #expect(emptied)
        }
    }

    @Test("a check of a code the compiled copy misses falls back to the table")
    func fallsBackToTheTable() async throws {
        try await AuthFixture.run { f in
            try await f.catalogue(["users.create_user"])
            let owner = try await f.user("owner")
            let tenant = try await f.tenant(owner: owner)
            // Simulate a stale compiled copy: an empty one, without a trigger firing.
            try await f.sql("""
                CREATE OR REPLACE FUNCTION auth.permission_ancestors(_perm_code text) RETURNS int[]
                LANGUAGE sql STABLE AS $$ SELECT NULL::int[] $$
                """)
            let allowed = try await f.auth.hasPermission(tenant: tenant, user: owner, code: "users.create_user")
            #expect(allowed)
            await expectError(.unknownPermission) {
                _ = try await f.auth.hasPermission(tenant: tenant, user: owner, code: "users.nope")
            }
        }
    }
}
