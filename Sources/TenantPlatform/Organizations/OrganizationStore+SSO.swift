import Foundation
import PQ

/// An organization's single sign-on settings. The client secret is sealed with the
/// platform's key and bound to the organization, so it opens only on its own row; it is
/// decrypted only when asked for, and that is audited. An email domain belongs to one
/// organization at most (`platform.organization_sso_domain`), so an email names its
/// organization without ambiguity.
extension OrganizationStore {
    /// Sets (or replaces) the organization's SSO settings with Microsoft Entra ID; the
    /// just-in-time setting is kept. See ``setSSO(of:provider:clientID:clientSecret:allowedDomains:justInTime:)``.
    @discardableResult
    public func setSSO(of reference: String, entraTenantID: String, clientID: String, clientSecret: String?,
                       allowedDomains: [String]) async throws -> SSOSettings {
        try await setSSO(of: reference, provider: .entraID(tenantID: entraTenantID), clientID: clientID,
                         clientSecret: clientSecret, allowedDomains: allowedDomains)
    }

    /// Sets (or replaces) the organization's SSO settings.
    ///
    /// - Parameters:
    ///   - provider: Entra ID by its directory (a GUID or a domain such as
    ///     contoso.onmicrosoft.com), or an OpenID Connect provider by its issuer URL (https,
    ///     or http on a loopback address for tests).
    ///   - clientID: the application (client) id; a GUID for Entra ID.
    ///   - clientSecret: the new client secret; nil keeps the current one.
    ///   - allowedDomains: email domains allowed to sign in, each claimed by this
    ///     organization only. Empty allows any account of an Entra directory; a generic
    ///     provider needs at least one. Stored in lower case, sorted, without duplicates.
    ///   - justInTime: whether a first sign-in creates the member (and with which set); nil
    ///     keeps the current setting (off for new settings).
    /// - Throws: ``PlatformError`` `.unknownOrganization`, `.invalidDomain`, `.domainTaken`
    ///   (allowed for another organization), or `.invalidSSOSettings` (malformed ids or
    ///   issuer, an empty secret, no secret to keep, no domain for a generic provider).
    @discardableResult
    public func setSSO(of reference: String, provider: SSOProvider, clientID: String, clientSecret: String?,
                       allowedDomains: [String], justInTime: JustInTimeMembership? = nil) async throws -> SSOSettings {
        let provider = try Self.validated(provider)
        let clientID = try Self.validated(clientID: clientID, for: provider)
        if let clientSecret, clientSecret.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw PlatformError(.invalidSSOSettings, "the client secret is empty", hint: "Paste the secret's value, not its id.")
        }
        let domains = Array(Set(try allowedDomains.map(DomainName.normalized))).sorted()
        if case .openIDConnect = provider, domains.isEmpty {
            throw PlatformError(.invalidSSOSettings, "an OpenID Connect provider needs at least one allowed email domain",
                                hint: "Pass --allowed-domain with the domains whose people sign in there.")
        }
        let justInTime = try justInTime.map(Self.validated)
        let cipher = platform.configuration.cipher
        let (kind, entraTenantID, issuer): (String, String?, String?) = switch provider {
        case .entraID(let tenantID): ("entra_id", tenantID, nil)
        case .openIDConnect(let issuer): ("oidc", nil, issuer)
        }

        return try await platform.changeMaster { tx in
            let organization = try await Self.require(reference, on: tx, lock: true)
            let sealed = try clientSecret.map { try cipher.seal($0, context: organization.ssoSecretContext) }
            if organization.hasSSO {
                try await tx.query("""
                    UPDATE platform.organization_sso
                       SET provider = $2, entra_tenant_id = $3, issuer = $4, client_id = $5,
                           client_secret_encrypted = coalesce($6, client_secret_encrypted),
                           jit_enabled = coalesce($7, jit_enabled),
                           jit_perm_set = CASE WHEN $7::boolean IS NULL THEN jit_perm_set ELSE $8 END,
                           updated_at = now()
                     WHERE organization_id = $1
                    """, [organization.id, kind, entraTenantID, issuer, clientID, sealed,
                          justInTime?.enabled, justInTime?.permSet])
            } else {
                guard let sealed else {
                    throw PlatformError(.invalidSSOSettings, "organization '\(organization.name)' has no client secret yet",
                                        hint: "Pass the client secret the first time SSO is set.")
                }
                try await tx.query("""
                    INSERT INTO platform.organization_sso (organization_id, provider, entra_tenant_id, issuer, client_id,
                                                           client_secret_encrypted, jit_enabled, jit_perm_set)
                    VALUES ($1, $2, $3, $4, $5, $6, coalesce($7, false), $8)
                    """, [organization.id, kind, entraTenantID, issuer, clientID, sealed,
                          justInTime?.enabled, justInTime?.permSet])
            }
            try await Self.replaceDomains(of: organization, with: domains, on: tx)
            let settings = try await Self.readSSO(of: organization, on: tx, cipher: nil)!
            try await tx.audit("organization.sso_set", details: [
                "organization": organization.name, "organization_id": organization.id.description,
                "provider": kind, "entra_tenant_id": entraTenantID ?? "", "issuer": issuer ?? "",
                "client_id": clientID, "allowed_domains": domains.joined(separator: ","),
                "client_secret": sealed == nil ? "kept" : "replaced",
                "jit": settings.justInTime.enabled ? "on" : "off", "jit_perm_set": settings.justInTime.permSet ?? "",
            ])
            return settings
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

    /// The organization and its settings with the client secret opened, for a sign-in's code
    /// exchange only: the secret goes to the provider and is shown to no one, so this is
    /// not audited as a disclosure (the sign-in's outcome is).
    ///
    /// - Throws: ``PlatformError`` `.unknownOrganization`, `.ssoNotConfigured`, `.wrongEncryptionKey`.
    public func ssoForSignIn(of organization: OrganizationID) async throws -> (Organization, SSOSettings) {
        let organization = try await Self.require(organization.description, on: platform.master)
        guard let settings = try await Self.readSSO(of: organization, on: platform.master, cipher: platform.configuration.cipher) else {
            throw PlatformError(.ssoNotConfigured, "organization '\(organization.name)' has no SSO settings")
        }
        return (organization, settings)
    }

    /// The organization whose SSO allows the email's domain, if any (home-realm discovery).
    ///
    /// - Throws: ``PlatformError`` `.invalidEmail`.
    public func organization(forEmail email: String) async throws -> Organization? {
        let address = try EmailAddress.normalized(email)
        let domain = String(address[address.index(after: address.lastIndex(of: "@")!)...])
        return try await platform.master.query("""
            \(Organization.select)
              JOIN platform.organization_sso_domain d ON d.organization_id = o.organization_id
             WHERE d.domain = $1
            """, [domain]).rows.first.map(Organization.init(row:))
    }

    /// Removes the organization's SSO settings and frees its domains.
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

    /// Makes `domains` the organization's list; a domain another organization holds is refused.
    private static func replaceDomains(of organization: Organization, with domains: [String], on tx: MasterChange) async throws {
        let holders = try await tx.query("""
            SELECT d.domain, o.name FROM platform.organization_sso_domain d
              JOIN platform.organization o ON o.organization_id = d.organization_id
             WHERE d.domain = ANY ($1) AND d.organization_id <> $2 ORDER BY d.domain
            """, [domains, organization.id]).rows
        if let first = holders.first {
            let domain: String = try first.decode(at: 0)
            let holder: String = try first.decode(at: 1)
            throw PlatformError(.domainTaken, "the email domain '\(domain)' belongs to organization '\(holder)'",
                                detail: "A domain names one organization, so that an email finds where to sign in.",
                                hint: "Remove it from '\(holder)' first (`pgperm org sso set \(holder) ...`), or leave it out here.")
        }
        try await tx.query("DELETE FROM platform.organization_sso_domain WHERE organization_id = $1 AND domain <> ALL ($2)",
                           [organization.id, domains])
        try await tx.query("""
            INSERT INTO platform.organization_sso_domain (domain, organization_id)
            SELECT unnest($1::text[]), $2 ON CONFLICT (domain) DO NOTHING
            """, [domains, organization.id])
        // Claimed concurrently by another organization: ON CONFLICT kept theirs.
        let mine = try await tx.query("SELECT count(*) FROM platform.organization_sso_domain WHERE organization_id = $1",
                                      [organization.id]).scalar(Int.self)
        if mine != domains.count {
            throw PlatformError(.domainTaken, "an email domain of the list was just claimed by another organization",
                                hint: "Run the command again to see which.")
        }
    }

    /// Reads the settings row; the secret is opened only when a cipher is given.
    static func readSSO(of organization: Organization, on db: any QueryExecutor,
                        cipher: CredentialCipher?) async throws -> SSOSettings? {
        guard let row = try await db.query("""
            SELECT provider, entra_tenant_id, issuer, client_id, client_secret_encrypted, jit_enabled, jit_perm_set, updated_at,
                   ARRAY(SELECT d.domain FROM platform.organization_sso_domain d
                          WHERE d.organization_id = s.organization_id ORDER BY d.domain) AS allowed_domains
              FROM platform.organization_sso s WHERE organization_id = $1
            """, [organization.id], prepared: false).rows.first else { return nil }
        let sealed: String = try row.decode(column: "client_secret_encrypted")
        let kind: String = try row.decode(column: "provider")
        let provider: SSOProvider = kind == "oidc"
            ? .openIDConnect(issuer: try row.decode(column: "issuer"))
            : .entraID(tenantID: try row.decode(column: "entra_tenant_id"))
        return SSOSettings(
            provider: provider, clientID: try row.decode(column: "client_id"),
            clientSecret: try cipher.map { try $0.open(sealed, context: organization.ssoSecretContext) },
            allowedDomains: try row.decode(column: "allowed_domains"),
            justInTime: JustInTimeMembership(enabled: try row.decode(column: "jit_enabled"),
                                             permSet: try row.decode(column: "jit_perm_set")),
            updatedAt: try row.decode(column: "updated_at"))
    }

    static func validated(_ provider: SSOProvider) throws -> SSOProvider {
        switch provider {
        case .entraID(let tenantID): return .entraID(tenantID: try validated(entraTenantID: tenantID))
        case .openIDConnect(let issuer): return .openIDConnect(issuer: try validated(issuer: issuer))
        }
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

    /// An issuer URL: https with a host and no query or fragment (OpenID Connect Discovery
    /// 1.0, section 2), or http on a loopback address, which only a test provider uses.
    /// Kept exactly as given but for a trailing slash, since tokens must name it exactly.
    static func validated(issuer: String) throws -> String {
        var text = issuer.trimmingCharacters(in: .whitespaces)
        while text.hasSuffix("/") { text.removeLast() }
        guard text.count <= 2048, let url = URL(string: text), let host = url.host, !host.isEmpty,
              url.query == nil, url.fragment == nil, url.user == nil,
              url.scheme == "https" || (url.scheme == "http" && ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host))
        else {
            throw PlatformError(.invalidSSOSettings, "the issuer '\(issuer)' is not an https URL without query or fragment",
                                hint: "Pass the provider's issuer as its discovery document names it, e.g. https://accounts.example.com.")
        }
        return text
    }

    /// A client id: a GUID for Entra ID (lower case); for others, 1–255 visible characters.
    static func validated(clientID: String, for provider: SSOProvider) throws -> String {
        let trimmed = clientID.trimmingCharacters(in: .whitespaces)
        if case .entraID = provider {
            guard let guid = UUID(uuidString: trimmed) else {
                throw PlatformError(.invalidSSOSettings, "the client id '\(clientID)' is not a GUID",
                                    hint: "Copy the Application (client) ID from the app registration in Entra ID.")
            }
            return guid.lowercased
        }
        guard !trimmed.isEmpty, trimmed.count <= 255, trimmed.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else {
            throw PlatformError(.invalidSSOSettings, "the client id '\(clientID)' is empty, too long or not printable ASCII",
                                hint: "Copy the client id the provider gave when the application was registered.")
        }
        return trimmed
    }

    /// A permission set code as the auth schema writes them (letters, digits, _ and -).
    static func validated(_ justInTime: JustInTimeMembership) throws -> JustInTimeMembership {
        guard let code = justInTime.permSet?.trimmingCharacters(in: .whitespaces) else { return justInTime }
        guard code.range(of: "^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$", options: .regularExpression) != nil else {
            throw PlatformError(.invalidSSOSettings, "'\(code)' is not a permission set code",
                                hint: "Name a set of the tenants, such as USER (`pgperm` lists them per tenant).")
        }
        return JustInTimeMembership(enabled: justInTime.enabled, permSet: code)
    }
}

extension Organization {
    /// What the sealed SSO client secret is bound to: copied onto another organization's row, it does not open.
    var ssoSecretContext: String { "organization:\(id):sso" }
}
