import Hummingbird

/// Times every request and records it in ``RequestMetrics`` under its route's template. It
/// runs outside ``APIErrorMiddleware``, which answers rather than throws, so failures are
/// counted with the status the client got; the route is read after the router has set it.
struct RequestMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: RequestMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        do {
            let response = try await next(request, context)
            metrics.record(method: request.method.rawValue, route: Self.route(context), status: response.status.code,
                           duration: ContinuousClock.now - started)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.record(method: request.method.rawValue, route: Self.route(context), status: status,
                           duration: ContinuousClock.now - started)
            throw error
        }
    }

    /// The matched route, nil when none matched (Hummingbird says "NotFound").
    private static func route(_ context: Context) -> String? {
        guard let path = context.endpointPath, path != "NotFound" else { return nil }
        return path
    }
}
