import Hummingbird
import TenantPlatform

/// `/admin/api/session`: sign in (POST), who am I (GET), sign out (DELETE).
struct AdminSessionRoutes {
    let sessions: SessionStore<AdminSubject>
    let cookie: SessionCookie
    let admins: AdminUserStore
    static let cookiePath = "/admin"

    struct SignIn: Decodable {
        let email: String
        let password: String
    }

    /// Sign-in is open; the other two need a session (`signedIn` carries the authenticator).
    func register(open: RouterGroup<PortalContext>, signedIn: RouterGroup<PortalContext>) {
        open.post("session") { request, context in
            let credentials = try await request.decode(as: SignIn.self, context: context)
            guard let admin = try await admins.authenticate(email: credentials.email, password: credentials.password) else {
                throw APIError.wrongCredentials
            }
            let token = await sessions.open(AdminSubject(adminID: admin.id))
            var response = try AdminUserView(admin).response(from: request, context: context)
            response.setCookie(cookie.setting(token, path: Self.cookiePath))
            return response
        }
        signedIn.get("session") { _, context in
            AdminUserView(try context.requireAdmin())
        }
        signedIn.delete("session") { request, _ in
            if let token = cookie.token(in: request) { await sessions.close(token) }
            var response = Response(status: .noContent)
            response.setCookie(cookie.clearing(path: Self.cookiePath))
            return response
        }
    }
}
