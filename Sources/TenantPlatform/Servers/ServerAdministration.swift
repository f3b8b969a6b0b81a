import PQ

/// Registering, changing and removing database servers; every change is audited.
public struct ServerAdministration: Sendable {
    let platform: Platform

    public init(platform: Platform) {
        self.platform = platform
    }

    /// What a new server is given.
    public struct NewServer: Sendable {
        public var name: String
        public var address: PlatformConfiguration.Server
        public var adminUser: String
        public var adminPassword: String?
        public var capacity: Int
        public var maxConnections: Int?

        public init(name: String, address: PlatformConfiguration.Server, adminUser: String, adminPassword: String?,
                    capacity: Int = 500, maxConnections: Int? = nil) {
            self.name = name
            self.address = address
            self.adminUser = adminUser
            self.adminPassword = adminPassword
            self.capacity = capacity
            self.maxConnections = maxConnections
        }
    }

    /// Registers a server after checking that its admin login connects and may create
    /// databases and roles: a server that cannot take tenants is refused now, not at the
    /// first tenant placed on it.
    ///
    /// - Throws: ``PlatformError`` `.invalidServer` (bad name or settings, cannot connect, the
    ///   login lacks CREATEDB or CREATEROLE) or `.serverExists` (name or address taken).
    @discardableResult
    public func add(_ new: NewServer) async throws -> DatabaseServer {
        try Self.validate(name: new.name)
        guard new.capacity > 0, new.maxConnections.map({ $0 > 0 }) ?? true, (1...65535).contains(new.address.port),
              !new.address.host.isEmpty, !new.adminUser.isEmpty else {
            throw PlatformError(.invalidServer, "server '\(new.name)' needs a host, a port from 1 to 65535, an admin user, "
                                + "and a capacity and connection ceiling above zero", hint: "See `pgperm server add --help`.")
        }
        try await checkAdminLogin(new)
        return try await platform.changeMaster { tx in
            let server = try await ServerRegistry(master: tx).insert(
                name: new.name, address: new.address, adminUser: new.adminUser, adminPassword: new.adminPassword,
                capacity: new.capacity, maxConnections: new.maxConnections, cipher: platform.configuration.cipher)
            try await tx.audit("server.add", details: ["server": server.name, "host": server.address.host,
                                                       "port": "\(server.address.port)", "capacity": "\(server.capacity)"])
            return server
        }
    }

    /// Changes a server's status, capacity or connection ceiling (`.some(nil)`: back to
    /// `TENANT_MAX_CONNECTIONS`).
    ///
    /// - Throws: ``PlatformError`` `.unknownServer` or `.invalidServer`.
    @discardableResult
    public func update(_ name: String, status: DatabaseServer.Status? = nil, capacity: Int? = nil,
                       maxConnections: Int?? = nil) async throws -> DatabaseServer {
        guard capacity.map({ $0 > 0 }) ?? true, (maxConnections ?? nil).map({ $0 > 0 }) ?? true else {
            throw PlatformError(.invalidServer, "a capacity or connection ceiling must be above zero", hint: "For example --capacity 500.")
        }
        return try await platform.changeMaster { tx in
            let registry = ServerRegistry(master: tx)
            let before = try await registry.require(name: name)
            let after = try await registry.update(before.id, status: status, capacity: capacity, maxConnections: maxConnections)
            var details = ["server": name]
            if let status { (details["status"], details["old_status"]) = (status.rawValue, before.status.rawValue) }
            if let capacity { (details["capacity"], details["old_capacity"]) = ("\(capacity)", "\(before.capacity)") }
            if let maxConnections { details["max_connections"] = maxConnections.map(String.init) ?? "default" }
            try await tx.audit("server.update", details: details)
            return after
        }
    }

    /// Takes no new tenant; its tenants stay until moved (`pgperm tenant move`).
    @discardableResult
    public func drain(_ name: String) async throws -> DatabaseServer {
        try await update(name, status: .draining)
    }

    /// Forgets a server that holds no tenant. Its databases are not touched.
    ///
    /// - Throws: ``PlatformError`` `.unknownServer`, or `.serverInUse` while a tenant (in any
    ///   status) lives there.
    public func remove(_ name: String) async throws {
        try await platform.changeMaster { tx in
            try await tx.query("SELECT pg_advisory_xact_lock(hashtextextended('pgperm.placement', 0))")
            let registry = ServerRegistry(master: tx)
            let server = try await registry.require(name: name)
            guard server.tenantCount == 0 else {
                throw PlatformError(.serverInUse, "server '\(name)' still holds \(server.tenantCount) tenant(s)",
                                    hint: "Move them first (`pgperm tenant move SLUG --to OTHER`), draining it so none is added.")
            }
            try await registry.delete(server.id)
            try await tx.audit("server.remove", details: ["server": name])
        }
    }

    /// Server names appear in commands and error messages: the slug rule.
    static func validate(name: String) throws {
        guard name.wholeMatch(of: /[a-z0-9][a-z0-9-]{0,38}[a-z0-9]/) != nil, !name.contains("--") else {
            throw PlatformError(.invalidServer, "invalid server name '\(name)'",
                                hint: "Use 2 to 40 lower-case letters, digits and single hyphens, e.g. pg-eu-2.")
        }
    }

    private func checkAdminLogin(_ new: NewServer) async throws {
        let conninfo = new.address.conninfo(database: "postgres", user: new.adminUser, password: new.adminPassword)
        let connection: Connection
        do {
            connection = try await Connection.connect(conninfo, logger: platform.logger)
        } catch let error as PostgresError {
            throw PlatformError(.invalidServer, "cannot connect to \(new.address.host):\(new.address.port) as \(new.adminUser): \(error.message)",
                                hint: "Check the host, port, admin user and password; nothing was registered.")
        }
        defer { Task { await connection.close() } }
        let row = try await connection.query("SELECT rolsuper OR (rolcreatedb AND rolcreaterole) FROM pg_roles WHERE rolname = current_user")
        guard try row.scalar(Bool.self) else {
            throw PlatformError(.invalidServer, "\(new.adminUser) on \(new.address.host):\(new.address.port) may not create databases and roles",
                                hint: "ALTER ROLE \(quoteIdentifier(new.adminUser)) CREATEDB CREATEROLE; then add the server again.")
        }
    }
}

extension Platform {
    /// The database servers tenants are placed on.
    public var serverAdministration: ServerAdministration { ServerAdministration(platform: self) }
}
