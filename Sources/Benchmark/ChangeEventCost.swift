import PQ

/// What the change events (sql/functions/notifications.sql) cost the bulk load: the data set
/// is loaded without and with them in turn, emptied in between; the last load, with the
/// events on as installed, is the one the rest of the benchmark uses.
struct ChangeEventCost {
    let scale: BenchmarkScale
    let connection: Connection
    /// Pairs of loads (without, then with the events).
    let rounds: Int
    let progress: @Sendable (String) -> Void

    struct Result: Sendable {
        /// The median load time without and with the events.
        let without: Duration
        let with: Duration
        var overhead: Double { with / without - 1 }
    }

    func run() async throws -> Result {
        var without: [Duration] = [], with: [Duration] = []
        for round in 1...rounds {
            for events in [false, true] {
                progress("Load \(round) of \(rounds) \(events ? "with" : "without") change events ...")
                try await setEvents(enabled: events)
                let started = ContinuousClock.now
                try await BenchmarkDataSet(scale: scale, connection: connection, progress: { _ in }).load()
                let time = ContinuousClock.now - started
                progress("  \(time.secondsText) s")
                if events { with.append(time) } else { without.append(time) }
                if round < rounds || !events { try await empty() }
            }
        }
        try await setEvents(enabled: true)
        return Result(without: without.sorted()[without.count / 2], with: with.sorted()[with.count / 2])
    }

    private static let triggers = [
        ("auth.effective_access", "effective_access_notify_delete"), ("auth.effective_access", "effective_access_notify_truncate"),
        ("auth.permission", "permission_notify"),
    ]

    /// Without the events: their triggers disabled and `auth.notify_access_change` (which
    /// `auth.refresh_effective_access` calls) emptied; with them: both as installed.
    private func setEvents(enabled: Bool) async throws {
        for (table, trigger) in Self.triggers {
            try await connection.query("ALTER TABLE \(table) \(enabled ? "ENABLE" : "DISABLE") TRIGGER \(trigger)")
        }
        if enabled {
            if let definition = installedNotifier.value { try await connection.query(definition) }
            return
        }
        if installedNotifier.value == nil {
            installedNotifier.value = try await connection.query(
                "SELECT pg_get_functiondef('auth.notify_access_change(uuid[], uuid[])'::regprocedure)").scalar(String.self)
        }
        try await connection.query("""
            CREATE OR REPLACE FUNCTION auth.notify_access_change(_tenant_ids uuid[], _user_ids uuid[])
            RETURNS void LANGUAGE sql AS $$ SELECT $$
            """)
    }

    /// The installed `auth.notify_access_change`, kept while a load runs without it.
    private let installedNotifier = Box<String?>(nil)

    /// Empties the auth tables for the next load, and settles as the measured load will.
    private func empty() async throws {
        try await connection.query("""
            TRUNCATE auth.tenant, auth.user_info, auth.permission, auth.perm_set, auth.audit_log, auth.access_stamp,
                     auth.effective_access CASCADE
            """)
        try await connection.query("CHECKPOINT")
    }
}

/// A value a non-mutating method may set.
private final class Box<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}
