import Permissions

/// The embedded auth schema plus migrations of a test's own, applied after the real ones,
/// as a release adding them would.
enum MigrationManifests {
    static func auth(adding migrations: [(name: String, sql: String)]) throws -> SQLManifest {
        try extending(try .auth(), with: migrations.map { (path: "migrations/\($0.name).sql", sql: $0.sql) })
    }

    /// `base` with `migrations` (paths relative to `sql/`) inserted after its last migration.
    static func extending(_ base: SQLManifest, with migrations: [(path: String, sql: String)]) throws -> SQLManifest {
        var sources = [base.bookkeeping.path: base.bookkeeping.contents]
        var paths = base.files.map(\.path)
        let afterLastMigration = (base.files.lastIndex { $0.kind == .migration } ?? -1) + 1
        paths.insert(contentsOf: migrations.map(\.path), at: afterLastMigration)
        for file in base.files { sources[file.path] = file.contents }
        for migration in migrations { sources[migration.path] = migration.sql }
        // Written at the root, so every path below is relative to `sql/` as is.
        sources["test_install.sql"] = paths.map { "\\ir \($0)" }.joined(separator: "\n")
        return try SQLManifest(component: base.component, manifestPath: "test_install.sql", sources: sources)
    }

    /// A migration that creates a table, then fails in any database holding a schema named
    /// `migration_blocker`: the table must be rolled back with it. Dropping that schema fixes it.
    static let blockable = (name: "9001_migration_probe", sql: """
        CREATE TABLE auth.migration_probe (id int PRIMARY KEY);
        DO $$
        BEGIN
            IF to_regnamespace('migration_blocker') IS NOT NULL THEN
                RAISE EXCEPTION 'this database is blocked by schema migration_blocker';
            END IF;
        END;
        $$;
        """)

    /// A migration that sleeps while it runs, marked so a test can count the databases
    /// running it at once in pg_stat_activity.
    static func slow(seconds: Double) -> (name: String, sql: String) {
        (name: "9002_slow_probe", sql: "SELECT pg_sleep(\(seconds)) /* concurrency-probe */;\n")
    }
}
