import Foundation
import PQ

/// One change to the master database, inside a transaction: its statements and its
/// `platform.audit_log` row commit together or not at all.
///
/// The audit log can only be written through a change, and a change only exists inside
/// ``Platform/changeMaster(_:)``, so no change can commit without its audit row, nor an
/// audit row without its change (a failed insert, a refused JSON value, a trigger that
/// raises: all roll the change back).
struct MasterChange: QueryExecutor {
    private let connection: Connection

    fileprivate init(_ connection: Connection) {
        self.connection = connection
    }

    @discardableResult
    func query(_ sql: String, _ binds: [any PostgresEncodable] = [], prepared: Bool = false) async throws -> QueryResult {
        try await connection.query(sql, binds, prepared: prepared)
    }

    /// Appends the change's row to the platform audit log, in this transaction, naming
    /// ``AuditActor/current`` (else the database role).
    func audit(_ action: String, tenant: TenantRecord? = nil, details: [String: String] = [:]) async throws {
        let json = String(decoding: try JSONSerialization.data(withJSONObject: details, options: [.sortedKeys]), as: UTF8.self)
        let actor = AuditActor.current
        try await query("""
            INSERT INTO platform.audit_log (action, tenant_id, tenant_slug, details, actor, admin_user_id)
            VALUES ($1, $2, $3, $4::jsonb, coalesce($5, session_user), $6)
            """, [action, tenant?.id, tenant?.slug, json, actor?.name, actor?.adminUserID])
    }
}

extension Platform {
    /// Runs `body` as one master-database transaction; see ``MasterChange``.
    ///
    /// - Throws: whatever `body` throws, after rolling everything back.
    func changeMaster<T: Sendable>(
        isolation: isolated (any Actor)? = #isolation,
        _ body: (MasterChange) async throws -> T
    ) async throws -> T {
        try await master.withTransaction { connection in
            try await body(MasterChange(connection))
        }
    }
}
