import Crypto
import Foundation
import PQ

/// A single sign-on between the redirect to the provider and its return, as the master
/// database keeps it (`platform.sso_login`).
public struct SSOLogin: Sendable, Equatable {
    public let organizationID: OrganizationID
    public let tenantID: PlatformTenantID
    public let nonce: String
    /// The PKCE code verifier (RFC 7636), sent with the code to prove this server asked for it.
    public let codeVerifier: String
    /// The redirect URI sent to the provider, which the code exchange must repeat.
    public let redirectURI: String
    /// Where the browser goes once signed in (a path of this server), if it asked.
    public let returnTo: String?
}

/// The secrets of a new sign-in: the state (in the provider's URL), the browser binding
/// (in a cookie), the nonce (in the ID token) and the PKCE verifier (kept here only).
public struct SSOLoginStart: Sendable {
    public let state: String
    public let browserBinding: String
    public let login: SSOLogin
    /// `BASE64URL(SHA256(code_verifier))`, the S256 challenge of the authorization request.
    public var codeChallenge: String { SecretToken.base64URL(Data(SHA256.hash(data: Data(login.codeVerifier.utf8)))) }
}

/// Sign-ins in progress, in the master database so that any `pgperm serve` process behind
/// a load balancer can take the callback. Only hashes of the state and of the browser
/// binding are stored; each row is used once and refused after ten minutes. Outcomes are
/// written to the platform audit log, never with a token or a secret.
public struct SSOLoginStore: Sendable {
    /// How long a sign-in may take between the start and the callback.
    public static let lifetime: Duration = .seconds(600)
    let platform: Platform

    /// Records a new sign-in and returns its secrets.
    public func begin(organization: OrganizationID, tenant: PlatformTenantID, redirectURI: String,
                      returnTo: String?) async throws -> SSOLoginStart {
        let start = SSOLoginStart(
            state: SecretToken.random(), browserBinding: SecretToken.random(),
            login: SSOLogin(organizationID: organization, tenantID: tenant, nonce: SecretToken.random(),
                            codeVerifier: SecretToken.random(), redirectURI: redirectURI, returnTo: returnTo))
        try await platform.master.query("""
            INSERT INTO platform.sso_login (state_hash, browser_hash, organization_id, tenant_id, nonce, code_verifier,
                                            redirect_uri, return_to, expires_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now() + make_interval(secs => $9))
            """, [SecretToken.hash(start.state), SecretToken.hash(start.browserBinding), organization, tenant,
                  start.login.nonce, start.login.codeVerifier, redirectURI, returnTo, Self.lifetime / .seconds(1)])
        return start
    }

    /// Takes the sign-in the state names, once: the row is deleted whatever follows, so a
    /// replayed callback finds nothing. Nil for an unknown, used or expired state, or a
    /// state presented by another browser than the one that began it.
    public func consume(state: String, browserBinding: String?) async throws -> SSOLogin? {
        guard !state.isEmpty, state.utf8.count <= 256 else { return nil }
        guard let row = try await platform.master.query("""
            DELETE FROM platform.sso_login WHERE state_hash = $1
            RETURNING browser_hash, expires_at > now() AS live, organization_id, tenant_id, nonce, code_verifier,
                      redirect_uri, return_to
            """, [SecretToken.hash(state)]).rows.first else { return nil }
        let browserHash: Data = try row.decode(column: "browser_hash")
        guard try row.decode(Bool.self, column: "live"),
              let browserBinding, SecretToken.hash(browserBinding) == browserHash else { return nil }
        return SSOLogin(organizationID: try row.decode(column: "organization_id"), tenantID: try row.decode(column: "tenant_id"),
                        nonce: try row.decode(column: "nonce"), codeVerifier: try row.decode(column: "code_verifier"),
                        redirectURI: try row.decode(column: "redirect_uri"), returnTo: try row.decode(column: "return_to"))
    }

    /// Deletes sign-ins that have expired (they are refused anyway; this keeps the table small).
    public func sweep() async throws {
        try await platform.master.query("DELETE FROM platform.sso_login WHERE expires_at < now()")
    }

    /// Writes an outcome to the platform audit log: `sso.sign_in` or `sso.sign_in_refused`,
    /// with what is safe to keep (reason, issuer, subject, email domain; no token, no secret).
    public func audit(_ action: String, tenant slug: String, details: [String: String]) async throws {
        try await platform.changeMaster { tx in
            let tenant = try await TenantDirectory(master: tx).find(slug: slug)?.record
            try await tx.audit(action, tenant: tenant, details: details)
        }
    }
}

extension Platform {
    /// Single sign-ons in progress.
    public var ssoLogins: SSOLoginStore { SSOLoginStore(platform: self) }
}
