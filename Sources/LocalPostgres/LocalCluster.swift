import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL cluster living in one folder of this machine:
///
/// ```
/// <directory>/data/        the cluster (initdb)
/// <directory>/server.log   the server's log
/// <directory>/.s.PGSQL.N   the Unix socket (when the path is short enough for one)
/// <directory>/password     the superuser's password, for TCP connections
/// ```
///
/// The superuser is `postgres`. Unix-socket connections are trusted (the folder is private
/// to its owner); TCP connections, when enabled, need the generated password.
public struct LocalCluster: Sendable {
    public struct Settings: Sendable {
        /// The port; also names the Unix socket file. Default: a free port.
        public var port: Int?
        /// Listen on 127.0.0.1 as well as the socket. Default false.
        public var listenOnLoopback = false
        /// Trade durability for speed (fsync off): for disposable test clusters. Default false.
        public var disposable = false
        /// Extra `postgresql.conf` settings.
        public var extra: [String: String] = [:]

        public init(port: Int? = nil, listenOnLoopback: Bool = false, disposable: Bool = false,
                    extra: [String: String] = [:]) {
            self.port = port
            self.listenOnLoopback = listenOnLoopback
            self.disposable = disposable
            self.extra = extra
        }
    }

    public let directory: URL
    public let binaries: PostgresBinaries
    public static let superuser = "postgres"

    public init(directory: URL, binaries: PostgresBinaries? = nil) throws {
        self.directory = directory.standardizedFileURL
        self.binaries = try binaries ?? PostgresBinaries.locate()
    }

    public var dataDirectory: URL { directory.appending(path: "data") }
    public var logFile: URL { directory.appending(path: "server.log") }
    private var settingsFile: URL { dataDirectory.appending(path: "pgperm.conf") }
    private var passwordFile: URL { directory.appending(path: "password") }

    public var isInitialized: Bool {
        FileManager.default.fileExists(atPath: dataDirectory.appending(path: "PG_VERSION").path)
    }

    /// Whether the server of this cluster is running (`pg_ctl status`).
    public var isRunning: Bool {
        isInitialized && (try? pgctl(["status"])) != nil
    }

    /// The port recorded at initialisation.
    public var port: Int? {
        guard let text = try? String(contentsOf: settingsFile, encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") where line.hasPrefix("port = ") {
            return Int(line.dropFirst("port = ".count))
        }
        return nil
    }

    /// The superuser's password for TCP connections, when loopback listening is enabled.
    public var password: String? {
        (try? String(contentsOf: passwordFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Unix sockets paths are limited to about 100 bytes; deeper folders use TCP only.
    private var socketDirectoryUsable: Bool { directory.path.utf8.count + 20 < 100 }

    /// Creates the cluster with `initdb` and writes its settings.
    public func initialize(_ settings: Settings = Settings()) throws {
        let fileManager = FileManager.default
        try fileManager.createDirectory(at: directory, withIntermediateDirectories: true,
                                        attributes: [.posixPermissions: 0o700])
        let password = Self.randomPassword()
        try password.write(to: passwordFile, atomically: true, encoding: .utf8)
        try fileManager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: passwordFile.path)
        let passwordInput = directory.appending(path: "initdb-password")
        try password.write(to: passwordInput, atomically: true, encoding: .utf8)
        defer { try? fileManager.removeItem(at: passwordInput) }
        try ProcessRunner.handToServerUser(directory)

        try ProcessRunner.output(of: binaries.url("initdb").path, [
            "--pgdata", dataDirectory.path, "--username", Self.superuser,
            "--pwfile", passwordInput.path, "--auth-local", "trust", "--auth-host", "scram-sha-256",
            "--encoding", "UTF8", "--locale", "C", "--no-instructions",
        ], asServerUser: true)

        let port = settings.port ?? Self.freePort()
        var conf: [String: String] = [
            "port": String(port),
            "listen_addresses": settings.listenOnLoopback ? "'127.0.0.1'" : "''",
            "unix_socket_directories": socketDirectoryUsable ? "'\(directory.path)'" : "''",
            "max_connections": "200",
        ]
        if settings.disposable {
            // The test suite runs its suites in parallel, each platform test with pools of its own.
            conf["max_connections"] = "500"
            conf["fsync"] = "off"
            conf["synchronous_commit"] = "off"
            conf["full_page_writes"] = "off"
        }
        conf.merge(settings.extra) { _, new in new }
        let body = conf.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)" }.joined(separator: "\n")
        try (body + "\n").write(to: settingsFile, atomically: true, encoding: .utf8)
        let main = dataDirectory.appending(path: "postgresql.conf")
        let handle = try FileHandle(forWritingTo: main)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\n# Written by pgperm\ninclude 'pgperm.conf'\n".utf8))
        try handle.close()
        try ProcessRunner.handToServerUser(directory)
    }

    /// Starts the server and waits until it accepts connections.
    public func start() throws {
        guard isInitialized else { throw LocalPostgresError.notInitialized(path: dataDirectory.path) }
        try pgctl(["start", "--wait", "--timeout", "60", "--log", logFile.path])
    }

    /// Stops the server. `fast` rolls back open transactions; `immediate` does not wait at all.
    public func stop(mode: String = "fast") throws {
        guard isRunning else { return }
        try pgctl(["stop", "--wait", "--mode", mode])
    }

    /// A libpq `key=value` conninfo for `database` as the superuser.
    public func conninfo(database: String = "postgres") -> String {
        if socketDirectoryUsable {
            return "host=\(host) port=\(port ?? 5432) user=\(Self.superuser) dbname=\(database)"
        }
        return "host=\(host) port=\(port ?? 5432) user=\(Self.superuser) password=\(password ?? "") dbname=\(database)"
    }

    /// Where clients connect: the Unix-socket directory when its path is short enough for a
    /// socket name, else loopback.
    public var host: String { socketDirectoryUsable ? directory.path : "127.0.0.1" }

    /// A `postgresql://` URL over TCP on loopback (needs `listenOnLoopback`).
    public func url(database: String = "postgres") -> String {
        "postgresql://\(Self.superuser):\(password ?? "")@127.0.0.1:\(port ?? 5432)/\(database)"
    }

    /// Stops the server and deletes the folder once process `pid` has exited: a disposable
    /// cluster never outlives the test run that started it, even when that run crashes.
    public func removeWhenProcessExits(_ pid: Int32) throws {
        let asServer = ProcessRunner.isRoot ? "runuser -u postgres -- " : ""
        let script = """
            while kill -0 \(pid) 2>/dev/null; do sleep 0.5; done
            \(asServer)'\(binaries.url("pg_ctl").path)' -D '\(dataDirectory.path)' stop -m immediate >/dev/null 2>&1
            rm -rf '\(directory.path)'
            """
        try ProcessRunner.detach(["/bin/sh", "-c", script])
    }

    @discardableResult
    private func pgctl(_ arguments: [String]) throws -> String {
        try ProcessRunner.output(of: binaries.url("pg_ctl").path,
                                 arguments + ["--pgdata", dataDirectory.path, "--silent"],
                                 asServerUser: true)
    }

    /// A port nothing listens on right now, chosen by the kernel.
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic -> Bool in
                bind(fd, generic, length) == 0 && getsockname(fd, generic, &length) == 0
            }
        }
        guard bound else { return Int.random(in: 20_000...60_000) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// 24 characters without look-alikes, from the system's CSPRNG.
    public static func randomPassword() -> String {
        let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<24).map { _ in alphabet.randomElement(using: &generator)! })
    }
}
