import Foundation
import Testing

@Suite("Admin portal: the page")
struct AdminPageTests {
    @Test("/admin/ serves the page, its script and style, under a policy that allows no other source")
    func pageAndAssets() async throws {
        try await PortalFixture.run { _, client in
            for path in ["/admin/", "/admin"] {
                let page = try await client.get(path)
                #expect(page.status == .ok, "\(path)")
                #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
                #expect(page.headers[.contentSecurityPolicy]?.contains("default-src 'self'") == true)
                #expect(String(decoding: page.body, as: UTF8.self).contains("<script src=\"/admin/app.js\""))
            }
            let script = try await client.get("/admin/app.js")
            #expect(script.headers[.contentType]?.hasPrefix("text/javascript") == true)
            #expect(String(decoding: script.body, as: UTF8.self).contains("/admin/api"))
            #expect(try await client.get("/admin/app.css").headers[.contentType]?.hasPrefix("text/css") == true)
        }
    }
}
