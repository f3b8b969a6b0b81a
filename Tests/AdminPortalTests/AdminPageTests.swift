import Foundation
import Testing

@Suite("Admin portal: the page")
struct AdminPageTests {
    @Test("/admin/ serves web/admin/ as embedded: the page, its script, style and icon, under a policy that allows no other source")
    func pageAndAssets() async throws {
        try await PortalFixture.run { _, client in
            let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "../../web/admin").standardizedFileURL
            for (path, file, type) in [("/admin/", "index.html", "text/html"), ("/admin", "index.html", "text/html"),
                                       ("/admin/app.js", "app.js", "text/javascript"), ("/admin/app.css", "app.css", "text/css"),
                                       ("/admin/icon.svg", "icon.svg", "image/svg+xml")] {
                let reply = try await client.get(path)
                #expect(reply.status == .ok, "\(path)")
                #expect(reply.headers[.contentType]?.hasPrefix(type) == true, "\(path)")
                #expect(reply.body == (try Data(contentsOf: folder.appending(path: file))), "\(path) is the file in web/admin/")
                let policy = try #require(reply.headers[.contentSecurityPolicy])
                for directive in ["default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "base-uri 'none'"] {
                    #expect(policy.contains(directive), "\(path): \(directive)")
                }
                #expect(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"))
                #expect(reply.headers[.xContentTypeOptions] == "nosniff")
                #expect(reply.headers[values: .init("Referrer-Policy")!] == ["no-referrer"])
            }
        }
    }

    @Test("the page has no inline script, style or event handler, which the policy would block")
    func noInlineCode() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "../../web/admin").standardizedFileURL
        let html = try String(contentsOf: folder.appending(path: "index.html"), encoding: .utf8)
        #expect(html.components(separatedBy: "<script").count - 1 == 1 && html.contains(#"<script src="/admin/app.js" defer></script>"#))
        #expect(!html.contains("<style") && !html.contains("style=") && !html.contains(" onclick=") && !html.contains("javascript:"))
        let script = try String(contentsOf: folder.appending(path: "app.js"), encoding: .utf8)
        #expect(!script.contains("innerHTML") && !script.contains("eval(") && !script.contains(".style."))
    }
}
