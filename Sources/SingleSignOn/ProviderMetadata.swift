import Foundation
import TenantPlatform

/// What an organization's provider must be, before anything is fetched: where its
/// discovery document is, the issuer its tokens must name exactly, and for Entra ID the
/// directory (`tid`) they must name.
public struct ProviderProfile: Sendable, Equatable {
    public let discoveryURL: String
    /// The issuer, when known in advance (a generic provider, or Entra by directory GUID);
    /// nil for an Entra directory named by a domain, whose GUID discovery reveals.
    public let issuer: String?
    public let isEntra: Bool
    /// The Entra directory GUID, when known in advance.
    public let entraTenantID: String?

    /// - Parameter entraAuthority: Microsoft's sign-in host; tests point it at a local provider.
    public init(_ provider: SSOProvider, entraAuthority: String = "https://login.microsoftonline.com") {
        switch provider {
        case .openIDConnect(let issuer):
            discoveryURL = issuer + "/.well-known/openid-configuration"
            self.issuer = issuer
            isEntra = false
            entraTenantID = nil
        case .entraID(let tenantID):
            // The tenant-specific v2.0 endpoints: never common/organizations, whose issuer is a template.
            discoveryURL = "\(entraAuthority)/\(tenantID)/v2.0/.well-known/openid-configuration"
            let guid = UUID(uuidString: tenantID).map { _ in tenantID }
            issuer = guid.map { "\(entraAuthority)/\($0)/v2.0" }
            isEntra = true
            entraTenantID = guid
        }
        self.entraAuthority = entraAuthority
    }

    let entraAuthority: String
}

/// The provider's discovery document (OpenID Connect Discovery 1.0), checked against its
/// profile: the issuer it names is the one expected, and every endpoint is https (or
/// loopback http, for a test provider).
public struct ProviderMetadata: Sendable, Equatable {
    public let issuer: String
    public let authorizationEndpoint: String
    public let tokenEndpoint: String
    public let jwksURI: String
    /// For Entra ID: the directory GUID, from the issuer.
    public let entraTenantID: String?

    private struct Document: Decodable {
        let issuer: String
        let authorization_endpoint: String
        let token_endpoint: String
        let jwks_uri: String
    }

    init(json: Data, profile: ProviderProfile) throws {
        guard let document = try? JSONDecoder().decode(Document.self, from: json) else {
            throw SSOFailure(.providerUnavailable, "the discovery document at \(profile.discoveryURL) is not valid OpenID Connect metadata",
                             hint: "It must be JSON with issuer, authorization_endpoint, token_endpoint and jwks_uri.")
        }
        if let expected = profile.issuer {
            guard document.issuer == expected else {
                throw SSOFailure(.providerUnavailable, "the discovery document names the issuer '\(document.issuer)', not '\(expected)'",
                                 hint: "Set the issuer exactly as the provider names itself.")
            }
            entraTenantID = profile.entraTenantID
        } else {
            // An Entra directory named by a domain: its issuer must be the v2.0 issuer of a GUID.
            let prefix = profile.entraAuthority + "/"
            let guid = document.issuer.hasPrefix(prefix) && document.issuer.hasSuffix("/v2.0")
                ? String(document.issuer.dropFirst(prefix.count).dropLast("/v2.0".count)) : ""
            guard UUID(uuidString: guid) != nil, guid == guid.lowercased() else {
                throw SSOFailure(.providerUnavailable, "the discovery document names the issuer '\(document.issuer)', not an Entra directory's v2.0 issuer",
                                 hint: "Set the Entra tenant id to the Directory (tenant) ID GUID.")
            }
            entraTenantID = guid
        }
        for endpoint in [document.authorization_endpoint, document.token_endpoint, document.jwks_uri] {
            guard Self.isAcceptable(endpoint) else {
                throw SSOFailure(.providerUnavailable, "the discovery document names the endpoint '\(endpoint)', which is not https",
                                 hint: "An identity provider must be reached over https.")
            }
        }
        issuer = document.issuer
        authorizationEndpoint = document.authorization_endpoint
        tokenEndpoint = document.token_endpoint
        jwksURI = document.jwks_uri
    }

    /// https, or http on loopback (a test provider on this machine).
    static func isAcceptable(_ endpoint: String) -> Bool {
        guard let url = URL(string: endpoint), let host = url.host, !host.isEmpty else { return false }
        return url.scheme == "https" || (url.scheme == "http" && ["127.0.0.1", "localhost", "::1"].contains(host))
    }
}
