import Hummingbird

/// Refuses a state-changing request that a browser sent from another site: browsers name
/// the page's origin on such requests, and it must be this server's. Together with
/// SameSite=Strict session cookies this closes cross-site request forgery. Requests
/// without an Origin (curl, server-to-server) pass.
struct SameOriginMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let safe: Set<HTTPRequest.Method> = [.get, .head, .options]
        if !safe.contains(request.method), let origin = request.headers[.origin] {
            let host = request.head.authority ?? ""
            guard origin == "http://\(host)" || origin == "https://\(host)" else {
                throw APIError.forbidden("cross-site request refused (Origin \(origin) is not this server)",
                                         hint: "Call the API from the portal's own pages, or without an Origin header.")
            }
        }
        return try await next(request, context)
    }
}
