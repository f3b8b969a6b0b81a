import Foundation
import Hummingbird
import TenantPlatform

/// The tenant API's session cookies: one per tenant, named after the tenant's id
/// (`pgperm_session_<platform tenant id>`), at path `/t/`.
///
/// A session belongs to the tenant's id, not to its slug, and so does its cookie: the
/// browser sends it to every `/t/{slug}/` and the server picks the one of the tenant the
/// slug names now, so a tenant renamed while its users are signed in keeps them signed in
/// under the new slug. One browser may be signed in to several tenants at once (one cookie
/// each), and signing out of one clears only its cookie. Each cookie is HttpOnly,
/// SameSite=Strict and Secure behind HTTPS, like every session cookie (``SessionCookie``).
///
/// The cookie's name tells which tenant a session is for, never that it is valid: the
/// session's row says which tenant it belongs to, and a token under another tenant's name is
/// no session there.
struct TenantSessionCookies: Sendable {
    static let path = "/t/"
    static let namePrefix = "pgperm_session_"
    let secure: Bool

    /// The cookie of `tenant`'s sessions.
    func cookie(of tenant: PlatformTenantID) -> SessionCookie {
        SessionCookie(name: Self.name(of: tenant), secure: secure)
    }

    static func name(of tenant: PlatformTenantID) -> String {
        namePrefix + tenant.description
    }

    /// The token the request carries for `tenant`, if any.
    func token(in request: Request, for tenant: PlatformTenantID) -> String? {
        guard let token = cookie(of: tenant).token(in: request), !token.isEmpty else { return nil }
        return token
    }

    func setting(_ token: String, for tenant: PlatformTenantID) -> Cookie {
        cookie(of: tenant).setting(token, path: Self.path)
    }

    func clearing(for tenant: PlatformTenantID) -> Cookie {
        cookie(of: tenant).clearing(path: Self.path)
    }

    /// The tenant session cookies the request carries, in the order sent, the first of each
    /// name only (as ``token(in:for:)`` reads them), at most `limit` of them: the work one
    /// request can cause stays bounded whatever it sends.
    func all(in request: Request, limit: Int) -> [(tenant: PlatformTenantID, token: String)] {
        var found: [(tenant: PlatformTenantID, token: String)] = []
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[0].hasPrefix(Self.namePrefix), !parts[1].isEmpty,
                      let uuid = UUID(uuidString: String(parts[0].dropFirst(Self.namePrefix.count)))
                else { continue }
                let tenant = PlatformTenantID(uuid)
                // Only the name this server writes (lower case), as the lookup by name reads it.
                guard Self.name(of: tenant) == parts[0], !found.contains(where: { $0.tenant == tenant }) else { continue }
                found.append((tenant, String(parts[1])))
                if found.count == limit { return found }
            }
        }
        return found
    }
}
