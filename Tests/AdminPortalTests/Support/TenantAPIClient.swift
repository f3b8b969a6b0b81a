import Foundation
import HTTPTypes
import Testing

/// A browser signed in to one tenant's API: paths are relative to `/t/{slug}/api/`.
struct TenantAPIClient {
    let client: PortalClient
    let slug: String

    @discardableResult
    func send(_ method: HTTPRequest.Method, _ path: String, json: [String: Any]? = nil,
              ifMatch: String? = nil) async throws -> PortalClient.Reply {
        var headers: HTTPFields = [:]
        if let ifMatch { headers[.ifMatch] = ifMatch }
        return try await client.send(method, "/t/\(slug)/api/\(path)", json: json, headers: headers)
    }

    func get(_ path: String) async throws -> PortalClient.Reply { try await send(.get, path) }

    /// Every page of a list, following `next`, with `between` run after each page.
    func walk(_ path: String, limit: Int, between: (Int) async throws -> Void = { _ in }) async throws -> [[[String: Any]]] {
        var pages: [[[String: Any]]] = []
        var next: String?
        repeat {
            let separator = path.contains("?") ? "&" : "?"
            let reply = try await get("\(path)\(separator)limit=\(limit)" + (next.map { "&after=\($0)" } ?? ""))
            #expect(reply.status == .ok, "\(path): \(reply.error)")
            let items = reply.json["items"] as? [[String: Any]] ?? []
            #expect(items.count <= limit)
            if !items.isEmpty { pages.append(items) }
            next = reply.json["next"] as? String
            try await between(pages.count)
        } while next != nil
        return pages
    }
}

extension PortalFixture {
    /// A new tenant whose first admin (its owner: every code) is signed in on a new browser.
    func tenantAdmin(_ slug: String, like client: PortalClient) async throws -> TenantAPIClient {
        let credentials = try await createTenant(slug)
        let browser = newClient(like: client)
        let reply = try await browser.send(.post, "/t/\(slug)/api/session",
                                           json: ["username": credentials.adminEmail, "password": credentials.adminPassword])
        #expect(reply.status == .ok)
        return TenantAPIClient(client: browser, slug: slug)
    }

    /// A member created through the API by `admin`, holding the tenant's set `permSet` (a
    /// role: ADMIN, SUPERUSER, USER) if given, signed in on a new browser.
    func tenantMember(_ username: String, holding permSet: String?, by admin: TenantAPIClient) async throws
        -> (id: String, api: TenantAPIClient) {
        let created = try await admin.send(.post, "users", json: ["username": username, "password": Self.password])
        #expect(created.status == .created, "\(created.error)")
        let id = try #require(created.json["user_id"] as? String)
        if let permSet {
            let assigned = try await admin.send(.post, "assignments", json: ["user_id": id, "perm_set_code": permSet])
            #expect(assigned.status == .created, "\(assigned.error)")
        }
        let browser = newClient(like: admin.client)
        let signIn = try await browser.send(.post, "/t/\(admin.slug)/api/session", json: ["username": username, "password": Self.password])
        #expect(signIn.status == .ok)
        return (id, TenantAPIClient(client: browser, slug: admin.slug))
    }
}
