import AdminPortal
import Foundation
import HTTPTypes
import Testing

/// Issue 13, item 9: API answers lacked nosniff (and errors no-store), HTTPS lacked HSTS, and
/// a page of another site reached the loopback portal through DNS rebinding (`Host: evil.example`).
@Suite("Security: response headers and the Host check")
struct SecurityHeaderTests {
    @Test("every answer carries nosniff, and every API answer no-store: successes, errors and unknown routes alike")
    func headersOnEveryAnswer() async throws {
        try await PortalFixture.run { fixture, client in
            _ = try await fixture.createTenant("acme")
            var replies = [
                try await client.get("/admin/api/session"),                    // 401
                try await client.send(.post, "/admin/api/session", raw: "{"),  // 400
                try await client.get("/admin/api/nope"),                       // 404
                try await client.get("/t/nope/api/session"),                   // 404 from the tenant gate
                try await client.get("/t/acme/api/permissions"),               // 401
            ]
            replies.append(try await fixture.signInAdmin(client))
            replies.append(try await client.get("/admin/api/tenants"))
            replies.append(try await client.get("/admin/api/tenants/acme/credentials"))
            for reply in replies {
                #expect(reply.headers[.xContentTypeOptions] == "nosniff", "\(reply.status)")
                #expect(reply.headers[.cacheControl] == "no-store", "\(reply.status)")
                #expect(reply.headers[.strictTransportSecurity] == nil, "plain HTTP: no HSTS")
            }
            let page = try await client.get("/admin")
            #expect(page.headers[.xContentTypeOptions] == "nosniff")
            #expect(page.headers[.cacheControl] == "no-cache")
        }
    }

    @Test("with --secure-cookies every answer, errors included, carries Strict-Transport-Security")
    func strictTransportSecurity() async throws {
        try await PortalFixture.run(PortalConfiguration(secureCookies: true)) { fixture, client in
            for reply in [try await client.get("/admin/api/session"), try await client.get("/admin"),
                          try await fixture.signInAdmin(client)] {
                #expect(reply.headers[.strictTransportSecurity] == "max-age=31536000")
            }
        }
    }

    @Test("a request naming another host is refused with 421 before any route runs (DNS rebinding)")
    func dnsRebinding() async throws {
        try await PortalFixture.serve { _, port in
            let signIn = #"{"email": "\#(PortalFixture.superadminEmail)", "password": "\#(PortalFixture.password)"}"#
            let rebound = try await RawConnection.exchange(port: port, """
                POST /admin/api/session HTTP/1.1\r
                Host: evil.example:\(port)\r
                Content-Type: application/json\r
                Content-Length: \(signIn.utf8.count)\r
                Connection: close\r
                \r
                \(signIn)
                """)
            #expect(rebound.status == 421)
            #expect(rebound.errorCode == "misdirected_request")
            #expect(rebound.headers["set-cookie"] == nil, "no session for the rebinding page")
            #expect(rebound.headers["x-content-type-options"] == "nosniff")
            #expect(rebound.headers["cache-control"] == "no-store")

            for host in ["localhost:\(port)", "127.0.0.1:\(port)", "LOCALHOST"] {
                let reply = try await RawConnection.exchange(port: port, Self.get("/admin/api/session", host: host))
                #expect(reply.status == 401, "\(host) is this server")
            }
            let noHost = try await RawConnection.exchange(port: port, "GET /admin/api/session HTTP/1.0\r\nConnection: close\r\n\r\n")
            #expect(noHost.status == 400)
            #expect(noHost.errorCode == "bad_request")
        }
    }

    @Test("with public origins, their hosts and loopback are accepted and any other host refused")
    func publicOrigins() async throws {
        try await PortalFixture.serve(PortalConfiguration(publicOrigins: ["https://admin.example.com"])) { _, port in
            for host in ["admin.example.com", "Admin.Example.com:443", "localhost:\(port)"] {
                #expect(try await RawConnection.exchange(port: port, Self.get("/admin/api/session", host: host)).status == 401)
            }
            for host in ["evil.example", "admin.example.com.evil.example", "example.com"] {
                let reply = try await RawConnection.exchange(port: port, Self.get("/admin/api/session", host: host))
                #expect(reply.status == 421, "\(host)")
            }
        }
    }

    private static func get(_ path: String, host: String) -> String {
        "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n"
    }
}
