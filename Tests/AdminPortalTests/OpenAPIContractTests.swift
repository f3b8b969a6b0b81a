import Foundation
import Testing

/// The OpenAPI documents are served as written, and the check every test's answers go
/// through (``OpenAPIContract``) does refuse what they do not allow.
@Suite("Admin portal: the OpenAPI documents")
struct OpenAPIContractTests {
    @Test("the documents are served at openapi.json, without sign-in, exactly as in web/openapi/")
    func served() async throws {
        try await PortalFixture.run { fixture, client in
            try await fixture.platform.provisioner.create(name: "Acme", slug: "acme")
            let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "../../web/openapi")
            for (uri, file) in [("/admin/api/openapi.json", "admin-api.json"), ("/t/acme/api/openapi.json", "tenant-api.json"),
                                ("/t/no-such-tenant/api/openapi.json", "tenant-api.json"), ("/sso/openapi.json", "sso-api.json")] {
                let reply = try await client.get(uri)
                #expect(reply.status == .ok)
                #expect(reply.headers[.contentType] == "application/json")
                let expected = try JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: folder.appending(path: file)))
                #expect(try JSONDecoder().decode(JSONValue.self, from: reply.body) == expected, "\(uri)")
            }
        }
    }

    @Test("answers the documents do not allow are reported: status, type, required and unknown fields, enums, routes")
    func refusesWhatIsNotDocumented() {
        let contract = OpenAPIContract.shared
        func body(_ json: String) -> Data { Data(json.utf8) }
        let session = #"{"slug": "acme", "tenant_id": "3f1c0000-0000-0000-0000-000000000000", "user_id": "3f1c0000-0000-0000-0000-000000000001"}"#
        #expect(contract.violations(method: .get, uri: "/t/acme/api/session", status: 200, body: body(session)).isEmpty)
        #expect(contract.violations(method: .get, uri: "/t/acme/api/session", status: 418, body: body(session)).count == 1)
        #expect(contract.violations(method: .get, uri: "/t/acme/api/session", status: 200, body: body(#"{"slug": 7}"#)).count == 3)
        #expect(!contract.violations(method: .get, uri: "/t/acme/api/permissions/users.view", status: 200,
                                     body: body(#"{"perm_code": "users.view", "granted": true, "extra": 1}"#)).isEmpty)
        #expect(!contract.violations(method: .get, uri: "/admin/api/tenants/acme", status: 200,
                                     body: body(#"{"id": "x", "name": "A", "slug": "acme", "status": "sleeping", "server": "main", "database_name": "d", "role_name": "r", "admin_email": "e"}"#)).isEmpty)
        #expect(!contract.violations(method: .get, uri: "/admin/api/nothing-here", status: 200, body: body("{}")).isEmpty)
        #expect(contract.violations(method: .get, uri: "/admin/api/nothing-here", status: 404,
                                    body: body(#"{"error": {"code": "not_found", "message": "Not Found"}}"#)).isEmpty)
        #expect(!contract.violations(method: .post, uri: "/t/acme/api/permissions/check", status: 200, body: body("not json")).isEmpty)
        #expect(contract.violations(method: .get, uri: "/admin/", status: 200, body: body("<html>")).isEmpty, "pages are not API answers")
    }
}
