import Foundation
import LocalPostgres
import PQ

/// Moves a tenant's database to another server with PostgreSQL's own tools, as a sequence
/// of steps recorded in `platform.tenant_move`, so that a move interrupted at any point
/// (a crash, a full disk, a server that went away) is finished by running it again, or
/// undone with ``abort(slug:)`` until the registry has switched.
///
/// 1. `prepared`: the tenant's roles exist on the new server, made by this move (an existing
///    role of the same name is refused, never adopted).
/// 2. `frozen`: the old database is read-only for new transactions
///    (`default_transaction_read_only`) and every session in it is ended, so that nothing
///    changes while it is copied. New reads work; writes fail with SQLSTATE 25006.
/// 3. `copied`: `pg_dump` of the old database restored in one transaction into a database
///    this move creates on the new server (marked with the move's id: nothing else is ever
///    dropped there, and a "new" server that is the old one under another address is found).
/// 4. `switched`: every table of the old database locked against writes (by any role, read-only
///    setting or not); row counts and checksums compared on both sides; then the registry names
///    the new server, in the same master transaction as this step's record. The next lease of
///    every process opens its pool there.
/// 5. The old database and roles are dropped, and the move's row removed.
///
/// One move or abort of a tenant runs at a time (a session advisory lock on the master).
public struct TenantMover: Sendable {
    let platform: Platform
    /// Called as each step starts (progress display, tests; a throw stops the move there).
    public var beforeStep: @Sendable (Step) async throws -> Void

    public init(platform: Platform, beforeStep: @escaping @Sendable (Step) async throws -> Void = { _ in }) {
        self.platform = platform
        self.beforeStep = beforeStep
    }

    public enum Step: String, Sendable, CaseIterable, Comparable {
        case started, prepared, frozen, copied, switched, cleaned

        public static func < (lhs: Self, rhs: Self) -> Bool {
            allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
        }
    }

    /// What a finished move took.
    public struct Report: Sendable {
        public let tenant: TenantHandle
        public let from: String
        public let to: String
        /// From the freeze to the switch: writes were refused for this long.
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
    ///   move to another server is in progress, `.moveInProgress` when another process is
    ///   moving it right now, `.moveFailed` when a tool, a check or the verification fails
    ///   (the move stays recorded; run it again, or abort it).
    @discardableResult
    public func move(slug: String, to target: String) async throws -> Report {
        let started = ContinuousClock.now
        return try await withMoveLock(slug: slug) { tenant in
            var tenant = tenant
            let destination = try await platform.servers.require(name: target)
            let progress = try await record(tenant, to: destination)
            guard progress.to == destination.id else {
                let other = try await platform.servers.require(id: progress.to)
                throw PlatformError(.tenantExists, "tenant '\(slug)' is being moved to server '\(other.name)'",
                                    hint: "Finish that move (`pgperm tenant move \(slug) --to \(other.name)`) or abort it (`--abort`).")
            }
            let source = try await platform.servers.require(id: progress.from)
            let move = Move(tenant: tenant, id: progress.id, source: source, destination: destination)
            var frozenAt = progress.frozenAt
            var refused = Duration.zero
            var rows = 0
            var steps: [(step: Step, duration: Duration)] = []
            var done = progress.step
            for step in Step.allCases where step > done {
                try await beforeStep(step)
                let stepStarted = ContinuousClock.now
                do {
                    switch step {
                    case .started: break
                    case .prepared: try await prepare(move)
                    case .frozen:
                        try await freeze(move)
                        frozenAt = Date()
                    case .copied: try await copy(move)
                    case .switched:
                        (tenant, rows) = try await verifyAndSwitch(move)
                        refused = frozenAt.map { Duration.seconds(Date().timeIntervalSince($0)) } ?? .zero
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
                if step != .switched { try await advance(move, from: done, to: step, frozenAt: frozenAt) }
                done = step
                steps.append((step, ContinuousClock.now - stepStarted))
            }
            return Report(tenant: try await platform.directory.require(id: tenant.id), from: source.name, to: destination.name,
                          writesRefused: refused, duration: ContinuousClock.now - started, rows: rows, steps: steps)
        }
    }

    /// Undoes a move that has not switched yet: the old database is writable again (sessions
    /// opened read-only during the freeze are ended), and what the move made on the new
    /// server is dropped.
    ///
    /// - Throws: ``PlatformError`` `.unknownTenant`, `.moveInProgress`, or `.notAssigned` when
    ///   no move of the tenant is in progress or it has switched already (run it to finish).
    public func abort(slug: String) async throws {
        try await withMoveLock(slug: slug) { tenant in
            guard let progress = try await current(tenant.id), progress.step < .switched, tenant.server.id == progress.from else {
                throw PlatformError(.notAssigned, "no move of tenant '\(slug)' can be aborted",
                                    hint: "Only a move that has not switched servers can be; a switched one finishes when run again.")
            }
            let source = try await platform.servers.require(id: progress.from)
            let destination = try await platform.servers.require(id: progress.to)
            let move = Move(tenant: tenant, id: progress.id, source: source, destination: destination)
            try await platform.withAdminConnection(on: source) { admin in
                try await admin.query("ALTER DATABASE \(quoteIdentifier(tenant.databaseName)) RESET default_transaction_read_only")
                try await Self.endSessions(in: tenant.databaseName, on: admin)
            }
            await platform.connections.closePool(tenant: tenant.id)
            try await dropOwnCopy(move)
            try await platform.changeMaster { tx in
                try await tx.query("DELETE FROM platform.tenant_move WHERE tenant_id = $1", [tenant.id])
                try await tx.audit("tenant.move_aborted", tenant: tenant.record, details: ["to": destination.name])
            }
        }
    }

    // MARK: - One move at a time

    /// Runs `body` holding a session advisory lock on the tenant, on a master connection of
    /// its own, so a second `move` or an `abort` elsewhere fails at once instead of racing.
    private func withMoveLock<T: Sendable>(slug: String, _ body: (TenantHandle) async throws -> T) async throws -> T {
        let tenant = try await platform.directory.require(slug: slug)
        let lock = try await Connection.connect(platform.configuration.masterConninfo, logger: platform.logger)
        do {
            let acquired = try await lock.query("SELECT pg_try_advisory_lock(hashtextextended('pgperm.move:' || $1, 0))",
                                                [tenant.id.description]).scalar(Bool.self)
            guard acquired else {
                throw PlatformError(.moveInProgress, "tenant '\(slug)' is being moved or its move aborted by another process",
                                    hint: "Wait for it to finish; `pgperm tenant show \(slug)` shows the server.")
            }
            // Read again under the lock: the move that held it may have switched the tenant.
            let value = try await body(try await platform.directory.require(id: tenant.id))
            await lock.close()
            return value
        } catch {
            await lock.close()
            throw error
        }
    }

    // MARK: - The move's record

    /// The move in progress: its ids, servers, last step recorded.
    private struct Progress {
        let id: UUID
        let from: ServerID
        let to: ServerID
        let step: Step
        let frozenAt: Date?
    }

    /// What every step needs.
    private struct Move {
        let tenant: TenantHandle
        let id: UUID
        let source: DatabaseServer
        let destination: DatabaseServer
        /// The COMMENT this move writes on what it creates on the new server.
        var marker: String { "pgperm tenant \(tenant.slug), move \(id.uuidString.lowercased())" }
    }

    private func current(_ tenant: PlatformTenantID) async throws -> Progress? {
        try await platform.master.query("""
            SELECT move_id, from_server_id, to_server_id, step, frozen_at FROM platform.tenant_move WHERE tenant_id = $1
            """, [tenant]).rows.first.map { row in
            Progress(id: try row.decode(column: "move_id"), from: try row.decode(column: "from_server_id"),
                     to: try row.decode(column: "to_server_id"),
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
        return try await current(tenant.id)!
    }

    /// Records a finished step, only from the step this run found (the move lock makes any
    /// other case a bug, which this turns into an error rather than a silent overwrite); the
    /// last one removes the move's row.
    private func advance(_ move: Move, from done: Step, to step: Step, frozenAt: Date?) async throws {
        let changed = step == .cleaned
            ? try await platform.master.query("DELETE FROM platform.tenant_move WHERE tenant_id = $1 AND step = $2",
                                              [move.tenant.id, done.rawValue]).affectedRows
            : try await platform.master.query("""
                UPDATE platform.tenant_move SET step = $3, frozen_at = $4, updated_at = now() WHERE tenant_id = $1 AND step = $2
                """, [move.tenant.id, done.rawValue, step.rawValue, frozenAt]).affectedRows
        guard changed == 1 else {
            throw PlatformError(.moveInProgress, "the move of tenant '\(move.tenant.slug)' was changed by someone else",
                                hint: "`pgperm tenant show \(move.tenant.slug)` shows where it is; run the move again to finish it.")
        }
    }

    // MARK: - Steps

    /// The tenant's login role (same password, LOGIN only while the tenant is active) and its
    /// group roles, each made by this move: a role of the same name made by someone else
    /// could hold memberships that reach the tenant's data, so it is refused, not adopted.
    private func prepare(_ move: Move) async throws {
        let tenant = move.tenant
        let roles = TenantRoles(login: tenant.roleName)
        try await platform.withAdminConnection(on: move.destination) { admin in
            let foreign = try await admin.query("""
                SELECT rolname::text FROM pg_roles
                 WHERE rolname = ANY ($1) AND coalesce(shobj_description(oid, 'pg_authid'), '') <> $2
                """, [roles.all, move.marker]).rows.map { try $0.decode(String.self, at: 0) }
            guard foreign.isEmpty else {
                throw PlatformError(.moveFailed, "role(s) \(foreign.joined(separator: ", ")) already exist on server '\(move.destination.name)'",
                                    hint: "A move never adopts roles it did not make. Drop them if they are leftovers, or pick another server.")
            }
            try await TenantProvisioner(platform: platform).createLoginRole(tenant, on: admin)
            for group in [roles.admin, roles.app] where try await admin.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [group]).isEmpty {
                try await admin.query("CREATE ROLE \(quoteIdentifier(group)) NOLOGIN")
            }
            for role in roles.all {
                try await admin.query("COMMENT ON ROLE \(quoteIdentifier(role)) IS \(quoteLiteral(move.marker))")
            }
            try await admin.query("GRANT \(quoteIdentifier(roles.app)) TO \(quoteIdentifier(roles.admin))")
            try await roles.confine(on: admin)
            if tenant.status != .active { try await admin.query("ALTER ROLE \(quoteIdentifier(tenant.roleName)) NOLOGIN") }
        }
    }

    /// Read-only for new transactions, and every session in the database ended (the tenant
    /// role's, and any other: an admin's `migrate` would keep writing otherwise).
    private func freeze(_ move: Move) async throws {
        try await platform.withAdminConnection(on: move.source) { admin in
            try await admin.query("ALTER DATABASE \(quoteIdentifier(move.tenant.databaseName)) SET default_transaction_read_only = on")
            try await Self.endSessions(in: move.tenant.databaseName, on: admin)
        }
        await platform.connections.closePool(tenant: move.tenant.id)
    }

    private static func endSessions(in database: String, on admin: Connection) async throws {
        try await admin.query("""
            SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()
            """, [database])
    }

    /// `pg_dump` of the old database into a private folder, restored in a single transaction
    /// into a database this move creates on the new server (after dropping the one an earlier
    /// attempt of this very move left). The database's own settings (`ALTER DATABASE ... SET`,
    /// such as `auth.max_failed_logins`) are carried over; objects belong to each server's own
    /// admin (`--no-owner`); grants to the tenant's roles are kept.
    private func copy(_ move: Move) async throws {
        guard let dump = PostgresBinaries.client("pg_dump"), let restore = PostgresBinaries.client("pg_restore") else {
            throw PlatformError(.moveFailed, "pg_dump and pg_restore were not found",
                                hint: "Install the PostgreSQL client programs (Debian: postgresql-client), or set PGPERM_PG_BINDIR.")
        }
        let database = move.tenant.databaseName
        let settings = try await platform.withAdminConnection(on: move.source) { admin in
            try await admin.query("""
                SELECT unnest(s.setconfig) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase
                 WHERE d.datname = $1 AND s.setrole = 0
                """, [database]).rows.map { try $0.decode(String.self, at: 0) }
                .filter { !$0.hasPrefix("default_transaction_read_only=") }
        }
        try await dropOwnCopy(move)
        try await platform.withAdminConnection(on: move.destination) { admin in
            try await admin.query("CREATE DATABASE \(quoteIdentifier(database)) TEMPLATE template0")
            try await TenantProvisioner(platform: platform).confineDatabase(move.tenant, on: admin, comment: move.marker)
            for setting in settings {
                let parts = setting.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { continue }
                try await admin.query("ALTER DATABASE \(quoteIdentifier(database)) SET \(quoteIdentifier(parts[0])) = \(quoteLiteral(parts[1]))")
            }
        }
        // One folder per tenant, so a crashed attempt's dump and password files are removed
        // by the next (the move lock keeps two runs of one tenant apart).
        let directory = FileManager.default.temporaryDirectory.appending(path: "pgperm-move-\(move.tenant.id)")
        try? FileManager.default.removeItem(at: directory)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: directory) }
        let archive = directory.appending(path: "tenant.dump").path
        let from = try ClientLogin(platform: platform, server: move.source, database: database, in: directory, name: "source")
        let to = try ClientLogin(platform: platform, server: move.destination, database: database, in: directory, name: "destination")
        try await runTool(dump.path, ["--format=custom", "--no-owner", "--file=\(archive)", "--dbname=\(from.conninfo)"])
        try await runTool(restore.path, ["--no-owner", "--exit-on-error", "--single-transaction", "--dbname=\(to.conninfo)", archive])
    }

    /// Drops the tenant's database on the new server if this move made it (its COMMENT holds
    /// the move's marker). Any other database of that name is refused: it is someone else's,
    /// or the "new" server is the old one under another address.
    private func dropOwnCopy(_ move: Move) async throws {
        try await platform.withAdminConnection(on: move.destination) { admin in
            let comment = try await admin.query("""
                SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = $1
                """, [move.tenant.databaseName]).rows.first.map { try $0.decode(String.self, at: 0) }
            guard let comment else { return }
            guard comment == move.marker else {
                throw PlatformError(.moveFailed,
                                    "server '\(move.destination.name)' has a database \(move.tenant.databaseName) this move did not make",
                                    hint: "Is '\(move.destination.name)' the tenant's own server under another address? A move never drops "
                                        + "what it did not create: abort it (`pgperm tenant move \(move.tenant.slug) --abort`).")
            }
            try await admin.query("DROP DATABASE \(quoteIdentifier(move.tenant.databaseName)) WITH (FORCE)")
        }
    }

    /// With every table of the old database locked against writes (SHARE mode: reads go on,
    /// no role can write, whatever its read-only setting), compares both sides and switches
    /// the registry in the same master transaction as the step's record. Returns the tenant
    /// as it is now and the number of rows.
    private func verifyAndSwitch(_ move: Move) async throws -> (TenantHandle, Int) {
        let tenant = move.tenant
        let rows = try await platform.withAdminConnection(on: move.source, database: tenant.databaseName) { source in
            // READ COMMITTED: each statement after the lock sees everything committed before it.
            try await source.withTransaction(begin: "BEGIN READ WRITE") { source in
                let tables = try await Self.tables(on: source)
                if !tables.isEmpty {
                    try await source.query("LOCK TABLE \(tables.map(\.name).joined(separator: ", ")) IN SHARE MODE")
                }
                let before = try await Self.fingerprint(tables, on: source)
                let after = try await platform.withAdminConnection(on: move.destination, database: tenant.databaseName) { destination in
                    try await destination.withTransaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ") { destination in
                        try await Self.fingerprint(try await Self.tables(on: destination), on: destination)
                    }
                }
                guard before == after else {
                    let differing = Set(before.keys).union(after.keys).filter { before[$0] != after[$0] }.sorted()
                    try await platform.master.query("UPDATE platform.tenant_move SET step = 'frozen' WHERE tenant_id = $1", [tenant.id])
                    throw PlatformError(.moveFailed, "the copy of tenant '\(tenant.slug)' differs from the original in "
                                        + differing.prefix(5).joined(separator: ", "),
                                        hint: "Something wrote to the frozen database. Run the move again: it copies once more.")
                }
                try await platform.changeMaster { tx in
                    let switched = try await tx.query("""
                        UPDATE platform.tenant_move SET step = 'switched', updated_at = now() WHERE tenant_id = $1 AND step = 'copied'
                        """, [tenant.id]).affectedRows
                    guard switched == 1 else {
                        throw PlatformError(.moveInProgress, "the move of tenant '\(tenant.slug)' was changed by someone else",
                                            hint: "Run the move again to finish it.")
                    }
                    try await TenantDirectory(master: tx).setServer(tenant.id, move.destination.id)
                    try await tx.audit("tenant.move", tenant: tenant.record,
                                       details: ["from": move.source.name, "to": move.destination.name])
                }
                return before.filter { $0.key.hasSuffix(" rows") }.values.reduce(0) { $0 + (Int($1) ?? 0) }
            }
        }
        await platform.connections.closePool(tenant: tenant.id)
        return (try await platform.directory.require(id: tenant.id), rows)
    }

    /// Every ordinary table, quoted, and whether it belongs to the auth schema.
    private static func tables(on connection: Connection) async throws -> [(name: String, isAuth: Bool)] {
        try await connection.query("""
            SELECT format('%I.%I', n.nspname, c.relname), n.nspname = 'auth'
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
               AND n.nspname NOT LIKE 'pg\\_%' ORDER BY 1
            """).rows.map { (try $0.decode(String.self, at: 0), try $0.decode(Bool.self, at: 1)) }
    }

    /// `<table> rows` → count for every table, `<table> hash` → a sum of row hashes (order
    /// does not matter, so nothing is sorted) for every table of the auth schema. Row texts
    /// are made under fixed settings, so two servers configured differently still agree.
    private static func fingerprint(_ tables: [(name: String, isAuth: Bool)], on connection: Connection) async throws -> [String: String] {
        for setting in ["TimeZone = 'UTC'", "DateStyle = 'ISO, YMD'", "IntervalStyle = 'postgres'", "extra_float_digits = 3",
                        "bytea_output = 'hex'"] {
            try await connection.query("SET LOCAL \(setting)")
        }
        var result: [String: String] = [:]
        for (table, isAuth) in tables {
            result["\(table) rows"] = "\(try await connection.query("SELECT count(*) FROM \(table)").scalar(Int.self))"
            if isAuth {
                result["\(table) hash"] = try await connection.query("""
                    SELECT coalesce(sum(hashtextextended(t::text, 0)), 0)::text FROM \(table) t
                    """).scalar(String.self)
            }
        }
        return result
    }

    /// Runs a client program off the cooperative thread pool, with an environment of its own:
    /// no `PG*` variable of this process (PGPASSWORD would win over the password file,
    /// PGOPTIONS change the session) and no `TENANT_ENCRYPTION_KEY`.
    private func runTool(_ program: String, _ arguments: [String]) async throws {
        let environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "LC_ALL": "C"]
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            DispatchQueue.global().async {
                do {
                    try ProcessRunner.output(of: program, arguments, environment: environment)
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
        let login = try platform.configuration.adminLogin(of: server)
        var conninfo = platform.configuration.address(of: server).conninfo(database: database, user: login.user, password: nil)
        if let password = login.password {
            let file = directory.appending(path: "\(name).pgpass")
            // host:port:database:user:password, with : and \ escaped.
            let escaped = password.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: ":", with: "\\:")
            guard FileManager.default.createFile(atPath: file.path, contents: Data("*:*:*:*:\(escaped)\n".utf8),
                                                 attributes: [.posixPermissions: 0o600]) else {
                throw PlatformError(.moveFailed, "could not write the password file \(file.path)",
                                    hint: "Check that the temporary directory exists and is writable.")
            }
            conninfo += " passfile=\(PlatformConfiguration.Server.quoted(file.path))"
        }
        self.conninfo = conninfo
    }
}
