import Foundation
import HTTPTypes
import Testing

@Suite("Tenant API: users")
struct TenantUserAPITests {
    @Test("create, show, list, change with If-Match, deactivate, activate, set a password, remove softly and for good")
    func lifecycle() async throws {
        try await PortalFixture.run { fixture, client in
            let admin = try await fixture.tenantAdmin("acme", like: client)
            let created = try await admin.send(.post, "users", json: ["username": "ann", "email": "ann@acme.example",
                                                                        "display_name": "Ann", "password": "ann's password"])
            #expect(created.status == .created)
            let id = try #require(created.json["user_id"] as? String)
            #expect(created.headers[.location] == "users/\(id)")
            let etag = try #require(created.headers[.eTag])
            #expect(created.json["is_active"] as? Bool == true && created.json["display_name"] as? String == "Ann")

            let shown = try await admin.get("users/\(id)")
            #expect(shown.headers[.eTag] == etag, "the same record has the same tag")
            #expect(try await admin.get("users?search=ANN").json["items"].map { ($0 as? [[String: Any]])?.count } == 1)

            // A change with the current tag succeeds and moves the tag; the old tag is then refused.
            let changed = try await admin.send(.patch, "users/\(id)", json: ["display_name": "Ann Lee", "email": ""], ifMatch: etag)
            #expect(changed.status == .ok)
            #expect(changed.json["display_name"] as? String == "Ann Lee" && changed.json["email"] == nil)
            let newTag = try #require(changed.headers[.eTag])
            #expect(newTag != etag)
            let stale = try await admin.send(.patch, "users/\(id)", json: ["display_name": "Lost update"], ifMatch: etag)
            #expect(stale.status == .preconditionFailed && stale.errorCode == "precondition_failed")
            #expect(try await admin.get("users/\(id)").json["display_name"] as? String == "Ann Lee", "a refused change changes nothing")
            #expect(try await admin.send(.patch, "users/\(id)", json: [:], ifMatch: "*").status == .ok)

            // The password set at creation signs in; an administrator sets another one.
            let ann = fixture.newClient(like: client)
            #expect(try await ann.send(.post, "/t/acme/api/session", json: ["username": "ann", "password": "ann's password"]).status == .ok)
            #expect(try await admin.send(.put, "users/\(id)/password", json: ["password": "a new password"]).status == .noContent)
            #expect(try await fixture.newClient(like: client)
                .send(.post, "/t/acme/api/session", json: ["username": "ann", "password": "a new password"]).status == .ok)

            let deactivated = try await admin.send(.post, "users/\(id)/deactivate")
            #expect(deactivated.status == .ok && deactivated.json["is_active"] as? Bool == false)
            #expect(try await ann.get("/t/acme/api/session").status == .unauthorized, "a deactivated user's session ends")
            #expect(try await admin.send(.post, "users/\(id)/activate").json["is_active"] as? Bool == true)

            // Soft removal keeps the membership, inactive; activation brings it back.
            #expect(try await admin.send(.delete, "users/\(id)").status == .noContent)
            #expect(try await admin.get("users/\(id)").json["is_active"] as? Bool == false)
            #expect(try await admin.get("users?is_active=false").json["items"].map { ($0 as? [[String: Any]])?.count } == 1)
            #expect(try await admin.send(.post, "users/\(id)/activate").json["is_active"] as? Bool == true)

            // For good only when the username confirms it.
            let unconfirmed = try await admin.send(.delete, "users/\(id)?hard=true&confirm=someone")
            #expect(unconfirmed.status == .badRequest && unconfirmed.errorCode == "not_confirmed")
            #expect(try await admin.get("users/\(id)").status == .ok)
            #expect(try await admin.send(.delete, "users/\(id)?hard=true&confirm=ann").status == .noContent)
            let gone = try await admin.get("users/\(id)")
            #expect(gone.status == .notFound && gone.errorCode == "QN006")
        }
    }

    @Test("bad input: a taken username, a short password, a malformed id, an unknown id, a NUL byte, a bad limit or cursor")
    func badInput() async throws {
        try await PortalFixture.run { fixture, client in
            let admin = try await fixture.tenantAdmin("acme", like: client)
            #expect(try await admin.send(.post, "users", json: ["username": "bob"]).status == .created)
            let before = try await admin.get("users").json["items"] as? [[String: Any]]

            let taken = try await admin.send(.post, "users", json: ["username": "BOB"])
            #expect(taken.status == .conflict && taken.errorCode == "QD002")
            let short = try await admin.send(.post, "users", json: ["username": "carl", "password": "short"])
            #expect(short.status == .badRequest && short.errorCode == "QI006")
            #expect(try await admin.get("users?search=carl").json["items"].map { ($0 as? [[String: Any]])?.isEmpty } == true,
                    "a refused creation leaves no user behind: one unit of work")
            let missing = try await admin.send(.post, "users", json: ["email": "x@example.com"])
            #expect(missing.errorCode == "missing_field")
            let nul = try await admin.send(.post, "users", json: ["username": "a\u{0}b"])
            #expect(nul.status == .badRequest && nul.errorCode == "invalid_field")
            let long = try await admin.send(.post, "users", json: ["username": String(repeating: "x", count: 300)])
            #expect(long.status == .badRequest && long.errorCode == "QI008")

            // An administrator cannot lock themself out.
            let me = try #require(try await admin.get("session").json["user_id"] as? String)
            for (method, path) in [(HTTPRequest.Method.post, "users/\(me)/deactivate"), (.delete, "users/\(me)"),
                                   (.delete, "users/\(me)?hard=true")] {
                let refused = try await admin.send(method, path)
                #expect(refused.status == .conflict && refused.errorCode == "cannot_change_self")
            }
            #expect(try await admin.get("users/\(me)").json["is_active"] as? Bool == true)

            #expect(try await admin.get("users/not-a-uuid").errorCode == "invalid_parameter")
            let unknown = try await admin.get("users/\(UUID())")
            #expect(unknown.status == .notFound && unknown.errorCode == "QN002")
            #expect(try await admin.send(.patch, "users/\(UUID())", json: ["username": "x"]).status == .notFound)
            #expect(try await admin.get("users?limit=0").errorCode == "invalid_parameter")
            #expect(try await admin.get("users?limit=501").errorCode == "invalid_parameter")
            #expect(try await admin.get("users?after=%%%").errorCode == "invalid_parameter")
            #expect(try await admin.get("users?is_active=yes").errorCode == "invalid_parameter")
            #expect(try await admin.get("users?search=%00").status == .badRequest)
            #expect(try await admin.get("users").json["items"] as? [[String: Any]] != nil)
            #expect((try await admin.get("users").json["items"] as? [[String: Any]])?.count == before?.count)
        }
    }

    @Test("pages by username stay whole while others are added: none repeated, none that was there skipped")
    func pagingUnderInserts() async throws {
        try await PortalFixture.run { fixture, client in
            let admin = try await fixture.tenantAdmin("acme", like: client)
            let names = (1...9).map { "user\($0)" }
            for name in names { try await admin.send(.post, "users", json: ["username": name]) }
            let pages = try await admin.walk("users?search=user", limit: 4) { page in
                // Between pages, one user sorts before the cursor and one after it.
                try await admin.send(.post, "users", json: ["username": "user0-\(page)"])
                try await admin.send(.post, "users", json: ["username": "userz-\(page)"])
            }
            let seen = pages.flatMap { $0 }.compactMap { $0["username"] as? String }
            #expect(Set(seen).count == seen.count, "no row twice")
            #expect(Set(names).isSubset(of: Set(seen)), "every row that was there all along")
            #expect(seen == seen.sorted { $0.lowercased() < $1.lowercased() })
        }
    }

    @Test("two administrators change the same user at once with the same ETag: one wins, the other gets 412")
    func concurrentIfMatch() async throws {
        try await PortalFixture.run { fixture, client in
            let admin = try await fixture.tenantAdmin("acme", like: client)
            let created = try await admin.send(.post, "users", json: ["username": "dora"])
            let id = try #require(created.json["user_id"] as? String)
            let etag = try #require(created.headers[.eTag])
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for name in ["First", "Second"] {
                    group.addTask { try await admin.send(.patch, "users/\(id)", json: ["display_name": name], ifMatch: etag).status.code }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.sorted() == [200, 412])
        }
    }
}
