import Foundation
import TenantPlatform
import Testing

@Suite("Platform: configuration and credential encryption")
struct ConfigurationTests {
    static let key = EncryptionKey.generateHex()

    @Test(".env files: comments, export, quotes, escapes; a bad line is named")
    func dotEnv() throws {
        let values = try DotEnv.parse("""
            # master database
            MULTI_TENANT=true
            export MASTER_DB_HOST = db.internal   # inline comment
            MASTER_DB_PASSWORD='p#ss w"rd'
            PG_ADMIN_PASSWORD="line\\nbreak \\"quoted\\""
            EMPTY=

            """)
        #expect(values == ["MULTI_TENANT": "true", "MASTER_DB_HOST": "db.internal", "MASTER_DB_PASSWORD": "p#ss w\"rd",
                           "PG_ADMIN_PASSWORD": "line\nbreak \"quoted\"", "EMPTY": ""])
        #expect(throws: PlatformError.self) { try DotEnv.parse("A=1\nnot a setting\n") }
        #expect(throws: PlatformError.self) { try DotEnv.parse("A='unterminated\n") }
        let error = #expect(throws: PlatformError.self) { try DotEnv.parse("A=1\nnot a setting\n", source: "prod.env") }
        #expect(error?.code == .invalidSetting)
        #expect(error?.message.contains("prod.env:2") == true)
    }

    @Test("flags beat the environment, which beats .env, which beats defaults")
    func precedence() throws {
        let configuration = try PlatformConfiguration.resolve(
            overrides: ["MASTER_DB_NAME": "from_flag"],
            environment: ["MASTER_DB_NAME": "from_env", "MASTER_DB_PORT": "6543", "TENANT_ENCRYPTION_KEY": Self.key],
            dotEnv: ["MASTER_DB_NAME": "from_file", "MASTER_DB_PORT": "1", "DB_POOL_SIZE": "7", "MASTER_DB_HOST": "db"])
        #expect(configuration.masterDatabase == "from_flag")
        #expect(configuration.server == .init(host: "db", port: 6543))
        #expect(configuration.pool.poolSize == 7)
        #expect(configuration.pool.maxOverflow == 10)
        #expect(configuration.tenantDatabasePrefix == "tenant")
        #expect(configuration.adminLogin.user == "postgres")
    }

    @Test("a missing or malformed key stops start-up with how to generate one")
    func encryptionKeyIsRequired() throws {
        for environment in [[:], ["TENANT_ENCRYPTION_KEY": "abc"], ["TENANT_ENCRYPTION_KEY": String(repeating: "g", count: 64)]] {
            do {
                _ = try PlatformConfiguration.resolve(environment: environment)
                Issue.record("expected a configuration error for \(environment)")
            } catch let error as PlatformError {
                #expect(error.code == (environment.isEmpty ? .missingSetting : .invalidSetting))
                #expect("\(error)".contains("TENANT_ENCRYPTION_KEY"))
                #expect("\(error)".contains("openssl rand -hex 32"))
                #expect(!"\(error)".contains(String(repeating: "g", count: 64)), "the value must not be echoed")
            }
        }
    }

    @Test("malformed numbers, booleans and prefixes name the variable")
    func malformedValues() throws {
        for (name, value) in [("MASTER_DB_PORT", "99999"), ("DB_POOL_SIZE", "ten"), ("MULTI_TENANT", "maybe"),
                              ("TENANT_DB_PREFIX", "Bad-Prefix"), ("TENANT_ENCRYPTION_OLD_KEYS", "nonsense")] {
            let error = #expect(throws: PlatformError.self, "\(name)") {
                try PlatformConfiguration.resolve(environment: ["TENANT_ENCRYPTION_KEY": Self.key, name: value])
            }
            #expect(error?.code == .invalidSetting, "\(name)")
            #expect(error?.message.contains(name) == true, "\(name)")
            #expect(error?.description.contains(value) == false, "the value must not be echoed")
        }
    }

    @Test("sealed credentials open with the same key and context only")
    func cipher() async throws {
        let cipher = CredentialCipher(key: try EncryptionKey(hex: Self.key))
        let sealed = try cipher.seal("s3cret", context: "tenant:1:role")
        #expect(sealed.hasPrefix("v1:"))
        #expect(!sealed.contains("s3cret"))
        #expect(try cipher.seal("s3cret", context: "tenant:1:role") != sealed, "a fresh nonce every time")
        #expect(try cipher.open(sealed, context: "tenant:1:role") == "s3cret")
        #expect(await platformErrorKind { _ = try cipher.open(sealed, context: "tenant:2:role") } == .wrongEncryptionKey)
        let other = CredentialCipher(key: try EncryptionKey(hex: EncryptionKey.generateHex()))
        #expect(await platformErrorKind { _ = try other.open(sealed, context: "tenant:1:role") } == .wrongEncryptionKey)
        #expect(await platformErrorKind { _ = try cipher.open("v1:not base64!", context: "x") } == .malformedSecret)
    }

    @Test("after a key rotation, values sealed with the old key still open")
    func rotation() async throws {
        let oldHex = EncryptionKey.generateHex()
        let sealedBefore = try CredentialCipher(key: try EncryptionKey(hex: oldHex)).seal("old", context: "c")
        let rotated = try PlatformConfiguration.resolve(environment: [
            "TENANT_ENCRYPTION_KEY": Self.key, "TENANT_ENCRYPTION_KEY_VERSION": "2", "TENANT_ENCRYPTION_OLD_KEYS": "1:\(oldHex)"])
        #expect(try rotated.cipher.open(sealedBefore, context: "c") == "old")
        #expect(try rotated.cipher.seal("new", context: "c").hasPrefix("v2:"))
        let unrotated = try PlatformConfiguration.resolve(environment: ["TENANT_ENCRYPTION_KEY": Self.key, "TENANT_ENCRYPTION_KEY_VERSION": "2"])
        #expect(await platformErrorKind { _ = try unrotated.cipher.open(sealedBefore, context: "c") } == .unknownKeyVersion)
    }
}
