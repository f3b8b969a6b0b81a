import Foundation
import Hummingbird

/// The session cookie of one part of the portal: HttpOnly (scripts cannot read it),
/// SameSite=Strict (other sites cannot make the browser send it), scoped to that part's
/// path, and Secure when the portal is served over HTTPS. It has no lifetime of its own
/// (the browser keeps it until it closes): the server ends idle sessions.
struct SessionCookie: Sendable {
    let name: String
    let secure: Bool

    func token(in request: Request) -> String? {
        request.cookies[name]?.value
    }

    func setting(_ token: String, path: String) -> Cookie {
        Cookie(name: name, value: token, path: path,
               secure: secure, httpOnly: true, sameSite: .strict)
    }

    /// An expired cookie of the same name and path, so the browser drops it.
    func clearing(path: String) -> Cookie {
        Cookie(name: name, value: "", maxAge: 0, path: path, secure: secure, httpOnly: true, sameSite: .strict)
    }
}
