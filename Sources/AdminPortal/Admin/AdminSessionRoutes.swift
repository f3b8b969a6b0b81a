import Foundation
import Hummingbird
import TenantPlatform

/// `/admin/api/session`: sign in (POST), who am I (GET), sign out (DELETE).
struct AdminSessionRoutes {
    let sessions: SessionStore<AdminSubject>
    let cookie: SessionCookie
    let admins: AdminUserStore
    let throttle: SignInThrottle
    static let cookiePath = "/admin"

    struct SignIn: Decodable {
        let email: String
        let password: String
    }

    /// Sign-in and sign-out are open (signing out of an expired session still clears the
    /// cookie); who-am-I needs a session (`signedIn` carries the authenticator).
    func register(open: RouterGroup<PortalContext>, signedIn: RouterGroup<PortalContext>) {
        open.post("session") { request, context in
            let credentials = try await request.decode(as: SignIn.self, context: context)
            let account = credentials.email.trimmingCharacters(in: .whitespaces).lowercased()
            try await throttle.admit(account)
            guard let admin = try await admins.authenticate(email: credentials.email, password: credentials.password) else {
                await throttle.recordFailure(account)
                throw APIError.wrongCredentials
            }
            await throttle.recordSuccess(account)
            let token = await sessions.open(AdminSubject(adminID: admin.id))
            var response = try AdminUserView(admin).response(from: request, context: context)
            response.setCookie(cookie.setting(token, path: Self.cookiePath))
            return response
        }
        signedIn.get("session") { _, context in
            AdminUserView(try context.requireAdmin())
        }
        open.delete("session") { request, _ in
            if let token = cookie.token(in: request) { await sessions.close(token) }
            var response = Response(status: .noContent)
            response.setCookie(cookie.clearing(path: Self.cookiePath))
            return response
        }
    }
}
