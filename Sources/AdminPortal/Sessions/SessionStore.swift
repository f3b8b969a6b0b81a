import Permissions
import PQ
import TenantPlatform

/// Who a portal session belongs to.
enum SessionSubject: Sendable, Equatable {
    /// An admin user of the portal.
    case admin(AdminUserID)
    /// A tenant's application user: the platform tenant, and the tenant row and user inside
    /// its database. Keyed by the tenant's id, so renaming its slug keeps the session.
    case tenantUser(tenantID: PlatformTenantID, authTenant: TenantID, user: UserID)
}

/// Signed-in sessions, kept in the master database (`platform.portal_session`): a restart
/// keeps people signed in and every `pgperm serve` process behind a load balancer agrees.
/// A session is named by a random 256-bit token, which only the cookie holds; the table
/// stores its SHA-256. A session ends after `idleTimeout` without a request, `lifetime`
/// after sign-in whatever happens, on sign-out, and, by triggers in the master database,
/// when its admin is deactivated or given a new password or its tenant stops being active. A
/// tenant user's sessions end when their credentials change (``closeAll(of:keeping:)``,
/// called by the tenant API's routes that change them).
struct SessionStore: Sendable {
    let master: ConnectionPool
    let idleTimeout: Duration
    let lifetime: Duration
    /// Sessions one subject may hold; signing in once more ends the oldest.
    let maximumPerSubject: Int

    init(master: ConnectionPool, idleTimeout: Duration, lifetime: Duration, maximumPerSubject: Int = 10) {
        self.master = master
        self.idleTimeout = idleTimeout
        self.lifetime = lifetime
        self.maximumPerSubject = maximumPerSubject
    }

    /// Opens a session and returns its token; the subject's oldest sessions beyond
    /// ``maximumPerSubject`` end in the same transaction.
    func open(_ subject: SessionSubject) async throws -> String {
        let token = SecretToken.random()
        let columns = Columns(subject)
        try await master.withTransaction { connection in
            try await connection.query("""
                INSERT INTO platform.portal_session (token_hash, admin_user_id, tenant_id, auth_tenant_id, auth_user_id)
                VALUES ($1, $2, $3, $4, $5)
                """, [SecretToken.hash(token), columns.admin, columns.tenant, columns.authTenant, columns.user])
            try await connection.query("""
                DELETE FROM platform.portal_session
                 WHERE token_hash IN (
                       SELECT token_hash FROM platform.portal_session
                        WHERE admin_user_id IS NOT DISTINCT FROM $1 AND tenant_id IS NOT DISTINCT FROM $2
                          AND auth_user_id IS NOT DISTINCT FROM $3
                        ORDER BY created_at DESC OFFSET $4)
                """, [columns.admin, columns.tenant, columns.user, maximumPerSubject])
        }
        return token
    }

    /// Who the token belongs to, if its session is open. A request restarts the idle
    /// timeout; the row is rewritten at most once a minute, not on every request.
    func subject(for token: String) async throws -> SessionSubject? {
        guard let row = try await master.query("""
            WITH live AS (
                SELECT token_hash, admin_user_id, tenant_id, auth_tenant_id, auth_user_id, last_seen_at
                  FROM platform.portal_session
                 WHERE token_hash = $1
                   AND last_seen_at > now() - make_interval(secs => $2)
                   AND created_at > now() - make_interval(secs => $3)),
            touched AS (
                UPDATE platform.portal_session s SET last_seen_at = now()
                  FROM live WHERE s.token_hash = live.token_hash AND live.last_seen_at < now() - interval '1 minute')
            SELECT admin_user_id, tenant_id, auth_tenant_id, auth_user_id FROM live
            """, [SecretToken.hash(token), idleTimeout / .seconds(1), lifetime / .seconds(1)], prepared: true).rows.first
        else { return nil }
        if let admin = try row.decode(AdminUserID?.self, column: "admin_user_id") {
            return .admin(admin)
        }
        return .tenantUser(tenantID: try row.decode(PlatformTenantID.self, column: "tenant_id"),
                           authTenant: try row.decode(TenantID.self, column: "auth_tenant_id"),
                           user: try row.decode(UserID.self, column: "auth_user_id"))
    }

    func close(_ token: String) async throws {
        try await master.query("DELETE FROM platform.portal_session WHERE token_hash = $1", [SecretToken.hash(token)])
    }

    /// Ends the subject's sessions, all but `keeping` (the token of the request that asks):
    /// after a change of credentials, a session opened with the old ones must not go on.
    /// Returns how many ended.
    @discardableResult
    func closeAll(of subject: SessionSubject, keeping token: String? = nil) async throws -> Int {
        let columns = Columns(subject)
        return try await master.query("""
            WITH ended AS (
                DELETE FROM platform.portal_session
                 WHERE admin_user_id IS NOT DISTINCT FROM $1 AND tenant_id IS NOT DISTINCT FROM $2
                   AND auth_user_id IS NOT DISTINCT FROM $3 AND token_hash IS DISTINCT FROM $4
                RETURNING 1)
            SELECT count(*) FROM ended
            """, [columns.admin, columns.tenant, columns.user, token.map(SecretToken.hash)]).scalar(Int.self)
    }

    /// Open sessions, for statistics and tests.
    func count(_ subject: SessionSubject) async throws -> Int {
        let columns = Columns(subject)
        return try await master.query("""
            SELECT count(*) FROM platform.portal_session
             WHERE admin_user_id IS NOT DISTINCT FROM $1 AND tenant_id IS NOT DISTINCT FROM $2
               AND auth_user_id IS NOT DISTINCT FROM $3
               AND last_seen_at > now() - make_interval(secs => $4) AND created_at > now() - make_interval(secs => $5)
            """, [columns.admin, columns.tenant, columns.user, idleTimeout / .seconds(1), lifetime / .seconds(1)]).scalar(Int.self)
    }

    /// Open sessions of admins and of tenant users, for the statistics.
    func openCounts() async throws -> (admin: Int, tenantUser: Int) {
        let row = try await master.query("""
            SELECT count(*) FILTER (WHERE admin_user_id IS NOT NULL), count(*) FILTER (WHERE tenant_id IS NOT NULL)
              FROM platform.portal_session
             WHERE last_seen_at > now() - make_interval(secs => $1) AND created_at > now() - make_interval(secs => $2)
            """, [idleTimeout / .seconds(1), lifetime / .seconds(1)]).rows[0]
        return (try row.decode(Int.self, at: 0), try row.decode(Int.self, at: 1))
    }

    /// Deletes sessions that have expired (called now and then; an expired session is
    /// refused whether or not its row is still there).
    func sweep() async throws {
        try await master.query("""
            DELETE FROM platform.portal_session
             WHERE last_seen_at < now() - make_interval(secs => $1) OR created_at < now() - make_interval(secs => $2)
            """, [idleTimeout / .seconds(1), lifetime / .seconds(1)])
    }

    /// The subject as the table's columns.
    private struct Columns {
        var admin: AdminUserID?
        var tenant: PlatformTenantID?
        var authTenant: TenantID?
        var user: UserID?

        init(_ subject: SessionSubject) {
            switch subject {
            case .admin(let id): admin = id
            case .tenantUser(let tenantID, let authTenant, let user):
                tenant = tenantID
                self.authTenant = authTenant
                self.user = user
            }
        }
    }
}
