import Foundation
import PlatformTestSupport
import PQ
import TenantPlatform
import Testing

@Suite("Security: secrets never reach a description, an error message or a log line")
struct SecurityRedactionTests {
    @Test("a tenant record and its credentials print every field but the secrets, however they are printed")
    func redactedValues() async throws {
        try await withAcme { f, record in
            let credentials = try await f.lifecycle.credentials(slug: "acme")
            let secrets = [record.credentialsEncrypted, record.adminPasswordEncrypted, credentials.adminPassword, credentials.conninfo]
            for printed in renderings(of: record) + renderings(of: credentials) {
                #expect(printed.contains("acme"), "still useful: \(printed)")
                #expect(printed.contains("<redacted>"))
                for secret in secrets { #expect(!printed.contains(secret)) }
            }
        }
    }

    @Test("a constraint violation on the tenant row does not put the row, sealed secrets and all, in its description")
    func constraintViolationDescription() async throws {
        try await withAcme { f, record in
            let master = try await f.superuser(f.configuration.masterDatabase)
            let error = await #expect(throws: PostgresError.self) {
                try await master.query("UPDATE platform.tenant SET name = '' WHERE slug = 'acme'")
            }
            await master.close()
            // The server clips each value of the row to 64 bytes; that is still most of a sealed secret.
            let sealed = String(record.credentialsEncrypted.prefix(40))
            #expect(error?.code == .checkViolation)
            #expect(error?.detail?.contains(sealed) == true, "the server did send the row")
            #expect(error.map { !"\($0)".contains(sealed) } == true)
        }
    }

    @Test("blank and invisible names are refused before they reach the tenant row, on creation and on rename")
    func namesRefusedEarly() async throws {
        try await withAcme { f, _ throws in
            for name in ["", " ", "\u{200B}", "Acme\u{202E}gnp.exe", String(repeating: "a", count: 100_000)] {
                #expect(await platformErrorKind { try await f.lifecycle.update(slug: "acme", TenantChange(name: name)) } == .invalidName)
                #expect(await platformErrorKind { try await f.provisioner.create(name: name, slug: "other") } == .invalidName)
            }
            #expect(try await f.platform.directory.require(slug: "acme").name == "Acme")
            #expect(try await f.platform.directory.find(slug: "other") == nil)
            #expect(try await f.leftovers().allSatisfy { !$0.hasSuffix("_other") })
        }
    }

    /// A platform with one tenant, acme, and its registry row.
    private func withAcme(_ body: (PlatformFixture, TenantRecord) async throws -> Void) async throws {
        try await PlatformFixture.run { f in
            try await f.provisioner.create(name: "Acme", slug: "acme")
            try await body(f, try await f.platform.directory.require(slug: "acme").record)
        }
    }

    private func renderings(of value: Any) -> [String] {
        var dumped = ""
        dump(value, to: &dumped)
        return ["\(value)", String(describing: value), String(reflecting: value), dumped]
    }
}
