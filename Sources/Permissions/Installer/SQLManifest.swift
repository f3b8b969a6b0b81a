/// The ordered list of SQL files that make up one schema, read from an install manifest
/// (`sql/install.sql`): every `\ir path` line names a file, in the order it is applied.
///
/// Files under `migrations/` are applied once, in order, and must never change afterwards.
/// Every other file is written to be re-applied (`CREATE OR REPLACE`) and is re-applied
/// whenever its content changes; `privileges.sql` also after any other file was applied,
/// since new functions start out executable by PUBLIC. `meta.sql` is the installer's own
/// bookkeeping.
public struct SQLManifest: Sendable {
    public struct File: Sendable, Hashable {
        public enum Kind: Sendable { case migration, repeatable, privileges }
        /// Path relative to `sql/`, e.g. `migrations/0001_auth_schema.sql`.
        public let path: String
        public let kind: Kind
        public let contents: String
        /// FNV-1a 64-bit hash of the contents, for detecting changes.
        public let checksum: String
    }

    /// The name under which applied files are recorded, e.g. `auth`.
    public let component: String
    /// The manifest path relative to `sql/`.
    public let manifestPath: String
    /// The files in order, excluding the bookkeeping file.
    public let files: [File]
    /// `meta.sql`: the bookkeeping tables, run before anything else.
    public let bookkeeping: File

    /// Reads a manifest.
    ///
    /// - Parameters:
    ///   - sources: SQL files keyed by path relative to `sql/`. Default: the SQL embedded in
    ///     this library at build time.
    /// - Throws: ``InstallError/manifestBroken(_:)`` if the manifest names a missing file.
    public init(component: String, manifestPath: String, sources: [String: String]? = nil) throws {
        let sources = sources ?? EmbeddedSQL.files
        guard let manifest = sources[manifestPath] else {
            throw InstallError.manifestBroken("\(manifestPath) is not embedded in this build")
        }
        let base = manifestPath.split(separator: "/").dropLast().map(String.init)
        /// The path relative to `sql/` of a path relative to the manifest (`..` allowed).
        func resolve(_ relative: String) -> String {
            var components = base
            for component in relative.split(separator: "/").map(String.init) {
                if component == ".." { _ = components.popLast() } else if component != "." { components.append(component) }
            }
            return components.joined(separator: "/")
        }
        func file(_ path: String) throws -> File {
            guard let contents = sources[path] else {
                throw InstallError.manifestBroken("\(manifestPath) includes \(path), which does not exist")
            }
            let kind: File.Kind = path.split(separator: "/").contains("migrations") ? .migration
                : path.hasSuffix("privileges.sql") ? .privileges : .repeatable
            return File(path: path, kind: kind, contents: contents, checksum: Self.checksum(contents))
        }

        self.component = component
        self.manifestPath = manifestPath
        self.bookkeeping = try file("meta.sql")
        self.files = try manifest.split(separator: "\n").compactMap { line -> File? in
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard words.count == 2, words[0] == "\\ir" else { return nil }
            let path = resolve(String(words[1]))
            return path == "meta.sql" ? nil : try file(path)
        }
    }

    /// The `auth` schema: the permissions model.
    public static func auth() throws -> SQLManifest {
        try SQLManifest(component: "auth", manifestPath: "install.sql")
    }

    /// The `platform` schema of the multi-tenant platform's master database.
    public static func master() throws -> SQLManifest {
        try SQLManifest(component: "master", manifestPath: "master/install.sql")
    }

    /// A file embedded from `sql/` at build time, by its path relative to `sql/`.
    public static func embeddedFile(_ path: String) throws -> String {
        guard let contents = EmbeddedSQL.files[path] else {
            throw InstallError.manifestBroken("sql/\(path) is not embedded in this build")
        }
        return contents
    }

    /// The component `meta.sql` is recorded under: it is shared by every schema.
    public static let bookkeepingComponent = "pgperm"

    /// The statement an install script runs after applying `file`: it records the file with
    /// the checksum `pgperm install` computes, so psql and pgperm leave the same ledger and
    /// `pgperm status` finds either install up to date. `install.sql` carries these lines as
    /// written here (a test compares them); `pgperm sql` writes them itself.
    public func recordStatement(for file: File) -> String {
        let owner = file.path == bookkeeping.path ? Self.bookkeepingComponent : component
        return "SELECT pgperm.record_applied('\(owner)', '\(file.path)', '\(file.checksum)');"
    }

    /// The last migration of the manifest, by file name (`0001_auth_schema`).
    public var latestVersion: String? { files.last { $0.kind == .migration }.map { Self.version(of: $0.path) } }

    static func version(of path: String) -> String {
        String(path.split(separator: "/").last ?? Substring(path)).replacingOccurrences(of: ".sql", with: "")
    }

    /// FNV-1a, 64-bit: a stable change detector (not a security hash).
    static func checksum(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
