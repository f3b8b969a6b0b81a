import Hummingbird

/// The OpenAPI 3.1 documents of the APIs (`web/openapi/`, embedded at build time), served
/// at `/admin/api/openapi.json`, `/t/{slug}/api/openapi.json` and `/sso/openapi.json`
/// without sign-in. The test suite checks every answer it receives against them, and CI
/// fuzzes the running server with them (`scripts/fuzz-api`).
enum OpenAPIDocuments {
    static let admin = "openapi/admin-api.json"
    static let tenant = "openapi/tenant-api.json"
    /// Home-realm discovery, before any tenant is known.
    static let signIn = "openapi/sso-api.json"

    /// The document's text.
    static func text(_ name: String) -> String {
        guard let text = EmbeddedWeb.files[name] else { preconditionFailure("\(name) is not embedded: check web/") }
        return text
    }

    static func register(_ name: String, on group: RouterGroup<PortalContext>) {
        group.get("openapi.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"],
                     body: .init(byteBuffer: ByteBuffer(string: text(name))))
        }
    }
}
