import Hummingbird
import TenantPlatform
import Testing
@testable import AdminPortal

@Suite("API errors: what a client sees of a platform error")
struct APIErrorTests {
    @Test("a platform error keeps its code's name, its message and its hint, with the status of its code")
    func platformError() throws {
        let error = try #require(APIError(PlatformError(.tenantExists, "tenant acme already exists", hint: "Pick another slug.")))
        #expect(error.status == .conflict)
        #expect(error.code == "tenant_exists")
        #expect(error.message == "tenant acme already exists")
        #expect(error.hint == "Pick another slug.")
        #expect(APIError(PlatformError(.invalidSSOSettings, "the client secret is empty"))?.code == "invalid_sso_settings")
        #expect(APIError(PlatformError(.migrationRunning, "another run"))?.status == .conflict)
    }

    @Test("settings and keys are the operator's business: answered as a server fault, with the cause in the log only")
    func operatorErrors() {
        for code: PlatformError.Code in [.missingSetting, .invalidSetting, .wrongEncryptionKey, .unknownKeyVersion, .malformedSecret] {
            #expect(APIError(PlatformError(code, "TENANT_ENCRYPTION_KEY is invalid")) == nil, "\(code)")
        }
    }
}
