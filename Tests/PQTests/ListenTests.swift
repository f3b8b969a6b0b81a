import Foundation
import PostgresTestSupport
@testable import PQ
import Testing

@Suite("LISTEN/NOTIFY")
struct ListenTests {
    @Test("notifications arrive at commit, in order, with channel, payload and sender; rolled-back ones never")
    func deliveredAtCommit() async throws {
        try await withTestDatabase(.empty) { database in
            let listener = try await database.connect()
            let sender = try await database.connect()
            let notifications = NotificationInbox(try await listener.listen("jobs"))
            let senderPID = try await sender.query("SELECT pg_backend_pid()").scalar(Int.self)

            try await sender.query("BEGIN")
            try await sender.query("SELECT pg_notify('jobs', 'first')")
            try await sender.query("NOTIFY jobs, 'second'")
            try await sender.query("SELECT pg_notify('other', 'not ours')")
            #expect(try await notifications.next(within: .milliseconds(300)) == nil, "nothing before COMMIT")
            try await sender.query("COMMIT")
            #expect(try await notifications.next() == PostgresNotification(channel: "jobs", payload: "first", processID: senderPID))
            #expect(try await notifications.next()?.payload == "second")

            try await sender.query("BEGIN")
            try await sender.query("NOTIFY jobs, 'rolled back'")
            try await sender.query("ROLLBACK")
            try await sender.query("NOTIFY jobs, 'third'")
            #expect(try await notifications.next()?.payload == "third")
            await sender.close()
            await listener.close()
        }
    }

    @Test("a notification is read by the waiting connection thread itself, with no query on the listener")
    func readWithoutQueries() async throws {
        try await withTestDatabase(.empty) { database in
            let listener = try await database.connect()
            let sender = try await database.connect()
            let notifications = NotificationInbox(try await listener.listen("wake"))
            try await sender.query("NOTIFY wake")
            // Arrives although the listener sends nothing (how fast is `pgperm bench`'s to measure).
            #expect(try await notifications.next()?.channel == "wake")
            // The thread waits on the socket and still runs the listener's own queries at once.
            #expect(try await listener.query("SELECT 6 * 7").scalar(Int.self) == 42)
            try await sender.query("NOTIFY wake, 'again'")
            #expect(try await notifications.next()?.payload == "again")
            await sender.close()
            await listener.close()
        }
    }

    @Test("a notification that arrives during the listener's own statement is still handed out")
    func arrivesDuringStatement() async throws {
        try await withTestDatabase(.empty) { database in
            let listener = try await database.connect()
            let notifications = NotificationInbox(try await listener.listen("self"))
            // Sent by the listener's own session: libpq reads it with the statement's result.
            try await listener.query("NOTIFY self, 'own'")
            #expect(try await notifications.next()?.payload == "own")
            await listener.close()
        }
    }

    @Test("several sequences share a connection; the last one to stop sends UNLISTEN")
    func severalSubscribers() async throws {
        try await withTestDatabase(.empty) { database in
            let listener = try await database.connect()
            let sender = try await database.connect()
            let first = NotificationInbox(try await listener.listen("shared"))
            let second = NotificationInbox(try await listener.listen("shared"))
            let other = NotificationInbox(try await listener.listen("Mixed Case \"quoted\""))
            try await sender.query("SELECT pg_notify('shared', 'both')")
            try await sender.query("SELECT pg_notify('Mixed Case \"quoted\"', 'exact name')")
            #expect(try await first.next()?.payload == "both")
            #expect(try await second.next()?.payload == "both")
            #expect(try await other.next()?.payload == "exact name")
            #expect(try await channels(of: listener) == ["Mixed Case \"quoted\"", "shared"])

            // A sequence stops when its iteration ends: here, when its task is cancelled.
            let task = Task {
                for try await _ in try await listener.listen("temporary") {}
            }
            try await waitUntil { try await channels(of: listener).contains("temporary") }
            task.cancel()
            try await waitUntil { try await !channels(of: listener).contains("temporary") }
            #expect(try await channels(of: listener) == ["Mixed Case \"quoted\"", "shared"])
            #expect(listener.isListening)
            await sender.close()
            await listener.close()
        }
    }

    @Test("a listener killed by pg_terminate_backend ends its sequence with a connection error")
    func terminatedBackend() async throws {
        try await withTestDatabase(.empty) { database in
            let listener = try await database.connect()
            let admin = try await database.connect()
            let pid = try await listener.query("SELECT pg_backend_pid()").scalar(Int.self)
            let notifications = NotificationInbox(try await listener.listen("jobs"))
            try await admin.query("SELECT pg_terminate_backend($1)", [pid])
            let error = try await #require(throws: PostgresError.self) { try await notifications.next(within: .seconds(10)) }
            #expect(error.kind == .connection)
            // Listening again on the dead connection fails at once.
            await #expect(throws: PostgresError.self) { try await listener.listen("jobs") }
            await admin.close()
            await listener.close()
        }
    }

    @Test("closing the connection ends its sequences with an error")
    func closing() async throws {
        try await withTestDatabase(.empty) { database in
            let listener = try await database.connect()
            let notifications = NotificationInbox(try await listener.listen("jobs"))
            await listener.close()
            let error = try await #require(throws: PostgresError.self) { try await notifications.next() }
            #expect(error.kind == .usage)
            await #expect(throws: PostgresError.self) { try await listener.listen("jobs") }
        }
    }

    @Test("bad channel names are refused: a NUL before sending, an empty name by the server")
    func badNames() async throws {
        try await withTestConnection(.empty) { connection in
            let nul = try await #require(throws: PostgresError.self) { try await connection.listen("a\u{0}b") }
            #expect(nul.code == .characterNotInRepertoire)
            let empty = try await #require(throws: PostgresError.self) { try await connection.listen("") }
            #expect(empty.code == .syntaxError)
            #expect(!connection.isListening)
            #expect(try await connection.query("SELECT 1").scalar(Int.self) == 1)
        }
    }

    @Test("a pool closes a connection returned while listening instead of handing it out")
    func poolDropsListeningConnection() async throws {
        try await withTestDatabase(.empty) { database in
            let pool = ConnectionPool(.init(conninfo: database.conninfo, maximumConnections: 1))
            let (first, events) = try await pool.withConnection { connection in
                (try await connection.query("SELECT pg_backend_pid()").scalar(Int.self), NotificationInbox(try await connection.listen("jobs")))
            }
            let second = try await pool.withConnection { try await $0.query("SELECT pg_backend_pid()").scalar(Int.self) }
            #expect(first != second)
            // Closed, so the sequence left with the caller ends instead of missing notifications silently.
            await #expect(throws: PostgresError.self) { try await events.next() }
            await pool.close()
        }
    }
}

private func channels(of connection: Connection) async throws -> [String] {
    try await connection.query("SELECT pg_listening_channels() ORDER BY 1").map { try $0.decode(String.self, at: 0) }
}

private func waitUntil(_ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(10)
    while try await !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("condition not met within 10 s")
            return
        }
        try await Task.sleep(for: .milliseconds(20))
    }
}
