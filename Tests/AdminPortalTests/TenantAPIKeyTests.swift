import Foundation
import HTTPTypes
import Testing

@Suite("Tenant API: API keys for services")
struct TenantAPIKeyTests {
    static let later = ISO8601DateFormatter().string(from: Date().addingTimeInterval(86_400))

    /// A request with the key and no cookie, as a service makes it.
    static func withKey(_ key: String, _ client: PortalClient, _ method: HTTPRequest.Method, _ uri: String,
                        json: [String: Any]? = nil) async throws -> PortalClient.Reply {
        try await client.send(method, uri, json: json, headers: [.authorization: "Bearer \(key)"])
    }

    @Test("a key acts as its technical user: what it was given and nothing more, audited under its user")
    func keyActsAsItsUser() async throws {
        try await PortalFixture.run { fixture, client in
            let admin = try await fixture.tenantAdmin("acme", like: client)
            let created = try await admin.send(.post, "api-keys", json: ["name": "provisioning script", "expires_at": Self.later,
                                                                           "perm_codes": ["users.view", "users.create_user"]])
            #expect(created.status == .created)
            let secret = try #require(created.json["api_key"] as? String)
            let keyUser = try #require(created.json["user_id"] as? String)
            #expect(secret.hasPrefix("pgpk_"))

            let service = fixture.newClient(like: client)
            #expect(try await Self.withKey(secret, service, .get, "/t/acme/api/users").status == .ok)
            let made = try await Self.withKey(secret, service, .post, "/t/acme/api/users", json: ["username": "made-by-key"])
            #expect(made.status == .created)
            let denied = try await Self.withKey(secret, service, .post, "/t/acme/api/groups", json: ["code": "g", "name": "G"])
            #expect(denied.status == .forbidden && denied.errorCode == "42501")
            #expect(try await Self.withKey(secret, service, .get, "/t/acme/api/session").json["user_id"] as? String == keyUser)
            #expect(service.cookies.isEmpty, "a key needs no cookie and gets none")

            let audit = try await admin.get("audit-log?action=user_info.insert").json["items"] as? [[String: Any]] ?? []
            #expect(audit.first?["actor_user_id"] as? String == keyUser, "the key's user is the actor")

            let listed = try await admin.get("api-keys").json["items"] as? [[String: Any]] ?? []
            #expect(listed.count == 1 && listed.first?["key_prefix"] as? String == String(secret.prefix(12)))
            #expect(listed.first?["api_key"] == nil, "the secret is shown once only")
            #expect(listed.first?["last_used_at"] is String)
        }
    }

    @Test("a revoked, wrong, expired or other tenant's key gets 401 invalid_api_key, as at an unknown tenant")
    func refusals() async throws {
        try await PortalFixture.run { fixture, client in
            let acme = try await fixture.tenantAdmin("acme", like: client)
            _ = try await fixture.tenantAdmin("beta", like: client)
            let created = try await acme.send(.post, "api-keys", json: ["name": "k", "expires_at": Self.later, "perm_codes": ["users.view"]])
            let secret = try #require(created.json["api_key"] as? String)
            let id = try #require(created.json["api_key_id"] as? String)
            let service = fixture.newClient(like: client)
            for (key, uri) in [(secret, "/t/beta/api/users"), (secret, "/t/nope/api/users"), ("pgpk_" + String(repeating: "0", count: 64), "/t/acme/api/users"),
                               ("not-a-key", "/t/acme/api/users")] {
                let reply = try await Self.withKey(key, service, .get, uri)
                #expect(reply.status == .unauthorized && reply.errorCode == "invalid_api_key", "\(uri)")
            }
            #expect(try await acme.send(.delete, "api-keys/\(id)").status == .noContent)
            #expect(try await Self.withKey(secret, service, .get, "/t/acme/api/users").errorCode == "invalid_api_key")
            #expect(try await acme.send(.delete, "api-keys/\(id)").status == .noContent, "revoking again changes nothing")
            let unknown = try await acme.send(.delete, "api-keys/\(UUID())")
            #expect(unknown.status == .notFound && unknown.errorCode == "QN009")

            for body: [String: Any] in [["name": "k", "expires_at": Self.later],
                                        ["name": "k", "expires_at": "2001-01-01T00:00:00Z", "perm_codes": ["users.view"]],
                                        ["name": "k", "expires_at": "tomorrow", "perm_codes": ["users.view"]]] {
                #expect(try await acme.send(.post, "api-keys", json: body).status == .badRequest)
            }
            #expect(try await acme.send(.post, "api-keys", json: ["name": "k", "expires_at": Self.later, "perm_set_code": "NOPE"]).errorCode == "QN004")
        }
    }

    @Test("keys page oldest first; a key cannot make keys unless it holds permissions.assign")
    func pagingAndDelegation() async throws {
        try await PortalFixture.run { fixture, client in
            let admin = try await fixture.tenantAdmin("acme", like: client)
            var names: [String] = []
            for name in ["one", "two", "three"] {
                let created = try await admin.send(.post, "api-keys", json: ["name": name, "expires_at": Self.later, "perm_set_code": "USER"])
                #expect(created.status == .created)
                names.append(name)
            }
            let pages = try await admin.walk("api-keys", limit: 2)
            #expect(pages.flatMap { $0 }.compactMap { $0["name"] as? String } == names)
            let secret = try #require(try await admin.send(.post, "api-keys", json: ["name": "reader", "expires_at": Self.later,
                                                                                      "perm_set_code": "USER"]).json["api_key"] as? String)
            let escalation = try await Self.withKey(secret, fixture.newClient(like: client), .post, "/t/acme/api/api-keys",
                                                    json: ["name": "mine", "expires_at": Self.later, "perm_set_code": "ADMIN"])
            #expect(escalation.status == .forbidden && escalation.errorCode == "42501")
        }
    }
}
