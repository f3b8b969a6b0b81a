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
        public let tenant: TenantRecord
        /// How the database was made: cloned from the template, or the schema replayed.
        public let clonedFromTemplate: Bool
        public let duration: Duration
    }

    /// Creates a tenant.
    ///
    /// - Throws: ``PlatformError`` `.invalidSlug`, `.invalidName`, `.tenantExists` (slug, database or role
    ///   in use), or `.provisioningFailed` naming the step and what was rolled back.
    @discardableResult
    public func create(name: String, slug: String) async throws -> Report {
        let started = ContinuousClock.now
        try TenantNames.validate(slug: slug)
        let name = try DisplayName.normalized(name, of: "tenant")
        guard try await platform.registry.find(slug: slug) == nil else {
            throw PlatformError(.tenantExists, "tenant \(slug) already exists",
                                hint: "Pick another slug; `pgperm tenant list` shows the tenants.")
        }
        let id = UUID()
        var names = TenantNames(slug: slug, prefix: platform.configuration.tenantDatabasePrefix)
        // A tenant renamed away from this slug keeps its database and role: take names of our own.
        if try await platform.registry.usesNames(names) {
            names = TenantNames(slug: slug, prefix: platform.configuration.tenantDatabasePrefix,
                                suffix: String(id.uuidString.lowercased().prefix(8)))
        }
        try await refuseExisting(names)

        let cipher = platform.configuration.cipher
        var record = TenantRecord(
            id: id, name: name, slug: slug, databaseName: names.databaseName, roleName: names.roleName,
            credentialsEncrypted: "", adminEmail: Self.initialAdminUsername(slug: slug), adminPasswordEncrypted: "",
            keyVersion: cipher.currentKey.version)
        record = try record.sealing(rolePassword: SecretGenerator.password(), adminPassword: SecretGenerator.password(), with: cipher)

        try await beforeStep(.registered)
        try await platform.registry.insert(record)
        do {
            let cloned = try await runSteps(after: .registered, for: record)
            return Report(tenant: try await platform.registry.require(slug: slug), clonedFromTemplate: cloned,
                          duration: ContinuousClock.now - started)
        } catch {
            throw await rollBack(record, after: error)
        }
    }

    /// Finishes a creation that was interrupted (status `provisioning` or `failed`). Every
    /// step runs again (each one skips what exists), since a half-done rollback may have
    /// undone a step the registry recorded. Nothing is rolled back if it fails again.
    @discardableResult
    public func continueCreation(slug: String) async throws -> Report {
        let started = ContinuousClock.now
        let record = try await platform.registry.require(slug: slug)
        guard record.status == .provisioning || record.status == .failed else {
            throw PlatformError(.tenantExists, "tenant '\(slug)' is \(record.status.rawValue), not being created",
                                hint: "--resume only finishes a creation that stopped part-way.")
        }
        do {
            let cloned = try await runSteps(after: .registered, for: record)
            return Report(tenant: try await platform.registry.require(slug: slug), clonedFromTemplate: cloned,
                          duration: ContinuousClock.now - started)
        } catch {
            try? await platform.registry.setStatus(record.id, .failed, error: "\(error)")
            throw PlatformError(.provisioningFailed, "creating tenant '\(slug)' failed again: \(error)",
                                hint: "Fix the cause and run `pgperm tenant create --resume \(slug)` again, or `pgperm tenant delete \(slug)`.")
        }
    }

    // MARK: - Steps

    /// Runs every step after `done`; returns whether the database was cloned.
    private func runSteps(after done: ProvisioningStep, for record: TenantRecord) async throws -> Bool {
        var cloned = false
        for step in ProvisioningStep.allCases where step > done {
            try await beforeStep(step)
            switch step {
            case .registered: break
            case .role: try await createRole(record)
            case .database: cloned = try await createDatabase(record)
            case .schema: try await installSchema(record)
            case .seed: try await seed(record)
            case .active: try await activate(record, cloned: cloned)
            }
            if step != .active { try await platform.registry.recordStep(record.id, step: step.rawValue) }
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
    private func refuseExisting(_ names: TenantNames) async throws {
        let taken = try await platform.withAdminConnection { admin in
            try await admin.query("""
                SELECT 'database ' || datname FROM pg_database WHERE datname = $1
                UNION ALL SELECT 'role ' || rolname FROM pg_roles WHERE rolname = ANY ($2)
                """, [names.databaseName, TenantRoles(login: names.roleName).all]).rows.map { try $0.decode(String.self, at: 0) }
        }
        guard taken.isEmpty else {
            throw PlatformError(.tenantExists, "\(taken.joined(separator: " and ")) already exist(s) on the server",
                                hint: "Pick another slug, or see `pgperm doctor` for leftovers the registry does not know.")
        }
    }

    /// The login role, with a SCRAM verifier computed here so the password never reaches the server.
    private func createRole(_ record: TenantRecord) async throws {
        let password = try platform.configuration.cipher.open(record.credentialsEncrypted, context: record.roleSecretContext)
        try await platform.withAdminConnection { admin in
            let verifier = try await admin.encryptPassword(password, user: record.roleName)
            let role = quoteIdentifier(record.roleName)
            let exists = try await !admin.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [record.roleName]).isEmpty
            try await admin.query("\(exists ? "ALTER" : "CREATE") ROLE \(role) WITH LOGIN PASSWORD \(quoteLiteral(verifier))")
            try await admin.query("COMMENT ON ROLE \(role) IS \(quoteLiteral("pgperm tenant \(record.slug): connects to \(record.databaseName) only"))")
        }
    }

    /// Clones the template (falling back to an empty database when it cannot); only the
    /// tenant's role may connect.
    private func createDatabase(_ record: TenantRecord) async throws -> Bool {
        var cloned = false
        if useTemplate {
            try await TemplateDatabase(platform: platform).prepare()
        }
        try await platform.withAdminConnection { admin in
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
            try await admin.query("REVOKE ALL ON DATABASE \(database) FROM PUBLIC")
            try await admin.query("GRANT CONNECT, TEMPORARY ON DATABASE \(database) TO \(quoteIdentifier(record.roleName))")
            try await admin.query("COMMENT ON DATABASE \(database) IS \(quoteLiteral("pgperm tenant \(record.slug)"))")
        }
        return cloned
    }

    /// Brings the schema up to date and gives it the tenant's own group roles (a fresh clone
    /// re-grants to them what the template granted to its roles), making the tenant's login
    /// role a member of its admin role and of nothing else.
    private func installSchema(_ record: TenantRecord) async throws {
        let version = try await TenantSchema.apply(to: record.databaseName, roles: TenantRoles(login: record.roleName), platform: platform)
        try await platform.registry.setSchemaVersion(record.id, version)
    }

    /// The tenant inside its database, owned by an initial admin user with a generated password.
    private func seed(_ record: TenantRecord) async throws {
        let password = try platform.configuration.cipher.open(record.adminPasswordEncrypted, context: record.adminSecretContext)
        try await platform.withAdminConnection(database: record.databaseName) { connection in
            try await connection.withTransaction { connection in
                guard try await connection.query("SELECT 1 FROM auth.tenant WHERE code = $1", [record.slug]).isEmpty else { return }
                let auth = AuthClient(connection)
                let admin = try await auth.createUser(username: record.adminEmail, email: record.adminEmail, displayName: "Administrator")
                try await auth.setUserPassword(admin, password: password)
                _ = try await auth.createTenant(name: record.name, code: record.slug, owner: admin)
            }
        }
    }

    /// The last step and the creation's audit row, in one change.
    private func activate(_ record: TenantRecord, cloned: Bool) async throws {
        try await platform.changeMaster { tx in
            let registry = TenantRegistry(master: tx)
            try await registry.setStatus(record.id, .active)
            try await registry.recordStep(record.id, step: ProvisioningStep.active.rawValue)
            try await tx.audit("tenant.create", slug: record.slug, details: ["database": record.databaseName, "cloned": "\(cloned)"])
        }
    }

    // MARK: - Rollback

    /// Drops what a failed creation made and removes its row; marks the row `failed` when
    /// that is impossible. Returns the error to throw.
    private func rollBack(_ record: TenantRecord, after error: any Error) async -> PlatformError {
        let lifecycle = TenantLifecycle(platform: platform)
        do {
            try await lifecycle.dropDatabaseAndRoles(record)
            try await platform.registry.delete(record.id)
            return PlatformError(.provisioningFailed, "creating tenant '\(record.slug)' failed: \(error)",
                                 hint: "Nothing was left behind (database, role and registry row removed). Fix the cause and create it again.")
        } catch let cleanupError {
            try? await platform.registry.setStatus(record.id, .failed, error: "\(error); cleanup: \(cleanupError)")
            return PlatformError(.provisioningFailed,
                                 "creating tenant '\(record.slug)' failed: \(error); rolling back failed too: \(cleanupError)",
                                 hint: "The tenant is marked failed. `pgperm tenant create --resume \(record.slug)` finishes it; `pgperm tenant delete \(record.slug)` removes it.")
        }
    }
}

extension TenantRecord {
    /// The record with both generated passwords sealed, each bound to this tenant.
    func sealing(rolePassword: String, adminPassword: String, with cipher: CredentialCipher) throws -> TenantRecord {
        TenantRecord(id: id, name: name, slug: slug, databaseName: databaseName, roleName: roleName,
                     credentialsEncrypted: try cipher.seal(rolePassword, context: roleSecretContext),
                     adminEmail: adminEmail,
                     adminPasswordEncrypted: try cipher.seal(adminPassword, context: adminSecretContext),
                     keyVersion: keyVersion)
    }
}
