import Hummingbird

/// Refuses a state-changing request that a browser sent from another site: browsers name
/// the page's origin on such requests, and it must be this server's: one of the configured
/// public origins (`--public-origin https://admin.example.com`, needed behind a proxy that
/// rewrites Host), or else the request's own host. Together with SameSite=Strict session
/// cookies this closes cross-site request forgery, sign-in included. Requests without an
/// Origin (curl, server-to-server) pass.
struct SameOriginMiddleware<Context: RequestContext>: RouterMiddleware {
    let publicOrigins: [String]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let safe: Set<HTTPRequest.Method> = [.get, .head, .options]
        if !safe.contains(request.method), let origin = request.headers[.origin] {
            guard allowed(origin, request) else {
                throw APIError.forbidden("cross-site request refused (Origin \(origin) is not this server)",
                                         hint: "Call the API from the portal's own pages, or without an Origin header.")
            }
        }
        return try await next(request, context)
    }

    private func allowed(_ origin: String, _ request: Request) -> Bool {
        if !publicOrigins.isEmpty { return publicOrigins.contains(origin) }
        let host = request.head.authority ?? ""  // HTTP/1 Host, as HTTPTypes carries it
        return origin == "http://\(host)" || origin == "https://\(host)"
    }
}
