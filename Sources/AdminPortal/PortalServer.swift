import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import TenantPlatform

/// The portal's HTTP server over one ``Platform``: the admin page at `/admin/`, the admin
/// API under `/admin/api/`, the tenant APIs under `/t/{slug}/api/`.
///
/// ```swift
/// let platform = try await Platform.start(try PlatformConfiguration.resolve())
/// try await PortalServer(platform: platform, configuration: .init(port: 8080)).run()
/// ```
public struct PortalServer: Sendable {
    public let platform: Platform
    public let configuration: PortalConfiguration
    let logger: Logger
    let adminSessions: SessionStore<AdminSubject>
    let tenantSessions: SessionStore<TenantUserSession>
    let adminSignIns = SignInThrottle()

    public init(platform: Platform, configuration: PortalConfiguration, logger: Logger = Logger(label: "pgperm.portal")) {
        self.platform = platform
        self.configuration = configuration
        self.logger = logger
        adminSessions = SessionStore(idleTimeout: configuration.sessionIdleTimeout)
        tenantSessions = SessionStore(idleTimeout: configuration.sessionIdleTimeout)
    }

    /// Serves until the task is cancelled or the process gets SIGINT/SIGTERM.
    public func run() async throws {
        try await application().runService()
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
        router.add(middleware: APIErrorMiddleware())
        router.add(middleware: HostCheckMiddleware(configuration: configuration))
        router.add(middleware: SameOriginMiddleware(publicOrigins: configuration.publicOrigins))
        AdminPageRoutes().register(on: router)
        addAdminAPI(to: router.group("admin/api"))
        addTenantAPI(to: router.group("t/{slug}/api"))
        return router
    }

    private func addAdminAPI(to group: RouterGroup<PortalContext>) {
        let cookie = SessionCookie(name: "pgperm_admin", secure: configuration.secureCookies)
        let admins = AdminUserStore(platform: platform)
        let signedIn = group.group()
            .add(middleware: AdminAuthenticator(sessions: adminSessions, cookie: cookie, admins: admins))
        AdminSessionRoutes(sessions: adminSessions, cookie: cookie, admins: admins, throttle: adminSignIns)
            .register(open: group, signedIn: signedIn)
        AdminTenantRoutes(platform: platform, tenantSessions: tenantSessions).register(on: signedIn)
    }

    private func addTenantAPI(to group: RouterGroup<PortalContext>) {
        let cookie = SessionCookie(name: "pgperm_session", secure: configuration.secureCookies)
        let open = group.add(middleware: TenantGate(registry: platform.registry))
        let signedIn = open.group()
            .add(middleware: TenantUserAuthenticator(sessions: tenantSessions, cookie: cookie, connections: platform.connections))
        TenantAPIRoutes(connections: platform.connections, sessions: tenantSessions, cookie: cookie)
            .register(open: open, signedIn: signedIn)
    }
}
