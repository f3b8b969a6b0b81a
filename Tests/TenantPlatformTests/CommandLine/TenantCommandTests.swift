import Foundation
import LocalPostgres
import PlatformTestSupport
import PostgresTestSupport
import TenantPlatform
import Testing

/// The `pgperm tenant` and `pgperm doctor` commands, run as a user would: the built binary,
/// configured through a .env file.
@Suite("Platform: pgperm tenant commands")
struct TenantCommandTests {
    /// The `pgperm` binary built next to the test bundle, if any.
    static var binary: URL? {
        let candidate = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appending(path: "pgperm")
        return FileManager.default.isExecutableFile(atPath: candidate.path) ? candidate : nil
    }

    struct Result {
        let status: Int32
        let output: String
    }

    /// Runs `pgperm` with `arguments` in `directory`, feeding `input` to stdin.
    /// Runs the binary and waits for it off the cooperative pool (``offThePool(_:)``).
    static func pgperm(_ arguments: [String], in directory: URL, input: String = "") async throws -> Result {
        try await offThePool { try run(arguments, in: directory, input: input) }
    }

    private static func run(_ arguments: [String], in directory: URL, input: String) throws -> Result {
        let process = Process()
        process.executableURL = try #require(binary)
        process.arguments = arguments
        process.currentDirectoryURL = directory
        process.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        let stdout = Pipe(), stdin = Pipe()
        process.standardOutput = stdout
        process.standardError = stdout
        process.standardInput = stdin
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let output = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: output)
    }

    @Test("create, list, credentials, test, suspend, resume, delete and doctor, configured by .env",
          .enabled(if: binary != nil, "needs the pgperm binary (swift build)"))
    func lifecycle() async throws {
        let cluster = try await TestPostgres.shared.localCluster()
        let suffix = UUID().uuidString.prefix(6).lowercased()
        let directory = FileManager.default.temporaryDirectory.appending(path: "pgperm-cli-\(suffix)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try """
            MASTER_DB_HOST=\(cluster.host)
            MASTER_DB_PORT=\(cluster.port ?? 5432)
            MASTER_DB_NAME=master_cli_\(suffix)
            TENANT_DB_PREFIX=c\(suffix)
            TENANT_ENCRYPTION_KEY=\(EncryptionKey.generateHex())
            """.write(to: directory.appending(path: ".env"), atomically: true, encoding: .utf8)
        let configuration = try PlatformConfiguration.resolve(environment: [:], dotEnv: try DotEnv.load(directory.appending(path: ".env")))
        do {
            try await Self.exercise(in: directory, prefix: "c\(suffix)")
        } catch {
            Issue.record(error)
        }
        try? FileManager.default.removeItem(at: directory)
        await PlatformFixture(platform: try await Platform.start(configuration), cluster: cluster, keyHex: "").tearDown()
    }

    static func exercise(in directory: URL, prefix: String) async throws {
        let created = try await pgperm(["tenant", "create", "--name", "Acme", "--slug", "acme"], in: directory)
        #expect(created.status == 0, "\(created.output)")
        #expect(created.output.contains("Tenant acme is active"))
        #expect(try await pgperm(["tenant", "list"], in: directory).output.contains("\(prefix)_acme"))
        let credentials = try await pgperm(["tenant", "credentials", "acme"], in: directory)
        #expect(credentials.output.contains("admin email:     admin-"))
        #expect(credentials.output.contains("@acme.tenant"))
        #expect(try await pgperm(["tenant", "test", "acme"], in: directory).status == 0)

        #expect(try await pgperm(["tenant", "suspend", "acme"], in: directory).status == 0)
        let refused = try await pgperm(["tenant", "test", "acme"], in: directory)
        #expect(refused.status != 0)
        #expect(refused.output.contains("not permitted to log in"), "\(refused.output)")
        #expect(try await pgperm(["tenant", "resume", "acme"], in: directory).status == 0)

        let unconfirmed = try await pgperm(["tenant", "delete", "acme"], in: directory, input: "nope\n")
        #expect(unconfirmed.status != 0)
        #expect(unconfirmed.output.contains("nothing was deleted"))
        #expect(try await pgperm(["tenant", "delete", "acme"], in: directory, input: "acme\n").status == 0)
        let doctor = try await pgperm(["doctor"], in: directory)
        #expect(doctor.status == 0, "\(doctor.output)")
        #expect(try await pgperm(["tenant", "show", "acme"], in: directory).output.contains("no tenant has slug 'acme'"))

        let badKey = try await pgperm(["tenant", "list", "--env-file", "/nonexistent"], in: FileManager.default.temporaryDirectory)
        #expect(badKey.status != 0)
        #expect(badKey.output.contains("TENANT_ENCRYPTION_KEY is not set"), "\(badKey.output)")
    }
}
