/// Why the connection manager could not hand out a connection.
///
/// Catch a specific case by ``code`` (`catch let error as TenantConnectionError where
/// error.code == .ceilingReached`); ``description`` says what happened and what to change.
public struct TenantConnectionError: Error, Sendable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        /// Every connection under the global ceiling was busy for the whole acquire timeout.
        public static let ceilingReached = Code(name: "ceiling reached")
        /// Every connection the tenant may open (pool size + overflow) was busy for the whole
        /// acquire timeout.
        public static let tenantLimitReached = Code(name: "tenant limit reached")
        /// The tenant's pool was closed (``TenantConnectionManager/closePool(tenant:)``) while
        /// the task waited or opened a connection.
        public static let poolClosed = Code(name: "pool closed")
        /// The manager was shut down.
        public static let shutdown = Code(name: "shut down")
        /// The tenant's database server did not answer (stopped, unreachable, starting up or
        /// shutting down) or is marked `down`. Other servers' tenants are not affected, and
        /// the next lease tries again.
        public static let serverUnavailable = Code(name: "server unavailable")
        /// The tenant moved to another server since the caller found it: find it again
        /// (``TenantDirectory``) and retry.
        public static let tenantMoved = Code(name: "tenant moved")
        public var description: String { name }
    }

    public var code: Code
    /// The tenant the connection was for (its slug).
    public var tenant: String
    /// The name of the tenant's database server.
    public var server: String
    public var message: String
    public var detail: String?
    public var hint: String?

    public init(code: Code, tenant: String, server: String, message: String, detail: String? = nil, hint: String? = nil) {
        self.code = code
        self.tenant = tenant
        self.server = server
        self.message = message
        self.detail = detail
        self.hint = hint
    }

    public var description: String {
        var text = message
        if let detail { text += "\nDETAIL: \(detail)" }
        if let hint { text += "\nHINT: \(hint)" }
        return text
    }
}

extension TenantConnectionError {
    static func ceilingReached(_ target: TenantConnectionTarget, ceiling: Int, open: Int, busy: Int, waiting: Int,
                               settings: TenantPoolSettings) -> Self {
        Self(code: .ceilingReached, tenant: target.name, server: target.serverName,
             message: "no connection for tenant \"\(target.name)\" within \(settings.acquireTimeout): "
                 + "the ceiling of \(ceiling) connections to server \"\(target.serverName)\" is reached "
                 + "and \(busy) of them are busy",
             detail: "\(open) connections open to the server, \(busy) busy, \(waiting) tasks waiting; "
                 + "idle connections of other tenants on the server are evicted first, and none was idle.",
             hint: "Raise the server's ceiling (`pgperm server update \(target.serverName) --max-connections N`, "
                 + "default TENANT_MAX_CONNECTIONS, and the server's max_connections), lower DB_POOL_SIZE or "
                 + "DB_POOL_MAX_OVERFLOW so no tenant hoards connections, or shorten the work done while "
                 + "holding a connection.")
    }

    static func tenantLimitReached(_ target: TenantConnectionTarget, busy: Int, settings: TenantPoolSettings) -> Self {
        Self(code: .tenantLimitReached, tenant: target.name, server: target.serverName,
             message: "no connection for tenant \"\(target.name)\" within \(settings.acquireTimeout): "
                 + "all \(settings.tenantLimit) connections its pool may open are in use",
             detail: "\(busy) busy; the limit is DB_POOL_SIZE \(settings.poolSize) "
                 + "+ DB_POOL_MAX_OVERFLOW \(settings.maxOverflow).",
             hint: "Raise DB_POOL_SIZE or DB_POOL_MAX_OVERFLOW, or shorten the work done while holding "
                 + "a connection.")
    }

    static func poolClosed(_ target: TenantConnectionTarget) -> Self {
        Self(code: .poolClosed, tenant: target.name, server: target.serverName,
             message: "the connection pool of tenant \"\(target.name)\" was closed",
             detail: "The tenant was suspended, moved or deleted while this task waited for a connection.")
    }

    static func shutdown(_ target: TenantConnectionTarget) -> Self {
        Self(code: .shutdown, tenant: target.name, server: target.serverName,
             message: "the tenant connection manager is shut down; no connection for tenant \"\(target.name)\"")
    }

    static func tenantMoved(_ target: TenantConnectionTarget) -> Self {
        Self(code: .tenantMoved, tenant: target.name, server: target.serverName,
             message: "tenant \"\(target.name)\" moved away from server \"\(target.serverName)\"",
             hint: "Find it again in the directory and retry.")
    }

    /// `reason`: libpq's message, or nil when the server is marked `down`.
    static func serverUnavailable(_ target: TenantConnectionTarget, reason: String?) -> Self {
        Self(code: .serverUnavailable, tenant: target.name, server: target.serverName,
             message: "database server \"\(target.serverName)\" of tenant \"\(target.name)\" is unavailable",
             detail: reason ?? "The server is marked down.",
             hint: reason == nil
                 ? "`pgperm server update \(target.serverName) --status active` once it is back."
                 : "Other servers' tenants are not affected. Requests succeed again as soon as the server answers; "
                     + "`pgperm server show \(target.serverName)` shows where it should be listening.")
    }
}
