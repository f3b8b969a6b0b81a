import Foundation
import Hummingbird
import TenantPlatform

/// `/admin/api/session`: sign in (POST), who am I (GET), sign out (DELETE).
struct AdminSessionRoutes {
    let sessions: SessionStore
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
            // The value the database compares (AdminUserStore.authenticate trims it too).
            let email = credentials.email.trimmingCharacters(in: .whitespaces)
            try SignInFields.check("email", email, maximumLength: SignInFields.maximumEmailLength)
            try SignInFields.checkPassword(credentials.password)
            try await throttle.reserve(kind: "admin", account: email, client: context.clientAddress)
            guard let admin = try await admins.authenticate(email: email, password: credentials.password) else {
                throw APIError.wrongCredentials
            }
            try await throttle.succeeded(kind: "admin", account: email, client: context.clientAddress)
            try await admins.recordSession(.signIn, of: admin, client: context.clientAddress)
            let token = try await sessions.open(.admin(admin.id))
            var response = try AdminUserView(admin).response(from: request, context: context)
            response.setCookie(cookie.setting(token, path: Self.cookiePath))
            return response
        }
        signedIn.get("session") { _, context in
            AdminUserView(try context.requireAdmin())
        }
        open.delete("session") { request, context in
            if let token = cookie.token(in: request) {
                if case .admin(let id)? = try await sessions.subject(for: token), let admin = try await admins.find(id.description) {
                    try await admins.recordSession(.signOut, of: admin, client: context.clientAddress)
                }
                try await sessions.close(token)
            }
            var response = Response(status: .noContent)
            response.setCookie(cookie.clearing(path: Self.cookiePath))
            return response
        }
    }
}
