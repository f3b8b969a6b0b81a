import Logging
import PQ

/// Applies a schema's SQL files to a database and records what it applied.
///
/// - The whole install runs in one transaction: it applies completely or not at all.
/// - A transaction-level advisory lock serialises installers: a second installer waits,
///   then finds the work done and reports ``InstallReport/isUpToDate``.
/// - Migrations (`migrations/`) are applied once each; other files are re-applied when their
///   checksum changes. Bookkeeping lives in `pgperm.applied_file`.
/// - The privileges file runs after anything else changed, or when the role prefix changed.
public struct SchemaInstaller: Sendable {
    public let manifest: SQLManifest
    /// Names the group roles `<rolePrefix>_app` and `<rolePrefix>_admin`. Nil keeps the prefix
    /// of the database's last install (`pgperm.install_setting`), else ``defaultRolePrefix``.
    public let rolePrefix: String?
    private let logger: Logger

    public static let defaultRolePrefix = "auth"
    /// The longest prefix `privileges.sql` accepts: `<prefix>_admin` must fit PostgreSQL's
    /// 63-byte names, or the server would silently truncate it into another role's name.
    public static let maximumRolePrefixLength = 51

    public init(manifest: SQLManifest, rolePrefix: String? = nil, logger: Logger = .disabled) {
        self.manifest = manifest
        self.rolePrefix = rolePrefix
        self.logger = logger
    }

    // The privileges file is recorded with the checksum of its contents, like every other file,
    // and not of contents and prefix: a psql script cannot know the prefix when it is written
    // (without -v role_prefix it is the database's remembered one), so it could not record
    // what pgperm would. The prefix the grants went to is recorded beside it instead, by
    // privileges.sql itself in the same transaction (pgperm.install_setting). The grants are
    // therefore current when the file's checksum matches and no other prefix is asked for.

    /// Whether this install asks for a role prefix other than the one the grants went to.
    private func asksForAnotherPrefix(on connection: Connection) async throws -> Bool {
        guard let rolePrefix else { return false }
        return try await Self.rememberedRolePrefix(on: connection) != rolePrefix
    }

    /// The prefix an install would use on this database: the one asked for, else the one
    /// the last install remembered, else the default.
    public func effectiveRolePrefix(on connection: Connection) async throws -> String {
        if let rolePrefix { return rolePrefix }
        return try await Self.rememberedRolePrefix(on: connection) ?? Self.defaultRolePrefix
    }

    /// The role prefix the database's last install used, if it recorded one.
    public static func rememberedRolePrefix(on connection: Connection) async throws -> String? {
        guard try await connection.query("SELECT to_regclass('pgperm.install_setting') IS NOT NULL").scalar(Bool.self) else {
            return nil
        }
        return try await connection.query(
            "SELECT value FROM pgperm.install_setting WHERE component = 'auth' AND name = 'role_prefix'"
        ).rows.first?.decode(String.self, at: 0)
    }

    /// Installs or upgrades the schema.
    ///
    /// - Parameter connection: a connection outside any transaction.
    /// - Returns: the files applied (empty when already up to date).
    /// - Throws: ``InstallError`` naming the file and line that failed; nothing is left applied.
    @discardableResult
    public func install(on connection: Connection) async throws -> InstallReport {
        try await connection.withTransaction { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended('pgperm.install', 0))")
            // Unset, privileges.sql keeps the last install's prefix (or infers it, see there).
            if let rolePrefix {
                try await connection.query("SELECT set_config('pgperm.role_prefix', $1, true)", [rolePrefix])
            }
            let anotherPrefix = try await asksForAnotherPrefix(on: connection)
            var applied: [String] = []
            if try await bookkeepingChanged(on: connection) {
                try await apply(manifest.bookkeeping, on: connection)
                applied.append(manifest.bookkeeping.path)
            }
            let recorded = try await appliedChecksums(on: connection, component: manifest.component)
            for file in manifest.files {
                switch (file.kind, recorded[file.path]) {
                case (.migration, .some(.some(let checksum))) where checksum != file.checksum:
                    throw InstallError.migrationChanged(path: file.path, applied: checksum, current: file.checksum)
                case (.migration, .some(.none)):
                    // Applied by an install.sql of before checksums were recorded: adopt the current one.
                    try await record(file, on: connection)
                case (.migration, .some), (.repeatable, .some(.some(file.checksum))):
                    continue
                case (.privileges, .some(.some(file.checksum))) where applied.isEmpty && !anotherPrefix:
                    continue
                default:
                    try await apply(file, on: connection)
                    applied.append(file.path)
                }
            }
            let report = InstallReport(component: manifest.component, appliedFiles: applied,
                                       version: manifest.latestVersion)
            logger.info("\(report)")
            return report
        }
    }

    /// What is installed and what an install would do, without changing anything: it is up
    /// to date exactly when ``install(on:)`` would apply nothing.
    public func status(on connection: Connection) async throws -> SchemaStatus {
        let recorded = try await appliedChecksums(on: connection, component: manifest.component)
        let migrations = manifest.files.filter { $0.kind == .migration }
        let applied = migrations.filter { recorded[$0.path] != nil }
        let pending = migrations.filter { recorded[$0.path] == nil }.map(\.path)
        var changed = try await bookkeepingChanged(on: connection) ? [manifest.bookkeeping.path] : []
        changed += manifest.files.filter { $0.kind == .repeatable && recorded[$0.path] != .some(.some($0.checksum)) }.map(\.path)
        let anotherPrefix = try await asksForAnotherPrefix(on: connection)
        // As install does: the grants are re-applied after anything else, or for another prefix.
        for file in manifest.files where file.kind == .privileges {
            if recorded[file.path] != .some(.some(file.checksum)) || anotherPrefix || !changed.isEmpty || !pending.isEmpty {
                changed.append(file.path)
            }
        }
        return SchemaStatus(
            component: manifest.component,
            installedVersion: applied.last.map { SQLManifest.version(of: $0.path) },
            availableVersion: manifest.latestVersion,
            pendingMigrations: pending,
            changedFiles: changed)
    }

    /// The whole install as one psql script with every file inlined: what
    /// `psql -v ON_ERROR_STOP=1 -f sql/install.sql` runs, for machines without the sources.
    public func psqlScript() -> String {
        var script = """
            -- \(manifest.component) schema \(manifest.latestVersion ?? ""), generated by `pgperm sql`.
            -- Apply with: psql -v ON_ERROR_STOP=1 -d DATABASE -f FILE
            \\set ON_ERROR_STOP on
            BEGIN;
            SELECT pg_advisory_xact_lock(hashtextextended('pgperm.install', 0));
            \(rolePrefix.map { "SELECT set_config('pgperm.role_prefix', \(quoteLiteral($0)), true);" } ?? "-- role prefix: the last install's, else \(Self.defaultRolePrefix)")

            -- meta.sql
            \(manifest.bookkeeping.contents)
            \(manifest.recordStatement(for: manifest.bookkeeping))

            """
        for file in manifest.files {
            let body = "-- \(file.path)\n\(file.contents)\n\(manifest.recordStatement(for: file))\n"
            if file.kind == .migration {
                script += "\nSELECT pgperm.is_pending('\(manifest.component)', '\(file.path)') AS pending \\gset\n"
                    + "\\if :pending\n\(body)\\endif\n"
            } else {
                script += "\n\(body)"
            }
        }
        return script + "\nCOMMIT;\n"
    }

    // MARK: - Steps

    private func appliedChecksums(on connection: Connection, component: String) async throws -> [String: String?] {
        let exists = try await connection.query("SELECT to_regclass('pgperm.applied_file') IS NOT NULL")
            .scalar(Bool.self)
        guard exists else { return [:] }
        let rows = try await connection.query(
            "SELECT path, checksum FROM pgperm.applied_file WHERE component = $1", [component])
        var result: [String: String?] = [:]
        for row in rows {
            result[try row.decode(String.self, at: 0)] = .some(try row.decode(String?.self, at: 1))
        }
        return result
    }

    private func bookkeepingChanged(on connection: Connection) async throws -> Bool {
        try await appliedChecksums(on: connection, component: SQLManifest.bookkeepingComponent)[manifest.bookkeeping.path]
            != .some(manifest.bookkeeping.checksum)
    }

    private func apply(_ file: SQLManifest.File, on connection: Connection) async throws {
        logger.info("applying sql/\(file.path)")
        do {
            try await connection.execute(script: file.contents)
        } catch let error as PostgresError {
            throw InstallError.fileFailed(path: file.path, line: Self.line(of: error, in: file.contents), error: error)
        }
        try await record(file, on: connection)
    }

    /// Records `file` as install scripts do (``SQLManifest/recordStatement(for:)``).
    private func record(_ file: SQLManifest.File, on connection: Connection) async throws {
        try await connection.execute(script: manifest.recordStatement(for: file))
    }

    /// The line of the error: its exact position when the server gives one, otherwise the
    /// first line of the failing statement.
    static func line(of error: PostgresError, in script: String) -> Int? {
        if let position = error.position {
            return SQLStatementLocator.line(ofPosition: position, in: script)
        }
        guard let index = error.statementIndex else { return nil }
        let lines = SQLStatementLocator.statementLines(in: script)
        return lines.indices.contains(index) ? lines[index] : nil
    }
}

/// What an install did.
public struct InstallReport: Sendable, CustomStringConvertible {
    public let component: String
    /// Files applied, in order; empty when the schema was already up to date.
    public let appliedFiles: [String]
    /// The schema version now installed.
    public let version: String?

    public var isUpToDate: Bool { appliedFiles.isEmpty }

    public var description: String {
        isUpToDate
            ? "\(component) schema is up to date (version \(version ?? "none"))"
            : "\(component) schema installed at version \(version ?? "none"): applied \(appliedFiles.count) file(s)"
    }
}

/// The installed version and what an install would change.
public struct SchemaStatus: Sendable, CustomStringConvertible {
    public let component: String
    public let installedVersion: String?
    public let availableVersion: String?
    public let pendingMigrations: [String]
    /// Functions, triggers or privileges files that differ from what was applied.
    public let changedFiles: [String]

    public var isUpToDate: Bool { pendingMigrations.isEmpty && changedFiles.isEmpty }

    public var description: String {
        var lines = ["\(component) schema: installed \(installedVersion ?? "nothing"), available \(availableVersion ?? "none")"]
        if isUpToDate { lines.append("up to date") }
        lines += pendingMigrations.map { "pending migration: sql/\($0)" }
        lines += changedFiles.map { "changed, will be re-applied: sql/\($0)" }
        return lines.joined(separator: "\n")
    }
}
