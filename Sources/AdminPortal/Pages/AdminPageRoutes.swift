import HTTPTypes
import Hummingbird

/// Serves the admin page under `/admin/`: `web/admin/` embedded at build time (HTML, CSS,
/// JavaScript, no framework and nothing from elsewhere).
struct AdminPageRoutes {
    /// Path under `/admin/` → file under `web/admin/`, and its type.
    static let files: [String: (file: String, type: String)] = [
        "": ("admin/index.html", "text/html; charset=utf-8"),
        "app.js": ("admin/app.js", "text/javascript; charset=utf-8"),
        "app.css": ("admin/app.css", "text/css; charset=utf-8"),
        "icon.svg": ("admin/icon.svg", "image/svg+xml"),
    ]

    /// Only this server's own script and style, no inline script or style (not even a
    /// `style` attribute), no plugins, no framing, forms and fetches to this server alone.
    static let contentSecurityPolicy = [
        "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self'", "connect-src 'self'",
        "form-action 'self'", "base-uri 'none'", "frame-ancestors 'none'",
    ].joined(separator: "; ")

    func register(on router: Router<PortalContext>) {
        for (path, served) in Self.files {
            guard let text = EmbeddedWeb.files[served.file] else { preconditionFailure("\(served.file) is not embedded: check web/") }
            let response = Self.file(text, type: served.type)
            router.get(path.isEmpty ? "admin" : "admin/\(path)") { _, _ in response }
        }
    }

    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!

    /// No referrer leaves the page (its URLs name tenants); revalidated, not stored-and-forgotten (``SecurityHeadersMiddleware`` adds nosniff).
    private static func file(_ text: String, type: String) -> Response {
        let headers: HTTPFields = [
            .contentType: type,
            referrerPolicy: "no-referrer",
            .contentSecurityPolicy: contentSecurityPolicy,
            .cacheControl: "no-cache",
        ]
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
