import Hummingbird

/// Serves the portal's page and its script and style under `/admin/`.
struct AdminPageRoutes {
    func register(on router: Router<PortalContext>) {
        router.get("admin") { _, _ in Self.file(AdminPage.html, type: "text/html; charset=utf-8") }
        router.get("admin/app.js") { _, _ in Self.file(AdminScript.javascript, type: "text/javascript; charset=utf-8") }
        router.get("admin/app.css") { _, _ in Self.file(AdminPage.css, type: "text/css; charset=utf-8") }
    }

    /// Scripts and styles only from this server, no framing (clickjacking); revalidated, not
    /// stored-and-forgotten (``SecurityHeadersMiddleware`` adds nosniff).
    private static func file(_ text: String, type: String) -> Response {
        let headers: HTTPFields = [
            .contentType: type,
            .contentSecurityPolicy: "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
            .cacheControl: "no-cache",
        ]
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
