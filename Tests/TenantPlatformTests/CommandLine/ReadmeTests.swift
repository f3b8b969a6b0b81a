import Foundation
#if canImport(Glibc)
import Glibc
#endif
import LocalPostgres
import PostgresTestSupport
import Testing

/// The README runs as written: `pgperm up` on a fresh folder, then every `sql` block of the
/// README, in order, in one psql session as the DBA login `pgperm up` prints, exactly as a
/// newcomer pastes them. A statement may fail only where the README says so with a
/// `-- ERROR <SQLSTATE>` comment on its line, and every such statement must fail with that
/// SQLSTATE. A block preceded by `<!-- ReadmeTests: skip (why) -->` is not run.
@Suite("README: the tours run as written")
struct ReadmeTests {
    static var readme: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "../../../README.md").standardized
    }

    /// The README with every line outside a runnable `sql` block blanked, so psql's line
    /// numbers are the README's.
    static func sqlScript(_ readme: String) -> String {
        var inBlock = false, skipNext = false, skipping = false
        return readme.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            if line.hasPrefix("<!-- ReadmeTests: skip") { skipNext = true; return "" }
            if !inBlock && line == "```sql" {
                inBlock = true
                skipping = skipNext
                skipNext = false
                return ""
            }
            // A marker is for the block right after it, whatever its language: one before a
            // shell block must not carry over to the next sql block.
            if !inBlock && line.hasPrefix("```") { skipNext = false }
            if inBlock && line == "```" { inBlock = false; return "" }
            return inBlock && !skipping ? String(line) : ""
        }.joined(separator: "\n")
    }

    /// The SQLSTATE the README announces on each line that must fail, by line number (1-based).
    static func announcedErrors(_ script: String) -> [Int: String] {
        var errors: [Int: String] = [:]
        for (index, line) in script.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if let match = line.firstMatch(of: /-- ERROR ([0-9A-Z]{5})/) { errors[index + 1] = String(match.1) }
        }
        return errors
    }

    /// Needs the built `pgperm` and `pgperm-example` (`make test` builds everything first).
    @Test("pgperm up, then every sql block of the README in one psql session as pgperm_dba, then the Swift example")
    func sqlTour() async throws {
        let directory = FileManager.default.temporaryDirectory.appending(path: "pgperm-readme-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer {
            if let binary = TenantCommandTests.binary {
                // Cleanup cannot await; stopping the server is quick.
                _ = try? Self.runBlocking(binary, ["down", "--data-dir", directory.appending(path: ".pgperm").path], in: directory)
            }
            try? FileManager.default.removeItem(at: directory)
        }
        let dataDirectory = directory.appending(path: ".pgperm").path
        let up = try await Self.run(try #require(TenantCommandTests.binary, "build pgperm first: swift build"),
                              ["up", "--data-dir", dataDirectory], in: directory)
        try #require(up.status == 0, "\(up.output)")
        // The URL on the line after "pgperm_dba (...):".
        let lines = up.output.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        let dbaLine = try #require(lines.firstIndex { $0.hasPrefix("pgperm_dba (") }, "\(up.output)")
        let dbaURL = lines[dbaLine + 1]
        #expect(dbaURL.hasPrefix("postgresql://pgperm_dba:"))
        #expect(lines.contains { $0.hasPrefix("pgperm_app (") }, "\(up.output)")

        let script = Self.sqlScript(try String(contentsOf: Self.readme, encoding: .utf8))
        let scriptFile = directory.appending(path: "readme.sql")
        try script.write(to: scriptFile, atomically: true, encoding: .utf8)
        let psql = try PostgresBinaries.locate().url("psql")
        let run = try await Self.run(psql, ["-X", "-q", "-v", "ON_ERROR_STOP=0", "-v", "VERBOSITY=verbose",
                                      "-d", dbaURL, "-f", scriptFile.path], in: directory).output
        // psql:<file>:<line>: ERROR:  <SQLSTATE>: <message>
        var failed: [Int: String] = [:]
        for match in run.matches(of: /psql:[^:\n]*:(\d+): ERROR:  ([0-9A-Z]{5}): ([^\n]*)/) {
            failed[Int(match.1)!] = "\(match.2): \(match.3)"
        }
        let announced = Self.announcedErrors(script)
        #expect(!announced.isEmpty, "the README shows no failing statement at all")
        for (line, message) in failed.sorted(by: { $0.key < $1.key }) {
            #expect(announced[line].map { message.hasPrefix($0) } == true,
                    "README line \(line) failed unannounced or with another SQLSTATE: \(message)")
        }
        for (line, state) in announced.sorted(by: { $0.key < $1.key }) {
            #expect(failed[line] != nil, "README line \(line) should fail with \(state) but succeeded")
        }
        #expect(!run.contains("NOTICE:  row-level security"), "the tour runs as a role bound by row-level security")

        // The Swift tour: the example program, run as a newcomer would, on the same database.
        let example = try #require(TenantCommandTests.binary?.deletingLastPathComponent().appending(path: "pgperm-example"))
        let swiftTour = try await Self.run(example, [dbaURL], in: directory)
        #expect(swiftTour.status == 0, "\(swiftTour.output)")
        for line in ["alice, the owner of Acme, may create users", "bob may users.view", "bob may not users.create_user",
                     "bob may users.view (answered in-process)", "bob, deactivated, may no longer users.view",
                     "refused: tenant code taken"] {
            #expect(swiftTour.output.contains(line), "\(swiftTour.output)")
        }
    }

    @Test("the README's Swift block is the text of the example program's snippets")
    func swiftBlockIsTheExample() throws {
        let (block, snippets) = try Self.swiftBlock(showing: "Examples/QuickStart/main.swift")
        #expect(snippets.count == 3)
        #expect(block == snippets.joined(separator: "\n").trimmingCharacters(in: .newlines))
    }

    @Test("the README's Hummingbird block is the text of the Hummingbird example's snippet")
    func hummingbirdBlockIsTheExample() throws {
        let (block, snippets) = try Self.swiftBlock(showing: "Examples/HummingbirdService/main.swift")
        #expect(snippets.count == 1)
        #expect(block == snippets.joined(separator: "\n").trimmingCharacters(in: .newlines))
    }

    /// The README's `swift` block after `<!-- ReadmeTests: the snippets of <path> -->`, and the
    /// text between each `// snippet:<name>` and `// snippet:end` of that file (which the
    /// build compiles).
    static func swiftBlock(showing path: String) throws -> (block: String, snippets: [String]) {
        let readme = try String(contentsOf: Self.readme, encoding: .utf8)
        let marker = "<!-- ReadmeTests: the snippets of \(path) -->\n```swift\n"
        let start = try #require(readme.range(of: marker)).upperBound
        let end = try #require(readme.range(of: "\n```\n", range: start..<readme.endIndex)).lowerBound
        let example = try String(contentsOf: Self.readme.deletingLastPathComponent().appending(path: path), encoding: .utf8)
        let snippets = example.matches(of: /\/\/ snippet:\w+\n((?s).*?)\/\/ snippet:end\n/).map { String($0.1) }
        return (String(readme[start..<end]), snippets)
    }

    @Test("a block marked skip and lines outside blocks are blanked, keeping line numbers")
    func scriptKeepsLineNumbers() {
        let script = Self.sqlScript("text\n```sql\nSELECT 1; -- ERROR 42501\n```\n<!-- ReadmeTests: skip (x) -->\n```sql\nSELECT $1;\n```\n")
        let lines = script.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[2] == "SELECT 1; -- ERROR 42501")
        #expect(!script.contains("$1"))
        #expect(Self.announcedErrors(script) == [3: "42501"])
    }

    /// Runs a program and waits for it; its stdout and stderr together (through a file in
    /// `directory`).
    ///
    /// Not with Foundation's `Process`: on Linux it hands its child a socket by which it
    /// learns of the child's exit, and `pgperm up` passes that socket on to the server it
    /// starts, which outlives it, so `waitUntilExit` would never return. posix_spawn with
    /// every descriptor above stderr closed, and waitpid, do not depend on it.
    static func run(_ program: URL, _ arguments: [String], in directory: URL) async throws -> (status: Int32, output: String) {
        try await offThePool { try runBlocking(program, arguments, in: directory) }
    }

    static func runBlocking(_ program: URL, _ arguments: [String], in directory: URL) throws -> (status: Int32, output: String) {
        let outputFile = directory.appending(path: "output-\(UUID().uuidString.prefix(6)).txt")
        defer { try? FileManager.default.removeItem(at: outputFile) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputFile.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let inherited = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for fd in inherited.compactMap({ Int32($0) }) where fd > 2 {
            posix_spawn_file_actions_addclose(&actions, fd)
        }
        let argv = ([program.path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let path = "PATH=\(ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")"
        let envp = [strdup(path), nil]
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, program.path, &actions, nil, argv, envp)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let exitStatus = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (exitStatus, try String(contentsOf: outputFile, encoding: .utf8))
    }
}
