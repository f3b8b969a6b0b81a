import Foundation
import PQ

/// An organization's Microsoft Entra ID settings. The client secret is sealed with the
/// platform's key and bound to the organization, so it opens only on its own row; it is
/// decrypted only when asked for, and that is audited.
extension OrganizationStore {
    /// Sets (or replaces) the organization's SSO settings.
    ///
    /// - Parameters:
    ///   - entraTenantID: the Entra directory, as its GUID or a domain (contoso.onmicrosoft.com).
    ///   - clientID: the application (client) id, a GUID.
    ///   - clientSecret: the new client secret; nil keeps the current one (changing only
    ///     the domains, say).
    ///   - allowedDomains: email domains allowed to sign in; empty allows any account of the
    ///     Entra directory. Stored in lower case, sorted, without duplicates.
    /// - Throws: ``PlatformError`` `.unknownOrganization`, `.invalidDomain`, or
    ///   `.invalidSSOSettings` (malformed ids, an empty secret, no secret to keep).
    @discardableResult
    public func setSSO(of reference: String, entraTenantID: String, clientID: String, clientSecret: String?,
                       allowedDomains: [String]) async throws -> SSOSettings {
        let entraTenantID = try Self.validated(entraTenantID: entraTenantID)
        guard let clientID = UUID(uuidString: clientID.trimmingCharacters(in: .whitespaces))?.lowercased else {
            throw PlatformError(.invalidSSOSettings, "the client id '\(clientID)' is not a GUID",
                                hint: "Copy the Application (client) ID from the app registration in Entra ID.")
        }
        if let clientSecret, clientSecret.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw PlatformError(.invalidSSOSettings, "the client secret is empty", hint: "Paste the secret's value, not its id.")
        }
        let domains = Array(Set(try allowedDomains.map(DomainName.normalized))).sorted()
        let cipher = platform.configuration.cipher

        return try await platform.changeMaster { tx in
            let organization = try await Self.require(reference, on: tx, lock: true)
            let sealed = try clientSecret.map { try cipher.seal($0, context: organization.ssoSecretContext) }
            if organization.hasSSO {
                try await tx.query("""
                    UPDATE platform.organization_sso
                       SET entra_tenant_id = $2, client_id = $3, client_secret_encrypted = coalesce($4, client_secret_encrypted),
                           allowed_domains = $5, updated_at = now()
                     WHERE organization_id = $1
                    """, [organization.id, entraTenantID, clientID, sealed, domains])
            } else {
                guard let sealed else {
                    throw PlatformError(.invalidSSOSettings, "organization '\(organization.name)' has no client secret yet",
                                        hint: "Pass the client secret the first time SSO is set.")
                }
                try await tx.query("""
                    INSERT INTO platform.organization_sso (organization_id, entra_tenant_id, client_id, client_secret_encrypted, allowed_domains)
                    VALUES ($1, $2, $3, $4, $5)
                    """, [organization.id, entraTenantID, clientID, sealed, domains])
            }
            try await tx.audit("organization.sso_set", details: [
                "organization": organization.name, "organization_id": organization.id.description,
                "entra_tenant_id": entraTenantID, "client_id": clientID, "allowed_domains": domains.joined(separator: ","),
                "client_secret": sealed == nil ? "kept" : "replaced",
            ])
            return try await Self.readSSO(of: organization, on: tx, cipher: nil)!
        }
    }

    /// The organization's SSO settings, or nil when none are set. With `revealingSecret` the
    /// client secret is decrypted, and the access audited.
    ///
    /// - Throws: ``PlatformError`` `.unknownOrganization`; `.wrongEncryptionKey` when the
    ///   secret does not open (another key, or a value copied from another organization).
    public func sso(of reference: String, revealingSecret: Bool = false) async throws -> SSOSettings? {
        try await platform.changeMaster { tx in
            let organization = try await Self.require(reference, on: tx)
            guard let settings = try await Self.readSSO(of: organization, on: tx,
                                                        cipher: revealingSecret ? platform.configuration.cipher : nil) else { return nil }
            if revealingSecret {
                try await tx.audit("organization.sso_secret_shown", details: [
                    "organization": organization.name, "organization_id": organization.id.description])
            }
            return settings
        }
    }

    /// Removes the organization's SSO settings.
    ///
    /// - Throws: ``PlatformError`` `.unknownOrganization`, or `.ssoNotConfigured`.
    public func removeSSO(of reference: String) async throws {
        try await platform.changeMaster { tx in
            let organization = try await Self.require(reference, on: tx, lock: true)
            let removed = try await tx.query("DELETE FROM platform.organization_sso WHERE organization_id = $1", [organization.id])
            guard removed.affectedRows == 1 else {
                throw PlatformError(.ssoNotConfigured, "organization '\(organization.name)' has no SSO settings")
            }
            try await tx.audit("organization.sso_remove", details: [
                "organization": organization.name, "organization_id": organization.id.description])
        }
    }

    /// Reads the settings row; the secret is opened only when a cipher is given.
    private static func readSSO(of organization: Organization, on db: any QueryExecutor,
                                cipher: CredentialCipher?) async throws -> SSOSettings? {
        guard let row = try await db.query("""
            SELECT entra_tenant_id, client_id, client_secret_encrypted, allowed_domains, updated_at
              FROM platform.organization_sso WHERE organization_id = $1
            """, [organization.id], prepared: false).rows.first else { return nil }
        let sealed: String = try row.decode(column: "client_secret_encrypted")
        return SSOSettings(
            entraTenantID: try row.decode(column: "entra_tenant_id"), clientID: try row.decode(column: "client_id"),
            clientSecret: try cipher.map { try $0.open(sealed, context: organization.ssoSecretContext) },
            allowedDomains: try row.decode(column: "allowed_domains"), updatedAt: try row.decode(column: "updated_at"))
    }

    /// A directory GUID (lower case) or a domain name.
    static func validated(entraTenantID: String) throws -> String {
        let trimmed = entraTenantID.trimmingCharacters(in: .whitespaces)
        if let guid = UUID(uuidString: trimmed) { return guid.lowercased }
        guard let domain = try? DomainName.normalized(trimmed) else {
            throw PlatformError(.invalidSSOSettings, "the Entra tenant id '\(entraTenantID)' is neither a GUID nor a domain",
                                hint: "Copy the Directory (tenant) ID from the app registration in Entra ID.")
        }
        return domain
    }
}

extension Organization {
    /// What the sealed SSO client secret is bound to: copied onto another organization's row, it does not open.
    var ssoSecretContext: String { "organization:\(id):sso" }
}
