import SingleSignOn

/// How the portal listens and keeps sessions.
public struct PortalConfiguration: Sendable {
    /// The address to bind; loopback unless the operator says otherwise.
    public var host: String
    public var port: Int
    /// A session ends after this long without a request.
    public var sessionIdleTimeout: Duration
    /// A session ends this long after sign-in, however busy.
    public var sessionLifetime: Duration
    /// Marks session cookies `Secure` and sends `Strict-Transport-Security`: set it when the
    /// portal is served over HTTPS (behind a TLS-terminating proxy), so browsers never send
    /// the cookie in clear text.
    public var secureCookies: Bool
    /// The origins browsers reach the portal at (`https://admin.example.com`). Empty: the
    /// request's own host, which is right unless a proxy rewrites the Host header. Requests
    /// for any other host than these, the bound address and loopback are refused.
    public var publicOrigins: [String]
    /// A connection is closed when it has sent nothing for this long between requests, or
    /// has not finished sending a request head.
    public var connectionIdleTimeout: Duration
    /// A connection is closed when a request's body has not fully arrived this long after
    /// its head.
    public var requestReadTimeout: Duration
    /// Single sign-on: the deadline of calls to identity providers, and how often a key set
    /// may be fetched again.
    public var singleSignOn = SingleSignOnClient.Configuration()
    /// A bearer token that admits `GET /metrics` from any address; without one, only
    /// loopback clients may read it.
    public var metricsToken: String?
    /// How long the System Statistics tab shows the counts it read before it reads them again
    /// (in the background, showing the older ones meanwhile).
    public var statisticsMaximumAge: Duration

    public init(host: String = "127.0.0.1", port: Int = 8080, sessionIdleTimeout: Duration = .seconds(8 * 3600),
                sessionLifetime: Duration = .seconds(24 * 3600), secureCookies: Bool = false, publicOrigins: [String] = [],
                connectionIdleTimeout: Duration = .seconds(60), requestReadTimeout: Duration = .seconds(30),
                metricsToken: String? = nil, statisticsMaximumAge: Duration = .seconds(60)) {
        self.host = host
        self.port = port
        self.sessionIdleTimeout = sessionIdleTimeout
        self.sessionLifetime = sessionLifetime
        self.secureCookies = secureCookies
        self.publicOrigins = publicOrigins
        self.connectionIdleTimeout = connectionIdleTimeout
        self.requestReadTimeout = requestReadTimeout
        self.metricsToken = metricsToken
        self.statisticsMaximumAge = statisticsMaximumAge
    }
}
