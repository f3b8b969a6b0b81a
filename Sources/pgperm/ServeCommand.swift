import AdminPortal
import ArgumentParser
import Foundation
import Logging
import TenantPlatform

/// `pgperm serve`: the admin portal and the tenant APIs over HTTP.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the admin portal at /admin/ (its API under /admin/api/) and the tenant APIs at /t/{slug}/api/.",
        discussion: """
            Listens on 127.0.0.1 by default; put a TLS-terminating proxy in front to serve it \
            beyond this machine, and pass --secure-cookies then. Requests must name this server \
            in Host: a --public-origin host, the listening address or a loopback name (421 \
            otherwise). Sign in with an admin user made by `pgperm admin create`. Stops on \
            SIGINT or SIGTERM.
            """)

    @OptionGroup var platform: PlatformOptions

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on.")
    var port = 8080

    @Option(name: .customLong("session-idle-minutes"), help: "Sign a session out after this many idle minutes.")
    var sessionIdleMinutes = 480

    @Option(name: .customLong("session-lifetime-hours"), help: "Sign a session out this many hours after sign-in, however busy.")
    var sessionLifetimeHours = 24

    @Flag(name: .customLong("secure-cookies"),
          help: "Mark session cookies Secure and send Strict-Transport-Security (the portal is reached over HTTPS).")
    var secureCookies = false

    @Option(name: .customLong("public-origin"),
            help: ArgumentHelp("An origin browsers reach the portal at, e.g. https://admin.example.com (repeatable); its host is accepted in Host and it in Origin. Needed for any address but loopback and the listening one.", valueName: "origin"))
    var publicOrigins: [String] = []

    @Option(name: .customLong("connection-idle-seconds"),
            help: "Close a connection that sends nothing for this many seconds between requests, or is this slow to send a request head.")
    var connectionIdleSeconds = 60

    @Option(name: .customLong("request-read-seconds"),
            help: "Close a connection whose request body has not fully arrived this many seconds after its head.")
    var requestReadSeconds = 30

    @Option(name: .customLong("statistics-max-age-seconds"),
            help: "Show the System Statistics tab's counts for this many seconds before reading every tenant database again (in the background).")
    var statisticsMaxAgeSeconds = 60

    @Option(name: .customLong("metrics-token-env"),
            help: ArgumentHelp("An environment variable holding a bearer token that also admits GET /metrics from beyond loopback.",
                               valueName: "name"))
    var metricsTokenEnvironment: String?

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be between 1 and 65535.") }
        guard sessionIdleMinutes > 0 else { throw ValidationError("--session-idle-minutes must be positive.") }
        guard sessionLifetimeHours > 0 else { throw ValidationError("--session-lifetime-hours must be positive.") }
        guard connectionIdleSeconds > 0 else { throw ValidationError("--connection-idle-seconds must be positive.") }
        guard requestReadSeconds > 0 else { throw ValidationError("--request-read-seconds must be positive.") }
        guard statisticsMaxAgeSeconds >= 0 else { throw ValidationError("--statistics-max-age-seconds must not be negative.") }
        for origin in publicOrigins where !(origin.hasPrefix("http://") || origin.hasPrefix("https://")) || origin.hasSuffix("/") {
            throw ValidationError("--public-origin takes scheme://host[:port] without a path, e.g. https://admin.example.com (got \(origin)).")
        }
    }

    func run() async throws {
        try await withPlatform(platform) { platform in
            var logger = Logger(label: "pgperm.portal")
            logger.logLevel = self.platform.verbose ? .debug : .info
            let configuration = PortalConfiguration(host: host, port: port,
                                                    sessionIdleTimeout: .seconds(sessionIdleMinutes * 60),
                                                    sessionLifetime: .seconds(sessionLifetimeHours * 3600),
                                                    secureCookies: secureCookies, publicOrigins: publicOrigins,
                                                    connectionIdleTimeout: .seconds(connectionIdleSeconds),
                                                    requestReadTimeout: .seconds(requestReadSeconds),
                                                    metricsToken: try metricsToken(),
                                                    statisticsMaximumAge: .seconds(statisticsMaxAgeSeconds))
            try await PortalServer(platform: platform, configuration: configuration, logger: logger).run()
        }
    }

    /// Read from the environment, never the command line, where `ps` would show it.
    private func metricsToken() throws -> String? {
        guard let name = metricsTokenEnvironment else { return nil }
        guard let token = ProcessInfo.processInfo.environment[name], token.count >= 16 else {
            throw ValidationError("--metrics-token-env: $\(name) must hold a token of at least 16 characters.")
        }
        return token
    }
}
