import Foundation
import Hummingbird
import Permissions

/// `/t/{slug}/api/api-keys`: keys for the tenant's services and scripts, which then call this
/// API with `Authorization: Bearer <key>` as the key's technical user (``TenantUserAuthenticator``).
/// Making a key gives it rights, as an assignment does, so it needs `permissions.assign`.
struct TenantAPIKeyRoutes {
    let work: TenantWork

    struct NewKey: Decodable {
        let name: String
        let expiresAt: Date
        let permSetCode: String?
        let permCodes: [String]?
    }

    struct KeyView: ResponseEncodable, Sendable {
        let apiKeyId: APIID
        let userId: APIID
        let name: String
        let keyPrefix: String
        let expiresAt: Date
        let createdAt: Date
        let revokedAt: Date?
        let lastUsedAt: Date?

        init(_ key: APIKey) {
            apiKeyId = APIID(key.id)
            userId = APIID(key.userID)
            name = key.name
            keyPrefix = key.prefix
            expiresAt = key.expiresAt
            createdAt = key.createdAt
            revokedAt = key.revokedAt
            lastUsedAt = key.lastUsedAt
        }

        var cursorKey: String { PageRequest.key(createdAt: createdAt, id: apiKeyId.text) }
    }

    /// The only answer that ever holds the secret.
    struct CreatedView: ResponseEncodable {
        let apiKeyId: APIID
        let userId: APIID
        let apiKey: String
    }

    func register(on group: RouterGroup<PortalContext>) {
        group.get("api-keys") { request, context in
            let page = try PageRequest(request)
            let after = try page.afterCreation(APIKeyID.self)
            let keys = try await work.run(context, requiring: TenantAPICode.viewPermissions) { auth, session in
                try await auth.listAPIKeys(tenant: session.tenant, pageSize: page.limit, after: after)
            }
            return Page(keys.map(KeyView.init), of: page, key: \.cursorKey)
        }
        group.post("api-keys") { request, context in
            let new = try await request.decode(as: NewKey.self, context: context)
            let key = try await work.run(context, requiring: TenantAPICode.assignPermissions) { auth, session in
                try await auth.createAPIKey(tenant: session.tenant, name: new.name, expiresAt: new.expiresAt,
                                            permSet: new.permSetCode, codes: new.permCodes)
            }
            return EditedResponse(status: .created, headers: [.location: "api-keys/\(key.id)"],
                                  response: CreatedView(apiKeyId: APIID(key.id), userId: APIID(key.userID), apiKey: key.secret))
        }
        // Revoked for good: it no longer signs in, and its technical user holds nothing.
        group.delete("api-keys/{api_key_id}") { _, context in
            let id = try context.id(APIKeyID.self, "api_key_id")
            try await work.run(context, requiring: TenantAPICode.assignPermissions) { auth, session in
                try await auth.revokeAPIKey(tenant: session.tenant, key: id)
            }
            return Response(status: .noContent)
        }
    }
}
