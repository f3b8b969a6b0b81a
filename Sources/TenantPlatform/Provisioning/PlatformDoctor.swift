import PQ

/// Compares the registry with the server: what one knows and the other does not.
public struct PlatformDoctor: Sendable {
    let platform: Platform

    public init(platform: Platform) {
        self.platform = platform
    }

    public struct Finding: Sendable, Equatable, CustomStringConvertible {
        public enum Kind: String, Sendable {
            case unknownDatabase = "database not in the registry"
            case unknownRole = "role not in the registry"
            case missingDatabase = "registered tenant without its database"
            case unfinished = "tenant creation not finished"
        }
        public let kind: Kind
        public let name: String
        public let advice: String
        public var description: String { "\(kind.rawValue): \(name). \(advice)" }
    }

    /// Databases and roles with the tenant prefix that the registry does not know (the
    /// template excepted), registry rows whose database is missing, and unfinished creations.
    public func examine() async throws -> [Finding] {
        let prefix = platform.configuration.tenantDatabasePrefix
        let template = TenantNames.templateDatabase(prefix: prefix)
        let (databases, roles) = try await platform.withAdminConnection { admin in
            let pattern = prefix.replacingOccurrences(of: "_", with: "\\_") + "\\_%"
            let databases = try await admin.query("SELECT datname::text FROM pg_database WHERE datname LIKE $1", [pattern])
                .rows.map { try $0.decode(String.self, at: 0) }
            let roles = try await admin.query("SELECT rolname::text FROM pg_roles WHERE rolname LIKE $1", [pattern])
                .rows.map { try $0.decode(String.self, at: 0) }
            return (Set(databases), Set(roles))
        }
        let tenants = try await platform.registry.all()
        let knownDatabases = Set(tenants.map(\.databaseName)).union([template])
        let knownRoles = Set(tenants.map(\.roleName))

        var findings = databases.subtracting(knownDatabases).sorted().map {
            Finding(kind: .unknownDatabase, name: $0, advice: "Drop it if it is a leftover: DROP DATABASE \(quoteIdentifier($0)) WITH (FORCE);")
        }
        findings += roles.subtracting(knownRoles).sorted().map {
            Finding(kind: .unknownRole, name: $0, advice: "Drop it if it is a leftover: DROP ROLE \(quoteIdentifier($0));")
        }
        for tenant in tenants {
            if tenant.status == .provisioning || tenant.status == .failed {
                findings.append(Finding(kind: .unfinished, name: tenant.slug,
                                        advice: "`pgperm tenant create --resume \(tenant.slug)` finishes it; `pgperm tenant delete \(tenant.slug)` removes it."))
            } else if !databases.contains(tenant.databaseName) {
                findings.append(Finding(kind: .missingDatabase, name: "\(tenant.slug) (\(tenant.databaseName))",
                                        advice: "Restore the database from a backup, or `pgperm tenant delete \(tenant.slug)`."))
            }
        }
        return findings
    }
}
