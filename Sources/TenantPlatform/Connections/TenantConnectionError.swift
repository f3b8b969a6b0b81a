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
        public var description: String { name }
    }

    public var code: Code
    /// The tenant the connection was for.
    public var tenant: String
    public var message: String
    public var detail: String?
    public var hint: String?

    public init(code: Code, tenant: String, message: String, detail: String? = nil, hint: String? = nil) {
        self.code = code
        self.tenant = tenant
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
    static func ceilingReached(tenant: String, open: Int, busy: Int, waiting: Int,
                               settings: TenantPoolSettings) -> Self {
        Self(code: .ceilingReached, tenant: tenant,
             message: "no connection for tenant \"\(tenant)\" within \(settings.acquireTimeout): "
                 + "the ceiling of \(settings.maximumConnections) connections across all tenants is reached "
                 + "and \(busy) of them are busy",
             detail: "\(open) connections open, \(busy) busy, \(waiting) tasks waiting; "
                 + "idle connections of other tenants are evicted first, and none was idle.",
             hint: "Raise maximumConnections (and the server's max_connections), lower DB_POOL_SIZE or "
                 + "DB_POOL_MAX_OVERFLOW so no tenant hoards connections, or shorten the work done while "
                 + "holding a connection.")
    }

    static func tenantLimitReached(tenant: String, busy: Int, settings: TenantPoolSettings) -> Self {
        Self(code: .tenantLimitReached, tenant: tenant,
             message: "no connection for tenant \"\(tenant)\" within \(settings.acquireTimeout): "
                 + "all \(settings.tenantLimit) connections its pool may open are in use",
             detail: "\(busy) busy; the limit is DB_POOL_SIZE \(settings.poolSize) "
                 + "+ DB_POOL_MAX_OVERFLOW \(settings.maxOverflow).",
             hint: "Raise DB_POOL_SIZE or DB_POOL_MAX_OVERFLOW, or shorten the work done while holding "
                 + "a connection.")
    }

    static func poolClosed(tenant: String) -> Self {
        Self(code: .poolClosed, tenant: tenant,
             message: "the connection pool of tenant \"\(tenant)\" was closed",
             detail: "The tenant was suspended or deleted while this task waited for a connection.")
    }

    static func shutdown(tenant: String) -> Self {
        Self(code: .shutdown, tenant: tenant,
             message: "the tenant connection manager is shut down; no connection for tenant \"\(tenant)\"")
    }
}
