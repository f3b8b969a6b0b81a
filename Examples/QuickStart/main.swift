// The README's Swift tour, complete and runnable on a fresh `make up` database:
//
//     swift run pgperm-example 'postgresql://pgperm_dba:...@127.0.0.1:PORT/pgperm'
//
// (the DBA URL `make up` prints; an application that only checks uses the pgperm_app one).
// Everything it creates has a unique suffix, so it can run again.
// snippet:setup
import Foundation
import Permissions
import PQ

let url = CommandLine.arguments.dropFirst().first ?? ProcessInfo.processInfo.environment["DATABASE_URL"] ?? ""
let pool = ConnectionPool(.init(conninfo: url, maximumConnections: 8))
let auth = AuthClient(pool)
// snippet:end

// snippet:catalogue
// The codes this application checks, created at boot if missing.
for (code, name) in [("users.create_user", "Create users"), ("users.view", "View users")] {
    do {
        _ = try await auth.createPermission(code: code, name: name)
    } catch let error as PermissionsError where error.code == .permissionExists {}
}
// snippet:end

// snippet:tour
let run = UUID().uuidString.prefix(8).lowercased()  // a suffix: the example can run again
let alice = try await auth.createUser(username: "alice-\(run)", email: "alice@example.com")
let acme = try await auth.createTenant(name: "Acme", code: "ACME-\(run)", owner: alice)
if try await auth.hasPermission(tenant: acme, user: alice, code: "users.create_user") {
    print("alice, the owner of Acme, may create users")
}

try await auth.setUserPassword(alice, password: "correct horse battery")
if let user = try await auth.verifyUserPassword(username: "ALICE-\(run)", password: "correct horse battery") {
    print("signed in as \(user)")  // usernames ignore case
}

// Several calls in one transaction, with an actor for the audit log.
let bob = try await auth.createUser(username: "bob-\(run)")
try await pool.withTransaction { connection in
    let auth = AuthClient(connection)
    try await auth.setActor(alice)
    try await auth.addUserToTenant(acme, user: bob)
    _ = try await auth.createPermSet(tenant: acme, code: "VIEWERS", name: "Viewers")
    try await auth.addPermSetPermissions(tenant: acme, permSet: "VIEWERS", codes: ["users.view"])
    let staff = try await auth.createUserGroup(tenant: acme, code: "STAFF", name: "Staff")
    try await auth.addUserToGroup(tenant: acme, group: staff, user: bob)
    _ = try await auth.assignPermission(tenant: acme, to: .group(staff), grant: .permSet("VIEWERS"))
}

// A hot loop: hold one connection, and every call runs without a thread switch.
let requests = [(bob, "users.view"), (bob, "users.create_user"), (alice, "users.view")]
try await pool.withConnection { connection in
    let auth = AuthClient(connection)
    for (user, code) in requests {
        let granted = try await auth.hasPermission(tenant: acme, user: user, code: code)
        print("\(user == bob ? "bob" : "alice") \(granted ? "may" : "may not") \(code)")
    }
}

// In-process checks, kept current by the schema's change events (LISTEN/NOTIFY).
let cache = PermissionCache(pool: pool)
let listening = Task { await cache.run() }  // a service runs it for its whole life
try await cache.barrier()                    // here: until it listens
if try await cache.hasPermission(tenant: acme, user: bob, code: "users.view") {
    print("bob may users.view (answered in-process)")
}
// This process's writes through an AuthClient given the cache are seen at once.
try await AuthClient(pool, cache: cache).deactivateUser(bob)
let stillGranted = try await cache.hasPermission(tenant: acme, user: bob, code: "users.view")
print("bob, deactivated, \(stillGranted ? "still may" : "may no longer") users.view")
listening.cancel()

do {
    _ = try await auth.createTenant(name: "Acme again", code: "ACME-\(run)")
} catch let error as PermissionsError where error.code == .tenantCodeTaken {
    // error.detail and error.hint carry the server's facts and advice.
    print("refused: \(error.message) (\(error.detail ?? ""))")
}
// snippet:end
await pool.close()
