import Foundation
import Permissions
import PQ

/// Creates tenants: a registry row, a login role, a database cloned from the template, the
/// schema, the seed, then `active`.
///
/// `CREATE DATABASE` cannot share a transaction with the registry, so creation is a sequence
/// of idempotent steps (``ProvisioningStep``) recorded as they complete. A failure rolls back
/// what was created (database, role, registry row); if even that fails, the row is left
/// `failed` for ``continueCreation(slug:)`` or ``TenantLifecycle/delete(slug:)``.
public struct TenantProvisioner: Sendable {
    let platform: Platform
    /// Clone the template database (true) or replay the schema into an empty database.
    public var useTemplate: Bool
    /// Called before each step; a throw aborts the creation there (progress display, tests).
    public var beforeStep: @Sendable (ProvisioningStep) async throws -> Void

    public init(platform: Platform, useTemplate: Bool = true,
                beforeStep: @escaping @Sendable (ProvisioningStep) async throws -> Void = { _ in }) {
        self.platform = platform
        self.useTemplate = useTemplate
        self.beforeStep = beforeStep
    }

    /// A created tenant and what it took.
    public struct Report: Sendable {
        public let tenant: TenantHandle
        /// How the database was made: cloned from the template, or the schema replayed.
        public let clonedFromTemplate: Bool
        public let duration: Duration
    }

    /// Creates a tenant.
    ///
    /// - Parameter server: the name of the server to put it on; nil: the active server with
    ///   the most free capacity.
    /// - Throws: ``PlatformError`` `.invalidSlug`, `.invalidName`, `.tenantExists` (slug, database or role
    ///   in use), `.unknownServer`, `.serverNotActive`, `.noCapacity`, or `.provisioningFailed`
    ///   naming the step and what was rolled back.
    @discardableResult
    public func create(name: String, slug: String, server: String? = nil) async throws -> Report {
        let started = ContinuousClock.now
        try TenantNames.validate(slug: slug)
        let name = try DisplayName.normalized(name, of: "tenant")
        guard try await platform.directory.find(slug: slug) == nil else {
            throw PlatformError(.tenantExists, "tenant \(slug) already exists",
                                hint: "Pick another slug; `pgperm tenant list` shows the tenants.")
        }
        let id = PlatformTenantID(UUID())
        var names = TenantNames(slug: slug, prefix: platform.configuration.tenantDatabasePrefix)
        // A tenant renamed away from this slug keeps its database and role: take names of our own.
        if try await platform.directory.usesNames(names) {
            names = TenantNames(slug: slug, prefix: platform.configuration.tenantDatabasePrefix,
                                suffix: String(id.description.prefix(8)))
        }

        let cipher = platform.configuration.cipher
        try await beforeStep(.registered)
        let handle = try await platform.changeMaster { tx in
            let placed = try await ServerRegistry(master: tx).place(on: server)
            var record = TenantRecord(
                id: id, name: name, slug: slug, serverID: placed.id, databaseName: names.databaseName, roleName: names.roleName,
                credentialsEncrypted: "", adminEmail: Self.initialAdminUsername(slug: slug), adminPasswordEncrypted: "",
                keyVersion: cipher.currentKey.version)
            record = try record.sealing(rolePassword: SecretGenerator.password(), adminPassword: SecretGenerator.password(), with: cipher)
            try await TenantDirectory(master: tx).insert(record)
            return TenantHandle(record: record, server: placed)
        }
        do {
            try await refuseExisting(names, on: handle.server)
        } catch {
            // Not ours to drop: only the registry row goes.
            try? await platform.directory.delete(id)
            throw error
        }
        do {
            let cloned = try await runSteps(after: .registered, for: handle)
            return Report(tenant: try await platform.directory.require(id: id), clonedFromTemplate: cloned,
                          duration: ContinuousClock.now - started)
        } catch {
            throw await rollBack(handle, after: error)
        }
    }

    /// Finishes a creation that was interrupted (status `provisioning` or `failed`). Every
    /// step runs again (each one skips what exists), since a half-done rollback may have
    /// undone a step the registry recorded. Nothing is rolled back if it fails again.
    @discardableResult
    public func continueCreation(slug: String) async throws -> Report {
        let started = ContinuousClock.now
        let handle = try await platform.directory.require(slug: slug)
        guard handle.status == .provisioning || handle.status == .failed else {
            throw PlatformError(.tenantExists, "tenant '\(slug)' is \(handle.status.rawValue), not being created",
                                hint: "--resume only finishes a creation that stopped part-way.")
        }
        do {
            let cloned = try await runSteps(after: .registered, for: handle)
            return Report(tenant: try await platform.directory.require(id: handle.id), clonedFromTemplate: cloned,
                          duration: ContinuousClock.now - started)
        } catch {
            try? await platform.directory.setStatus(handle.id, .failed, error: "\(error)")
            throw PlatformError(.provisioningFailed, "creating tenant '\(slug)' failed again: \(error)",
                                hint: "Fix the cause and run `pgperm tenant create --resume \(slug)` again, or `pgperm tenant delete \(slug)`.")
        }
    }

    // MARK: - Steps

    /// Runs every step after `done`; returns whether the database was cloned.
    private func runSteps(after done: ProvisioningStep, for tenant: TenantHandle) async throws -> Bool {
        var cloned = false
        for step in ProvisioningStep.allCases where step > done {
            try await beforeStep(step)
            switch step {
            case .registered: break
            case .role: try await createRole(tenant)
            case .database: cloned = try await createDatabase(tenant)
            case .schema: try await installSchema(tenant)
            case .seed: try await seed(tenant)
            case .active: try await activate(tenant, cloned: cloned)
            }
            if step != .active { try await platform.directory.recordStep(tenant.id, step: step.rawValue) }
        }
        return cloned
    }

    /// The initial tenant admin's username, with a random part: a predictable one
    /// (`admin@acme.tenant`) let anyone aim guesses, and the lockout they trigger, at it.
    static func initialAdminUsername(slug: String) -> String {
        "admin-\(SecretGenerator.password(length: 8).lowercased())@\(slug).tenant"
    }

    /// A fresh creation must not adopt a database or role it did not make: a group role made
    /// beforehand by someone else would make its members administrators of the new tenant.
    private func refuseExisting(_ names: TenantNames, on server: DatabaseServer) async throws {
        let taken = try await platform.withAdminConnection(on: server) { admin in
            try await admin.query("""
                SELECT 'database ' || datname FROM pg_database WHERE datname = $1
                UNION ALL SELECT 'role ' || rolname FROM pg_roles WHERE rolname = ANY ($2)
                """, [names.databaseName, TenantRoles(login: names.roleName).all]).rows.map { try $0.decode(String.self, at: 0) }
        }
        guard taken.isEmpty else {
            throw PlatformError(.tenantExists, "\(taken.joined(separator: " and ")) already exist(s) on server '\(server.name)'",
                                hint: "Pick another slug, or see `pgperm doctor` for leftovers the registry does not know.")
        }
    }

    /// The login role, with a SCRAM verifier computed here so the password never reaches the server.
    private func createRole(_ tenant: TenantHandle) async throws {
        try await platform.withAdminConnection(on: tenant.server) { admin in
            try await createLoginRole(tenant, on: admin)
        }
    }

    /// Clones the template (falling back to an empty database when it cannot); only the
    /// tenant's role may connect.
    private func createDatabase(_ tenant: TenantHandle) async throws -> Bool {
        var cloned = false
        if useTemplate {
            try await TemplateDatabase(platform: platform, server: tenant.server).prepare()
        }
        try await platform.withAdminConnection(on: tenant.server) { admin in
            let record = tenant.record
            let database = quoteIdentifier(record.databaseName)
            guard try await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [record.databaseName]).isEmpty else {
                return  // created before an interruption
            }
            if useTemplate {
                let template = quoteIdentifier(TenantNames.templateDatabase(prefix: platform.configuration.tenantDatabasePrefix))
                do {
                    try await admin.query("CREATE DATABASE \(database) TEMPLATE \(template)")
                    cloned = true
                } catch let error as PostgresError where error.code == .objectInUse {
                    // Someone is connected to the template: replay the schema instead.
                    platform.logger.warning("template busy, building \(record.databaseName) from scratch: \(error.message)")
                }
            }
            if !cloned { try await admin.query("CREATE DATABASE \(database)") }
            try await confineDatabase(tenant, on: admin)
        }
        return cloned
    }

    /// Brings the schema up to date and gives it the tenant's own group roles (a fresh clone
    /// re-grants to them what the template granted to its roles), making the tenant's login
    /// role a member of its admin role and of nothing else.
    private func installSchema(_ tenant: TenantHandle) async throws {
        let version = try await TenantSchema.apply(to: tenant.databaseName, on: tenant.server,
                                                   roles: TenantRoles(login: tenant.roleName), platform: platform)
        try await platform.directory.setSchemaVersion(tenant.id, version)
    }

    /// The tenant inside its database, owned by an initial admin user with a generated
    /// password; its id is recorded in the registry.
    private func seed(_ tenant: TenantHandle) async throws {
        let record = tenant.record
        let password = try platform.configuration.cipher.open(record.adminPasswordEncrypted, context: record.adminSecretContext)
        let authTenant = try await platform.withAdminConnection(on: tenant.server, database: record.databaseName) { connection in
            try await connection.withTransaction { connection in
                // Seeded before an interruption: the database's one tenant.
                if let seeded = try await connection.query("SELECT tenant_id FROM auth.tenant").rows.first {
                    return try seeded.decode(TenantID.self, at: 0)
                }
                // A clone of the template would share its pepper with every other tenant database.
                try await connection.query("SELECT auth.renew_secret_pepper()")
                let auth = AuthClient(connection)
                let admin = try await auth.createUser(username: record.adminEmail, email: record.adminEmail, displayName: "Administrator")
                try await auth.setUserPassword(admin, password: password)
                return try await auth.createTenant(name: record.name, code: record.slug, owner: admin)
            }
        }
        try await platform.directory.setAuthTenant(tenant.id, authTenant)
    }

    /// The last step and the creation's audit row, in one change.
    private func activate(_ tenant: TenantHandle, cloned: Bool) async throws {
        try await platform.changeMaster { tx in
            let directory = TenantDirectory(master: tx)
            try await directory.setStatus(tenant.id, .active)
            try await directory.recordStep(tenant.id, step: ProvisioningStep.active.rawValue)
            try await tx.audit("tenant.create", tenant: tenant.record,
                               details: ["database": tenant.databaseName, "server": tenant.server.name, "cloned": "\(cloned)"])
        }
    }

    // MARK: - Rollback

    /// Drops what a failed creation made and removes its row; marks the row `failed` when
    /// that is impossible. Returns the error to throw.
    private func rollBack(_ tenant: TenantHandle, after error: any Error) async -> PlatformError {
        let record = tenant.record
        let lifecycle = TenantLifecycle(platform: platform)
        do {
            try await lifecycle.dropDatabaseAndRoles(tenant.record, on: tenant.server)
            try await platform.directory.delete(record.id)
            return PlatformError(.provisioningFailed, "creating tenant '\(record.slug)' failed: \(error)",
                                 hint: "Nothing was left behind (database, role and registry row removed). Fix the cause and create it again.")
        } catch let cleanupError {
            try? await platform.directory.setStatus(record.id, .failed, error: "\(error); cleanup: \(cleanupError)")
            return PlatformError(.provisioningFailed,
                                 "creating tenant '\(record.slug)' failed: \(error); rolling back failed too: \(cleanupError)",
                                 hint: "The tenant is marked failed. `pgperm tenant create --resume \(record.slug)` finishes it; `pgperm tenant delete \(record.slug)` removes it.")
        }
    }
}

extension TenantRecord {
    /// The record with both generated passwords sealed, each bound to this tenant.
    func sealing(rolePassword: String, adminPassword: String, with cipher: CredentialCipher) throws -> TenantRecord {
        TenantRecord(id: id, name: name, slug: slug, serverID: serverID, databaseName: databaseName, roleName: roleName,
                     credentialsEncrypted: try cipher.seal(rolePassword, context: roleSecretContext),
                     adminEmail: adminEmail,
                     adminPasswordEncrypted: try cipher.seal(adminPassword, context: adminSecretContext),
                     keyVersion: keyVersion)
    }
}

extension TenantProvisioner {
    /// Creates (or gives a new password to) the tenant's login role, with a SCRAM verifier
    /// computed here so the password never reaches the server. Used by creation and by a
    /// move, which recreates the role on the new server.
    func createLoginRole(_ tenant: TenantHandle, on admin: Connection) async throws {
        let record = tenant.record
        let password = try platform.configuration.cipher.open(record.credentialsEncrypted, context: record.roleSecretContext)
        let verifier = try await admin.encryptPassword(password, user: record.roleName)
        let role = quoteIdentifier(record.roleName)
        let exists = try await !admin.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [record.roleName]).isEmpty
        try await admin.query("\(exists ? "ALTER" : "CREATE") ROLE \(role) WITH LOGIN PASSWORD \(quoteLiteral(verifier))")
        try await admin.query("COMMENT ON ROLE \(role) IS \(quoteLiteral("pgperm tenant \(record.slug): connects to \(record.databaseName) only"))")
    }

    /// Only the tenant's role may connect to its database.
    ///
    /// - Parameter comment: the database's COMMENT (a move writes its marker).
    func confineDatabase(_ tenant: TenantHandle, on admin: Connection, comment: String? = nil) async throws {
        let database = quoteIdentifier(tenant.databaseName)
        try await admin.query("REVOKE ALL ON DATABASE \(database) FROM PUBLIC")
        try await admin.query("GRANT CONNECT, TEMPORARY ON DATABASE \(database) TO \(quoteIdentifier(tenant.roleName))")
        try await admin.query("COMMENT ON DATABASE \(database) IS \(quoteLiteral(comment ?? "pgperm tenant \(tenant.slug)"))")
    }
}
