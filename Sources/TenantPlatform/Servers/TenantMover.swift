import Foundation
import LocalPostgres
import PQ

/// Moves a tenant's database to another server with PostgreSQL's own tools, as a sequence
/// of steps recorded in `platform.tenant_move`, so that a move interrupted at any point
/// (a crash, a full disk, a server that went away) is finished by running it again, or
/// undone with ``abort(slug:)`` until the registry has switched.
///
/// 1. `prepared`: the tenant's roles and an empty database exist on the new server.
/// 2. `frozen`: the old database is read-only (`default_transaction_read_only`) and the
///    tenant's sessions there are ended, so that nothing changes while it is copied. Checks
///    and other reads keep working; writes fail with SQLSTATE 25006 until the switch.
/// 3. `copied`: `pg_dump` of the old database restored into the new one in one transaction.
/// 4. `verified`: every table's row count and a checksum of every auth table agree on both
///    sides (a client that turned read-only off for its session and wrote anyway is caught
///    here, and the copy is made again).
/// 5. `switched`: the registry names the new server, in one audited change; the next lease of
///    every process opens its pool there.
/// 6. The old database and roles are dropped, and the move's row removed.
public struct TenantMover: Sendable {
    let platform: Platform
    /// Called as each step starts (progress display, tests; a throw stops the move there).
    public var beforeStep: @Sendable (Step) async throws -> Void

    public init(platform: Platform, beforeStep: @escaping @Sendable (Step) async throws -> Void = { _ in }) {
        self.platform = platform
        self.beforeStep = beforeStep
    }

    public enum Step: String, Sendable, CaseIterable, Comparable {
        case started, prepared, frozen, copied, verified, switched, cleaned

        public static func < (lhs: Self, rhs: Self) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    /// What a finished move took.
    public struct Report: Sendable {
        public let tenant: TenantHandle
        public let from: String
        public let to: String
        /// From the freeze to the switch: writes were refused for this long; reads went on.
        public let writesRefused: Duration
        public let duration: Duration
        /// Rows copied, all tables together.
        public let rows: Int
        /// How long each step done by this call took, in order.
        public let steps: [(step: Step, duration: Duration)]
    }

    /// Moves the tenant to the server named `target`, or finishes the move in progress.
    ///
    /// - Throws: ``PlatformError`` `.unknownTenant`, `.unknownServer`, `.serverNotActive` or
    ///   `.noCapacity` for the target, `.tenantExists` when the tenant is already there or a
    ///   move to another server is in progress, `.moveFailed` when a tool or the verification
    ///   fails (the move stays recorded; run it again, or abort it).
    @discardableResult
    public func move(slug: String, to target: String) async throws -> Report {
        let started = ContinuousClock.now
        var tenant = try await platform.directory.require(slug: slug)
        let destination = try await platform.servers.require(name: target)
        let progress = try await record(tenant, to: destination)
        guard progress.to == destination.id else {
            let other = try await platform.servers.require(id: progress.to)
            throw PlatformError(.tenantExists, "tenant '\(slug)' is being moved to server '\(other.name)'",
                                hint: "Finish that move (`pgperm tenant move \(slug) --to \(other.name)`) or abort it (`--abort`).")
        }
        let source = try await platform.servers.require(id: progress.from)
        var frozenAt = progress.frozenAt
        var rows = 0
        var steps: [(step: Step, duration: Duration)] = []
        for step in Step.allCases where step > progress.step {
            try await beforeStep(step)
            let stepStarted = ContinuousClock.now
            do {
                switch step {
                case .started: break
                case .prepared: try await prepare(tenant, on: destination)
                case .frozen:
                    try await setReadOnly(true, tenant.databaseName, on: source, endingSessionsOf: tenant.roleName)
                    await platform.connections.closePool(tenant: tenant.id)
                    frozenAt = Date()
                case .copied: try await copy(tenant, from: source, to: destination)
                case .verified: rows = try await verify(tenant, from: source, to: destination)
                case .switched: tenant = try await switchServer(tenant, from: source, to: destination)
                case .cleaned:
                    await platform.connections.closePool(tenant: tenant.id)
                    try await TenantLifecycle(platform: platform).dropDatabaseAndRoles(tenant.record, on: source)
                }
            } catch let error as PlatformError {
                throw error
            } catch {
                throw PlatformError(.moveFailed, "moving tenant '\(slug)' to '\(target)' failed at step \(step.rawValue): \(error)",
                                    hint: "Fix the cause and run the same move again (it resumes here), or abort it: "
                                        + "`pgperm tenant move \(slug) --abort`.")
            }
            try await advance(tenant.id, to: step, frozenAt: frozenAt)
            steps.append((step, ContinuousClock.now - stepStarted))
        }
        let refused = frozenAt.map { Duration.seconds(Date().timeIntervalSince($0)) } ?? .zero
        return Report(tenant: try await platform.directory.require(id: tenant.id), from: source.name, to: destination.name,
                      writesRefused: refused, duration: ContinuousClock.now - started, rows: rows, steps: steps)
    }

    /// Undoes a move that has not switched yet: the old database is writable again, and the
    /// copy on the new server is dropped.
    ///
    /// - Throws: ``PlatformError`` `.unknownTenant`, or `.notAssigned` when no move of the
    ///   tenant is in progress or it has switched already (run it again to finish).
    public func abort(slug: String) async throws {
        let tenant = try await platform.directory.require(slug: slug)
        guard let progress = try await current(tenant.id), progress.step < .switched else {
            throw PlatformError(.notAssigned, "no move of tenant '\(slug)' can be aborted",
                                hint: "Only a move that has not switched servers can be; a switched one finishes when run again.")
        }
        let source = try await platform.servers.require(id: progress.from)
        let destination = try await platform.servers.require(id: progress.to)
        try await setReadOnly(false, tenant.databaseName, on: source, endingSessionsOf: nil)
        try await TenantLifecycle(platform: platform).dropDatabaseAndRoles(tenant.record, on: destination)
        try await platform.changeMaster { tx in
            try await tx.query("DELETE FROM platform.tenant_move WHERE tenant_id = $1", [tenant.id])
            try await tx.audit("tenant.move_aborted", tenant: tenant.record, details: ["to": destination.name])
        }
    }

    // MARK: - The move's record

    private struct Progress {
        let from: ServerID
        let to: ServerID
        let step: Step
        let frozenAt: Date?
    }

    private func current(_ tenant: PlatformTenantID) async throws -> Progress? {
        try await platform.master.query("""
            SELECT from_server_id, to_server_id, step, frozen_at FROM platform.tenant_move WHERE tenant_id = $1
            """, [tenant]).rows.first.map { row in
            Progress(from: try row.decode(column: "from_server_id"), to: try row.decode(column: "to_server_id"),
                     step: Step(rawValue: try row.decode(column: "step")) ?? .started, frozenAt: try row.decode(column: "frozen_at"))
        }
    }

    /// The move in progress, or a new one after checking the target can take the tenant.
    private func record(_ tenant: TenantHandle, to destination: DatabaseServer) async throws -> Progress {
        if let progress = try await current(tenant.id) { return progress }
        guard tenant.server.id != destination.id else {
            throw PlatformError(.tenantExists, "tenant '\(tenant.slug)' is on server '\(destination.name)' already",
                                hint: "`pgperm server list` shows the other servers.")
        }
        guard tenant.status == .active || tenant.status == .inactive else {
            throw PlatformError(.tenantNotActive, "tenant '\(tenant.slug)' is \(tenant.status.rawValue)",
                                hint: "Finish its creation first: `pgperm tenant create --resume \(tenant.slug)`.")
        }
        try await platform.changeMaster { tx in
            _ = try await ServerRegistry(master: tx).place(on: destination.name)
            try await tx.query("""
                INSERT INTO platform.tenant_move (tenant_id, from_server_id, to_server_id, step) VALUES ($1, $2, $3, 'started')
                """, [tenant.id, tenant.server.id, destination.id])
            try await tx.audit("tenant.move_started", tenant: tenant.record,
                               details: ["from": tenant.server.name, "to": destination.name])
        }
        return Progress(from: tenant.server.id, to: destination.id, step: .started, frozenAt: nil)
    }

    /// Records a finished step; the last one removes the move's row.
    private func advance(_ tenant: PlatformTenantID, to step: Step, frozenAt: Date?) async throws {
        guard step != .cleaned else {
            try await platform.master.query("DELETE FROM platform.tenant_move WHERE tenant_id = $1", [tenant])
            return
        }
        try await platform.master.query("""
            UPDATE platform.tenant_move SET step = $2, frozen_at = $3, updated_at = now() WHERE tenant_id = $1
            """, [tenant, step.rawValue, frozenAt])
    }

    // MARK: - Steps

    /// The tenant's login role (same password, LOGIN only while the tenant is active) and
    /// its group roles.
    private func prepare(_ tenant: TenantHandle, on destination: DatabaseServer) async throws {
        let provisioner = TenantProvisioner(platform: platform)
        let roles = TenantRoles(login: tenant.roleName)
        try await platform.withAdminConnection(on: destination) { admin in
            try await provisioner.createLoginRole(tenant, on: admin)
            for group in [roles.admin, roles.app] where try await admin.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [group]).isEmpty {
                try await admin.query("CREATE ROLE \(quoteIdentifier(group)) NOLOGIN")
            }
            try await admin.query("GRANT \(quoteIdentifier(roles.app)) TO \(quoteIdentifier(roles.admin))")
            try await roles.confine(on: admin)
            if tenant.status != .active { try await admin.query("ALTER ROLE \(quoteIdentifier(tenant.roleName)) NOLOGIN") }
        }
    }

    /// Makes the database read-only for new transactions (or writable again) and ends the
    /// role's sessions in it, so none keeps writing in a transaction begun before.
    private func setReadOnly(_ readOnly: Bool, _ database: String, on server: DatabaseServer,
                             endingSessionsOf role: String?) async throws {
        try await platform.withAdminConnection(on: server) { admin in
            let name = quoteIdentifier(database)
            try await admin.query(readOnly ? "ALTER DATABASE \(name) SET default_transaction_read_only = on"
                                           : "ALTER DATABASE \(name) RESET default_transaction_read_only")
            if let role {
                try await admin.query("""
                    SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = $1 AND usename = $2
                    """, [database, role])
            }
        }
    }

    /// `pg_dump` of the old database into a private temporary file, restored in a single
    /// transaction into a new empty database (one left by an earlier attempt is dropped
    /// first). Objects belong to each server's own admin (`--no-owner`); grants to the
    /// tenant's roles are kept.
    private func copy(_ tenant: TenantHandle, from source: DatabaseServer, to destination: DatabaseServer) async throws {
        try await platform.withAdminConnection(on: destination) { admin in
            try await admin.query("DROP DATABASE IF EXISTS \(quoteIdentifier(tenant.databaseName)) WITH (FORCE)")
            try await admin.query("CREATE DATABASE \(quoteIdentifier(tenant.databaseName)) TEMPLATE template0")
            try await TenantProvisioner(platform: platform).confineDatabase(tenant, on: admin)
        }
        guard let dump = PostgresBinaries.client("pg_dump"), let restore = PostgresBinaries.client("pg_restore") else {
            throw PlatformError(.moveFailed, "pg_dump and pg_restore were not found",
                                hint: "Install the PostgreSQL client programs (Debian: postgresql-client), or set PGPERM_PG_BINDIR.")
        }
        let directory = FileManager.default.temporaryDirectory.appending(path: "pgperm-move-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: directory) }
        let archive = directory.appending(path: "tenant.dump").path
        let sourceLogin = try ClientLogin(platform: platform, server: source, database: tenant.databaseName, in: directory, name: "source")
        let destinationLogin = try ClientLogin(platform: platform, server: destination, database: tenant.databaseName, in: directory,
                                               name: "destination")
        try await runTool(dump.path, ["--format=custom", "--no-owner", "--file=\(archive)", "--dbname=\(sourceLogin.conninfo)"])
        try await runTool(restore.path, ["--no-owner", "--exit-on-error", "--single-transaction",
                                         "--dbname=\(destinationLogin.conninfo)", archive])
    }

    /// Row counts of every table and a checksum of every auth table, compared on both sides.
    /// Returns the number of rows.
    private func verify(_ tenant: TenantHandle, from source: DatabaseServer, to destination: DatabaseServer) async throws -> Int {
        let before = try await fingerprint(tenant.databaseName, on: source)
        let after = try await fingerprint(tenant.databaseName, on: destination)
        guard before == after else {
            let differing = Set(before.keys).union(after.keys).filter { before[$0] != after[$0] }.sorted()
            try await platform.master.query("UPDATE platform.tenant_move SET step = 'frozen' WHERE tenant_id = $1", [tenant.id])
            throw PlatformError(.moveFailed, "the copy of tenant '\(tenant.slug)' differs from the original in "
                                + differing.prefix(5).joined(separator: ", "),
                                hint: "Something wrote to the frozen database. Run the move again: it copies once more.")
        }
        return before.filter { $0.key.hasSuffix(" rows") }.values.reduce(0) { $0 + (Int($1) ?? 0) }
    }

    /// `<table> rows` → count for every table, `<table> hash` → checksum for auth tables.
    private func fingerprint(_ database: String, on server: DatabaseServer) async throws -> [String: String] {
        try await platform.withAdminConnection(on: server, database: database) { admin in
            try await admin.withTransaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") { admin in
                let tables = try await admin.query("""
                    SELECT format('%I.%I', n.nspname, c.relname), n.nspname = 'auth'
                      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                       AND n.nspname NOT LIKE 'pg\\_%' ORDER BY 1
                    """).rows.map { (try $0.decode(String.self, at: 0), try $0.decode(Bool.self, at: 1)) }
                var result: [String: String] = [:]
                for (table, isAuth) in tables {
                    result["\(table) rows"] = "\(try await admin.query("SELECT count(*) FROM \(table)").scalar(Int.self))"
                    if isAuth {
                        // A sum of row hashes: independent of row order, so no sort of the table.
                        result["\(table) hash"] = try await admin.query("""
                            SELECT coalesce(sum(hashtextextended(t::text, 0)), 0)::text FROM \(table) t
                            """).scalar(String.self)
                    }
                }
                return result
            }
        }
    }

    /// The registry names the new server; pools of this process close (others notice the
    /// new server at their next lease).
    private func switchServer(_ tenant: TenantHandle, from source: DatabaseServer, to destination: DatabaseServer) async throws -> TenantHandle {
        try await platform.changeMaster { tx in
            let directory = TenantDirectory(master: tx)
            try await directory.setServer(tenant.id, destination.id)
            try await tx.audit("tenant.move", tenant: tenant.record, details: ["from": source.name, "to": destination.name])
        }
        await platform.connections.closePool(tenant: tenant.id)
        return try await platform.directory.require(id: tenant.id)
    }

    /// Runs a client program off the cooperative thread pool; its output is the error's text.
    private func runTool(_ program: String, _ arguments: [String]) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            DispatchQueue.global().async {
                do {
                    try ProcessRunner.output(of: program, arguments)
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}

/// A conninfo for a client program that names a password file rather than holding the
/// password: a command line can be read by every local user, the file only by us.
private struct ClientLogin {
    let conninfo: String

    init(platform: Platform, server: DatabaseServer, database: String, in directory: URL, name: String) throws {
        var conninfo = server.address.conninfo(database: database, user: server.adminUser, password: nil)
        if let sealed = server.adminPasswordEncrypted {
            let password = try platform.configuration.cipher.open(sealed, context: server.adminSecretContext)
            let file = directory.appending(path: "\(name).pgpass")
            // host:port:database:user:password, with : and \ escaped.
            let line = ["*", "*", "*", "*", password].map {
                $0 == "*" ? $0 : $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: ":", with: "\\:")
            }.joined(separator: ":")
            FileManager.default.createFile(atPath: file.path, contents: Data((line + "\n").utf8),
                                           attributes: [.posixPermissions: 0o600])
            conninfo += " passfile=\(PlatformConfiguration.Server.quoted(file.path))"
        }
        self.conninfo = conninfo
    }
}
