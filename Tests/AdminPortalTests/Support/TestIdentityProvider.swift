import Crypto
import _CryptoExtras
import Foundation
import Hummingbird
import JWTKit
import NIOConcurrencyHelpers
import NIOCore
import PlatformTestSupport
import TenantPlatform

/// An identity provider whose ID tokens the test writes, signed by test keys: for every
/// refusal the real provider cannot be made to produce (a wrong issuer, audience or `tid`,
/// bad times, a bad signature, `alg: none`, HMAC, an unknown key), and for Microsoft Entra
/// ID's endpoints (`/{tid}/v2.0/...`). It serves over HTTP on a loopback port: discovery,
/// the key set (counting fetches) and a token endpoint answering the token the test
/// registered for a code.
final class TestIdentityProvider: Sendable {
    static let tenantID = "9188040d-6c67-4c5b-b112-36a304b66dad"
    let rsa: _RSA.Signing.PrivateKey
    let ec: P256.Signing.PrivateKey
    static let rsaKid = "rsa-1"
    static let ecKid = "ec-1"
    let port: Int
    private let state: NIOLockedValueBox<State>
    private let server: Task<Void, any Error>

    struct State {
        var tokens: [String: String] = [:]
        var keySetFetches = 0
        /// Key ids the key set publishes (a test adds one to play a rotation).
        var published: Set<String> = [rsaKid, ecKid]
    }

    /// The authority to give the portal as Entra's sign-in host.
    var authority: String { "http://127.0.0.1:\(port)" }
    var entraIssuer: String { "\(authority)/\(Self.tenantID)/v2.0" }
    var keySetFetches: Int { state.withLockedValue { $0.keySetFetches } }

    /// Answers `id_token` at the token endpoint for `code`, once.
    func register(code: String, idToken: String) {
        state.withLockedValue { $0.tokens[code] = idToken }
    }

    func publish(_ kids: Set<String>) {
        state.withLockedValue { $0.published = kids }
    }

    static func start() async throws -> TestIdentityProvider {
        let ports = AsyncStream<Int>.makeStream()
        let state = NIOLockedValueBox(State())
        let rsa = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let ec = P256.Signing.PrivateKey()
        let router = Router()
        let jwks = try Self.jwks(rsa: rsa, ec: ec)
        router.get("{tid}/v2.0/.well-known/openid-configuration") { request, context -> Response in
            let tid = try context.parameters.require("tid")
            let base = "http://\(request.head.authority ?? "")"
            return Self.json([
                "issuer": "\(base)/\(tid)/v2.0", "authorization_endpoint": "\(base)/\(tid)/oauth2/v2.0/authorize",
                "token_endpoint": "\(base)/\(tid)/oauth2/v2.0/token", "jwks_uri": "\(base)/\(tid)/discovery/v2.0/keys",
            ])
        }
        router.get("{tid}/discovery/v2.0/keys") { _, _ -> Response in
            let published = state.withLockedValue { state in
                state.keySetFetches += 1
                return state.published
            }
            let keys = jwks.filter { published.contains($0.key) }.map(\.value).joined(separator: ",")
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: "{\"keys\":[\(keys)]}")))
        }
        router.post("{tid}/oauth2/v2.0/token") { request, _ -> Response in
            let body = String(buffer: try await request.body.collect(upTo: 1 << 16))
            let fields = Dictionary(body.split(separator: "&").map { pair -> (String, String) in
                let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? "" }
                return (parts[0], parts.count > 1 ? parts[1] : "")
            }, uniquingKeysWith: { first, _ in first })
            guard let token = state.withLockedValue({ $0.tokens.removeValue(forKey: fields["code"] ?? "") }) else {
                var response = Self.json(["error": "invalid_grant"])
                response.status = .badRequest
                return response
            }
            return Self.json(["id_token": token, "token_type": "Bearer", "access_token": "unused"])
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in ports.continuation.yield(channel.localAddress!.port!) })
        let server = Task { try await app.runService(gracefulShutdownSignals: []) }
        var iterator = ports.stream.makeAsyncIterator()
        guard let port = await iterator.next() else { throw MockProviderError(message: "the test provider did not start") }
        return TestIdentityProvider(rsa: rsa, ec: ec, port: port, state: state, server: server)
    }

    private init(rsa: _RSA.Signing.PrivateKey, ec: P256.Signing.PrivateKey, port: Int, state: NIOLockedValueBox<State>,
                 server: Task<Void, any Error>) {
        self.rsa = rsa
        self.ec = ec
        self.port = port
        self.state = state
        self.server = server
    }

    func stop() { server.cancel() }

    // MARK: - Tokens

    /// Claims of a valid Entra ID token for this client and nonce; tests change what they test.
    func claims(clientID: String, nonce: String, email: String = "ada@contoso.com", oid: String = "oid-ada") -> [String: Any] {
        let now = Int(Date().timeIntervalSince1970)
        return ["iss": entraIssuer, "aud": clientID, "sub": "pairwise-\(oid)", "oid": oid, "tid": Self.tenantID,
                "exp": now + 600, "nbf": now - 5, "iat": now - 5, "nonce": nonce, "email": email, "xms_edov": true,
                "name": "Ada Lovelace"]
    }

    /// A token signed RS256 by the RSA key (or ES256 by the EC key), with the header given.
    func sign(_ claims: [String: Any], alg: String = "RS256", kid: String? = TestIdentityProvider.rsaKid) throws -> String {
        var header: [String: Any] = ["alg": alg, "typ": "JWT"]
        header["kid"] = kid
        let input = try Self.part(header) + "." + Self.part(claims)
        let signature: Data = switch alg {
        case "ES256": try ec.signature(for: Data(input.utf8)).rawRepresentation
        default: try rsa.signature(for: Data(input.utf8), padding: .insecurePKCS1v1_5).rawRepresentation
        }
        return input + "." + Self.base64URL(signature)
    }

    /// An unsigned token (`alg: none`).
    func unsigned(_ claims: [String: Any]) throws -> String {
        try Self.part(["alg": "none", "typ": "JWT", "kid": Self.rsaKid]) + "." + Self.part(claims) + "."
    }

    /// HS256 keyed with the RSA public key's PEM: the classic confusion attack.
    func hmacWithPublicKey(_ claims: [String: Any]) throws -> String {
        let input = try Self.part(["alg": "HS256", "typ": "JWT", "kid": Self.rsaKid]) + "." + Self.part(claims)
        let mac = HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: SymmetricKey(data: Data(rsa.publicKey.pemRepresentation.utf8)))
        return input + "." + Self.base64URL(Data(mac))
    }

    // MARK: - Encoding

    /// The public keys as JWK JSON, by key id.
    static func jwks(rsa: _RSA.Signing.PrivateKey, ec: P256.Signing.PrivateKey) throws -> [String: String] {
        let primitives = try Insecure.RSA.PublicKey(backing: rsa.publicKey).getKeyPrimitives()
        let point = ec.publicKey.rawRepresentation
        let keys: [String: [String: Any]] = [
            rsaKid: ["kty": "RSA", "use": "sig", "kid": rsaKid, "n": base64URL(primitives.modulus), "e": base64URL(primitives.publicExponent)],
            ecKid: ["kty": "EC", "use": "sig", "kid": ecKid, "crv": "P-256", "x": base64URL(point.prefix(32)), "y": base64URL(point.suffix(32))],
        ]
        return try keys.mapValues { String(decoding: try JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }
    }

    static func part(_ object: [String: Any]) throws -> String {
        base64URL(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
    }

    static func base64URL(_ data: Data) -> String { SecretToken.base64URL(data) }

    static func json(_ object: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(data: data)))
    }
}
