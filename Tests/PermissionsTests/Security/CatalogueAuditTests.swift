import PQ
import Testing

/// Walks the system catalogue of an installed schema and fails on any object that breaks
/// the security rules, so a new function or table cannot silently skip them.
@Suite("Security: catalogue audit")
struct CatalogueAuditTests {
    /// Rows of a one-text-column query, for readable failure messages.
    static func names(_ f: AuthFixture, _ sql: String, _ binds: [any PostgresEncodable] = []) async throws -> [String] {
        try await f.sql(sql, binds).rows.map { try $0.decode(String.self, at: 0) }.sorted()
    }

    static let ourSchemas = "('auth'::regnamespace, 'pgperm'::regnamespace)"

    /// Internal helpers: callable by nobody but the schema owner.
    static let internalFunctions = [
        "auth.assert_code(text,text)", "auth.assert_given(anyelement,text)", "auth.assert_perm_code(text)",
        "auth.assert_tenant(uuid)", "auth.assert_tenant_member(uuid,uuid)", "auth.assert_user(uuid)",
        "auth.assert_user_group(uuid,uuid)", "auth.bcrypt_hash(text)", "auth.bcrypt_matches(text,text)",
        "auth.find_perm_set(uuid,text)", "auth.find_permission(text)", "auth.find_permissions(text[])",
        "auth.integer_setting(text,integer,integer,integer)", "auth.interval_setting(text,interval)",
        "auth.lock_tenants(uuid[])", "auth.pgcrypto_schema()", "auth.rebuild_permission_lookup()",
        "auth.resolve_assignment(uuid,uuid,uuid,text,text)", "auth.assert_page_size(integer)",
        "auth.assert_cursor(timestamptz,uuid,text)", "auth.assert_resource(text,text)",
        "auth.assert_resource_grantee(uuid,text,text,uuid,uuid)", "auth.set_resource_grant(uuid,text,text,text,uuid,uuid,boolean)",
        "auth.raise_invalid_declaration(text,text)", "auth.declaration_object(jsonb,text,text[],text[])",
        "auth.declaration_text(jsonb,text)", "auth.declaration_codes(jsonb,text)",
        // Second factors: the secret's sealing, the codes, the shared lockout.
        "auth.seal_secret(bytea)", "auth.unseal_secret(bytea)", "auth.totp_code(bytea,bigint)",
        "auth.totp_step(timestamp with time zone)", "auth.matching_totp_step(auth.user_totp,text)",
        "auth.base32(bytea)", "auth.uri_component(text)", "auth.typed_code(text)", "auth.renew_secret_pepper()",
        "auth.new_recovery_codes(uuid)", "auth.assert_second_factor_policy(text)", "auth.lockout_settings()",
        "auth.record_failed_login(auth.user_password,integer,interval)", "auth.reset_failed_logins(auth.user_password)",
    ]

    @Test("no function of auth or pgperm is executable by PUBLIC")
    func noPublicExecute() async throws {
        try await AuthFixture.run { f in
            let open = try await Self.names(f, """
                SELECT p.oid::regprocedure::text FROM pg_proc p
                WHERE p.pronamespace IN \(Self.ourSchemas) AND has_function_privilege('public', p.oid, 'EXECUTE')
                """)
            #expect(open == [])
            let total = try await f.sql("SELECT count(*) FROM pg_proc WHERE pronamespace IN \(Self.ourSchemas)").scalar(Int.self)
            #expect(total > 60, "the walk must see the installed functions")
        }
    }

    @Test("every SECURITY DEFINER function pins search_path to '' or ends it with pg_temp")
    func definersPinSearchPath() async throws {
        try await AuthFixture.run { f in
            let unpinned = try await Self.names(f, """
                SELECT p.oid::regprocedure::text FROM pg_proc p
                WHERE p.pronamespace IN \(Self.ourSchemas) AND p.prosecdef
                  AND NOT EXISTS (SELECT FROM unnest(p.proconfig) c
                                  WHERE c = 'search_path=""' OR c ~ '^search_path=.*pg_temp"?$')
                """)
            #expect(unpinned == [])
            #expect(try await f.sql("SELECT count(*) FROM pg_proc WHERE pronamespace = 'auth'::regnamespace AND prosecdef")
                .scalar(Int.self) > 30)
        }
    }

    @Test("only the schema-qualified hot-path functions run without a pinned search_path")
    func unpinnedFunctionsAreTheQualifiedOnes() async throws {
        try await AuthFixture.run { f in
            let unpinned = try await Self.names(f, """
                SELECT p.oid::regprocedure::text FROM pg_proc p
                WHERE p.pronamespace IN \(Self.ourSchemas)
                  AND NOT EXISTS (SELECT FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%')
                """)
            // Each of these qualifies every name, operators and types included (SearchPathTests
            // plants look-alikes to prove it): a SET clause would cost a GUC save per call or
            // prevent inlining.
            #expect(unpinned == [
                "auth.current_actor()", "auth.current_tenant_id()", "auth.has_permission(uuid,uuid,text)",
                "auth.has_resource_permission(uuid,uuid,text,text,text)", "auth.notify_access_change(uuid[],uuid[])",
                "auth.permission_ancestors(text)", "auth.require_permission(uuid,uuid,text)",
            ])
        }
    }

    @Test("every table, view, function and schema of ours has a COMMENT, and so do the roles")
    func everythingIsCommented() async throws {
        try await AuthFixture.run { f in
            let missing = try await Self.names(f, """
                SELECT c.oid::regclass::text FROM pg_class c
                WHERE c.relnamespace IN \(Self.ourSchemas) AND c.relkind IN ('r', 'p', 'v', 'm')
                  AND obj_description(c.oid, 'pg_class') IS NULL
                UNION ALL
                SELECT p.oid::regprocedure::text FROM pg_proc p
                WHERE p.pronamespace IN \(Self.ourSchemas) AND obj_description(p.oid, 'pg_proc') IS NULL
                UNION ALL
                SELECT n.nspname::text FROM pg_namespace n
                WHERE n.oid IN \(Self.ourSchemas) AND obj_description(n.oid, 'pg_namespace') IS NULL
                UNION ALL
                SELECT r.rolname::text FROM pg_roles r
                WHERE r.rolname IN ('auth_app', 'auth_admin') AND shobj_description(r.oid, 'pg_authid') IS NULL
                """)
            #expect(missing == [])
        }
    }

    @Test("every table with a tenant_id column has an index that starts with it")
    func tenantColumnsAreIndexed() async throws {
        try await AuthFixture.run { f in
            let query = """
                SELECT c.table_schema || '.' || c.table_name FROM information_schema.columns c
                WHERE c.table_schema = 'auth' AND c.column_name = 'tenant_id'
                  AND NOT EXISTS (
                      SELECT FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
                      WHERE i.indrelid = (quote_ident(c.table_schema) || '.' || quote_ident(c.table_name))::regclass
                        AND a.attname = c.column_name)
                """
            #expect(try await Self.names(f, query) == [])
            let scoped = try await f.sql("""
                SELECT count(*) FROM information_schema.columns WHERE table_schema = 'auth' AND column_name = 'tenant_id'
                """).scalar(Int.self)
            #expect(scoped >= 8, "the walk must see the tenant-scoped tables")
        }
    }

    @Test("the application role can read two tables, write none, and call only its functions")
    func applicationRoleIsLeast() async throws {
        try await AuthFixture.run { f in
            let writable = try await Self.names(f, """
                SELECT c.oid::regclass::text FROM pg_class c
                WHERE c.relnamespace IN \(Self.ourSchemas) AND c.relkind IN ('r', 'p', 'v')
                  AND has_table_privilege('auth_app', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')
                """)
            #expect(writable == [])
            let readable = try await Self.names(f, """
                SELECT c.oid::regclass::text FROM pg_class c
                WHERE c.relnamespace IN \(Self.ourSchemas) AND c.relkind IN ('r', 'p', 'v')
                  AND has_table_privilege('auth_app', c.oid, 'SELECT')
                """)
            #expect(readable == ["auth.effective_access", "auth.permission", "auth.resource_grant"])
            let callable = try await Self.names(f, """
                SELECT p.oid::regprocedure::text FROM pg_proc p
                WHERE p.pronamespace IN \(Self.ourSchemas) AND has_function_privilege('auth_app', p.oid, 'EXECUTE')
                """)
            #expect(callable == [
                "auth.authenticate_api_key(text)", "auth.can_access_resource(text,text,text)",
                "auth.check_tenant_access(uuid,uuid)", "auth.current_actor()", "auth.current_tenant_id()",
                "auth.delete_user_preference(uuid,uuid,text)", "auth.filter_resource_ids(uuid,uuid,text,text[],text)",
                "auth.get_second_factor(uuid)", "auth.get_second_factor_policy(uuid)",
                "auth.get_tenant_by_code(text)", "auth.get_tenant_statistics(uuid)",
                "auth.get_tenant_user(uuid,uuid)", "auth.get_tenant_users(uuid,boolean)", "auth.get_user_by_identity(text,text)",
                "auth.get_user_permissions(uuid,uuid)",
                "auth.get_user_preferences(uuid,uuid)", "auth.has_permission(uuid,uuid,text)",
                "auth.has_permissions(uuid,uuid,text[],boolean)",
                "auth.has_resource_permission(uuid,uuid,text,text,text)", "auth.is_group_owner(uuid,uuid,uuid)",
                "auth.list_permissions(integer,text)", "auth.list_tenant_users(uuid,text,boolean,integer,text)",
                "auth.lookup_permission_ancestors(text)", "auth.permission_ancestors(text)", "auth.raise_permission_not_found(text)",
                "auth.require_permission(uuid,uuid,text)", "auth.second_factor_step(uuid,uuid)", "auth.set_actor(uuid)",
                "auth.set_tenant_context(uuid,uuid)", "auth.set_user_preference(uuid,uuid,text,text)",
                "auth.verify_second_factor(uuid,text)", "auth.verify_user_password(text,text)",
            ])
        }
    }

    @Test("neither role can call internal helpers, trigger functions or the bookkeeping")
    func internalsAreClosed() async throws {
        try await AuthFixture.run { f in
            for role in ["auth_app", "auth_admin"] {
                let callable = try await Self.names(f, """
                    SELECT p.oid::regprocedure::text FROM pg_proc p
                    WHERE p.pronamespace IN \(Self.ourSchemas) AND has_function_privilege('\(role)', p.oid, 'EXECUTE')
                      AND (p.prorettype = 'trigger'::regtype OR p.pronamespace = 'pgperm'::regnamespace
                           OR p.oid::regprocedure::text = ANY ($1))
                    """, [Self.internalFunctions])
                #expect(callable == [], "\(role)")
            }
            let writableByAdmin = try await Self.names(f, """
                SELECT c.oid::regclass::text FROM pg_class c
                WHERE c.relnamespace IN \(Self.ourSchemas) AND c.relkind = 'r'
                  AND has_table_privilege('auth_admin', c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE')
                """)
            #expect(!writableByAdmin.contains("auth.effective_access"))
            #expect(!writableByAdmin.contains("auth.audit_log"))
            #expect(!writableByAdmin.contains("pgperm.applied_file"))
            #expect(writableByAdmin.contains("auth.tenant"))
        }
    }

    @Test("no role reads or writes a password hash; the admin role reads the lockout columns")
    func passwordHashesAreClosed() async throws {
        try await AuthFixture.run { f in
            for role in ["auth_app", "auth_admin"] {
                let hashAccess = try await f.sql("""
                    SELECT has_column_privilege($1, 'auth.user_password', 'password_hash', 'SELECT, INSERT, UPDATE, REFERENCES')
                        OR has_table_privilege($1, 'auth.user_password', 'SELECT, INSERT, UPDATE, DELETE, TRUNCATE')
                    """, [role]).scalar(Bool.self)
                #expect(!hashAccess, "\(role)")
            }
            #expect(try await f.sql("""
                SELECT has_column_privilege('auth_admin', 'auth.user_password', 'locked_until', 'SELECT')
                   AND NOT has_column_privilege('auth_app', 'auth.user_password', 'locked_until', 'SELECT')
                """).scalar(Bool.self))
        }
    }
}
