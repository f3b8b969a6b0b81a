import Foundation
import Permissions
import PostgresTestSupport
import PQ
import Testing

@Suite("Passwords")
struct PasswordTests {
    static let password = "correct horse battery"

    /// An ``AuthFixture`` hashing at bcrypt's lowest cost: these tests are about behaviour,
    /// not strength (one test checks the default cost).
    static func run(_ body: (AuthFixture) async throws -> Void) async throws {
        try await AuthFixture.run { f in
            try await f.sql("SET auth.bcrypt_cost = 4")
            try await body(f)
        }
    }

    /// A new user with a unique username and, unless `nil`, a password.
    static func user(_ f: AuthFixture, _ name: String = "user", password: String? = PasswordTests.password)
        async throws -> (id: UserID, username: String) {
        let username = "\(name)-\(UUID().uuidString.prefix(8).lowercased())"
        let id = try await f.auth.createUser(username: username)
        if let password { try await f.auth.setUserPassword(id, password: password) }
        return (id, username)
    }

    /// The counters of a user's password row, `nil` when there is none.
    struct Login: Equatable {
        var failedAttempts: Int
        var hasFirstFailure: Bool
        var isLocked: Bool
    }

    static func login(_ f: AuthFixture, _ user: UserID) async throws -> Login? {
        let rows = try await f.sql("""
            SELECT failed_attempts, first_failed_at IS NOT NULL, coalesce(locked_until > clock_timestamp(), false)
            FROM auth.user_password WHERE user_id = $1
            """, [user])
        guard let row = rows.rows.first else { return nil }
        return Login(failedAttempts: try row.decode(at: 0), hasFirstFailure: try row.decode(at: 1), isLocked: try row.decode(at: 2))
    }

    static func hash(_ f: AuthFixture, _ user: UserID) async throws -> String {
        try await f.sql("SELECT password_hash FROM auth.user_password WHERE user_id = $1", [user]).scalar(String.self)
    }

    /// Sets the lockout settings of the fixture's session.
    static func limits(_ f: AuthFixture, failures: Int, window: String = "1 hour") async throws {
        try await f.sql("SET auth.max_failed_logins = \(failures)")
        try await f.sql("SET auth.lockout_window = '\(window)'")
    }

    // MARK: set_user_password / verify_user_password

    @Test("a user logs in with the password set; a wrong one gets nil")
    func happyPath() async throws {
        try await Self.run { f in
            let alice = try await Self.user(f, "alice")
            #expect(try await f.auth.verifyUserPassword(username: alice.username, password: Self.password) == alice.id)
            #expect(try await f.auth.verifyUserPassword(username: alice.username, password: "wrong horse battery") == nil)
            #expect(try await f.auth.verifyUserPassword(username: alice.username, password: Self.password + " ") == nil)
            #expect(try await Self.login(f, alice.id) == Login(failedAttempts: 2, hasFirstFailure: true, isLocked: false))
            #expect(try await f.auth.verifyUserPassword(username: alice.username, password: Self.password) == alice.id)
        }
    }

    @Test("set_user_password replaces the password: the old one no longer works")
    func replace() async throws {
        try await Self.run { f in
            let bob = try await Self.user(f, "bob")
            try await f.auth.setUserPassword(bob.id, password: "another password")
            #expect(try await f.auth.verifyUserPassword(username: bob.username, password: Self.password) == nil)
            #expect(try await f.auth.verifyUserPassword(username: bob.username, password: "another password") == bob.id)
            #expect(try await f.sql("SELECT count(*) FROM auth.user_password").scalar(Int.self) == 1)
        }
    }

    @Test("the username is compared ignoring case")
    func caseInsensitiveUsername() async throws {
        try await Self.run { f in
            let id = try await f.auth.createUser(username: "Carol.Smith")
            try await f.auth.setUserPassword(id, password: Self.password)
            for username in ["Carol.Smith", "carol.smith", "CAROL.SMITH", "cArOl.sMiTh"] {
                #expect(try await f.auth.verifyUserPassword(username: username, password: Self.password) == id, "\(username)")
            }
            // The password, unlike the username, is case-sensitive.
            #expect(try await f.auth.verifyUserPassword(username: "carol.smith", password: Self.password.uppercased()) == nil)
        }
    }

    @Test("an unknown user, a user without a password and empty input get nil, never an error")
    func nilWithoutError() async throws {
        try await Self.run { f in
            let dave = try await Self.user(f, "dave", password: nil)
            let erin = try await Self.user(f, "erin")
            #expect(try await f.auth.verifyUserPassword(username: "nobody-at-all", password: Self.password) == nil)
            #expect(try await f.auth.verifyUserPassword(username: dave.username, password: Self.password) == nil)
            #expect(try await f.auth.verifyUserPassword(username: "", password: Self.password) == nil)
            #expect(try await f.auth.verifyUserPassword(username: erin.username, password: "") == nil)
            // Nothing was counted: empty input is no guess, and dave has no row to count in.
            #expect(try await Self.login(f, dave.id) == nil)
            #expect(try await Self.login(f, erin.id)?.failedAttempts == 0)
        }
    }

    @Test("an inactive user gets nil with the right password, and logs in again once reactivated")
    func inactiveUser() async throws {
        try await Self.run { f in
            let frank = try await Self.user(f, "frank")
            try await f.auth.deactivateUser(frank.id)
            #expect(try await f.auth.verifyUserPassword(username: frank.username, password: Self.password) == nil)
            try await f.auth.activateUser(frank.id)
            #expect(try await f.auth.verifyUserPassword(username: frank.username, password: Self.password) == frank.id)
        }
    }

    // MARK: errors

    @Test("set_user_password refuses a blank, short or over-long password and stores nothing")
    func refusedPasswords() async throws {
        try await Self.run { f in
            let grace = try await Self.user(f, "grace", password: nil)
            let auditBefore = try await f.sql("SELECT count(*) FROM auth.audit_log").scalar(Int.self)
            await expectError(.invalidArgument) { try await f.auth.setUserPassword(grace.id, password: "") }
            await expectError(.invalidArgument) { try await f.auth.setUserPassword(grace.id, password: "          ") }
            await expectError(.invalidPassword) { try await f.auth.setUserPassword(grace.id, password: "1234567") }
            await expectError(.invalidPassword) { try await f.auth.setUserPassword(grace.id, password: String(repeating: "x", count: 73)) }
            // 37 characters, 74 bytes: the limit is bcrypt's, in bytes.
            await expectError(.invalidPassword) { try await f.auth.setUserPassword(grace.id, password: String(repeating: "é", count: 37)) }
            #expect(try await Self.login(f, grace.id) == nil)
            #expect(try await f.sql("SELECT count(*) FROM auth.audit_log").scalar(Int.self) == auditBefore)

            // The DETAIL gives lengths, never the password.
            do {
                try await f.auth.setUserPassword(grace.id, password: "s3cr3t!")
                Issue.record("expected invalidPassword")
            } catch let error as PermissionsError {
                #expect(error.code == .invalidPassword)
                #expect(!error.description.contains("s3cr3t!"), "\(error)")
                #expect(error.detail?.contains("7 characters") == true, "\(error)")
            }
        }
    }

    @Test("bcrypt's 72 bytes are accepted, and a longer guess never matches them")
    func seventyTwoBytes() async throws {
        try await Self.run { f in
            let heidi = try await Self.user(f, "heidi", password: nil)
            let longest = String(repeating: "ab", count: 36)
            try await f.auth.setUserPassword(heidi.id, password: longest)
            #expect(try await f.auth.verifyUserPassword(username: heidi.username, password: longest) == heidi.id)
            // bcrypt alone would ignore the 73rd byte and accept this.
            #expect(try await f.auth.verifyUserPassword(username: heidi.username, password: longest + "!") == nil)
            #expect(try await Self.login(f, heidi.id)?.failedAttempts == 1)
        }
    }

    @Test("set_user_password of an unknown user fails with unknownUser and leaves nothing behind")
    func unknownUser() async throws {
        try await Self.run { f in
            let auditBefore = try await f.sql("SELECT count(*) FROM auth.audit_log").scalar(Int.self)
            await expectError(.unknownUser) { try await f.auth.setUserPassword(UserID(UUID()), password: Self.password) }
            #expect(try await f.sql("SELECT count(*) FROM auth.user_password").scalar(Int.self) == 0)
            #expect(try await f.sql("SELECT count(*) FROM auth.audit_log").scalar(Int.self) == auditBefore)
        }
    }

    @Test("malformed settings fail with invalidSetting; RESET restores the defaults")
    func malformedSettings() async throws {
        try await Self.run { f in
            let ivan = try await Self.user(f, "ivan")
            for (name, value) in [("auth.max_failed_logins", "many"), ("auth.max_failed_logins", "0"),
                                  ("auth.max_failed_logins", "-3"), ("auth.max_failed_logins", "99999999999"),
                                  ("auth.lockout_window", "soon"), ("auth.lockout_window", "0"),
                                  ("auth.lockout_window", "-5 minutes")] {
                try await f.sql("SET \(name) = '\(value)'")
                await expectError(.invalidSetting) { _ = try await f.auth.verifyUserPassword(username: ivan.username, password: Self.password) }
                try await f.sql("RESET \(name)")
            }
            for value in ["3", "32", "ten"] {
                try await f.sql("SET auth.bcrypt_cost = '\(value)'")
                await expectError(.invalidSetting) { try await f.auth.setUserPassword(ivan.id, password: "a new password") }
            }
            try await f.sql("SET auth.bcrypt_cost = 4")
            #expect(try await f.auth.verifyUserPassword(username: ivan.username, password: Self.password) == ivan.id)
            #expect(try await Self.login(f, ivan.id)?.failedAttempts == 0)
        }
    }

    // MARK: lockout

    @Test("max_failed_logins wrong passwords lock the account for the window, even against the right one")
    func lockout() async throws {
        try await Self.run { f in
            try await Self.limits(f, failures: 3, window: "1 hour")
            let judy = try await Self.user(f, "judy")
            for attempt in 1...2 {
                #expect(try await f.auth.verifyUserPassword(username: judy.username, password: "guess \(attempt)") == nil)
            }
            #expect(try await Self.login(f, judy.id) == Login(failedAttempts: 2, hasFirstFailure: true, isLocked: false))
            #expect(try await f.auth.verifyUserPassword(username: judy.username.uppercased(), password: "guess 3") == nil)
            #expect(try await Self.login(f, judy.id) == Login(failedAttempts: 3, hasFirstFailure: true, isLocked: true))
            // The lock lasts one window.
            #expect(try await f.sql("""
                SELECT locked_until - clock_timestamp() BETWEEN interval '59 minutes' AND interval '1 hour'
                FROM auth.user_password WHERE user_id = $1
                """, [judy.id]).scalar(Bool.self))

            #expect(try await f.auth.verifyUserPassword(username: judy.username, password: Self.password) == nil)
            // Attempts while locked neither count nor extend the lock.
            let lockedUntil = try await f.sql("SELECT locked_until::text FROM auth.user_password WHERE user_id = $1", [judy.id]).scalar(String.self)
            #expect(try await f.auth.verifyUserPassword(username: judy.username, password: "guess 4") == nil)
            #expect(try await f.sql("SELECT locked_until::text FROM auth.user_password WHERE user_id = $1", [judy.id]).scalar(String.self) == lockedUntil)
            #expect(try await Self.login(f, judy.id)?.failedAttempts == 3)

            // The window passes (moved back rather than waited for): the right password works and resets the count.
            try await f.sql("""
                UPDATE auth.user_password SET locked_until = clock_timestamp() - interval '1 second',
                       first_failed_at = first_failed_at - interval '1 hour' WHERE user_id = $1
                """, [judy.id])
            #expect(try await f.auth.verifyUserPassword(username: judy.username, password: Self.password) == judy.id)
            #expect(try await Self.login(f, judy.id) == Login(failedAttempts: 0, hasFirstFailure: false, isLocked: false))
        }
    }

    @Test("with a one-second window the lock ends by itself")
    func shortWindow() async throws {
        try await Self.run { f in
            try await Self.limits(f, failures: 2, window: "1 second")
            let ken = try await Self.user(f, "ken")
            _ = try await f.auth.verifyUserPassword(username: ken.username, password: "guess 1")
            _ = try await f.auth.verifyUserPassword(username: ken.username, password: "guess 2")
            #expect(try await f.sql("SELECT locked_until IS NOT NULL FROM auth.user_password WHERE user_id = $1", [ken.id]).scalar(Bool.self))
            try await Task.sleep(for: .milliseconds(1100))
            #expect(try await f.auth.verifyUserPassword(username: ken.username, password: Self.password) == ken.id)
        }
    }

    @Test("failures older than the window do not add up; a new window starts")
    func windowExpires() async throws {
        try await Self.run { f in
            try await Self.limits(f, failures: 3, window: "1 hour")
            let leo = try await Self.user(f, "leo")
            _ = try await f.auth.verifyUserPassword(username: leo.username, password: "guess 1")
            _ = try await f.auth.verifyUserPassword(username: leo.username, password: "guess 2")
            try await f.sql("UPDATE auth.user_password SET first_failed_at = first_failed_at - interval '2 hours' WHERE user_id = $1", [leo.id])
            _ = try await f.auth.verifyUserPassword(username: leo.username, password: "guess 3")
            #expect(try await Self.login(f, leo.id) == Login(failedAttempts: 1, hasFirstFailure: true, isLocked: false))
            #expect(try await f.auth.verifyUserPassword(username: leo.username, password: Self.password) == leo.id)
        }
    }

    @Test("a right password resets the count, so earlier failures do not lead to a lock")
    func successResets() async throws {
        try await Self.run { f in
            try await Self.limits(f, failures: 3)
            let mia = try await Self.user(f, "mia")
            _ = try await f.auth.verifyUserPassword(username: mia.username, password: "guess 1")
            _ = try await f.auth.verifyUserPassword(username: mia.username, password: "guess 2")
            #expect(try await f.auth.verifyUserPassword(username: mia.username, password: Self.password) == mia.id)
            #expect(try await Self.login(f, mia.id) == Login(failedAttempts: 0, hasFirstFailure: false, isLocked: false))
            _ = try await f.auth.verifyUserPassword(username: mia.username, password: "guess 3")
            _ = try await f.auth.verifyUserPassword(username: mia.username, password: "guess 4")
            #expect(try await f.auth.verifyUserPassword(username: mia.username, password: Self.password) == mia.id)
        }
    }

    @Test("a new password lifts a lock")
    func newPasswordUnlocks() async throws {
        try await Self.run { f in
            try await Self.limits(f, failures: 1)
            let nina = try await Self.user(f, "nina")
            _ = try await f.auth.verifyUserPassword(username: nina.username, password: "guess 1")
            #expect(try await Self.login(f, nina.id)?.isLocked == true)
            try await f.auth.setUserPassword(nina.id, password: "a fresh start")
            #expect(try await Self.login(f, nina.id) == Login(failedAttempts: 0, hasFirstFailure: false, isLocked: false))
            #expect(try await f.auth.verifyUserPassword(username: nina.username, password: "a fresh start") == nina.id)
        }
    }

    // MARK: unlock_user

    @Test("unlock_user lifts a lock and forgets the failures: the right password works at once")
    func unlock() async throws {
        try await Self.run { f in
            try await Self.limits(f, failures: 2)
            let kim = try await Self.user(f, "kim")
            for attempt in 1...2 {
                _ = try await f.auth.verifyUserPassword(username: kim.username, password: "guess \(attempt)")
            }
            #expect(try await Self.login(f, kim.id)?.isLocked == true)
            let hash = try await Self.hash(f, kim.id)

            #expect(try await f.auth.unlockUser(kim.id))
            #expect(try await Self.login(f, kim.id) == Login(failedAttempts: 0, hasFirstFailure: false, isLocked: false))
            #expect(try await Self.hash(f, kim.id) == hash)
            #expect(try await f.auth.verifyUserPassword(username: kim.username, password: Self.password) == kim.id)
            // The lifted lock is an event, with the hash redacted.
            let entry = try #require(try await f.auth.auditLog(tenant: nil).first { $0.action == "user_password.update" })
            #expect(entry.details.contains("redacted"))
            #expect(!entry.details.contains(hash))
        }
    }

    @Test("unlock_user of an unlocked user returns false: with failures counted (forgotten), without any, without a password")
    func unlockUnlocked() async throws {
        try await Self.run { f in
            try await Self.limits(f, failures: 5)
            let lee = try await Self.user(f, "lee")
            _ = try await f.auth.verifyUserPassword(username: lee.username, password: "guess")
            #expect(try await Self.login(f, lee.id)?.failedAttempts == 1)
            #expect(try await !f.auth.unlockUser(lee.id))
            #expect(try await Self.login(f, lee.id) == Login(failedAttempts: 0, hasFirstFailure: false, isLocked: false))
            #expect(try await !f.auth.unlockUser(lee.id))

            let noPassword = try await Self.user(f, "nopass", password: nil)
            #expect(try await !f.auth.unlockUser(noPassword.id))
            #expect(try await Self.login(f, noPassword.id) == nil)
        }
    }

    @Test("unlock_user of an unknown user fails with unknownUser; the application role may not call it")
    func unlockRefusals() async throws {
        try await Self.run { f in
            await expectError(.unknownUser) { try await f.auth.unlockUser(UserID(UUID())) }
            let mo = try await Self.user(f, "mo")
            let (_, app) = try await f.login(memberOf: "auth_app")
            defer { Task { await app.close() } }
            await expectError(.insufficientPrivilege) { try await AuthClient(app).unlockUser(mo.id) }
        }
    }

    @Test("a DBA sets the limits for a database with ALTER DATABASE")
    func databaseSettings() async throws {
        try await Self.run { f in
            let oscar = try await Self.user(f, "oscar")
            let name = try await f.sql("SELECT current_database()").scalar(String.self)
            try await f.sql("ALTER DATABASE \"\(name)\" SET auth.max_failed_logins = 2")
            let connection = try await f.database.connect()
            defer { Task { await connection.close() } }
            let other = AuthClient(connection)
            _ = try await other.verifyUserPassword(username: oscar.username, password: "guess 1")
            #expect(try await Self.login(f, oscar.id)?.isLocked == false)
            _ = try await other.verifyUserPassword(username: oscar.username, password: "guess 2")
            #expect(try await Self.login(f, oscar.id)?.isLocked == true)
        }
    }

    @Test("wrong guesses from two sessions at once both count: the second waits for the first's row lock")
    func concurrentGuesses() async throws {
        try await Self.run { f in
            let pat = try await Self.user(f, "pat")
            let first = try await f.database.connect()
            let second = try await f.database.connect()
            defer { Task { await first.close(); await second.close() } }
            let secondPID = try await second.query("SELECT pg_backend_pid()").scalar(Int.self)

            try await first.query("BEGIN")
            #expect(try await AuthClient(first).verifyUserPassword(username: pat.username, password: "guess 1") == nil)
            async let secondGuess = AuthClient(second).verifyUserPassword(username: pat.username, password: "guess 2")
            var waiting = false
            for _ in 0..<500 where !waiting {
                waiting = try await f.sql("SELECT coalesce(bool_or(wait_event_type = 'Lock'), false) FROM pg_stat_activity WHERE pid = $1",
                                          [secondPID]).scalar(Bool.self)
                if !waiting { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(waiting, "the second session should wait for the row lock")
            try await first.query("COMMIT")
            #expect(try await secondGuess == nil)
            #expect(try await Self.login(f, pat.id)?.failedAttempts == 2)
        }
    }

    @Test("a burst of wrong guesses over two sessions counts every one")
    func concurrentBurst() async throws {
        try await Self.run { f in
            let quinn = try await Self.user(f, "quinn")
            let connections = [try await f.database.connect(), try await f.database.connect()]
            defer { Task { for connection in connections { await connection.close() } } }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, connection) in connections.enumerated() {
                    group.addTask {
                        try await connection.query("SET auth.max_failed_logins = 100")
                        for attempt in 1...5 {
                            _ = try await AuthClient(connection).verifyUserPassword(username: quinn.username,
                                                                                   password: "guess \(index)-\(attempt)")
                        }
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await Self.login(f, quinn.id)?.failedAttempts == 10)
        }
    }

    @Test("a bcrypt runs for unknown users, users without a password and locked users alike")
    func constantWork() async throws {
        try await Self.run { f in
            try await Self.limits(f, failures: 1)
            let rita = try await Self.user(f, "rita", password: nil)
            let sam = try await Self.user(f, "sam")
            _ = try await f.auth.verifyUserPassword(username: sam.username, password: "guess 1")
            #expect(try await Self.login(f, sam.id)?.isLocked == true)
            try await f.sql("SET track_functions = 'pl'")
            for username in ["nobody-at-all", rita.username, sam.username] {
                // The view may still hold earlier transactions' counts not yet flushed: take the difference.
                let bcrypts = try await f.connection.withTransaction { connection in
                    let calls = """
                        SELECT coalesce(sum(calls), 0)::int FROM pg_stat_xact_user_functions
                        WHERE schemaname = 'auth' AND funcname IN ('bcrypt_hash', 'bcrypt_matches')
                        """
                    let before = try await connection.query(calls).scalar(Int.self)
                    _ = try await AuthClient(connection).verifyUserPassword(username: username, password: Self.password)
                    return try await connection.query(calls).scalar(Int.self) - before
                }
                #expect(bcrypts == 1, "\(username)")
            }
        }
    }

    // MARK: pgcrypto

    @Test("pgcrypto installed beforehand in another schema is used there, and still after it moves")
    func pgcryptoElsewhere() async throws {
        try await withTestConnection(.empty) { connection in
            try await connection.execute(script: "CREATE SCHEMA crypto; CREATE EXTENSION pgcrypto SCHEMA crypto;")
            try await SchemaInstaller(manifest: try .auth()).install(on: connection)
            let auth = AuthClient(connection)
            try await connection.query("SET auth.bcrypt_cost = 4")
            let user = try await auth.createUser(username: "yara")
            try await auth.setUserPassword(user, password: Self.password)
            #expect(try await auth.verifyUserPassword(username: "yara", password: Self.password) == user)

            try await connection.execute(script: "CREATE SCHEMA vault; ALTER EXTENSION pgcrypto SET SCHEMA vault;")
            #expect(try await auth.verifyUserPassword(username: "yara", password: Self.password) == user)
            try await auth.setUserPassword(user, password: "moved along")
            #expect(try await auth.verifyUserPassword(username: "YARA", password: "moved along") == user)
        }
    }

    @Test("look-alikes of crypt and gen_salt planted before pg_catalog on the caller's search_path are never used")
    func plantedPgcrypto() async throws {
        try await Self.run { f in
            let zed = try await Self.user(f, "zed")
            try await f.connection.execute(script: """
                CREATE SCHEMA evil;
                CREATE FUNCTION evil.crypt(text, text) RETURNS text LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'planted object used' USING ERRCODE = 'XX666'; END $$;
                CREATE FUNCTION evil.gen_salt(text, integer) RETURNS text LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'planted object used' USING ERRCODE = 'XX666'; END $$;
                GRANT USAGE ON SCHEMA evil TO PUBLIC;
                """)
            let connection = try await f.database.connect()
            defer { Task { await connection.close() } }
            try await connection.query("SET search_path = evil, pg_catalog, public")
            try await connection.query("SET auth.bcrypt_cost = 4")
            let auth = AuthClient(connection)
            try await auth.setUserPassword(zed.id, password: "planted nothing")
            #expect(try await auth.verifyUserPassword(username: zed.username, password: "planted nothing") == zed.id)
            #expect(try await auth.verifyUserPassword(username: "nobody-at-all", password: "planted nothing") == nil)
        }
    }

    // MARK: storage, audit and roles

    @Test("hashes are bcrypt at the configured cost (10 by default), salted per user")
    func hashFormat() async throws {
        try await AuthFixture.run { f in
            let (tom, _) = try await Self.user(f, "tom")
            #expect(try await Self.hash(f, tom).wholeMatch(of: /\$2[ab]\$10\$[.\/A-Za-z0-9]{53}/) != nil)
            try await f.sql("SET auth.bcrypt_cost = 4")
            let (uma, _) = try await Self.user(f, "uma")
            let (vic, _) = try await Self.user(f, "vic")
            #expect(try await Self.hash(f, uma).wholeMatch(of: /\$2[ab]\$04\$[.\/A-Za-z0-9]{53}/) != nil)
            #expect(try await Self.hash(f, uma) != Self.hash(f, vic))
        }
    }

    @Test("the audit log records new passwords, locks and deletes with the hash redacted, and no single failure")
    func audit() async throws {
        try await Self.run { f in
            try await Self.limits(f, failures: 2)
            let walt = try await Self.user(f, "walt")
            let firstHash = try await Self.hash(f, walt.id)
            try await f.auth.setUserPassword(walt.id, password: "second password")
            let secondHash = try await Self.hash(f, walt.id)
            _ = try await f.auth.verifyUserPassword(username: walt.username, password: "guess 1")
            _ = try await f.auth.verifyUserPassword(username: walt.username, password: "guess 2")
            let query = """
                SELECT action FROM auth.audit_log
                WHERE action LIKE 'user_password.%' AND coalesce(details -> 'new', details -> 'old') ->> 'user_id' = ($1::uuid)::text
                ORDER BY audit_id
                """
            // insert, new password, lock: the first failure alone is not an event.
            #expect(try await f.sql(query, [walt.id]).rows.map { try $0.decode(String.self, at: 0) }
                    == ["user_password.insert", "user_password.update", "user_password.update"])
            try await f.sql("DELETE FROM auth.user_info WHERE user_id = $1", [walt.id])
            #expect(try await f.sql(query, [walt.id]).rows.map { try $0.decode(String.self, at: 0) }.last == "user_password.delete")

            let leaks = try await f.sql("""
                SELECT count(*) FROM auth.audit_log
                WHERE details::text LIKE '%' || $1 || '%' OR details::text LIKE '%' || $2 || '%' OR details::text LIKE '%$2_$%'
                """, [firstHash, secondHash]).scalar(Int.self)
            #expect(leaks == 0)
            let redacted = try await f.sql("""
                SELECT bool_and(coalesce(details -> 'new', details -> 'old') ->> 'password_hash' = 'redacted')
                FROM auth.audit_log WHERE action LIKE 'user_password.%'
                """).scalar(Bool.self)
            #expect(redacted)
        }
    }

    @Test("the application role logs users in but cannot read hashes or set passwords; admins set them")
    func roles() async throws {
        try await Self.run { f in
            let xena = try await Self.user(f, "xena")
            let (_, appConnection) = try await f.login(memberOf: "auth_app")
            let (_, adminConnection) = try await f.login(memberOf: "auth_admin")
            defer { Task { await appConnection.close(); await adminConnection.close() } }
            let app = AuthClient(appConnection)
            let admin = AuthClient(adminConnection)

            #expect(try await app.verifyUserPassword(username: xena.username, password: Self.password) == xena.id)
            _ = try await app.verifyUserPassword(username: xena.username, password: "guess 1")
            #expect(try await Self.login(f, xena.id)?.failedAttempts == 1)
            await expectError(.insufficientPrivilege) { try await app.setUserPassword(xena.id, password: "taken over!") }
            for statement in ["SELECT * FROM auth.user_password", "SELECT password_hash FROM auth.user_password",
                              "SELECT auth.bcrypt_matches('x', 'y')", "SELECT auth.bcrypt_hash('x')"] {
                await PrivilegeTests.expectState(.insufficientPrivilege) { try await appConnection.query(statement) }
            }

            try await adminConnection.query("SET auth.bcrypt_cost = 4")
            try await admin.setUserPassword(xena.id, password: "set by an admin")
            #expect(try await app.verifyUserPassword(username: xena.username, password: "set by an admin") == xena.id)
            #expect(try await adminConnection.query("SELECT failed_attempts FROM auth.user_password WHERE user_id = $1", [xena.id])
                .scalar(Int.self) == 0)
            for statement in ["SELECT * FROM auth.user_password", "SELECT password_hash FROM auth.user_password",
                              "UPDATE auth.user_password SET locked_until = NULL",
                              "DELETE FROM auth.user_password"] {
                await PrivilegeTests.expectState(.insufficientPrivilege) { try await adminConnection.query(statement) }
            }
        }
    }
}
