import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix

/// A real OpenID Connect provider for the single sign-on tests: oidc-provider-mock
/// (`scripts/oidc-provider`, which prepares its Python environment), started once per test
/// run on a free loopback port. It accepts any client id and secret; who signs in is chosen
/// by POSTing `sub` to its authorization form, with claims set beforehand by `PUT /users/{sub}`.
/// The process ends with the test run: its script watches the test process.
public actor MockOpenIDProvider {
    public static let shared = MockOpenIDProvider()

    private var starting: Task<String, any Error>?

    /// The provider's issuer (`http://localhost:PORT`), starting it on first use (concurrent
    /// callers share the one start). Its issuer is whatever host it is reached by:
    /// `localhost` here, so that it is another site than the portal at 127.0.0.1, as Entra ID is.
    public func issuer() async throws -> String {
        if let starting { return try await starting.value }
        let task = Task { try await Self.launch() }
        starting = task
        return try await task.value
    }

    private static func launch() async throws -> String {
        let port = try freePort()
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "../..").standardizedFileURL
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        // The provider ends with the test process: the script watches it.
        let tests = ProcessInfo.processInfo.processIdentifier
        process.arguments = ["-c", """
            scripts/oidc-provider --port \(port) >/dev/null 2>&1 & child=$!
            while kill -0 \(tests) 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 1; done
            kill -9 $child 2>/dev/null  # the provider does not stop on SIGTERM
            """]
        process.currentDirectoryURL = root
        // Nothing of the test process's: swift test waits for its output pipes to close.
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let issuer = "http://localhost:\(port)"
        // The first run installs the package (tens of seconds); later ones start in about a second.
        let deadline = ContinuousClock.now + .seconds(180)
        while ContinuousClock.now < deadline {
            if let response = try? await http.execute(HTTPClientRequest(url: issuer + "/.well-known/openid-configuration"),
                                                       timeout: .seconds(2)), response.status == .ok {
                return issuer
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        throw MockProviderError(message: "oidc-provider-mock did not start on port \(port); run scripts/oidc-provider --install")
    }

    /// Sets the claims the provider gives `sub` (beyond `sub` itself).
    public nonisolated func setUser(_ sub: String, claims: [String: Any]) async throws {
        var request = HTTPClientRequest(url: try await issuer() + "/users/" + sub.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
        request.method = .PUT
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: claims)))
        let response = try await Self.http.execute(request, timeout: .seconds(10))
        guard response.status == .noContent else { throw MockProviderError(message: "PUT /users answered \(response.status)") }
    }

    /// Submits the provider's authorization form for `authorizeURL` as `sub` (or denies it),
    /// as the person would in a browser; returns the provider's redirect (our callback URL).
    public nonisolated func authorize(_ authorizeURL: String, as sub: String?) async throws -> URL {
        var request = HTTPClientRequest(url: authorizeURL)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        let form = sub.map { "sub=" + $0.addingPercentEncoding(withAllowedCharacters: .alphanumerics)! } ?? "action=deny"
        request.body = .bytes(ByteBuffer(string: form))
        let response = try await Self.http.execute(request, timeout: .seconds(10))
        guard (300..<400).contains(Int(response.status.code)), let location = response.headers.first(name: "Location"),
              let url = URL(string: location) else {
            let body = try await response.body.collect(upTo: 1 << 16)
            throw MockProviderError(message: "the authorization form answered \(response.status): \(String(buffer: body))")
        }
        return url
    }

    /// A client that never follows redirects: the tests read them.
    static let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
                                 configuration: .init(redirectConfiguration: .disallow))

    public static func freePort() throws -> Int {
        let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).wait()
        let port = channel.localAddress!.port!
        try channel.close().wait()
        return port
    }
}

public struct MockProviderError: Error, CustomStringConvertible {
    public let message: String
    public init(message: String) { self.message = message }
    public var description: String { message }
}
