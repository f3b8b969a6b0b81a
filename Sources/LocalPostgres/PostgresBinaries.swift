import Foundation

/// Where the PostgreSQL server programs (`initdb`, `pg_ctl`, `postgres`) are.
public struct PostgresBinaries: Sendable {
    public let directory: URL

    public init(directory: URL) { self.directory = directory }

    public func url(_ program: String) -> URL { directory.appending(path: program) }

    /// A client program such as `pg_dump`: in `$PGPERM_PG_BINDIR`, `pg_config --bindir`, the
    /// newest `/usr/lib/postgresql/*/bin`, then `PATH`; nil when none has it.
    public static func client(_ program: String) -> URL? {
        candidateDirectories().lazy.map { URL(fileURLWithPath: $0).appending(path: program) }
            .first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }

    /// Where PostgreSQL programs may be, in the order they are looked for.
    private static func candidateDirectories() -> [String] {
        var candidates: [String] = []
        if let explicit = ProcessInfo.processInfo.environment["PGPERM_PG_BINDIR"] { candidates.append(explicit) }
        if let bindir = try? ProcessRunner.output(of: "pg_config", ["--bindir"]) {
            candidates.append(bindir.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        candidates += versions.sorted { (Int($0) ?? 0) > (Int($1) ?? 0) }.map { "/usr/lib/postgresql/\($0)/bin" }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return candidates + path.split(separator: ":").map(String.init)
    }

    /// Finds the server binaries: `$PGPERM_PG_BINDIR`, then `pg_config --bindir`, then the
    /// newest `/usr/lib/postgresql/*/bin`, then `initdb` on `PATH`.
    ///
    /// - Throws: ``LocalPostgresError/binariesNotFound`` saying what to install.
    public static func locate() throws -> PostgresBinaries {
        let fileManager = FileManager.default
        func hasServer(_ path: String) -> Bool {
            fileManager.isExecutableFile(atPath: path + "/initdb") && fileManager.isExecutableFile(atPath: path + "/pg_ctl")
        }
        let candidates = candidateDirectories()

        guard let found = candidates.first(where: hasServer) else {
            throw LocalPostgresError.binariesNotFound
        }
        return PostgresBinaries(directory: URL(fileURLWithPath: found))
    }
}
