import PQ

/// Compares the registry with every database server: what one knows and the other does not,
/// and where a tenant's role reaches beyond its own database.
public struct PlatformDoctor: Sendable {
    let platform: Platform

    public init(platform: Platform) {
        self.platform = platform
    }

    public struct Finding: Sendable, Equatable, CustomStringConvertible {
        public enum Kind: String, Sendable {
            case unknownDatabase = "database not in the registry"
            case unknownRole = "role not in the registry"
            case missingDatabase = "registered tenant without its database"
            case unfinished = "tenant creation not finished"
            case foreignDatabase = "tenant roles may connect to a database not their own"
            case sharedRole = "tenant role is a member of a role outside its tenant"
            case unreachableServer = "database server does not answer"
        }
        public let kind: Kind
        /// The database server it was found on.
        public var server: String = ""
        public let name: String
        public let advice: String
        public var description: String { "\(kind.rawValue) (server \(server)): \(name). \(advice)" }

        init(kind: Kind, name: String, advice: String) {
            self.kind = kind
            self.name = name
            self.advice = advice
        }
    }

    /// Databases and roles with the tenant prefix that the registry does not know (the
    /// template's excepted), registry rows whose database is missing, unfinished creations,
    /// every database other than its own that a tenant's login role may connect to, and every
    /// role outside its tenant that it is a member of.
    ///
    /// Each server is examined with the tenants registered on it; one that does not answer is
    /// a finding of its own and does not stop the others'.
    public func examine() async throws -> [Finding] {
        var findings: [Finding] = []
        for server in try await platform.servers.all() {
            let tenants = try await platform.directory.all(on: server.id).map(\.record)
            // A move in progress has made (or will make) the tenant's roles and database here.
            let movingIn = try await platform.master.query("""
                SELECT t.tenant_id FROM platform.tenant_move m JOIN platform.tenant t USING (tenant_id) WHERE m.to_server_id = $1
                """, [server.id]).rows.map { try $0.decode(PlatformTenantID.self, at: 0) }
            var moving: [TenantRecord] = []
            for id in movingIn { moving.append(try await platform.directory.require(id: id).record) }
            var found: [Finding]
            do {
                found = try await platform.withAdminConnection(on: server) { admin in
                    try await registryMismatches(tenants, movingIn: moving, on: admin)
                        + foreignDatabases(tenants, on: admin)
                        + sharedRoles(tenants, on: admin)
                }
            } catch let error as PostgresError where error.isServerUnreachable {
                found = [Finding(kind: .unreachableServer, name: "\(server.address.host):\(server.address.port) (\(error.message))",
                                 advice: server.status == .down ? "It is marked down; `pgperm server update \(server.name) --status active` once it is back."
                                     : "Start it, or mark it down (`pgperm server update \(server.name) --status down`) so its tenants fail fast.")]
            }
            findings += found.map { finding in
                var finding = finding
                finding.server = server.name
                return finding
            }
        }
        return findings
    }

    private func registryMismatches(_ tenants: [TenantRecord], movingIn: [TenantRecord], on admin: Connection) async throws -> [Finding] {
        let prefix = platform.configuration.tenantDatabasePrefix
        let template = TenantNames.templateDatabase(prefix: prefix)
        let pattern = prefix.replacingOccurrences(of: "_", with: "\\_") + "\\_%"
        let databases = Set(try await admin.query("SELECT datname::text FROM pg_database WHERE datname LIKE $1", [pattern])
            .rows.map { try $0.decode(String.self, at: 0) })
        let roles = Set(try await admin.query("SELECT rolname::text FROM pg_roles WHERE rolname LIKE $1", [pattern])
            .rows.map { try $0.decode(String.self, at: 0) })
        let knownDatabases = Set((tenants + movingIn).map(\.databaseName)).union([template])
        let knownRoles = Set((tenants + movingIn).flatMap { TenantRoles(login: $0.roleName).all } + TenantRoles(template: template).all)

        var findings = databases.subtracting(knownDatabases).sorted().map {
            Finding(kind: .unknownDatabase, name: $0, advice: "Drop it if it is a leftover: DROP DATABASE \(quoteIdentifier($0)) WITH (FORCE);")
        }
        findings += roles.subtracting(knownRoles).sorted().map {
            Finding(kind: .unknownRole, name: $0, advice: "Drop it if it is a leftover: DROP ROLE \(quoteIdentifier($0));")
        }
        for tenant in tenants {
            if tenant.status == .provisioning || tenant.status == .failed {
                findings.append(Finding(kind: .unfinished, name: tenant.slug,
                                        advice: "`pgperm tenant create --resume \(tenant.slug)` finishes it; `pgperm tenant delete \(tenant.slug)` removes it."))
            } else if !databases.contains(tenant.databaseName) {
                findings.append(Finding(kind: .missingDatabase, name: "\(tenant.slug) (\(tenant.databaseName))",
                                        advice: "Restore the database from a backup, or `pgperm tenant delete \(tenant.slug)`."))
            }
        }
        return findings
    }

    /// One finding per database that some tenant login role may connect to besides its own:
    /// through PUBLIC (PostgreSQL's default for every database it did not create itself, such
    /// as `postgres`) or through a grant to the role or a role it is a member of.
    private func foreignDatabases(_ tenants: [TenantRecord], on admin: Connection) async throws -> [Finding] {
        let rows = try await admin.query("""
            SELECT d.datname, d.through_public, array_agg(r.rolname::text ORDER BY r.rolname) AS roles
              FROM unnest($1::text[], $2::text[]) AS t(role, own)
              JOIN pg_roles r ON r.rolname = t.role
              JOIN (SELECT oid, datname::text, datallowconn,
                           EXISTS (SELECT FROM aclexplode(coalesce(datacl, acldefault('d', datdba))) a
                                    WHERE a.grantee = 0 AND a.privilege_type = 'CONNECT') AS through_public
                      FROM pg_database) d
                ON d.datallowconn AND d.datname <> t.own AND has_database_privilege(r.oid, d.oid, 'CONNECT')
             GROUP BY d.datname, d.through_public ORDER BY d.datname
            """, [tenants.map(\.roleName), tenants.map(\.databaseName)])
        return try rows.rows.map { row in
            let database: String = try row.decode(column: "datname")
            let roles: [String] = try row.decode(column: "roles")
            let quoted = quoteIdentifier(database)
            if try row.decode(Bool.self, column: "through_public") {
                return Finding(kind: .foreignDatabase, name: "\(database) (every role may connect: CONNECT is granted to PUBLIC)",
                               advice: "REVOKE CONNECT, TEMPORARY ON DATABASE \(quoted) FROM PUBLIC; then GRANT CONNECT ON DATABASE \(quoted) to the roles that use it.")
            }
            return Finding(kind: .foreignDatabase, name: "\(database) (\(roles.joined(separator: ", ")))",
                           advice: "Revoke CONNECT on it from these roles, or from the role that grants it to them: "
                               + "REVOKE CONNECT ON DATABASE \(quoted) FROM \(roles.map(quoteIdentifier).joined(separator: ", "));")
        }
    }

    /// One finding per role outside its tenant (not its own admin or app role) that a tenant
    /// login role is a member of, directly or through another role: its rights reach every
    /// database that grants that role anything.
    private func sharedRoles(_ tenants: [TenantRecord], on admin: Connection) async throws -> [Finding] {
        let roles = tenants.map { TenantRoles(login: $0.roleName) }
        let rows = try await admin.query("""
            SELECT t.login, g.rolname::text
              FROM unnest($1::text[], $2::text[], $3::text[]) AS t(login, admin, app)
              JOIN pg_roles r ON r.rolname = t.login
              JOIN pg_roles g ON g.oid <> r.oid AND g.rolname NOT IN (t.admin, t.app) AND pg_has_role(r.oid, g.oid, 'MEMBER')
             ORDER BY 1, 2
            """, [roles.compactMap(\.login), roles.map(\.admin), roles.map(\.app)])
        return try rows.rows.map { row in
            let login = try row.decode(String.self, at: 0)
            let group = try row.decode(String.self, at: 1)
            return Finding(kind: .sharedRole, name: "\(login) is a member of \(group)",
                           advice: "`pgperm migrate` confines every tenant's roles again; by hand: REVOKE \(quoteIdentifier(group)) FROM \(quoteIdentifier(login)); "
                               + "(for a membership through another role, revoke that one).")
        }
    }
}
