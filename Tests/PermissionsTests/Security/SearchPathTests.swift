import Foundation
import Permissions
import PostgresTestSupport
import PQ
import Testing

/// Plants look-alikes of what our functions use (operators, functions, tables, types) in a
/// schema placed before pg_catalog on the caller's search_path. Each planted object raises
/// when used, so any name our functions failed to qualify or pin shows up as an error.
@Suite("Security: search_path")
struct SearchPathTests {
    static let planted = """
        CREATE SCHEMA evil;
        CREATE FUNCTION evil.trap() RETURNS boolean LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'planted object used' USING ERRCODE = 'XX666'; END $$;
        CREATE FUNCTION evil.uuid_eq(uuid, uuid) RETURNS boolean LANGUAGE sql SET search_path = pg_catalog AS 'SELECT evil.trap()';
        CREATE FUNCTION evil.text_eq(text, text) RETURNS boolean LANGUAGE sql SET search_path = pg_catalog AS 'SELECT evil.trap()';
        CREATE FUNCTION evil.int_overlap(int[], int[]) RETURNS boolean LANGUAGE sql SET search_path = pg_catalog AS 'SELECT evil.trap()';
        CREATE FUNCTION evil.jsonb_get(jsonb, text) RETURNS text LANGUAGE sql SET search_path = pg_catalog AS 'SELECT evil.trap()::text';
        CREATE FUNCTION evil.text_concat(text, text) RETURNS text LANGUAGE sql SET search_path = pg_catalog AS 'SELECT evil.trap()::text';
        CREATE FUNCTION evil.int_eq(int, int) RETURNS boolean LANGUAGE sql SET search_path = pg_catalog AS 'SELECT evil.trap()';
        CREATE FUNCTION evil.bool_or_step(boolean, boolean) RETURNS boolean LANGUAGE sql SET search_path = pg_catalog AS 'SELECT evil.trap()';
        CREATE AGGREGATE evil.bool_or(boolean) (SFUNC = evil.bool_or_step, STYPE = boolean);
        CREATE OPERATOR evil.= (LEFTARG = int, RIGHTARG = int, FUNCTION = evil.int_eq);
        CREATE OPERATOR evil.= (LEFTARG = uuid, RIGHTARG = uuid, FUNCTION = evil.uuid_eq);
        CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.text_eq);
        CREATE OPERATOR evil.&& (LEFTARG = int[], RIGHTARG = int[], FUNCTION = evil.int_overlap);
        CREATE OPERATOR evil.->> (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = evil.jsonb_get);
        CREATE OPERATOR evil.|| (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.text_concat);
        CREATE FUNCTION evil.format(text, uuid, text, uuid) RETURNS text LANGUAGE sql SET search_path = pg_catalog AS 'SELECT evil.trap()::text';
        CREATE FUNCTION evil.set_config(text, text, boolean) RETURNS text LANGUAGE sql SET search_path = pg_catalog AS 'SELECT evil.trap()::text';
        CREATE FUNCTION evil.current_setting(text, boolean) RETURNS text LANGUAGE sql SET search_path = pg_catalog AS 'SELECT evil.trap()::text';
        CREATE FUNCTION evil.string_to_array(text, text) RETURNS text[] LANGUAGE sql SET search_path = pg_catalog AS 'SELECT ARRAY[evil.trap()::text]';
        CREATE FUNCTION evil.btrim(text) RETURNS text LANGUAGE sql SET search_path = pg_catalog AS 'SELECT evil.trap()::text';
        CREATE FUNCTION evil.lower(text) RETURNS text LANGUAGE sql SET search_path = pg_catalog AS 'SELECT evil.trap()::text';
        CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE sql SET search_path = pg_catalog AS 'SELECT evil.trap()::text::timestamptz';
        CREATE FUNCTION evil.gen_random_uuid() RETURNS uuid LANGUAGE sql SET search_path = pg_catalog AS 'SELECT evil.trap()::text::uuid';
        CREATE FUNCTION evil.has_permission(uuid, uuid, text) RETURNS boolean LANGUAGE sql SET search_path = pg_catalog AS 'SELECT evil.trap()';
        CREATE FUNCTION evil.pg_notify(text, text) RETURNS void LANGUAGE sql SET search_path = pg_catalog AS 'SELECT evil.trap()::text::void';
        CREATE FUNCTION evil.unnest(uuid[]) RETURNS SETOF uuid LANGUAGE sql SET search_path = pg_catalog AS 'SELECT evil.trap()::text::uuid';
        CREATE DOMAIN evil.uuid AS pg_catalog.text CHECK (evil.trap());
        CREATE DOMAIN evil.jsonb AS pg_catalog.text CHECK (evil.trap());
        CREATE TABLE evil.tenant (tenant_id int);
        CREATE TABLE evil.effective_access (tenant_id int);
        CREATE TABLE evil.permission (code text);
        CREATE TABLE evil.resource_grant (tenant_id int);
        GRANT USAGE ON SCHEMA evil TO PUBLIC;
        GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA evil TO PUBLIC;
        """

    /// A connection whose search_path puts the planted schema before pg_catalog.
    static func hostileConnection(_ f: AuthFixture) async throws -> Connection {
        try await f.connection.execute(script: planted)
        let connection = try await f.database.connect()
        try await connection.query("SET search_path = evil, pg_catalog, public")
        // The trap works: an unqualified comparison on this connection hits it.
        do {
            try await connection.query("SELECT gen_random_uuid() = gen_random_uuid()")
            Issue.record("the planted operator was not used by an unqualified query")
        } catch let error as PostgresError {
            #expect(error.code?.rawValue == "XX666")
        }
        return connection
    }

    @Test("every kind of call ignores planted operators, functions, types and tables")
    func callsIgnorePlantedObjects() async throws {
        try await AuthFixture.run { f in
            let connection = try await Self.hostileConnection(f)
            defer { Task { await connection.close() } }
            let auth = AuthClient(connection)

            _ = try await auth.createPermission(code: "docs", name: "Documents")
            _ = try await auth.createPermission(code: "docs.read", name: "Read")
            _ = try await auth.createPermission(code: "billing", name: "Billing")
            let owner = try await auth.createUser(username: "owner", email: "o@example.com", displayName: "Owner")
            let bob = try await auth.createUser(username: "bob")
            try await auth.updateUser(bob, displayName: "Bob")
            let tenant = try await auth.createTenant(name: "Acme", code: "ACME", owner: owner)
            try await auth.updateTenant(tenant, name: "Acme Inc")
            try await auth.addUserToTenant(tenant, user: bob)
            _ = try await auth.createPermSet(tenant: tenant, code: "DOCS", name: "Docs")
            try await auth.addPermSetPermissions(tenant: tenant, permSet: "DOCS", codes: ["docs"])
            let group = try await auth.createUserGroup(tenant: tenant, code: "STAFF", name: "Staff")
            try await auth.addUserToGroup(tenant: tenant, group: group, user: bob)
            try await auth.assignPermission(tenant: tenant, to: .group(group), grant: .permSet("DOCS"))
            try await auth.assignGroupOwner(tenant: tenant, group: group, user: bob)

            #expect(try await auth.hasPermission(tenant: tenant, user: bob, code: "docs.read"))
            #expect(try await !auth.hasPermission(tenant: tenant, user: bob, code: "billing"))
            #expect(try await auth.hasPermissions(tenant: tenant, user: bob, codes: ["billing", "docs"]))
            #expect(try await auth.userPermissions(tenant: tenant, user: bob) == ["docs", "docs.read"])
            #expect(try await auth.checkTenantAccess(tenant: tenant, user: bob))
            #expect(try await auth.isGroupOwner(tenant: tenant, group: group, user: bob))
            let doc = Resource(type: "doc", id: "d1")
            try await auth.grantResourcePermission(tenant: tenant, on: doc, code: "billing", to: .group(group))
            #expect(try await auth.hasResourcePermission(tenant: tenant, user: bob, on: doc, code: "billing"))
            try await auth.denyResourcePermission(tenant: tenant, on: doc, code: "docs", to: .user(bob))
            #expect(try await !auth.hasResourcePermission(tenant: tenant, user: bob, on: doc, code: "docs.read"))
            #expect(try await auth.filterResourceIDs(tenant: tenant, user: bob, type: "doc", ids: ["d1", "d2"], code: "docs.read") == ["d2"])
            #expect(try await auth.resourceGrants(tenant: tenant, on: doc).count == 2)
            #expect(try await auth.revokeResourcePermission(tenant: tenant, on: doc, code: "docs", from: .user(bob)))
            let key = try await auth.createAPIKey(tenant: tenant, name: "script", expiresAt: Date().addingTimeInterval(3600), codes: ["docs"])
            #expect(try await auth.authenticateAPIKey(key.secret)?.user == key.userID)
            try await auth.revokeAPIKey(tenant: tenant, key: key.id)
            let invitation = try await auth.createInvitation(tenant: tenant, email: "eve@example.com",
                                                             expiresAt: Date().addingTimeInterval(3600), group: group)
            #expect(try await auth.acceptInvitation(token: invitation.token, username: "eve").created)
            #expect(try await auth.listInvitations(tenant: tenant).count == 1)
            #expect(try await auth.listAPIKeys(tenant: tenant).count == 1)
            try await auth.requirePermission(tenant: tenant, user: owner, code: "billing")
            await expectError(.insufficientPrivilege) { try await auth.requirePermission(tenant: tenant, user: bob, code: "billing") }
            await expectError(.unknownPermission) { _ = try await auth.hasPermission(tenant: tenant, user: bob, code: "nope") }
            await expectError(.invalidPermissionCode) { _ = try await auth.hasPermission(tenant: tenant, user: bob, code: "No!") }

            try await auth.setUserPreference(user: bob, tenant: tenant, key: "theme", value: "dark")
            #expect(try await auth.userPreferences(user: bob, tenant: tenant) == ["theme": "dark"])
            #expect(try await auth.tenantUsers(tenant).count == 3, "owner, bob and eve; the revoked key's user is inactive")
            #expect(try await auth.tenantStatistics(tenant).userCount == 3)
            try await connection.withTransaction { connection in
                let auth = AuthClient(connection)
                try await auth.setTenantContext(tenant: tenant, user: bob)
                #expect(try await auth.currentTenant() == tenant)
                #expect(try await auth.currentActor() == bob)
                try await auth.deactivateUserGroup(tenant: tenant, group: group)
            }
            #expect(try await !auth.hasPermission(tenant: tenant, user: bob, code: "docs.read"))
            try await auth.activateUserGroup(tenant: tenant, group: group)
            try await auth.unassignPermission(tenant: tenant, from: .group(group), grant: .permSet("DOCS"))
            try await auth.removeUserFromGroup(tenant: tenant, group: group, user: bob)
            _ = try await auth.duplicatePermSet(from: tenant, to: nil, code: "DOCS")
            try await auth.transferTenantOwnership(tenant, to: bob)
            try await auth.removeUserFromTenant(tenant, user: owner)
            #expect(try await !auth.auditLog(tenant: tenant).isEmpty)
            try await auth.deleteUserGroup(tenant: tenant, group: group)
            try await auth.deletePermSet(tenant: tenant, code: "DOCS")
            try await auth.deactivateTenant(tenant)
            try await auth.deleteTenant(tenant)
            try await auth.deletePermission(code: "billing")

            // The planted tables stayed empty; ours hold the data.
            #expect(try await f.sql("SELECT count(*) FROM evil.tenant").scalar(Int.self) == 0)
            #expect(try await f.sql("SELECT count(*) FROM evil.resource_grant").scalar(Int.self) == 0)
            #expect(try await f.sql("SELECT count(*) FROM auth.user_info").scalar(Int.self) == 4, "owner, bob, eve and the key's user")
        }
    }

    @Test("change events ignore planted pg_notify and unnest, called from any search_path")
    func changeEventsIgnorePlantedObjects() async throws {
        try await AuthFixture.run { f in
            let connection = try await Self.hostileConnection(f)
            defer { Task { await connection.close() } }
            let listener = try await f.database.connect()
            defer { Task { await listener.close() } }
            let events = NotificationInbox(try await listener.listen("auth_access_changed"))
            let tenant = UUID(), user = UUID()
            try await connection.query("SELECT auth.notify_access_change(ARRAY[$1::pg_catalog.uuid], ARRAY[$2::pg_catalog.uuid])",
                                       [tenant, user])
            let payload = try #require(try await events.next()).payload
            #expect(payload.contains(tenant.uuidString.lowercased()) && payload.contains(user.uuidString.lowercased()))
        }
    }

    @Test("row-level isolation ignores planted objects too")
    func isolationIgnoresPlantedObjects() async throws {
        try await AuthFixture.run { f in
            let connection = try await Self.hostileConnection(f)
            defer { Task { await connection.close() } }
            let tenant = try await f.tenant()
            let bob = try await f.member(of: tenant, "bob")
            try await f.connection.execute(script: """
                CREATE TABLE public.note (tenant_id uuid NOT NULL, body text);
                CREATE INDEX ON public.note (tenant_id);
                CREATE ROLE note_reader_\(f.database.name) IN ROLE auth_app;
                GRANT SELECT ON public.note TO note_reader_\(f.database.name);
                """)
            try await f.auth.enableTenantIsolation(table: "public.note")
            try await f.sql("INSERT INTO public.note VALUES ($1, 'mine'), (gen_random_uuid(), 'theirs')", [tenant])
            // The superuser bypasses row-level security, so read as an ordinary role.
            let bodies = try await connection.withTransaction { connection in
                try await AuthClient(connection).setTenantContext(tenant: tenant, user: bob)
                try await connection.query("SET LOCAL ROLE note_reader_\(f.database.name)")
                return try await connection.query("SELECT body FROM public.note").rows.map { try $0.decode(String.self, at: 0) }
            }
            #expect(bodies == ["mine"])
        }
    }
}
