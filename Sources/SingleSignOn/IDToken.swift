import Foundation
import JWTKit

/// The claims of an ID token this server reads. Its own type, not jwt-kit's
/// `MicrosoftIdentityToken`, whose issuer check is hard-coded: the issuer, times, nonce
/// and `tid` are checked by ``IDTokenVerifier`` against the organization's provider.
struct IDTokenClaims: JWTIdentityToken {
    let aud: AudienceClaim
    let iss: String?
    let sub: String?
    let exp: Double?
    let nbf: Double?
    let iat: Double?
    let nonce: String?
    let email: String?
    let email_verified: FlexibleBool?
    let name: String?
    /// Entra ID: the directory, the person's object id, and whether the email's domain is verified.
    let tid: String?
    let oid: String?
    let xms_edov: FlexibleBool?

    var audience: AudienceClaim { aud }

    /// The claims are checked by ``IDTokenVerifier``, once the signature and audience hold.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// A boolean claim as providers send them: `true`, `"true"`, `1` or `"1"`.
struct FlexibleBool: Codable, Sendable, Equatable {
    let value: Bool

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let bool = try? container.decode(Bool.self) {
            value = bool
        } else if let number = try? container.decode(Int.self) {
            value = number == 1
        } else {
            value = ["true", "1"].contains(try container.decode(String.self).lowercased())
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}

/// Who the provider vouched for, once every check of the token held.
public struct VerifiedIdentity: Sendable, Equatable {
    /// The issuer, exactly as the token names it.
    public let issuer: String
    /// The stable id: `sub`, or for Entra ID the object id `oid` (the same for every
    /// application of the directory, where `sub` differs per application).
    public let subject: String
    /// The email, if the token carries one; ``emailVerified`` says whether it can be trusted.
    public let email: String?
    public let emailVerified: Bool
    public let name: String?
}

/// Checks an ID token as OpenID Connect Core 1.0 (3.1.3.7) asks, for RS256 and ES256
/// only: `none` and HMAC are refused, as is any algorithm the key does not match.
struct IDTokenVerifier {
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    static let skew: TimeInterval = 120
    let cache: ProviderCache

    private struct Header: Decodable {
        let alg: String?
        let kid: String?
        let crit: [String]?
    }

    func verify(_ token: String, metadata: ProviderMetadata, clientID: String, nonce: String, isEntra: Bool,
                now: Date = Date()) async throws -> VerifiedIdentity {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, token.utf8.count <= 16 * 1024, let headerData = Self.base64URLDecoded(parts[0]),
              let header = try? JSONDecoder().decode(Header.self, from: headerData) else {
            throw SSOFailure.token("it is not a signed JSON Web Token")
        }
        switch header.alg {
        case "RS256", "ES256": break
        case "none", nil: throw SSOFailure.token("it is unsigned (alg none)")
        case let alg? where alg.hasPrefix("HS"): throw SSOFailure.token("it is signed with HMAC (\(alg)), which a provider never uses")
        case let alg?: throw SSOFailure.token("its algorithm \(alg) is not accepted (RS256 or ES256 only)")
        }
        guard header.crit == nil else { throw SSOFailure.token("it has critical header extensions") }
        // The key id is read here: jwt-kit falls back to a default key for an unknown one.
        guard let kid = header.kid, !kid.isEmpty else { throw SSOFailure.token("its header names no key (kid)") }
        guard let jwk = try await cache.key(kid, in: metadata.jwksURI) else {
            throw SSOFailure.token("its key '\(kid)' is not in the provider's key set")
        }
        try Self.check(jwk, matches: header.alg!)

        let keys = JWTKeyCollection()
        let claims: IDTokenClaims
        do {
            try await keys.add(jwk: jwk)
            claims = try await keys.verify(token, as: IDTokenClaims.self, expectedAudience: clientID)
        } catch let error as JWTError where error.errorType == .claimVerificationFailure {
            throw SSOFailure.token("its audience (aud) is not this application's client id")
        } catch let error as JWTError where error.errorType == .signatureVerificationFailed {
            throw SSOFailure.token("its signature does not verify with the provider's key '\(kid)'")
        } catch {
            throw SSOFailure.token("it could not be read (\(type(of: error)))")
        }

        guard claims.iss == metadata.issuer else {
            throw SSOFailure.token("its issuer '\(claims.iss ?? "")' is not '\(metadata.issuer)'")
        }
        let time = now.timeIntervalSince1970
        guard let exp = claims.exp, exp + Self.skew > time else { throw SSOFailure.token("it has expired") }
        if let nbf = claims.nbf, nbf - Self.skew > time { throw SSOFailure.token("it is not valid yet (nbf)") }
        guard let iat = claims.iat, iat - Self.skew <= time else { throw SSOFailure.token("it was issued in the future (iat)") }
        guard let tokenNonce = claims.nonce, Self.constantTimeEqual(tokenNonce, nonce) else {
            throw SSOFailure.token("its nonce is not the one this sign-in sent")
        }
        let subject: String?
        if isEntra {
            guard let tid = claims.tid, tid == metadata.entraTenantID else {
                throw SSOFailure.token("its directory (tid '\(claims.tid ?? "")') is not the organization's")
            }
            subject = claims.oid
        } else {
            subject = claims.sub
        }
        guard let subject, !subject.isEmpty else {
            throw SSOFailure.token(isEntra ? "it has no object id (oid)" : "it has no subject (sub)")
        }
        let verified = isEntra ? claims.xms_edov?.value == true : claims.email_verified?.value == true
        return VerifiedIdentity(issuer: metadata.issuer, subject: subject, email: claims.email,
                                emailVerified: verified, name: claims.name)
    }

    /// The key must be of the algorithm's type, and declare no other algorithm or use.
    static func check(_ jwk: JWK, matches alg: String) throws {
        let fits = switch alg {
        case "RS256": jwk.keyType == .rsa
        case "ES256": jwk.keyType == .ecdsa && jwk.curve?.rawValue == "P-256"
        default: false
        }
        guard fits, jwk.algorithm == nil || jwk.algorithm?.rawValue == alg else {
            throw SSOFailure.token("its algorithm \(alg) does not match the provider's key")
        }
    }

    static func base64URLDecoded(_ text: Substring) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
