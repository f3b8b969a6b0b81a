import Foundation
import Permissions
import PostgresTestSupport
import PQ
import Testing

/// psql (`sql/install.sql`, or the script `pgperm sql` prints) and `pgperm install` leave the
/// same ledger, so `pgperm status` after either says up to date and neither redoes the other's work.
@Suite("psql and pgperm install agree")
struct InstallerAgreementTests {
    static let sqlFolder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appending(path: "sql")

    /// The two ways a DBA installs with psql.
    enum Script: String, CaseIterable, CustomTestStringConvertible {
        case manifest = "sql/install.sql"
        case printed = "pgperm sql"
        var testDescription: String { rawValue }

        /// Runs the script with psql; `rolePrefix` as `-v role_prefix` or `pgperm sql --role-prefix`.
        func run(on database: TestDatabase, rolePrefix: String? = nil) throws {
            switch self {
            case .manifest:
                try InstallerAgreementTests.psql(database, file: sqlFolder.appending(path: "install.sql").path,
                                                 variables: rolePrefix.map { ["role_prefix": $0] } ?? [:])
            case .printed:
                let file = FileManager.default.temporaryDirectory.appending(path: "pgperm-install-\(UUID()).sql")
                defer { try? FileManager.default.removeItem(at: file) }
                try SchemaInstaller(manifest: try .auth(), rolePrefix: rolePrefix).psqlScript()
                    .write(to: file, atomically: true, encoding: .utf8)
                try InstallerAgreementTests.psql(database, file: file.path)
            }
        }
    }

    // MARK: - The checksums written in the scripts

    /// Every `.sql` file under sql/ as it is in the checkout, keyed by its path below sql/.
    static func sourcesOnDisk() throws -> [String: String] {
        var sources: [String: String] = [:]
        let walker = FileManager.default.enumerator(at: sqlFolder, includingPropertiesForKeys: nil)
        while let url = walker?.nextObject() as? URL {
            guard url.pathExtension == "sql" else { continue }
            let relative = url.standardizedFileURL.path.dropFirst(sqlFolder.standardizedFileURL.path.count + 1)
            sources[String(relative)] = try String(contentsOf: url, encoding: .utf8)
        }
        return sources
    }

    @Test("every record line of a psql manifest carries the checksum of its file", arguments: [
        ("auth", "install.sql"), ("master", "master/install.sql"),
    ])
    func manifestChecksums(component: String, manifestPath: String) throws {
        let sources = try Self.sourcesOnDisk()
        let manifest = try SQLManifest(component: component, manifestPath: manifestPath, sources: sources)
        let recordLines = sources[manifestPath]!.split(separator: "\n").map(String.init)
            .filter { $0.hasPrefix("SELECT pgperm.record_applied(") }
        let files = [manifest.bookkeeping] + manifest.files
        for file in files where !recordLines.contains(manifest.recordStatement(for: file)) {
            Issue.record("sql/\(manifestPath) records sql/\(file.path) with another checksum than the file's; write: \(manifest.recordStatement(for: file))")
        }
        #expect(recordLines.count == files.count, "one record line per file in sql/\(manifestPath)")
    }

    @Test("the script `pgperm sql` prints records every file with its checksum, whatever the role prefix")
    func printedChecksums() throws {
        let manifest = try SQLManifest(component: "auth", manifestPath: "install.sql", sources: Self.sourcesOnDisk())
        for prefix in [nil, "myapp"] {
            let script = try SchemaInstaller(manifest: try .auth(), rolePrefix: prefix).psqlScript()
            for file in [manifest.bookkeeping] + manifest.files {
                #expect(script.contains(manifest.recordStatement(for: file)), "\(file.path), prefix \(prefix ?? "none")")
            }
        }
    }

    // MARK: - Installs

    /// The ledger: one "component path checksum" line per applied file.
    static func ledger(_ connection: Connection) async throws -> [String] {
        try await connection.query("SELECT component, path, coalesce(checksum, 'NULL') FROM pgperm.applied_file ORDER BY 1, 2")
            .rows.map { try "\($0.decode(String.self, at: 0)) \($0.decode(String.self, at: 1)) \($0.decode(String.self, at: 2))" }
    }

    @Test("after a psql install, pgperm status is up to date and pgperm install applies nothing", arguments: Script.allCases)
    func psqlThenPgperm(script: Script) async throws {
        try await withTestDatabase(.empty) { database in
            try script.run(on: database)
            let connection = try await database.connect()
            let installer = SchemaInstaller(manifest: try .auth())
            let status = try await installer.status(on: connection)
            #expect(status.isUpToDate, "\(status)")
            #expect(try await !Self.ledger(connection).contains { $0.hasSuffix(" NULL") })
            #expect(try await installer.install(on: connection).appliedFiles == [])
            await connection.close()
        }
    }

    @Test("after pgperm install, a psql re-run changes no checksum and pgperm still finds it up to date", arguments: Script.allCases)
    func pgpermThenPsql(script: Script) async throws {
        try await withTestDatabase(.empty) { database in
            let connection = try await database.connect()
            let installer = SchemaInstaller(manifest: try .auth())
            try await installer.install(on: connection)
            let before = try await Self.ledger(connection)

            try script.run(on: database)
            #expect(try await Self.ledger(connection) == before)
            #expect(try await installer.status(on: connection).isUpToDate)
            #expect(try await installer.install(on: connection).appliedFiles == [])
            await connection.close()
        }
    }

    @Test("a role prefix: psql with it, then pgperm with it or without it is up to date; another prefix re-applies the grants only",
          arguments: Script.allCases)
    func rolePrefixAgreement(script: Script) async throws {
        try await withTestDatabase(.empty) { database in
            let prefix = "a\(UUID().uuidString.prefix(6).lowercased())"
            try script.run(on: database, rolePrefix: prefix)
            let connection = try await database.connect()
            #expect(try await SchemaInstaller(manifest: try .auth()).status(on: connection).isUpToDate)
            let same = SchemaInstaller(manifest: try .auth(), rolePrefix: prefix)
            #expect(try await same.status(on: connection).isUpToDate)
            #expect(try await same.install(on: connection).appliedFiles == [])

            let other = SchemaInstaller(manifest: try .auth(), rolePrefix: prefix + "b")
            #expect(try await other.status(on: connection).changedFiles == ["privileges.sql"])
            #expect(try await other.install(on: connection).appliedFiles == ["privileges.sql"])
            // A plain psql re-run keeps the prefix pgperm moved the grants to.
            let before = try await Self.ledger(connection)
            try script.run(on: database)
            #expect(try await Self.ledger(connection) == before)
            #expect(try await SchemaInstaller(manifest: try .auth()).status(on: connection).isUpToDate)
            #expect(try await Self.mayCheck("\(prefix)b_app", on: connection))
            #expect(try await !Self.mayCheck("\(prefix)_app", on: connection))
            await connection.close()
        }
    }

    @Test("the master database: psql installs sql/master/install.sql and pgperm finds it up to date")
    func masterManifest() async throws {
        try await withTestDatabase(.empty) { database in
            try Self.psql(database, file: Self.sqlFolder.appending(path: "master/install.sql").path)
            let connection = try await database.connect()
            let installer = SchemaInstaller(manifest: try .master())
            #expect(try await installer.status(on: connection).isUpToDate)
            #expect(try await installer.install(on: connection).appliedFiles == [])
            await connection.close()
        }
    }

    @Test("a database whose psql install recorded no checksums (install.sql before they were recorded) is adopted by pgperm")
    func legacyLedger() async throws {
        try await withTestDatabase(.empty) { database in
            try Script.manifest.run(on: database)
            let connection = try await database.connect()
            try await connection.query("UPDATE pgperm.applied_file SET checksum = NULL WHERE path LIKE 'migrations/%'")
            try await connection.query("DELETE FROM pgperm.applied_file WHERE path NOT LIKE 'migrations/%'")
            let installer = SchemaInstaller(manifest: try .auth())
            #expect(try await !installer.status(on: connection).isUpToDate)
            #expect(try await !installer.install(on: connection).appliedFiles.contains { $0.hasPrefix("migrations/") })
            #expect(try await installer.status(on: connection).isUpToDate)
            #expect(try await !Self.ledger(connection).contains { $0.hasSuffix(" NULL") })
            await connection.close()
        }
    }

    /// Whether `role` may run the check in this database (false for a role that does not exist).
    static func mayCheck(_ role: String, on connection: Connection) async throws -> Bool {
        try await connection.query("""
            SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = $1)
               AND has_function_privilege($1, 'auth.has_permission(uuid,uuid,text)', 'EXECUTE')
            """, [role]).scalar(Bool.self)
    }

    @Test("the role prefix of the last install is kept by a plain re-install, from psql and from pgperm")
    func rolePrefixIsRemembered() async throws {
        try await withTestDatabase(.empty) { database in
            let prefix = "m\(UUID().uuidString.prefix(6).lowercased())"
            try Script.manifest.run(on: database, rolePrefix: prefix)
            try Script.manifest.run(on: database)  // without -v role_prefix

            let connection = try await database.connect()
            #expect(try await Self.mayCheck("\(prefix)_app", on: connection))
            #expect(try await !Self.mayCheck("auth_app", on: connection), "a plain re-install must not grant to auth_app")
            #expect(try await SchemaInstaller.rememberedRolePrefix(on: connection) == prefix)

            let plain = SchemaInstaller(manifest: try .auth())
            #expect(try await plain.status(on: connection).isUpToDate)
            #expect(try await plain.install(on: connection).isUpToDate)
            #expect(try await Self.mayCheck("\(prefix)_app", on: connection))
            #expect(try await !Self.mayCheck("auth_app", on: connection))
            await connection.close()
        }
    }

    /// Runs the real `psql` of the test cluster on `file`; what it prints on standard error
    /// (errors, NOTICEs) goes into the failure message instead of the test output.
    static func psql(_ database: TestDatabase, file: String, variables: [String: String] = [:]) throws {
        let process = Process()
        process.executableURL = database.cluster.binaries.url("psql")
        process.arguments = ["--no-psqlrc", "--quiet", "-v", "ON_ERROR_STOP=1", "-d", database.conninfo, "-f", file]
            + variables.flatMap { ["-v", "\($0.key)=\($0.value)"] }
        process.standardOutput = FileHandle.nullDevice
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let messages = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "psql -f \(file): \(messages)")
    }
}
