import Hummingbird

/// `Cache-Control: no-store` on every successful API answer: they carry sessions, permissions and, for
/// the credentials endpoint, plaintext passwords, which no cache on the way may keep.
struct NoStoreMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.cacheControl] = "no-store"
        return response
    }
}
