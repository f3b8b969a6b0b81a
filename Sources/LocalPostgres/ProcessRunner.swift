import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs the server's programs, as the `postgres` OS user when this process is root
/// (PostgreSQL refuses to run as root).
///
/// Uses `posix_spawn` and `waitpid` directly: the child's output goes to a file, never a
/// pipe, because a server started by `pg_ctl` inherits the descriptors and would hold a pipe
/// open forever.
public enum ProcessRunner {
    static var isRoot: Bool { geteuid() == 0 }

    /// The OS user that owns clusters we create: `postgres` under root, else ourselves.
    static func serverUser() throws -> (uid: uid_t, gid: gid_t)? {
        guard isRoot else { return nil }
        guard let entry = getpwnam("postgres") else { throw LocalPostgresError.noServerUser }
        return (entry.pointee.pw_uid, entry.pointee.pw_gid)
    }

    /// Runs `executable` (a path, or a name looked up on PATH), waits, and returns its output.
    ///
    /// - Parameter environment: the child's whole environment; nil: this process's.
    /// - Throws: ``LocalPostgresError/commandFailed(command:status:output:)`` on a non-zero exit.
    @discardableResult
    public static func output(of executable: String, _ arguments: [String], asServerUser: Bool = false,
                              environment: [String: String]? = nil) throws -> String {
        var command = [executable] + arguments
        if asServerUser, isRoot {
            command = ["runuser", "-u", "postgres", "--"] + command
        }
        let capture = FileManager.default.temporaryDirectory.appending(path: "pgperm-\(UUID().uuidString).out").path
        defer { unlink(capture) }
        let pid = try spawn(command, output: capture, environment: environment)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let text = (try? String(contentsOfFile: capture, encoding: .utf8)) ?? ""
        let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        guard exitStatus == 0 else {
            throw LocalPostgresError.commandFailed(command: command.joined(separator: " "),
                                                   status: exitStatus, output: text)
        }
        return text
    }

    /// Starts `command` without waiting for it; its output is discarded.
    static func detach(_ command: [String]) throws {
        _ = try spawn(command, output: "/dev/null")
    }

    /// Gives `path` (recursively) to the server user when running as root.
    static func handToServerUser(_ path: URL) throws {
        guard let user = try serverUser() else { return }
        try output(of: "chown", ["-R", "\(user.uid):\(user.gid)", path.path])
    }

    private static func spawn(_ command: [String], output: String, environment: [String: String]? = nil) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)

        // The child starts with no blocked signals and default handlers: threads of this
        // process block some (pgbench -T waits for SIGALRM) and the runtime ignores SIGPIPE.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGALRM, SIGINT, SIGTERM, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = command.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { envp?.forEach { free($0) } }
        var pid: pid_t = 0
        let result = envp.map { posix_spawnp(&pid, command[0], &actions, &attributes, argv, $0) }
            ?? posix_spawnp(&pid, command[0], &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw LocalPostgresError.commandFailed(command: command.joined(separator: " "), status: result,
                                                   output: String(cString: strerror(result)))
        }
        return pid
    }
}
