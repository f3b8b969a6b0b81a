import Hummingbird

/// Headers on every answer, errors included (``APIErrorMiddleware`` runs inside this one and
/// answers rather than throws):
/// - `X-Content-Type-Options: nosniff`, so a browser never runs an answer as another type;
/// - `Cache-Control: no-store` unless the route chose its own policy (the page's files are
///   `no-cache`): API answers carry sessions, permissions and, for the credentials endpoint,
///   plaintext passwords, which no cache on the way may keep;
/// - `Strict-Transport-Security` when the portal is served over HTTPS (`--secure-cookies`),
///   so the browser never tries plain HTTP again and the Secure cookies are never offered to it.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    let strictTransportSecurity: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        if response.headers[.cacheControl] == nil {
            response.headers[.cacheControl] = "no-store"
        }
        if strictTransportSecurity {
            response.headers[.strictTransportSecurity] = "max-age=31536000"
        }
        return response
    }
}
