import Foundation
import JWTKit

/// Discovery documents and key sets of identity providers, as this process last fetched
/// them. A document is kept an hour. A key set is fetched again when a token names a key
/// id it lacks (the provider rotated its keys), but at most once per `refetchInterval`:
/// tokens naming made-up key ids cannot make this server hammer the provider.
public actor ProviderCache {
    let http: ProviderHTTP
    let refetchInterval: Duration
    static let metadataLifetime: Duration = .seconds(3600)

    private var documents: [String: (metadata: ProviderMetadata, fetchedAt: ContinuousClock.Instant)] = [:]
    private var keySets: [String: KeySet] = [:]
    private var fetching: [String: Task<KeySet, any Error>] = [:]

    struct KeySet: Sendable {
        let keys: [String: JWK]
        let fetchedAt: ContinuousClock.Instant
    }

    init(http: ProviderHTTP, refetchInterval: Duration) {
        self.http = http
        self.refetchInterval = refetchInterval
    }

    /// The provider's checked discovery document.
    func metadata(for profile: ProviderProfile) async throws -> ProviderMetadata {
        if let cached = documents[profile.discoveryURL], cached.fetchedAt.duration(to: .now) < Self.metadataLifetime {
            return cached.metadata
        }
        let json = try await http.getJSON(profile.discoveryURL, what: "discovery document")
        let metadata = try ProviderMetadata(json: json, profile: profile)
        documents[profile.discoveryURL] = (metadata, .now)
        return metadata
    }

    /// The key named `kid` in the set at `jwksURI`; nil when it is not there even after the
    /// one refetch allowed.
    func key(_ kid: String, in jwksURI: String) async throws -> JWK? {
        if let set = keySets[jwksURI] {
            if let key = set.keys[kid] { return key }
            guard set.fetchedAt.duration(to: .now) >= refetchInterval else { return nil }
        }
        return try await fetch(jwksURI).keys[kid]
    }

    /// Every key of the set, fetched now (for `pgperm org sso test`).
    func keys(in jwksURI: String) async throws -> [String: JWK] {
        try await fetch(jwksURI).keys
    }

    /// One fetch per set at a time: concurrent callers share it.
    private func fetch(_ jwksURI: String) async throws -> KeySet {
        if let running = fetching[jwksURI] { return try await running.value }
        let http = http
        let task = Task { try await KeySet(keys: Self.parse(try await http.getJSON(jwksURI, what: "key set")), fetchedAt: .now) }
        fetching[jwksURI] = task
        defer { fetching[jwksURI] = nil }
        do {
            let set = try await task.value
            keySets[jwksURI] = set
            return set
        } catch {
            // A failed fetch counts as one: the next try waits the interval too.
            if keySets[jwksURI] == nil { keySets[jwksURI] = KeySet(keys: [:], fetchedAt: .now) }
            throw error
        }
    }

    /// The signing keys of a JWKS document by key id. A key this library cannot read, or
    /// one marked for encryption, is left out rather than failing the whole set.
    static func parse(_ json: Data) throws -> [String: JWK] {
        struct Entry: Decodable {
            let kid: String?
            let use: String?
        }
        guard let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any],
              let entries = object["keys"] as? [Any] else {
            throw SSOFailure(.providerUnavailable, "the provider's key set is not a JSON Web Key Set",
                             hint: "The jwks_uri of the discovery document must answer {\"keys\": [...]}.")
        }
        var keys: [String: JWK] = [:]
        for entry in entries {
            guard let data = try? JSONSerialization.data(withJSONObject: entry),
                  let info = try? JSONDecoder().decode(Entry.self, from: data), let kid = info.kid,
                  info.use == nil || info.use == "sig",
                  let key = try? JSONDecoder().decode(JWK.self, from: data) else { continue }
            keys[kid] = key
        }
        return keys
    }
}
