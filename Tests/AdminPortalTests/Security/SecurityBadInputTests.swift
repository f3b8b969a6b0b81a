import Foundation
import HTTPTypes
import Testing

/// Issue 13, item 8: bad input used to answer 500, log at error level, and once dump the
/// tenant row with its sealed credentials into the log. Each test sends the input again.
@Suite("Security: bad input gets a 4xx saying what was wrong, never a 500 or a secret in the log")
struct SecurityBadInputTests {
    @Test("a body over the limit is refused with 413 in the error shape, on open and signed-in routes alike")
    func bodyOverLimit() async throws {
        let logs = LogCapture()
        try await PortalFixture.run(logs: logs) { fixture, client in
            _ = try await fixture.createTenant("acme")
            let huge = String(repeating: "a", count: 1_000_000)
            for uri in ["/admin/api/session", "/t/acme/api/session"] {
                let reply = try await client.send(.post, uri, json: ["email": huge, "username": huge, "password": huge])
                #expect(reply.status == .contentTooLarge)
                #expect(reply.errorCode == "body_too_large")
                #expect(reply.error["hint"] as? String != nil)
            }
            try await fixture.signInAdmin(client)
            let reply = try await client.send(.post, "/admin/api/tenants", json: ["name": huge, "slug": "big"])
            #expect(reply.status == .contentTooLarge)
            #expect(try await fixture.platform.platform.directory.find(slug: "big") == nil)
        }
        #expect(logs.lines.filter { $0.level >= .error }.isEmpty)
    }

    @Test("blank and invisible tenant names are refused with 400, and no log line holds the sealed credentials")
    func blankNames() async throws {
        let logs = LogCapture()
        try await PortalFixture.run(logs: logs) { fixture, client in
            _ = try await fixture.createTenant("acme")
            let record = try await fixture.platform.platform.directory.require(slug: "acme")
            try await fixture.signInAdmin(client)
            for name in ["", "   ", "\t\n", "\u{3000}", "\u{200B}", "\u{FEFF}"] {
                let renamed = try await client.send(.patch, "/admin/api/tenants/acme", json: ["name": name])
                #expect(renamed.status == .badRequest)
                #expect(renamed.errorCode == "invalid_name")
                let created = try await client.send(.post, "/admin/api/tenants", json: ["name": name, "slug": "blank"])
                #expect(created.status == .badRequest)
                #expect(created.errorCode == "invalid_name")
            }
            #expect(try await client.get("/admin/api/tenants/acme").json["name"] as? String == record.name)
            #expect(try await fixture.platform.platform.directory.find(slug: "blank") == nil)
            for line in logs.lines {
                #expect(!line.text.contains(record.credentialsEncrypted) && !line.text.contains(record.adminPasswordEncrypted))
            }
        }
        #expect(logs.lines.filter { $0.level >= .error }.isEmpty)
    }

    @Test("over-long names are refused with 400 (or 413 past the body limit); length counts combining marks")
    func longNames() async throws {
        try await PortalFixture.run { fixture, client in
            _ = try await fixture.createTenant("acme")
            try await fixture.signInAdmin(client)
            for name in [String(repeating: "a", count: 201), "a" + String(repeating: "\u{301}", count: 10_000)] {
                for (method, uri, slug) in [(HTTPRequest.Method.post, "/admin/api/tenants", "long"),
                                            (.patch, "/admin/api/tenants/acme", "acme")] {
                    let reply = try await client.send(method, uri, json: ["name": name, "slug": slug])
                    #expect(reply.status == .badRequest)
                    #expect(reply.errorCode == "invalid_name")
                    #expect(reply.body.count < 1_000, "the answer does not echo the name")
                }
            }
            let hundredThousand = try await client.send(.post, "/admin/api/tenants",
                                                        json: ["name": String(repeating: "a", count: 100_000), "slug": "long"])
            #expect(hundredThousand.status == .contentTooLarge)
            #expect(try await fixture.platform.platform.directory.find(slug: "long") == nil)
        }
    }

    @Test("zero-width and right-to-left-override characters are refused in names and slugs")
    func invisibleCharacters() async throws {
        try await PortalFixture.run { fixture, client in
            _ = try await fixture.createTenant("acme")
            try await fixture.signInAdmin(client)
            for name in ["Ac\u{200B}me", "Acme\u{200D}", "Acme\u{202E}gnp.exe", "\u{2066}Acme"] {
                #expect(try await client.send(.post, "/admin/api/tenants", json: ["name": name, "slug": "zw"]).errorCode == "invalid_name")
                #expect(try await client.send(.patch, "/admin/api/tenants/acme", json: ["name": name]).errorCode == "invalid_name")
            }
            for slug in ["ac\u{200B}me2", "ac\u{200D}me2", "acme2\u{202E}", "\u{FEFF}acme2"] {
                #expect(try await client.send(.post, "/admin/api/tenants", json: ["name": "Zw", "slug": slug]).errorCode == "invalid_slug")
                #expect(try await client.send(.patch, "/admin/api/tenants/acme", json: ["slug": slug]).errorCode == "invalid_slug")
            }
            #expect(try await client.get("/admin/api/tenants").list("tenants").map { $0["slug"] as? String } == ["acme"])
        }
    }

    @Test("bodies that do not decode are refused in the one error shape, naming the field")
    func undecodableBodies() async throws {
        let logs = LogCapture()
        try await PortalFixture.run(logs: logs) { fixture, client in
            _ = try await fixture.createTenant("acme")
            try await fixture.signInAdmin(client)
            let cases: [(raw: String, code: String, field: String)] = [
                (#"{"name": "Acme 2"}"#, "missing_field", "\"slug\""),
                (#"{"name": 5, "slug": "acme2"}"#, "invalid_field", "\"name\" must be a string"),
                (#"{"name": null, "slug": "acme2"}"#, "invalid_field", "\"name\" must be a string"),
                (#"{"name": "Ac\u0000me", "slug": "acme2"}"#, "invalid_field", "\"name\" must not contain the NUL"),
                (#"{"name": "Acme 2", "slug": "acme2", "x\u0000": 1}"#, "invalid_field", "\"x\u{0}\""),
                (#"{"name": "Acme 2", "slug": "acme2""#, "invalid_json", "not valid JSON"),
                ("", "invalid_json", "not valid JSON"),
                (#"["Acme 2", "acme2"]"#, "invalid_json", "must be an object"),
            ]
            for (raw, code, field) in cases {
                let reply = try await client.send(.post, "/admin/api/tenants", raw: raw)
                #expect(reply.status == .badRequest, "\(raw)")
                #expect(reply.errorCode == code, "\(raw)")
                #expect(reply.errorMessage?.contains(field) == true, "\(raw): \(reply.errorMessage ?? "")")
                #expect(Set(reply.error.keys).isSubset(of: ["code", "message", "detail", "hint"]))
                #expect(!String(decoding: reply.body, as: UTF8.self).contains("Coding key"))
            }
            #expect(try await fixture.platform.platform.directory.find(slug: "acme2") == nil)
        }
        #expect(logs.lines.filter { $0.level >= .error }.isEmpty)
    }

    @Test("a tenant API body names the field too, nested ones by index; a NUL never cuts a password short")
    func tenantAPIBodies() async throws {
        try await PortalFixture.run { fixture, client in
            let credentials = try await fixture.createTenant("acme")
            // libpq would end the string at the NUL, so "password\0anything" would pass for the password.
            let truncated = try await client.send(.post, "/t/acme/api/session", json: [
                "username": credentials.adminEmail, "password": credentials.adminPassword + "\u{0}guess",
            ])
            #expect(truncated.status == .badRequest)
            #expect(truncated.errorMessage?.contains("\"password\"") == true)
            #expect(client.cookies.isEmpty)

            let missing = try await client.send(.post, "/t/acme/api/session", json: ["username": credentials.adminEmail])
            #expect(missing.errorCode == "missing_field")
            #expect(missing.errorMessage?.contains("\"password\"") == true)

            #expect(try await client.send(.post, "/t/acme/api/session", json: [
                "username": credentials.adminEmail, "password": credentials.adminPassword,
            ]).status == .ok)
            let nested = try await client.send(.post, "/t/acme/api/permissions/check", raw: #"{"perm_codes": ["users", 3]}"#)
            #expect(nested.errorCode == "invalid_field")
            #expect(nested.errorMessage?.contains("\"perm_codes[1]\" must be a string") == true)
            let notAList = try await client.send(.post, "/t/acme/api/permissions/check", raw: #"{"perm_codes": "users"}"#)
            #expect(notAList.errorMessage?.contains("\"perm_codes\" must be a list") == true)
            let wrongFlag = try await client.send(.post, "/t/acme/api/permissions/check",
                                                  raw: #"{"perm_codes": ["users"], "require_all": "yes"}"#)
            #expect(wrongFlag.errorMessage?.contains("\"require_all\" must be true or false") == true)
        }
    }
}
