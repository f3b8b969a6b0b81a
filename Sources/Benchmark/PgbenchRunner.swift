import Foundation
import LocalPostgres

/// Runs pgbench (shipped with PostgreSQL) with a custom script and reads its per-transaction
/// log for latency percentiles.
struct PgbenchRunner {
    let pgbench: URL
    let conninfo: String
    let clients: Int
    let workDirectory: URL

    /// Runs `script` for `seconds` with prepared statements.
    func run(name: String, script: String, seconds: Int, log: Bool = true) throws -> LatencySummary {
        let scriptFile = workDirectory.appending(path: "\(name.filter(\.isLetter)).sql")
        try script.write(to: scriptFile, atomically: true, encoding: .utf8)
        let prefix = workDirectory.appending(path: "log-\(UUID().uuidString.prefix(8))").path
        var arguments = ["--no-vacuum", "--protocol=prepared", "--client=\(clients)", "--jobs=\(clients)",
                         "--time=\(seconds)", "--file=\(scriptFile.path)"]
        if log { arguments += ["--log", "--log-prefix=\(prefix)"] }
        let output = try ProcessRunner.output(of: pgbench.path, arguments + [conninfo])

        let tps = output.split(separator: "\n").first { $0.hasPrefix("tps = ") }
            .flatMap { Double($0.dropFirst("tps = ".count).split(separator: " ")[0]) } ?? 0
        var latencies: [Double] = []
        if log {
            let logs = try FileManager.default.contentsOfDirectory(atPath: workDirectory.path)
                .filter { workDirectory.appending(path: $0).path.hasPrefix(prefix) }
            for file in logs {
                let text = try String(contentsOf: workDirectory.appending(path: file), encoding: .utf8)
                for line in text.split(separator: "\n") {
                    let fields = line.split(separator: " ")
                    if fields.count > 2, let micros = Double(fields[2]) { latencies.append(micros) }
                }
                try FileManager.default.removeItem(at: workDirectory.appending(path: file))
            }
        }
        return LatencySummary(name: name, latenciesMicroseconds: latencies, seconds: Double(seconds), callsPerSecond: tps)
    }
}

/// The pgbench scripts: the check and the baseline share their argument preparation; the
/// resource check adds a document.
enum PgbenchScripts {
    /// Picks a random user, their tenant, a document of the tenant and a random leaf code, and
    /// calls `auth.has_resource_permission` with them. One time in two the document is one of
    /// the user's own grants (which holds another code, mostly).
    static func resourceCheck(scale: BenchmarkScale) -> String {
        """
        \\set u random(1, \(scale.users))
        \\set t (:u - 1) / \(scale.usersPerTenant) + 1
        \\set k random(0, \(max(1, 2 * scale.resourceGrantsPerUser) - 1))
        \\set d (:u * 31 + :k * 101) % \(BenchmarkScale.documentsPerTenant)
        \\set c random(0, 999)
        \\set c1 :c / 100
        \\set c2 (:c / 10) % 10
        \\set c3 :c % 10
        SELECT auth.has_resource_permission(\(BenchmarkIDs.sql(BenchmarkIDs.tenant, ":t")), \(BenchmarkIDs.sql(BenchmarkIDs.user, ":u")), 'document', 'd' || :d, 'm' || :c1 || '.s' || :c2 || '.p' || :c3);

        """
    }

    /// Picks a random user, their tenant and a random leaf code, and calls `function` with them.
    static func check(_ function: String, scale: BenchmarkScale) -> String {
        """
        \\set u random(1, \(scale.users))
        \\set t (:u - 1) / \(scale.usersPerTenant) + 1
        \\set c random(0, 999)
        \\set c1 :c / 100
        \\set c2 (:c / 10) % 10
        \\set c3 :c % 10
        SELECT \(function)(\(BenchmarkIDs.sql(BenchmarkIDs.tenant, ":t")), \(BenchmarkIDs.sql(BenchmarkIDs.user, ":u")), 'm' || :c1 || '.s' || :c2 || '.p' || :c3);

        """
    }
}
