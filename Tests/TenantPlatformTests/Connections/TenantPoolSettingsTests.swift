import Testing
import TenantPlatform

@Suite("Tenant pool settings")
struct TenantPoolSettingsTests {
    @Test("DB_POOL_SIZE, DB_POOL_MAX_OVERFLOW and DB_MAX_CONNECTIONS override the defaults")
    func fromEnvironment() throws {
        let settings = try TenantPoolSettings(environment: [
            "DB_POOL_SIZE": "3", "DB_POOL_MAX_OVERFLOW": "0", "DB_MAX_CONNECTIONS": "40",
        ])
        #expect(settings.poolSize == 3)
        #expect(settings.maxOverflow == 0)
        #expect(settings.tenantLimit == 3)
        #expect(settings.maximumConnections == 40)
        #expect(try TenantPoolSettings(environment: [:]) == TenantPoolSettings())
    }

    @Test("a value that is not a count fails, naming the variable")
    func malformedValue() throws {
        let error = try #require(throws: TenantPoolSettingsError.self) {
            try TenantPoolSettings(environment: ["DB_POOL_MAX_OVERFLOW": "ten"])
        }
        #expect(error.variable == "DB_POOL_MAX_OVERFLOW")
    }
}
