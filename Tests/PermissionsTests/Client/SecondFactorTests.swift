import Foundation
import Permissions
import PostgresTestSupport
import PQ
import Testing

/// The second factor of password sign-in: an authenticator's TOTP codes (RFC 6238) checked in
/// the database, recovery codes, the lockout shared with passwords, each tenant's policy.
///
/// Codes are made by ``TOTPGenerator``, an implementation independent of the schema's. Every
/// expectation holds whichever 30-second step the database is in when it checks: a code
/// expected to pass is the current one (still within the drift a step later), and one
/// expected to fail is three steps away or already used.
@Suite("Second factor: TOTP codes, recovery codes, lockout and policy")
struct SecondFactorTests {
    /// A user with a password and a confirmed authenticator: its secret and recovery codes.
    struct Enrolled {
        let id: UserID
        let username: String
        let secret: String
        let recoveryCodes: [String]
    }

    static func enrolled(_ f: AuthFixture, _ name: String = "user") async throws -> Enrolled {
        let user = try await PasswordTests.user(f, name)
        let enrolment = try await f.auth.beginTOTPEnrolment(user: user.id)
        let codes = try await f.auth.confirmTOTPEnrolment(user: user.id, code: TOTPGenerator.code(secret: enrolment.secret))
        return Enrolled(id: user.id, username: user.username, secret: enrolment.secret, recoveryCodes: codes)
    }

    @Test("the schema's codes and the test generator's both match RFC 6238's SHA-1 vectors")
    func rfcVectors() async throws {
        try await AuthFixture.run { f in
            let key = Array("12345678901234567890".utf8)
            // RFC 6238, appendix B: Unix time and the 8-digit code; 6 digits are its last six.
            for (time, expected) in [(59, "94287082"), (1_111_111_109, "07081804"), (1_111_111_111, "14050471"),
                                     (1_234_567_890, "89005924"), (2_000_000_000, "69279037"), (20_000_000_000, "65353130")] {
                let step = UInt64(time / 30)
                let schema = try await f.sql("SELECT auth.totp_code(convert_to('12345678901234567890', 'UTF8'), $1)",
                                             [Int(step)]).scalar(String.self)
                #expect(schema == String(expected.suffix(6)), "step \(step)")
                #expect(TOTPGenerator.code(key: key, step: step) == String(expected.suffix(6)), "step \(step)")
            }
            #expect(try await f.sql("SELECT auth.base32(convert_to('foobar', 'UTF8'))").scalar(String.self) == "MZXW6YTBOI")
        }
    }

    @Test("enrolment: a pending secret, confirmed by its current code, gives 10 recovery codes")
    func enrolment() async throws {
        try await PasswordTests.run { f in
            let alice = try await PasswordTests.user(f, "alice")
            let none = try await f.auth.secondFactor(user: alice.id)
            #expect(!none.isEnabled && !none.isPending && none.enabledAt == nil && none.recoveryCodesLeft == 0)

            let enrolment = try await f.auth.beginTOTPEnrolment(user: alice.id, issuer: "Acme Cloud")
            #expect(enrolment.secret.wholeMatch(of: /[A-Z2-7]{32}/) != nil)
            #expect(enrolment.otpauthURI == "otpauth://totp/Acme%20Cloud:\(alice.username)?secret=\(enrolment.secret)"
                    + "&issuer=Acme%20Cloud&algorithm=SHA1&digits=6&period=30")
            #expect(try await f.auth.secondFactor(user: alice.id).isPending)
            // Pending is not enabled: nothing to verify against yet.
            #expect(try await f.auth.verifySecondFactor(user: alice.id, code: TOTPGenerator.code(secret: enrolment.secret)) == false)

            let typed = TOTPGenerator.code(secret: enrolment.secret)
            let codes = try await f.auth.confirmTOTPEnrolment(user: alice.id, code: " \(typed.prefix(3)) \(typed.suffix(3)) ")
            #expect(codes.count == 10 && Set(codes).count == 10)
            #expect(codes.allSatisfy { $0.wholeMatch(of: /[0-9a-f]{5}-[0-9a-f]{5}-[0-9a-f]{5}-[0-9a-f]{5}/) != nil })
            let status = try await f.auth.secondFactor(user: alice.id)
            #expect(status.isEnabled && !status.isPending && status.enabledAt != nil && status.recoveryCodesLeft == 10)

            // The secret is stored encrypted: its bytes are nowhere in the row.
            let raw = TOTPGenerator.base32Decoded(enrolment.secret).map { String(format: "%02x", $0) }.joined()
            #expect(try await f.sql("""
                SELECT position(decode($1, 'hex') IN secret_sealed) = 0 AND octet_length(secret_sealed) > 20
                FROM auth.user_totp WHERE user_id = $2
                """, [raw, alice.id]).scalar(Bool.self))
        }
    }

    @Test("beginning again replaces a pending secret: only the newest one confirms")
    func beginAgainReplaces() async throws {
        try await PasswordTests.run { f in
            let bob = try await PasswordTests.user(f, "bob")
            let first = try await f.auth.beginTOTPEnrolment(user: bob.id)
            let second = try await f.auth.beginTOTPEnrolment(user: bob.id)
            #expect(first.secret != second.secret)
            let firstCode = TOTPGenerator.code(secret: first.secret), secondCode = TOTPGenerator.code(secret: second.secret)
            if firstCode != secondCode {  // one chance in a million that they coincide
                await expectError(.wrongSecondFactorCode) { _ = try await f.auth.confirmTOTPEnrolment(user: bob.id, code: firstCode) }
            }
            _ = try await f.auth.confirmTOTPEnrolment(user: bob.id, code: secondCode)
            #expect(try await f.auth.secondFactor(user: bob.id).isEnabled)
        }
    }

    @Test("a current code passes once; a used, an older or a far code does not")
    func verification() async throws {
        try await PasswordTests.run { f in
            let carol = try await Self.enrolled(f, "carol")
            // The confirmation used the current step: its code is spent.
            #expect(try await f.auth.verifySecondFactor(user: carol.id, code: TOTPGenerator.code(secret: carol.secret)) == false)
            // The next step's code passes (drift), then the current one is older: refused.
            #expect(try await f.auth.verifySecondFactor(user: carol.id, code: TOTPGenerator.code(secret: carol.secret, steps: 1)))
            #expect(try await f.auth.verifySecondFactor(user: carol.id, code: TOTPGenerator.code(secret: carol.secret)) == false)
            for code in [TOTPGenerator.code(secret: carol.secret, steps: 3), TOTPGenerator.code(secret: carol.secret, steps: -3),
                         "", "12345", "1234567", "abcdef", String(repeating: "9", count: 10_000)] {
                #expect(try await f.auth.verifySecondFactor(user: carol.id, code: code) == false, "\(code.prefix(12))")
            }
            #expect(try await f.call("SELECT auth.verify_second_factor(NULL, '123456')").scalar(Bool.self) == false)
            #expect(try await f.call("SELECT auth.verify_second_factor($1, NULL)", [carol.id]).scalar(Bool.self) == false)
            #expect(try await f.auth.verifySecondFactor(user: UserID(UUID()), code: "123456") == false)
            // Without a password there is no lockout to count in: no code passes.
            try await f.sql("DELETE FROM auth.user_password WHERE user_id = $1", [carol.id])
            #expect(try await f.auth.verifySecondFactor(user: carol.id, code: carol.recoveryCodes[0]) == false)
            // A user without an authenticator has no second factor to pass.
            let dave = try await PasswordTests.user(f, "dave")
            #expect(try await f.auth.verifySecondFactor(user: dave.id, code: "123456") == false)
        }
    }

    @Test("a recovery code serves once, typed in any case with or without dashes; new ones replace the old")
    func recoveryCodes() async throws {
        try await PasswordTests.run { f in
            let erin = try await Self.enrolled(f, "erin")
            let code = erin.recoveryCodes[0]
            #expect(try await f.auth.verifySecondFactor(user: erin.id, code: " " + code.uppercased().replacingOccurrences(of: "-", with: " ")))
            #expect(try await f.auth.verifySecondFactor(user: erin.id, code: code) == false, "spent")
            #expect(try await f.auth.secondFactor(user: erin.id).recoveryCodesLeft == 9)

            let fresh = try await f.auth.regenerateRecoveryCodes(user: erin.id)
            #expect(fresh.count == 10 && Set(fresh).isDisjoint(with: erin.recoveryCodes))
            #expect(try await f.auth.verifySecondFactor(user: erin.id, code: erin.recoveryCodes[1]) == false, "old codes stop")
            #expect(try await f.auth.verifySecondFactor(user: erin.id, code: fresh[9].replacingOccurrences(of: "-", with: "")))
            #expect(try await f.auth.secondFactor(user: erin.id).recoveryCodesLeft == 9)
            // Neither the codes nor a plain hash of them are stored.
            #expect(try await f.sql("""
                SELECT count(*) FROM auth.user_recovery_code
                WHERE code_hash IN (convert_to($1, 'UTF8'), sha256(convert_to($1, 'UTF8')), sha256(convert_to($2, 'UTF8')))
                """, [fresh[0], fresh[0].replacingOccurrences(of: "-", with: "")]).scalar(Int.self) == 0)
        }
    }

    @Test("wrong codes count in the password's lockout, and a right password alone does not reset them")
    func lockout() async throws {
        try await PasswordTests.run { f in
            try await PasswordTests.limits(f, failures: 3)
            let frank = try await Self.enrolled(f, "frank")
            // Guessing with the right password in between: the count keeps growing.
            for _ in 0..<2 {
                #expect(try await f.auth.verifyUserPassword(username: frank.username, password: PasswordTests.password) == frank.id)
                #expect(try await f.auth.verifySecondFactor(user: frank.id, code: "000000") == false)
            }
            #expect(try await PasswordTests.login(f, frank.id)?.failedAttempts == 2)
            #expect(try await f.auth.verifySecondFactor(user: frank.id, code: "000001") == false)
            #expect(try await PasswordTests.login(f, frank.id)?.isLocked == true)
            // Locked: the right code and the right password fail alike, and count nothing.
            #expect(try await f.auth.verifySecondFactor(user: frank.id, code: TOTPGenerator.code(secret: frank.secret, steps: 1)) == false)
            #expect(try await f.auth.verifyUserPassword(username: frank.username, password: PasswordTests.password) == nil)
            #expect(try await f.auth.unlockUser(frank.id))

            // A right code resets the count.
            #expect(try await f.auth.verifySecondFactor(user: frank.id, code: "000002") == false)
            #expect(try await f.auth.verifySecondFactor(user: frank.id, code: TOTPGenerator.code(secret: frank.secret, steps: 1)))
            #expect(try await PasswordTests.login(f, frank.id)?.failedAttempts == 0)
        }
    }

    @Test("one code raced from two sessions passes exactly once")
    func concurrentUse() async throws {
        try await PasswordTests.run { f in
            let gina = try await Self.enrolled(f, "gina")
            let code = TOTPGenerator.code(secret: gina.secret, steps: 1)
            let other = try await f.database.connect()
            async let first = f.auth.verifySecondFactor(user: gina.id, code: code)
            async let second = AuthClient(other).verifySecondFactor(user: gina.id, code: code)
            let results = try await [first, second]
            #expect(results.filter { $0 }.count == 1)
            await other.close()
        }
    }

    @Test("disabling removes the authenticator and its codes; a deleted user takes them along")
    func disable() async throws {
        try await PasswordTests.run { f in
            let hank = try await Self.enrolled(f, "hank")
            #expect(try await f.auth.disableTOTP(user: hank.id))
            #expect(try await f.auth.disableTOTP(user: hank.id) == false)
            #expect(try await f.auth.verifySecondFactor(user: hank.id, code: hank.recoveryCodes[0]) == false)
            #expect(try await f.sql("SELECT count(*) FROM auth.user_recovery_code WHERE user_id = $1", [hank.id]).scalar(Int.self) == 0)
            // With it gone, a right password resets failures again.
            #expect(try await f.auth.verifyUserPassword(username: hank.username, password: "wrong password") == nil)
            #expect(try await f.auth.verifyUserPassword(username: hank.username, password: PasswordTests.password) == hank.id)
            #expect(try await PasswordTests.login(f, hank.id)?.failedAttempts == 0)

            let ivy = try await Self.enrolled(f, "ivy")
            try await f.auth.deleteUser(ivy.id)
            #expect(try await f.sql("SELECT count(*) FROM auth.user_totp WHERE user_id = $1", [ivy.id]).scalar(Int.self) == 0)
        }
    }

    @Test("errors by SQLSTATE, and a refused call changes nothing")
    func errors() async throws {
        try await PasswordTests.run { f in
            let unknown = UserID(UUID())
            await expectError(.unknownUser) { _ = try await f.auth.beginTOTPEnrolment(user: unknown) }
            await expectError(.unknownUser) { _ = try await f.auth.confirmTOTPEnrolment(user: unknown, code: "123456") }
            await expectError(.unknownUser) { try await f.auth.disableTOTP(user: unknown) }
            await expectError(.unknownUser) { _ = try await f.auth.regenerateRecoveryCodes(user: unknown) }
            await expectError(.unknownUser) { _ = try await f.auth.secondFactor(user: unknown) }
            await expectError(.invalidArgument) { try await f.call("SELECT * FROM auth.begin_totp_enrolment(NULL)") }

            let sso = try await PasswordTests.user(f, "sso", password: nil)
            await expectError(.noPassword) { _ = try await f.auth.beginTOTPEnrolment(user: sso.id) }

            let jack = try await PasswordTests.user(f, "jack")
            await expectError(.invalidArgument) { _ = try await f.auth.beginTOTPEnrolment(user: jack.id, issuer: " ") }
            await expectError(.invalidText) { _ = try await f.auth.beginTOTPEnrolment(user: jack.id, issuer: "a:b") }
            await expectError(.invalidText) { _ = try await f.auth.beginTOTPEnrolment(user: jack.id, issuer: String(repeating: "i", count: 101)) }
            #expect(try await f.auth.secondFactor(user: jack.id).isPending == false, "nothing begun")
            await expectError(.noSecondFactor) { _ = try await f.auth.confirmTOTPEnrolment(user: jack.id, code: "123456") }
            await expectError(.noSecondFactor) { _ = try await f.auth.regenerateRecoveryCodes(user: jack.id) }

            let pending = try await f.auth.beginTOTPEnrolment(user: jack.id)
            let wrong = TOTPGenerator.code(secret: pending.secret, steps: 3)
            for code in [wrong, "abcdef", String(repeating: "1", count: 100_000)] {
                await expectError(.wrongSecondFactorCode) { _ = try await f.auth.confirmTOTPEnrolment(user: jack.id, code: code) }
            }
            await expectError(.invalidArgument) { _ = try await f.auth.confirmTOTPEnrolment(user: jack.id, code: " ") }
            await expectError(.invalidArgument) { try await f.call("SELECT auth.confirm_totp_enrolment($1, NULL)", [jack.id]) }
            #expect(try await f.auth.secondFactor(user: jack.id).isPending, "still pending after wrong codes")

            _ = try await f.auth.confirmTOTPEnrolment(user: jack.id, code: TOTPGenerator.code(secret: pending.secret))
            await expectError(.secondFactorEnabled) { _ = try await f.auth.beginTOTPEnrolment(user: jack.id) }
            await expectError(.noSecondFactor) { _ = try await f.auth.confirmTOTPEnrolment(user: jack.id, code: "123456") }
        }
    }

    @Test("each tenant has its own policy: optional by default; errors by SQLSTATE")
    func policy() async throws {
        try await AuthFixture.run { f in
            let acme = try await f.tenant("Acme"), globex = try await f.tenant("Globex")
            #expect(try await f.auth.secondFactorPolicy(tenant: acme) == .optional)
            try await f.auth.setSecondFactorPolicy(tenant: acme, .required)
            try await f.auth.setSecondFactorPolicy(tenant: acme, .required)  // again: no change, no event
            #expect(try await f.auth.secondFactorPolicy(tenant: acme) == .required)
            #expect(try await f.auth.secondFactorPolicy(tenant: globex) == .optional, "another tenant's is its own")
            #expect(try await f.sql("""
                SELECT count(*) FROM auth.audit_log WHERE action = 'tenant.update' AND tenant_id = $1
                  AND details -> 'new' ->> 'second_factor_policy' = 'required'
                """, [acme]).scalar(Int.self) == 1)

            await expectError(.unknownTenant) { try await f.auth.setSecondFactorPolicy(tenant: TenantID(UUID()), .required) }
            await expectError(.unknownTenant) { _ = try await f.auth.secondFactorPolicy(tenant: TenantID(UUID())) }
            await expectError(.invalidArgument) { try await f.call("SELECT auth.set_second_factor_policy($1, 'sometimes')", [acme]) }
            await expectError(.invalidArgument) { try await f.call("SELECT auth.set_second_factor_policy($1, NULL)", [acme]) }
            try await f.auth.softDeleteTenant(globex)
            await expectError(.unknownTenant) { _ = try await f.auth.secondFactorPolicy(tenant: globex) }
            #expect(try await f.auth.secondFactorPolicy(tenant: acme) == .required)
        }
    }

    @Test("the audit log records enrolment, confirmation, removal, recovery codes made and spent, never a secret")
    func audit() async throws {
        try await PasswordTests.run { f in
            let kate = try await Self.enrolled(f, "kate")
            _ = try await f.auth.verifySecondFactor(user: kate.id, code: TOTPGenerator.code(secret: kate.secret, steps: 1))
            _ = try await f.auth.verifySecondFactor(user: kate.id, code: kate.recoveryCodes[0])
            try await f.auth.disableTOTP(user: kate.id)
            let rows = try await f.sql("""
                SELECT action, details::text FROM auth.audit_log
                WHERE action LIKE 'user_totp.%' OR action LIKE 'user_recovery_code.%' ORDER BY audit_id
                """).rows.map { (try $0.decode(String.self, at: 0), try $0.decode(String.self, at: 1)) }
            // A code used is no event: the TOTP check wrote nothing.
            #expect(rows.map(\.0) == ["user_totp.insert", "user_totp.update"] + Array(repeating: "user_recovery_code.insert", count: 10)
                    + ["user_recovery_code.update", "user_totp.delete"])
            #expect(rows.allSatisfy { !$0.1.contains(kate.secret) && !$0.1.contains("\\x") }, "secrets and hashes redacted")
        }
    }

    @Test("second_factor_step: a code for an enabled authenticator, an enrolment where the tenant requires one, else none")
    func step() async throws {
        try await PasswordTests.run { f in
            let acme = try await f.tenant("Acme")
            let mona = try await PasswordTests.user(f, "mona")
            #expect(try await f.auth.secondFactorStep(tenant: acme, user: mona.id) == .none)
            try await f.auth.setSecondFactorPolicy(tenant: acme, .required)
            #expect(try await f.auth.secondFactorStep(tenant: acme, user: mona.id) == .enrolment)
            let pending = try await f.auth.beginTOTPEnrolment(user: mona.id)
            #expect(try await f.auth.secondFactorStep(tenant: acme, user: mona.id) == .enrolment, "pending is not enough")
            _ = try await f.auth.confirmTOTPEnrolment(user: mona.id, code: TOTPGenerator.code(secret: pending.secret))
            #expect(try await f.auth.secondFactorStep(tenant: acme, user: mona.id) == .code)
            try await f.auth.setSecondFactorPolicy(tenant: acme, .optional)
            #expect(try await f.auth.secondFactorStep(tenant: acme, user: mona.id) == .code, "an enabled one is always asked for")
            await expectError(.unknownTenant) { _ = try await f.auth.secondFactorStep(tenant: TenantID(UUID()), user: mona.id) }
            await expectError(.unknownUser) { _ = try await f.auth.secondFactorStep(tenant: acme, user: UserID(UUID())) }
        }
    }

    @Test("cancelling removes a pending enrolment, never an enabled authenticator")
    func cancel() async throws {
        try await PasswordTests.run { f in
            let nina = try await PasswordTests.user(f, "nina")
            #expect(try await f.auth.cancelTOTPEnrolment(user: nina.id) == false)
            _ = try await f.auth.beginTOTPEnrolment(user: nina.id)
            #expect(try await f.auth.cancelTOTPEnrolment(user: nina.id))
            #expect(try await f.auth.secondFactor(user: nina.id).isPending == false)
            let oscar = try await Self.enrolled(f, "oscar")
            #expect(try await f.auth.cancelTOTPEnrolment(user: oscar.id) == false)
            #expect(try await f.auth.secondFactor(user: oscar.id).isEnabled)
            await expectError(.unknownUser) { try await f.auth.cancelTOTPEnrolment(user: UserID(UUID())) }
        }
    }

    @Test("an enrolment begun while another confirms waits for it, then is refused: an enabled secret is never replaced")
    func beginRacingConfirm() async throws {
        try await PasswordTests.run { f in
            let paul = try await PasswordTests.user(f, "paul")
            let first = try await f.auth.beginTOTPEnrolment(user: paul.id)
            let other = try await f.database.connect()
            try await f.sql("BEGIN")
            _ = try await f.auth.confirmTOTPEnrolment(user: paul.id, code: TOTPGenerator.code(secret: first.secret))
            let racing = Task { try await AuthClient(other).beginTOTPEnrolment(user: paul.id) }
            try await Task.sleep(for: .milliseconds(300))  // the racer waits on the row lock
            try await f.sql("COMMIT")
            await expectError(.secondFactorEnabled) { _ = try await racing.value }
            #expect(try await f.auth.verifySecondFactor(user: paul.id, code: TOTPGenerator.code(secret: first.secret, steps: 1)),
                    "the confirmed secret still signs in")
            await other.close()
        }
    }

    @Test("the application role verifies codes and reads the policy; enrolling is the admin role's")
    func privileges() async throws {
        try await PasswordTests.run { f in
            let lena = try await Self.enrolled(f, "lena")
            let tenant = try await f.tenant()
            let app = try await f.login(memberOf: "auth_app")
            let appAuth = AuthClient(app.connection)
            #expect(try await appAuth.verifySecondFactor(user: lena.id, code: TOTPGenerator.code(secret: lena.secret, steps: 1)))
            #expect(try await appAuth.secondFactor(user: lena.id).isEnabled)
            #expect(try await appAuth.secondFactorPolicy(tenant: tenant) == .optional)
            await expectError(.insufficientPrivilege) { try await appAuth.disableTOTP(user: lena.id) }
            await expectError(.insufficientPrivilege) { _ = try await appAuth.beginTOTPEnrolment(user: lena.id) }
            await expectError(.insufficientPrivilege) { try await appAuth.setSecondFactorPolicy(tenant: tenant, .required) }
            await app.connection.close()

            for role in ["auth_app", "auth_admin"] {
                #expect(try await f.sql("""
                    SELECT has_column_privilege($1, 'auth.user_totp', 'secret_sealed', 'SELECT')
                        OR has_column_privilege($1, 'auth.user_recovery_code', 'code_hash', 'SELECT')
                    """, [role]).scalar(Bool.self) == false, "\(role)")
            }
            let admin = try await f.login(memberOf: "auth_admin")
            #expect(try await AuthClient(admin.connection).disableTOTP(user: lena.id))
            await admin.connection.close()
        }
    }
}
