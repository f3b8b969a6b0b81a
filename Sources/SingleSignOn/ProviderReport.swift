import Foundation
import TenantPlatform

/// What `pgperm org sso test` found at an organization's provider.
public struct ProviderReport: Sendable {
    public struct Key: Sendable, Equatable {
        public let id: String
        public let type: String
        public let algorithm: String?
    }

    public let discoveryURL: String
    public let metadata: ProviderMetadata
    /// The signing keys of the key set, by id.
    public let keys: [Key]
}

extension SingleSignOnClient {
    /// Fetches the provider's discovery document and key set now, checking them as a
    /// sign-in would (the issuer, https endpoints, at least one usable signing key).
    ///
    /// - Throws: ``SSOFailure`` `.providerUnavailable` with the exact failure.
    public func test(_ settings: SSOSettings) async throws -> ProviderReport {
        let profile = ProviderProfile(settings.provider, entraAuthority: configuration.entraAuthority)
        let fresh = ProviderCache(http: cache.http, refetchInterval: configuration.keyRefetchInterval)
        let metadata = try await fresh.metadata(for: profile)
        let keys = try await fresh.keys(in: metadata.jwksURI).map { id, jwk in
            ProviderReport.Key(id: id, type: jwk.keyType.rawValue, algorithm: jwk.algorithm?.rawValue)
        }.sorted { $0.id < $1.id }
        guard keys.contains(where: { $0.type == "RSA" || $0.type == "EC" }) else {
            throw SSOFailure(.providerUnavailable, "the key set at \(metadata.jwksURI) has no RSA or EC signing key with a key id",
                             hint: "ID tokens must be signed with RS256 or ES256.")
        }
        return ProviderReport(discoveryURL: profile.discoveryURL, metadata: metadata, keys: keys)
    }
}
