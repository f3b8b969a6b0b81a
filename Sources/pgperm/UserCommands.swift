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
        subcommands: [Unlock.self])

    struct Unlock: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Lift the lock that failed logins put on a user (auth.unlock_user); the password stays.")
        @OptionGroup var connection: ConnectionOptions
        @Argument(help: "Username (any case) or user id.") var user: String

        func run() async throws {
            let database = try await connection.connect()
            defer { Task { await database.close() } }
            let rows = try await database.query("""
                SELECT user_id, username FROM auth.user_info
                 WHERE lower(username) = lower($1) OR user_id::text = lower($1)
                """, [user])
            guard let row = rows.rows.first else {
                throw ValidationError("no user has username or id '\(user)'")
            }
            let id = try row.decode(UserID.self, at: 0)
            let username = try row.decode(String.self, at: 1)
            let wasLocked = try await AuthClient(database).unlockUser(id)
            print(wasLocked ? "User \(username) is unlocked." : "User \(username) was not locked.")
        }
    }
}
