import Foundation

/// Everything the platform needs to run, from the variables of the reference documentation.
///
/// Sources, strongest first: explicit overrides (command-line flags), the process
/// environment, a `.env` file, then defaults. Settings that must not be guessed (the
/// encryption key) have no default.
public struct PlatformConfiguration: Sendable {
    /// Where a PostgreSQL server listens. The configuration's holds the master database and is
    /// the first server tenants are placed on (`platform.database_server`).
    public struct Server: Sendable, Equatable {
        /// A host name, an IP address, or a Unix-socket directory (starting with `/`).
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// A libpq conninfo for `database` as `user`. A server that does not answer fails the
        /// attempt after 10 seconds rather than libpq's default of waiting forever.
        public func conninfo(database: String, user: String, password: String?) -> String {
            var parts = ["host=\(Self.quoted(host))", "port=\(port)", "dbname=\(Self.quoted(database))", "user=\(Self.quoted(user))",
                         "connect_timeout=10"]
            if let password, !password.isEmpty { parts.append("password=\(Self.quoted(password))") }
            return parts.joined(separator: " ")
        }

        /// Quotes a conninfo value (libpq: single quotes, backslash escapes).
        static func quoted(_ value: String) -> String {
            "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
        }
    }

    /// A role name and its password.
    public struct Login: Sendable, Equatable {
        public var user: String
        public var password: String?
        public init(user: String, password: String?) {
            self.user = user
            self.password = password
        }
    }

    public var multiTenant: Bool
    public var server: Server
    public var masterDatabase: String
    /// Connects to the master database.
    public var masterLogin: Login
    /// Needs CREATEDB and CREATEROLE: creates and drops tenant databases and roles.
    public var adminLogin: Login
    public var cipher: CredentialCipher
    /// Tenant databases and roles are named `<prefix>_<slug>`; the template `<prefix>_template`.
    public var tenantDatabasePrefix: String
    /// Tenant connection pools: `DB_POOL_SIZE`, `DB_POOL_MAX_OVERFLOW`, `TENANT_MAX_CONNECTIONS`.
    public var pool: TenantPoolSettings

    /// The variables this configuration reads, for `--help` and the README.
    public static let variables = [
        "MULTI_TENANT", "MASTER_DB_HOST", "MASTER_DB_PORT", "MASTER_DB_NAME", "MASTER_DB_USER", "MASTER_DB_PASSWORD",
        "PG_ADMIN_USER", "PG_ADMIN_PASSWORD", "TENANT_ENCRYPTION_KEY", "TENANT_ENCRYPTION_KEY_VERSION",
        "TENANT_ENCRYPTION_OLD_KEYS", "TENANT_DB_PREFIX", "DB_POOL_SIZE", "DB_POOL_MAX_OVERFLOW", "TENANT_MAX_CONNECTIONS",
    ]

    /// Resolves the configuration.
    ///
    /// - Parameters:
    ///   - overrides: values from command-line flags, keyed by variable name.
    ///   - environment: the process environment.
    ///   - dotEnv: the variables of a `.env` file (see ``DotEnv``).
    ///   - defaultServer: where the server is when `MASTER_DB_HOST` is not set (the local
    ///     cluster of `pgperm up`, with its superuser's password), else localhost:5432.
    /// - Throws: ``PlatformError`` (`.missingSetting`, `.invalidSetting`) naming the variable and what to do.
    public static func resolve(
        overrides: [String: String] = [:],
        environment: [String: String] = ProcessInfo.processInfo.environment,
        dotEnv: [String: String] = [:],
        defaultServer: (server: Server, password: String?)? = nil
    ) throws -> PlatformConfiguration {
        let settings = Settings(layers: [overrides, environment, dotEnv])
        let usesDefaultServer = settings["MASTER_DB_HOST"] == nil && defaultServer != nil
        let server = Server(host: settings["MASTER_DB_HOST"] ?? defaultServer?.server.host ?? "localhost",
                            port: try settings.integer("MASTER_DB_PORT", default: defaultServer?.server.port ?? 5432, in: 1...65535))
        let masterLogin = Login(user: settings["MASTER_DB_USER"] ?? "postgres",
                                password: settings["MASTER_DB_PASSWORD"] ?? (usesDefaultServer ? defaultServer?.password : nil))
        let keyHex = try settings.required("TENANT_ENCRYPTION_KEY", hint: "Set it to 64 hexadecimal characters. " + EncryptionKey.howToGenerate)
        let key = try EncryptionKey(hex: keyHex, version: try settings.integer("TENANT_ENCRYPTION_KEY_VERSION", default: 1, in: 1...10_000))
        let prefix = settings["TENANT_DB_PREFIX"] ?? "tenant"
        guard prefix.wholeMatch(of: /[a-z][a-z0-9_]{0,19}/) != nil else {
            throw PlatformError.invalidSetting("TENANT_DB_PREFIX", reason: "must be 1 to 20 lower-case letters, digits or _, starting with a letter",
                                               hint: "For example TENANT_DB_PREFIX=milestone.")
        }
        return PlatformConfiguration(
            multiTenant: try settings.boolean("MULTI_TENANT", default: true),
            server: server,
            masterDatabase: settings["MASTER_DB_NAME"] ?? "pgperm_master",
            masterLogin: masterLogin,
            adminLogin: Login(user: settings["PG_ADMIN_USER"] ?? masterLogin.user,
                              password: settings["PG_ADMIN_PASSWORD"] ?? masterLogin.password),
            cipher: CredentialCipher(key: key, previousKeys: try oldKeys(settings["TENANT_ENCRYPTION_OLD_KEYS"])),
            tenantDatabasePrefix: prefix,
            pool: TenantPoolSettings(
                poolSize: try settings.integer("DB_POOL_SIZE", default: 5, in: 1...1_000),
                maxOverflow: try settings.integer("DB_POOL_MAX_OVERFLOW", default: 10, in: 0...1_000),
                maximumConnections: try settings.integer("TENANT_MAX_CONNECTIONS", default: 100, in: 1...100_000)))
    }

    /// `TENANT_ENCRYPTION_OLD_KEYS`: `version:hex` pairs separated by commas, for values
    /// sealed before a key rotation.
    private static func oldKeys(_ value: String?) throws -> [EncryptionKey] {
        guard let value, !value.isEmpty else { return [] }
        return try value.split(separator: ",").map { pair in
            let parts = pair.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, let version = Int(parts[0]) else {
                throw PlatformError.invalidSetting("TENANT_ENCRYPTION_OLD_KEYS", reason: "expected version:hex pairs",
                                                   hint: "For example TENANT_ENCRYPTION_OLD_KEYS=1:<64 hex characters>.")
            }
            return try EncryptionKey(hex: parts[1], version: version, name: "TENANT_ENCRYPTION_OLD_KEYS (version \(version))")
        }
    }

    /// Layered lookup with typed, validated reads.
    private struct Settings {
        let layers: [[String: String]]

        subscript(name: String) -> String? {
            layers.lazy.compactMap { $0[name] }.first { !$0.isEmpty }
        }

        func required(_ name: String, hint: String) throws -> String {
            guard let value = self[name] else { throw PlatformError.missingSetting(name, hint: hint) }
            return value
        }

        func integer(_ name: String, default fallback: Int, in range: ClosedRange<Int>) throws -> Int {
            guard let text = self[name] else { return fallback }
            guard let value = Int(text), range.contains(value) else {
                throw PlatformError.invalidSetting(name, reason: "expected a whole number from \(range.lowerBound) to \(range.upperBound)",
                                                   hint: "For example \(name)=\(fallback).")
            }
            return value
        }

        func boolean(_ name: String, default fallback: Bool) throws -> Bool {
            guard let text = self[name]?.lowercased() else { return fallback }
            switch text {
            case "true", "1", "yes", "on": return true
            case "false", "0", "no", "off": return false
            default:
                throw PlatformError.invalidSetting(name, reason: "expected true or false", hint: "For example \(name)=true.")
            }
        }
    }
}
