import Foundation
import LocalPostgres
import PQ

/// The two login roles `pgperm up` gives its local cluster, so that examples run as a real
/// application would and not as the superuser, which row-level security and privileges
/// never bind: `pgperm_app` (a member of `<prefix>_app`) and `pgperm_dba` (of `<prefix>_admin`).
/// Their generated passwords are kept next to the superuser's, readable by the owner only.
struct LocalLogins {
    struct Login {
        let role: String
        let groupRole: String
        let purpose: String
        /// May create schemas (and so own application tables) in the database.
        var createsSchemas = false
    }

    let cluster: LocalCluster
    let rolePrefix: String

    var logins: [Login] {
        [Login(role: "pgperm_app", groupRole: "\(rolePrefix)_app", purpose: "applications: checks, tenant context"),
         Login(role: "pgperm_dba", groupRole: "\(rolePrefix)_admin", purpose: "administration, application tables",
               createsSchemas: true)]
    }

    /// Creates the roles that are missing (or gives an existing one its stored password and
    /// group again) and returns each with its URL to `database`.
    func ensure(on admin: Connection, database: String) async throws -> [(login: Login, url: String)] {
        var result: [(Login, String)] = []
        for login in logins {
            let password = try storedPassword(for: login.role)
            let verifier = try await admin.encryptPassword(password, user: login.role)
            let exists = try await !admin.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [login.role]).isEmpty
            try await admin.query("\(exists ? "ALTER" : "CREATE") ROLE \(login.role) LOGIN PASSWORD \(quoteLiteral(verifier))")
            try await admin.query("GRANT \(quoteIdentifier(login.groupRole)) TO \(login.role)")
            try await admin.query("COMMENT ON ROLE \(login.role) IS \(quoteLiteral("pgperm up: login for \(login.purpose)"))")
            if login.createsSchemas {
                try await admin.query("GRANT CREATE ON DATABASE \(quoteIdentifier(database)) TO \(login.role)")
            }
            result.append((login, "postgresql://\(login.role):\(password)@127.0.0.1:\(cluster.port ?? 5432)/\(database)"))
        }
        return result
    }

    /// The role's password from `<cluster>/<role>.password`, generated on first use.
    private func storedPassword(for role: String) throws -> String {
        let file = cluster.directory.appending(path: "\(role).password")
        if let stored = try? String(contentsOf: file, encoding: .utf8) {
            return stored.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let password = LocalCluster.randomPassword()
        try password.write(to: file, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
        return password
    }
}
