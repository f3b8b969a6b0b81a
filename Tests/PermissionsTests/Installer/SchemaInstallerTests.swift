import Foundation
import Permissions
import PostgresTestSupport
import PQ
import Testing

@Suite("Schema installer")
struct SchemaInstallerTests {
    /// A small schema of our own, so failures can be staged without touching the real one.
    static func manifest(_ files: [String: String], order: [String]) throws -> SQLManifest {
        var sources = files
        sources["meta.sql"] = try SQLManifest.auth().bookkeeping.contents
        sources["install.sql"] = order.map { "\\ir \($0)" }.joined(separator: "\n")
        return try SQLManifest(component: "sample", manifestPath: "install.sql", sources: sources)
    }

    static let sample: [String: String] = [
        "migrations/0001_one.sql": "CREATE SCHEMA sample;\nCREATE TABLE sample.t (x int);\n",
        "functions.sql": "CREATE OR REPLACE FUNCTION sample.f() RETURNS int LANGUAGE sql AS 'SELECT 1';\n",
    ]

    @Test("installing applies every file; installing again reports up to date")
    func installTwice() async throws {
        try await withTestConnection(.empty) { connection in
            let installer = SchemaInstaller(manifest: try .auth())
            let first = try await installer.install(on: connection)
            #expect(!first.isUpToDate)
            #expect(first.appliedFiles.first == "meta.sql")
            #expect(try await connection.query("SELECT to_regnamespace('auth') IS NOT NULL").scalar(Bool.self))

            let second = try await installer.install(on: connection)
            #expect(second.isUpToDate)
            #expect(second.description.contains("up to date"))
            #expect(try await installer.status(on: connection).isUpToDate)
        }
    }

    @Test("two installers started at once both finish: one applies, the other finds it done")
    func concurrentInstallers() async throws {
        try await withTestDatabase(.empty) { database in
            let installer = SchemaInstaller(manifest: try .auth())
            async let first = Self.install(installer, database)
            async let second = Self.install(installer, database)
            let reports = try await [first, second]
            #expect(reports.filter(\.isUpToDate).count == 1)
            #expect(reports.filter { !$0.isUpToDate }.count == 1)
        }
    }

    static func install(_ installer: SchemaInstaller, _ database: TestDatabase) async throws -> InstallReport {
        let connection = try await database.connect()
        let report = try await installer.install(on: connection)
        await connection.close()
        return report
    }

    @Test("a broken file fails with its name and line, and leaves nothing half-applied")
    func brokenFile() async throws {
        var files = Self.sample
        files["migrations/0002_broken.sql"] = """
            -- adds a column
            ALTER TABLE sample.t ADD COLUMN y int;

            INSERT INTO sample.missing VALUES (1);
            """
        let manifest = try Self.manifest(files, order: ["migrations/0001_one.sql", "migrations/0002_broken.sql", "functions.sql"])
        try await withTestConnection(.empty) { connection in
            let error = try await #require(throws: InstallError.self) {
                try await SchemaInstaller(manifest: manifest).install(on: connection)
            }
            guard case let .fileFailed(path, line, serverError) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(path == "migrations/0002_broken.sql")
            #expect(line == 4)
            #expect(serverError.code == .undefinedTable)
            #expect(error.description.contains("sql/migrations/0002_broken.sql:4"))
            let leftovers = try await connection.query(
                "SELECT to_regnamespace('sample') IS NULL AND to_regclass('pgperm.applied_file') IS NULL").scalar(Bool.self)
            #expect(leftovers)
        }
    }

    @Test("a syntax error is located by the server's position")
    func syntaxErrorLine() async throws {
        var files = Self.sample
        files["functions.sql"] = "SELECT 1;\n\nCREATE FUNCTION sample.g() RETURNS int\nLANGUAGE plpgsql AS $$\nBEGIN\n  RETURN 1 +;\nEND $$;\n"
        let manifest = try Self.manifest(files, order: ["migrations/0001_one.sql", "functions.sql"])
        try await withTestConnection(.empty) { connection in
            let error = try await #require(throws: InstallError.self) {
                try await SchemaInstaller(manifest: manifest).install(on: connection)
            }
            guard case let .fileFailed(path, line, serverError) = error else { return }
            #expect(path == "functions.sql")
            #expect(serverError.code == .syntaxError)
            #expect(line == 6)
        }
    }

    @Test("a migration edited after it was applied is refused")
    func editedMigration() async throws {
        try await withTestConnection(.empty) { connection in
            let order = ["migrations/0001_one.sql", "functions.sql"]
            try await SchemaInstaller(manifest: try Self.manifest(Self.sample, order: order)).install(on: connection)
            var edited = Self.sample
            edited["migrations/0001_one.sql"]! += "CREATE TABLE sample.u (x int);\n"
            let error = try await #require(throws: InstallError.self) {
                try await SchemaInstaller(manifest: try Self.manifest(edited, order: order)).install(on: connection)
            }
            guard case .migrationChanged(path: "migrations/0001_one.sql", applied: _, current: _) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
        }
    }

    @Test("a changed function file is re-applied; status lists new migrations and changed files")
    func upgrade() async throws {
        try await withTestConnection(.empty) { connection in
            try await SchemaInstaller(manifest: try Self.manifest(Self.sample, order: ["migrations/0001_one.sql", "functions.sql"]))
                .install(on: connection)
            var next = Self.sample
            next["functions.sql"] = "CREATE OR REPLACE FUNCTION sample.f() RETURNS int LANGUAGE sql AS 'SELECT 2';\n"
            next["migrations/0002_two.sql"] = "ALTER TABLE sample.t ADD COLUMN y int;\n"
            let installer = SchemaInstaller(manifest: try Self.manifest(
                next, order: ["migrations/0001_one.sql", "migrations/0002_two.sql", "functions.sql"]))

            let status = try await installer.status(on: connection)
            #expect(status.installedVersion == "0001_one")
            #expect(status.availableVersion == "0002_two")
            #expect(status.pendingMigrations == ["migrations/0002_two.sql"])
            #expect(status.changedFiles == ["functions.sql"])

            let report = try await installer.install(on: connection)
            #expect(report.appliedFiles == ["migrations/0002_two.sql", "functions.sql"])
            #expect(try await connection.query("SELECT sample.f()").scalar(Int.self) == 2)
        }
    }
}
