import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import TenantPlatform

/// The portal's HTTP server over one ``Platform``: the admin page at `/admin/`, the admin
/// API under `/admin/api/`, the tenant APIs under `/t/{slug}/api/`, and single sign-on's
/// home-realm discovery under `/sso/`, before any tenant is known.
///
/// ```swift
/// let platform = try await Platform.start(try PlatformConfiguration.resolve())
/// try await PortalServer(platform: platform, configuration: .init(port: 8080)).run()
/// ```
public struct PortalServer: Sendable {
    public let platform: Platform
    public let configuration: PortalConfiguration
    let logger: Logger
    /// Admin and tenant-user sessions, and the sign-in throttle, all in the master database.
    let sessions: SessionStore
    let signIns: SignInThrottle
    let unknownTenants = UnknownTenantCache()
    /// This process's request counts and latencies (the statistics tab and `/metrics`).
    let requestMetrics = RequestMetrics()

    public init(platform: Platform, configuration: PortalConfiguration, logger: Logger = Logger(label: "pgperm.portal")) {
        self.platform = platform
        self.configuration = configuration
        self.logger = logger
        sessions = SessionStore(master: platform.master, idleTimeout: configuration.sessionIdleTimeout,
                                lifetime: configuration.sessionLifetime)
        signIns = SignInThrottle(master: platform.master)
    }

    /// Serves until the task is cancelled or the process gets SIGINT/SIGTERM.
    public func run() async throws {
        let sweeper = Task { await sweepExpiredRows() }
        defer { sweeper.cancel() }
        try await application().runService()
    }

    /// Deletes expired sessions and old sign-in attempts every minute. Expired rows are
    /// refused whether or not they are still there; this only keeps the tables small.
    private func sweepExpiredRows() async {
        while !Task.isCancelled {
            do {
                try await sessions.sweep()
                try await signIns.sweep()
                try await platform.ssoLogins.sweep()
            } catch {
                logger.warning("could not delete expired sessions", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: .seconds(60))
        }
    }

    /// The application, for running or for tests (`HummingbirdTesting`).
    public func application() -> some ApplicationProtocol {
        let readTimeout = TimeAmount(configuration.requestReadTimeout)
        let http1 = HTTP1Channel.Configuration(
            additionalChannelHandlers: [RequestReadTimeoutHandler(timeout: readTimeout)],
            idleTimeout: TimeAmount(configuration.connectionIdleTimeout))
        return Application(router: router(), server: .http1(configuration: http1),
                           configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                                serverName: "pgperm"),
                           logger: logger)
    }

    /// Middleware from the outside in: headers on every answer, errors turned into answers,
    /// then the checks that refuse a request before any route sees it.
    func router() -> Router<PortalContext> {
        let router = Router(context: PortalContext.self)
        router.add(middleware: SecurityHeadersMiddleware(strictTransportSecurity: configuration.secureCookies))
        router.add(middleware: RequestMetricsMiddleware(metrics: requestMetrics))
        router.add(middleware: APIErrorMiddleware())
        router.add(middleware: HostCheckMiddleware(configuration: configuration))
        router.add(middleware: SameOriginMiddleware(publicOrigins: configuration.publicOrigins))
        AdminPageRoutes().register(on: router)
        MetricsRoute(metrics: requestMetrics, bearerToken: configuration.metricsToken).register(on: router)
        addAdminAPI(to: router.group("admin/api"))
        addTenantAPI(to: router.group("t/{slug}/api"))
        let signIn = router.group("sso")
        OpenAPIDocuments.register(OpenAPIDocuments.signIn, on: signIn)
        HomeRealmRoutes(platform: platform, throttle: signIns).register(on: signIn)
        return router
    }

    private func addAdminAPI(to group: RouterGroup<PortalContext>) {
        let cookie = SessionCookie(name: "pgperm_admin", secure: configuration.secureCookies)
        let admins = AdminUserStore(platform: platform)
        OpenAPIDocuments.register(OpenAPIDocuments.admin, on: group)
        let signedIn = group.group()
            .add(middleware: AdminAuthenticator(sessions: sessions, cookie: cookie, admins: admins))
        AdminSessionRoutes(sessions: sessions, cookie: cookie, admins: admins, throttle: signIns)
            .register(open: group, signedIn: signedIn)
        AdminTenantRoutes(platform: platform, unknownTenants: unknownTenants).register(on: signedIn)
        AdminServerRoutes(platform: platform).register(on: signedIn)
        AdminOrganizationRoutes(platform: platform).register(on: signedIn)
        AdminUserRoutes(platform: platform).register(on: signedIn)
        AdminAuditRoutes(platform: platform).register(on: signedIn)
        AdminStatisticsRoutes(snapshots: StatisticsSnapshots(platform: platform, maximumAge: configuration.statisticsMaximumAge),
                              sessions: sessions, requests: requestMetrics).register(on: signedIn)
    }

    private func addTenantAPI(to group: RouterGroup<PortalContext>) {
        let tenantSessions = TenantSessions(store: sessions, cookies: TenantSessionCookies(secure: configuration.secureCookies),
                                            directory: platform.directory, connections: platform.connections)
        let open = group.add(middleware: TenantGate(directory: platform.directory, unknownTenants: unknownTenants))
        OpenAPIDocuments.register(OpenAPIDocuments.tenant, on: open)
        let signedIn = open.group().add(middleware: TenantUserAuthenticator(sessions: tenantSessions))
        let work = TenantWork(connections: platform.connections)
        let proofs = CredentialProofs(connections: platform.connections)
        TenantAPIRoutes(connections: platform.connections, sessions: tenantSessions, throttle: signIns, work: work, proofs: proofs)
            .register(open: open, signedIn: signedIn)
        TenantUserRoutes(work: work, sessions: tenantSessions).register(on: signedIn)
        TenantGroupRoutes(work: work).register(on: signedIn)
        TenantPermSetRoutes(work: work).register(on: signedIn)
        TenantAssignmentRoutes(work: work).register(on: signedIn)
        TenantInsightRoutes(work: work).register(on: signedIn)
        TenantPreferenceRoutes(work: work).register(on: signedIn)
        TenantAPIKeyRoutes(work: work).register(on: signedIn)
        TenantSecondFactorRoutes(work: work, proofs: proofs, sessions: tenantSessions).register(on: signedIn)
        TenantInvitationRoutes(work: work, connections: platform.connections).register(open: open, signedIn: signedIn)
        TenantSSORoutes(platform: platform, sessions: tenantSessions, configuration: configuration).register(on: open)
    }
}
