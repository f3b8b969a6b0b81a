import Foundation
import PQ

/// One change event of the channel `auth_access_changed` (sql/functions/notifications.sql).
enum AccessChange: Equatable, Sendable {
    /// These members' rows of `auth.effective_access` changed.
    case members(TenantID, [UserID])
    /// Rows of many members of the tenant changed.
    case tenant(TenantID)
    /// The catalogue changed.
    case catalogue
    /// Anything may have changed (a truncate, or a payload this version does not know).
    case all
    /// A marker sent by ``PermissionCache/barrier(timeout:)``: every change committed before
    /// it has been delivered.
    case barrier(String)

    /// The channel the schema notifies.
    static let channel = "auth_access_changed"

    private struct Payload: Decodable {
        var tenant_id: UUID?
        var user_ids: [UUID]?
        var catalogue: Bool?
        var all: Bool?
        var barrier: String?
    }

    /// Reads a payload; anything unexpected counts as `.all`, so nothing is ever kept by mistake.
    init(payload: String) {
        guard let fields = try? JSONDecoder().decode(Payload.self, from: Data(payload.utf8)) else {
            self = .all
            return
        }
        if let tenant = fields.tenant_id {
            self = fields.user_ids.map { .members(TenantID(tenant), $0.map(UserID.init)) } ?? .tenant(TenantID(tenant))
        } else if fields.catalogue == true {
            self = .catalogue
        } else if let token = fields.barrier {
            self = .barrier(token)
        } else {
            self = .all
        }
    }

    /// The payload of a barrier marker.
    static func barrierPayload(_ token: String) -> String { #"{"barrier": "\#(token)"}"# }
}
