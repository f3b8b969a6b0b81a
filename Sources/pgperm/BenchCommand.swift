import ArgumentParser
import Benchmark
import Foundation
import LocalPostgres
import PQ

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure auth.has_permission against a one-lookup baseline, the in-process PermissionCache, and the cost of writes.",
        discussion: """
            Generates the data set into a disposable PostgreSQL cluster (or, with --database-url, into \
            an empty database you provide), without and with the change events to time their cost, then \
            runs pgbench with a baseline script and a has_permission script (and a has_resource_permission \
            one over --resource-grants grants), a Swift loop through AuthClient, the PermissionCache \
            (checks per second, memory, invalidation latency under background changes), and timed writes, \
            and prints one table. Build in release mode for the Swift numbers: swift run -c release pgperm bench
            """)

    @Option(name: .customLong("database-url"),
            help: ArgumentHelp("An empty database (URL or conninfo) to use instead of a disposable cluster; $DATABASE_URL is not read.",
                               valueName: "url"))
    var databaseURL: String?

    @Option(help: "Users in the data set.")
    var users = 100_000

    @Option(help: "Tenants in the data set (users are spread evenly).")
    var tenants = 1_000

    @Option(name: .customLong("resource-grants"),
            help: "Rows of auth.resource_grant, to measure auth.has_resource_permission too (default 0: not measured); a multiple of --users, at most 100 per user.")
    var resourceGrants = 0

    @Option(help: "Seconds per measured run.")
    var seconds = 6

    @Option(help: "Concurrent clients and connections.")
    var clients = 2

    // Many short alternating rounds rather than a few long ones: the machine's drift then
    // falls on the baseline and the check alike, and the median round is stable.
    @Option(help: "Alternating baseline/check pgbench rounds; the median is reported.")
    var rounds = 9

    @Option(help: "Pairs of bulk loads without and with the change events; the medians are reported.")
    var loadRounds = 2

    @Option(help: "Members cached for the PermissionCache measurements.")
    var cachedMembers = 20_000

    @Option(help: "Background changes of rights per second while the cache's invalidation latency is measured.")
    var changesPerSecond = 200

    func validate() throws {
        guard users >= tenants, tenants >= 1, users % tenants == 0 else {
            throw ValidationError("--users must be a positive multiple of --tenants")
        }
        guard resourceGrants >= 0, resourceGrants % users == 0, resourceGrants / users <= 100 else {
            throw ValidationError("--resource-grants must be a multiple of --users, at most 100 per user (0 for none)")
        }
        guard seconds >= 1, clients >= 1, rounds >= 1, loadRounds >= 1, cachedMembers >= 1, changesPerSecond >= 1 else {
            throw ValidationError("--seconds, --clients, --rounds, --load-rounds, --cached-members and --changes-per-second must be at least 1")
        }
    }

    func run() async throws {
        let binaries = try PostgresBinaries.locate()
        var cluster: LocalCluster?
        let conninfo: String
        if let databaseURL {
            conninfo = databaseURL
        } else {
            let directory = FileManager.default.temporaryDirectory.appending(path: "pgperm-bench-\(UUID().uuidString.prefix(8))")
            say("Starting a disposable PostgreSQL cluster in \(directory.path) ...")
            let local = try LocalCluster(directory: directory, binaries: binaries)
            try local.initialize(.init(extra: ["shared_buffers": "'1GB'", "max_wal_size": "'8GB'", "checkpoint_timeout": "'30min'"]))
            try local.removeWhenProcessExits(ProcessInfo.processInfo.processIdentifier)
            try local.start()
            let admin = try await Connection.connect(local.conninfo())
            try await admin.query("CREATE DATABASE bench")
            await admin.close()
            cluster = local
            conninfo = local.conninfo(database: "bench")
        }
        let benchmark = PermissionsBenchmark(
            configuration: .init(scale: .init(users: users, tenants: tenants, resourceGrants: resourceGrants), seconds: seconds,
                                 clients: clients, rounds: rounds, loadRounds: loadRounds, cachedMembers: cachedMembers,
                                 changesPerSecond: changesPerSecond),
            conninfo: conninfo, binaries: binaries, progress: say)
        let report = try await benchmark.run()
        print("\n\(report)")
        try cluster?.stop(mode: "immediate")
    }
}

/// Writes a progress line at once (unbuffered), even when output goes to a file.
@Sendable func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
