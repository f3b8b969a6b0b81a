import Hummingbird

/// Answers only requests addressed to this server. DNS rebinding points a name the attacker
/// owns (`evil.example`) at 127.0.0.1, so the victim's browser talks to the loopback portal as
/// if it were the attacker's site; the browser still names the attacker's host in `Host`,
/// which this refuses with 421 Misdirected Request.
///
/// Accepted hosts (any port): those of the public origins (`--public-origin`), the address the
/// server listens on, and the loopback names. A browser cannot be made to send a loopback name
/// for someone else's site, and a proxy that rewrites Host sends the address it forwards to.
struct HostCheckMiddleware<Context: RequestContext>: RouterMiddleware {
    let allowedHosts: Set<String>

    init(configuration: PortalConfiguration) {
        let origins = configuration.publicOrigins.map { origin in
            Self.hostname(ofAuthority: String(origin.split(separator: "://", maxSplits: 1).last ?? ""))
        }
        allowedHosts = Set(origins + [configuration.host.lowercased(), "localhost", "127.0.0.1", "::1"])
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let authority = request.head.authority else {  // HTTP/1 Host, as HTTPTypes carries it
            throw APIError.badRequest("the request has no Host header", hint: "Send HTTP/1.1 with a Host header.")
        }
        guard allowedHosts.contains(Self.hostname(ofAuthority: authority)) else {
            throw APIError(status: .misdirectedRequest, code: "misdirected_request",
                           message: "this server does not answer for host '\(authority)'",
                           hint: "Use the portal's own address; behind a proxy, start `pgperm serve` with --public-origin for the address browsers use.")
        }
        return try await next(request, context)
    }

    /// `Admin.Example.com:8443` → `admin.example.com`, `[::1]:8080` → `::1`.
    static func hostname(ofAuthority authority: String) -> String {
        let host = authority.hasPrefix("[")
            ? authority.dropFirst().prefix { $0 != "]" }
            : authority.prefix { $0 != ":" }
        return host.lowercased()
    }
}
