import Crypto
import Foundation
import Hummingbird

/// `GET /metrics`: ``RequestMetrics`` in Prometheus text format, for a scraper on this
/// machine (a loopback client) or one holding the configured bearer token. Anyone else gets
/// 403: the routes and their traffic are the operator's business.
struct MetricsRoute {
    let metrics: RequestMetrics
    let bearerToken: String?

    func register(on router: Router<PortalContext>) {
        router.get("metrics") { request, context in
            guard Self.isLoopback(context.clientAddress) || hasToken(request) else {
                throw APIError.forbidden("metrics are served to loopback clients and to holders of the metrics token",
                                         hint: "Scrape from this machine, or send Authorization: Bearer <token> (pgperm serve --metrics-token-env).")
            }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: metrics.prometheusText())))
        }
    }

    static func isLoopback(_ address: String) -> Bool {
        address == "::1" || address.hasPrefix("127.") || address.hasPrefix("::ffff:127.")
    }

    /// Compared as digests, so the time taken says nothing about how much of it matched.
    private func hasToken(_ request: Request) -> Bool {
        guard let bearerToken, let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { return false }
        return SHA256.hash(data: Data(header.dropFirst("Bearer ".count).utf8)) == SHA256.hash(data: Data(bearerToken.utf8))
    }
}
