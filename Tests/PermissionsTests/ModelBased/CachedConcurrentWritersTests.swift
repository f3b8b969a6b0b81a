import Foundation
import Permissions
import PQ
import Testing

/// The cached client under concurrent writers (issue 19): four writers draw random operations
/// (the model-based generator, each with a model of its own and names of its own) on
/// connections of their own, while checks keep filling the cache; after each round the cache
/// waits for a barrier and must answer every (tenant, user, code) triple as the database does.
/// A fill that raced with a writer and was kept anyway would show here as a stale answer.
@Suite("ModelBased: the cached client under concurrent writers")
struct CachedConcurrentWritersTests {
    static let writers = 4
    static let rounds = ProcessInfo.processInfo.environment["PGPERM_CACHE_ROUNDS"].flatMap { Int($0) } ?? 25
    static let stepsPerRound = 5

    @Test("after every round of 4 concurrent writers and a barrier, the cache agrees with the database", arguments: [UInt64(1), 2])
    func concurrentWriters(seed: UInt64) async throws {
        try await AuthFixture.run { f in
            let pool = ConnectionPool(.init(conninfo: f.database.conninfo, maximumConnections: 3))
            let cache = PermissionCache(pool: pool)
            let listener = Task { await cache.run() }
            defer { listener.cancel() }
            while !cache.statistics.isTrusted { try await Task.sleep(for: .milliseconds(5)) }

            var writers: [Writer] = []
            for index in 0..<Self.writers {
                writers.append(Writer(generator: OperationGenerator(seed: seed * 1_000 + UInt64(index), namePrefix: "w\(index)"),
                                      connection: try await f.database.connect()))
            }
            var compared = 0, succeeded = 0
            for round in 1...Self.rounds {
                let triples = try await Triples.current(f.connection)
                // The writers, and checks that fill the cache while they write.
                writers = try await withThrowingTaskGroup(of: Writer?.self) { group in
                    for writer in writers {
                        group.addTask {
                            var writer = writer
                            try await writer.run(steps: Self.stepsPerRound)
                            return writer
                        }
                    }
                    group.addTask {
                        for _ in 0..<200 {
                            guard let (t, u, code) = triples.random() else { break }
                            _ = try? await cache.hasPermission(tenant: t, user: u, code: code)  // a code may be gone meanwhile
                            await Task.yield()
                        }
                        return nil
                    }
                    return try await group.reduce(into: []) { if let writer = $1 { $0.append(writer) } }
                }
                succeeded = writers.reduce(0) { $0 + $1.succeeded }

                if ProcessInfo.processInfo.environment["PGPERM_MODEL_VERBOSE"] != nil {
                    FileHandle.standardError.write(Data("seed \(seed) round \(round): written\n".utf8))
                }
                try await cache.barrier()
                let now = try await Triples.current(f.connection)
                let database = try await now.databaseAnswers(f.connection)
                var differences: [String] = []
                for (index, (t, u, code)) in now.all.enumerated() {
                    let cached = try await cache.hasPermission(tenant: t, user: u, code: code)
                    if cached != database[index] { differences.append("\(t) \(u) '\(code)': cache=\(cached) db=\(database[index])") }
                }
                compared += now.all.count
                if ProcessInfo.processInfo.environment["PGPERM_MODEL_VERBOSE"] != nil {
                    FileHandle.standardError.write(Data("seed \(seed) round \(round): \(now.all.count) triples, \(cache.statistics)\n".utf8))
                }
                #expect(differences.isEmpty, "seed \(seed), round \(round): \(differences.count) differ: \(differences.prefix(10))")
                if !differences.isEmpty { break }
            }
            let statistics = cache.statistics
            print("Cached, 4 writers, seed \(seed): \(compared) triples compared, \(succeeded) writes succeeded; \(statistics)")
            #expect(compared > Self.rounds * 100, "\(compared)")
            #expect(succeeded > Self.writers * Self.rounds * Self.stepsPerRound / 4, "\(succeeded)")
            #expect(statistics.hits > 0 && statistics.invalidations > 0, "\(statistics)")
            for writer in writers { await writer.connection.close() }
            await pool.close()
        }
    }
}

/// One writer: the generator's operations on its own connection. Its model only steers the
/// generator; the database's outcome (others write too) decides what the model takes.
private struct Writer: Sendable {
    var generator: OperationGenerator
    var model = PermissionsModel()
    let connection: Connection
    var succeeded = 0

    init(generator: OperationGenerator, connection: Connection) {
        self.generator = generator
        self.connection = connection
    }

    mutating func run(steps: Int) async throws {
        for _ in 0..<steps {
            let operation = generator.next(model)
            // A writer's own snapshot of the others' changes may make any step fail: that is fine here.
            guard let outcome = try? await ModelBasedRun.execute(operation, on: connection) else { continue }
            if outcome.errorCode == nil {
                succeeded += 1
                _ = model.apply(operation, createdID: outcome.createdID)
            }
        }
    }
}

/// Every (tenant, user, code) triple of the database now.
private struct Triples: Sendable {
    let tenants: [TenantID]
    let users: [UserID]
    let codes: [String]

    static func current(_ connection: Connection) async throws -> Triples {
        Triples(tenants: try await connection.query("SELECT tenant_id FROM auth.tenant ORDER BY 1").map { try $0.decode(TenantID.self, at: 0) },
                users: try await connection.query("SELECT user_id FROM auth.user_info ORDER BY 1").map { try $0.decode(UserID.self, at: 0) },
                codes: try await connection.query("SELECT code::text FROM auth.permission ORDER BY 1").map { try $0.decode(String.self, at: 0) })
    }

    var all: [(TenantID, UserID, String)] {
        tenants.flatMap { t in users.flatMap { u in codes.map { (t, u, $0) } } }
    }

    func random() -> (TenantID, UserID, String)? {
        guard let t = tenants.randomElement(), let u = users.randomElement(), let code = codes.randomElement() else { return nil }
        return (t, u, code)
    }

    /// `auth.has_permission` for every triple, in the order of ``all``, in one query.
    func databaseAnswers(_ connection: Connection) async throws -> [Bool] {
        let bits = try await connection.query(ModelBasedRun.checkQuery, [tenants, users, codes]).scalar(String.self)
        return bits.map { $0 == "1" }
    }
}
