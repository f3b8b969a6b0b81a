import Foundation

/// Who is acting, for the platform audit log: the signed-in admin (portal) or the person at
/// the command line (`--actor`, else the OS user).
///
/// It is a task-local value rather than a parameter of every operation: the portal sets it
/// once per request, after authentication (`AuditActor.$current.withValue(...)`), so no
/// route can forget it, and the CLI sets it once per command. ``MasterChange/audit(_:tenant:details:)``
/// writes it into every row.
public struct AuditActor: Sendable, Equatable, CustomStringConvertible {
    /// The admin user, when one acts through the portal.
    public let adminUserID: AdminUserID?
    /// The admin's email, or the operator's name.
    public let name: String

    public static func admin(_ id: AdminUserID, email: String) -> AuditActor {
        AuditActor(adminUserID: id, name: email)
    }

    /// Someone at the command line: `name` if given (`--actor`), else the OS user.
    public static func commandLine(_ name: String?) -> AuditActor {
        let user = ProcessInfo.processInfo.environment["USER"] ?? ProcessInfo.processInfo.environment["LOGNAME"] ?? "unknown"
        return AuditActor(adminUserID: nil, name: name ?? "os:\(user)")
    }

    public var description: String { name }

    /// The actor of the current task; nil (the database role is recorded) outside any.
    @TaskLocal public static var current: AuditActor?
}
