import ArgumentParser
import Foundation
import Permissions
import PQ

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user",
        abstract: "Manage the users of a database with the auth schema.",
        discussion: """
            Connects with --database-url like `pgperm install`. For a tenant of the platform, pass the \
            connection string that `pgperm tenant credentials SLUG` shows.
            """,
        subcommands: [Unlock.self, ResetSecondFactor.self])

    struct Unlock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lift the lock that failed logins put on a user (auth.unlock_user); the password stays.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Username (any case) or user id.") var user: String

        func run() async throws {
            try await UserCommand.withUser(user, connection) { auth, id, username in
                let wasLocked = try await auth.unlockUser(id)
                print(wasLocked ? "User \(username) is unlocked." : "User \(username) was not locked.")
            }
        }
    }

    struct ResetSecondFactor: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a user's authenticator and recovery codes (auth.disable_totp), for one who lost both.",
            discussion: "The user signs in with the password alone again, or enrols anew where the tenant requires a second factor.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Username (any case) or user id.") var user: String

        func run() async throws {
            try await UserCommand.withUser(user, connection) { auth, id, username in
                let removed = try await auth.disableTOTP(user: id)
                print(removed ? "User \(username)'s second factor is removed." : "User \(username) had no second factor.")
            }
        }
    }

    /// Runs `body` with the user named by username (any case) or id; a clear error for none.
    static func withUser(_ reference: String, _ connection: ConnectionOptions,
                         _ body: (AuthClient, UserID, String) async throws -> Void) async throws {
        let database = try await connection.connect()
        defer { Task { await database.close() } }
        let rows = try await database.query("""
            SELECT user_id, username FROM auth.user_info
             WHERE lower(username) = lower($1) OR user_id::text = lower($1)
            """, [reference])
        guard let row = rows.rows.first else {
            throw ValidationError("no user has username or id '\(reference)'")
        }
        try await body(AuthClient(database), try row.decode(UserID.self, at: 0), try row.decode(String.self, at: 1))
    }
}
