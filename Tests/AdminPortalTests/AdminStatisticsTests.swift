import Foundation
import HTTPTypes
import Testing
import TenantPlatform
@testable import AdminPortal

@Suite("Admin portal: System Statistics and request metrics")
struct AdminStatisticsTests {
    @Test("tenants by status, users and storage summed over tenant databases, sessions, servers, and request figures per route")
    func superadminStatistics() async throws {
        try await PortalFixture.run { fixture, client in
            let acme = try await fixture.createTenant("acme")
            _ = try await fixture.createTenant("beta")
            _ = try await fixture.createTenant("gamma")
            try await fixture.platform.lifecycle.suspend(slug: "gamma")
            try await fixture.signInAdmin(client)
            let user = fixture.newClient(like: client)
            #expect(try await user.send(.post, "/t/acme/api/session", json: ["username": acme.adminEmail, "password": acme.adminPassword]).status == .ok)
            _ = try await client.get("/admin/api/tenants/nope")

            let stats = try await client.get("/admin/api/stats").json
            #expect(stats["tenants_by_status"] as? [String: Int] == ["active": 2, "inactive": 1, "provisioning": 0, "failed": 0])
            let totals = try #require(stats["totals"] as? [String: Any])
            // Each tenant is seeded with its initial admin as an active member.
            #expect(totals["users"] as? Int == 2 && totals["tenants"] as? Int == 3 && totals["unreachable_tenants"] as? Int == 0)
            let tenants = try #require(stats["tenants"] as? [[String: Any]])
            let sizes = tenants.compactMap { $0["size_bytes"] as? Int }
            #expect(sizes.count == 3 && sizes == sizes.sorted(by: >), "largest first, suspended ones included")
            #expect(tenants.first { $0["slug"] as? String == "gamma" }?["users"] == nil, "a suspended tenant is not read")
            let servers = try #require(stats["servers"] as? [[String: Any]])
            #expect(servers.count == 1 && servers[0]["tenant_count"] as? Int == 3 && (servers[0]["connections"] as? Int ?? 0) >= 1,
                    "\(servers)")
            #expect(stats["sessions"] as? [String: Int] == ["admin": 1, "tenant_user": 1])
            let requests = try #require(stats["requests"] as? [String: Any])
            let routes = try #require(requests["last_five_minutes"] as? [[String: Any]])
            let notFound = routes.first { $0["route"] as? String == "/admin/api/tenants/{slug}" && $0["method"] as? String == "GET" }
            #expect(notFound?["client_errors"] as? Int == 1)
            #expect(routes.contains { $0["route"] as? String == "/t/{slug}/api/session" && $0["requests"] as? Int == 1 })
            let minutes = try #require(requests["per_minute"] as? [[String: Any]])
            // The requests above may straddle a minute's end (a loaded CI run did): the last two minutes.
            #expect(minutes.count == 60 && minutes.suffix(2).map { $0["requests"] as? Int ?? 0 }.reduce(0, +) >= 3)
        }
    }

    @Test("a tenant whose server is down is shown as unreachable, not hidden")
    func unreachableTenant() async throws {
        try await PortalFixture.run { fixture, client in
            _ = try await fixture.createTenant("acme")
            try await fixture.signInAdmin(client)
            let server = try #require(try await fixture.platform.platform.servers.all().first)
            _ = try await fixture.platform.platform.serverAdministration.update(server.name, status: .down)
            let stats = try await client.get("/admin/api/stats").json
            let tenant = try #require((stats["tenants"] as? [[String: Any]])?.first)
            #expect(tenant["slug"] as? String == "acme")
            #expect((tenant["unreachable"] as? String)?.isEmpty == false)
            #expect((stats["totals"] as? [String: Any])?["unreachable_tenants"] as? Int == 1)
        }
    }

    @Test("a regular admin's statistics cover its tenants, without servers, sessions or requests")
    func regularAdmin() async throws {
        try await PortalFixture.run { fixture, client in
            _ = try await fixture.createTenant("acme")
            _ = try await fixture.createTenant("beta")
            _ = try await fixture.admins.create(email: "eu@example.com", password: PortalFixture.password, superadmin: false)
            try await fixture.admins.grant(tenant: "acme", to: "eu@example.com")
            try await fixture.signInAdmin(client, email: "eu@example.com")
            let stats = try await client.get("/admin/api/stats").json
            #expect((stats["tenants"] as? [[String: Any]])?.map { $0["slug"] as? String } == ["acme"])
            #expect(stats["servers"] == nil && stats["sessions"] == nil && stats["requests"] == nil)
            #expect(try await fixture.newClient(like: client).get("/admin/api/stats").status == .unauthorized)
        }
    }

    @Test("the counts are read once and kept: later loads answer from them, refresh=true reads again, a tenant created since is listed")
    func keptReadings() async throws {
        try await PortalFixture.run { fixture, client in
            let acme = try await fixture.tenantAdmin("acme", like: client)
            try await fixture.signInAdmin(client)
            let first = try await client.get("/admin/api/stats").json
            #expect(first["refreshing"] as? Bool == false && (first["gathered_at"] as? String)?.isEmpty == false)
            #expect((first["totals"] as? [String: Any])?["users"] as? Int == 1)

            _ = try await fixture.tenantMember("mia", holding: nil, by: acme)
            _ = try await fixture.createTenant("beta")
            let kept = try await client.get("/admin/api/stats").json
            #expect(kept["gathered_at"] as? String == first["gathered_at"] as? String && kept["refreshing"] as? Bool == false)
            #expect((kept["totals"] as? [String: Any])?["users"] as? Int == 1, "the kept counts")
            let beta = (kept["tenants"] as? [[String: Any]])?.first { $0["slug"] as? String == "beta" }
            #expect(beta != nil && beta?["users"] == nil, "listed from the registry, not yet counted")

            let fresh = try await client.get("/admin/api/stats?refresh=true").json
            #expect((fresh["totals"] as? [String: Any])?["users"] as? Int == 3, "acme's two members and beta's admin")
            #expect(try await client.get("/admin/api/stats?refresh=maybe").status == .badRequest)
        }
    }

    @Test("counts older than the maximum age are answered at once while newer ones are read in the background")
    func staleReadings() async throws {
        try await PortalFixture.run(.init(statisticsMaximumAge: .zero)) { fixture, client in
            _ = try await fixture.createTenant("acme")
            try await fixture.signInAdmin(client)
            _ = try await client.get("/admin/api/stats")
            _ = try await fixture.createTenant("beta")
            func betaUsers(_ stats: [String: Any]) -> Int? {
                (stats["tenants"] as? [[String: Any]])?.first { $0["slug"] as? String == "beta" }?["users"] as? Int
            }
            let stale = try await client.get("/admin/api/stats").json
            #expect(stale["refreshing"] as? Bool == true && betaUsers(stale) == nil, "the older counts, at once")
            var counted = false
            for _ in 0..<100 where !counted {
                counted = betaUsers(try await client.get("/admin/api/stats").json) == 1
                if !counted { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(counted, "the background reading landed")
            // Joins the reading the last load started, if any: none is left running when the test ends.
            #expect(try await client.get("/admin/api/stats?refresh=true").status == .ok)
        }
    }

    @Test("/metrics: Prometheus text with OpenTelemetry's names for loopback clients or the token's holder, 403 otherwise")
    func prometheus() async throws {
        // Router mode has no peer address: it stands for a remote client.
        try await PortalFixture.run(.init(metricsToken: "a-token-of-sixteen-chars")) { fixture, client in
            _ = try await client.get("/admin/api/session")
            let refused = try await client.get("/metrics")
            #expect(refused.status == .forbidden && refused.errorCode == "forbidden")
            let wrong = try await client.send(.get, "/metrics", headers: [.authorization: "Bearer not-the-token"])
            #expect(wrong.status == .forbidden)
            let scraped = try await client.send(.get, "/metrics", headers: [.authorization: "Bearer a-token-of-sixteen-chars"])
            #expect(scraped.status == .ok)
            #expect(scraped.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
            let text = String(decoding: scraped.body, as: UTF8.self)
            #expect(text.contains("# TYPE http_server_request_duration_seconds histogram"))
            #expect(text.contains(#"http_server_request_duration_seconds_count{http_request_method="GET",http_route="/admin/api/session",http_response_status_code="401"} 1"#))
        }
        try await PortalFixture.serve { _, port in
            let scraped = try await RawConnection.exchange(port: port, "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n")
            #expect(scraped.status == 200, "a loopback client needs no token")
        }
    }

    @Test("percentiles come from 5 % buckets; unknown methods are one label; the hour forgets older minutes")
    func requestMetricsStore() {
        let metrics = RequestMetrics()
        let now = Date()
        for millisecond in 1...100 {
            metrics.record(method: "GET", route: "/x", status: millisecond > 95 ? 500 : 200, duration: .milliseconds(millisecond), at: now)
        }
        metrics.record(method: "BREW", route: nil, status: 405, duration: .milliseconds(1), at: now)
        metrics.record(method: "GET", route: "/x", status: 200, duration: .seconds(9), at: now.addingTimeInterval(-2 * 3600))
        let routes = metrics.routes(lastMinutes: 5, now: now)
        let x = try! #require(routes.first { $0.route == "/x" })
        #expect(x.requests == 100 && x.serverErrors == 5 && x.clientErrors == 0)
        #expect(abs(x.p50Ms - 50) <= 2.5 && abs(x.p95Ms - 95) <= 4.8 && abs(x.p99Ms - 99) <= 5)
        #expect(routes.contains { $0.method == "_OTHER" && $0.route == "(no route)" })
        #expect(metrics.perMinute(now: now).map(\.requests).reduce(0, +) == 101)
    }
}
