import Foundation
import PQ

/// An invitation as `auth.list_invitations` lists it: never its token.
public struct Invitation: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable, PostgresDecodable {
        case pending, accepted, revoked, expired
    }

    public let id: InvitationID
    public let email: String
    public let permSetCode: String?
    public let groupID: UserGroupID?
    public let groupCode: String?
    public let status: Status
    public let expiresAt: Date
    public let createdAt: Date
    /// The actor of the transaction that made it, if one was set.
    public let invitedBy: UserID?
    public let acceptedAt: Date?
    public let acceptedUserID: UserID?
    public let revokedAt: Date?

    /// The page key of ``AuthClient/listInvitations(tenant:pageSize:after:)``.
    public var cursor: CreationCursor<InvitationID> { CreationCursor(createdAt: createdAt, id: id) }

    init(row: Row) throws {
        id = try row.decode(column: "invitation_id")
        email = try row.decode(column: "email")
        permSetCode = try row.decode(column: "perm_set_code")
        groupID = try row.decode(column: "user_group_id")
        groupCode = try row.decode(column: "user_group_code")
        status = try row.decode(column: "status")
        expiresAt = try row.decode(column: "expires_at")
        createdAt = try row.decode(column: "created_at")
        invitedBy = try row.decode(column: "invited_by")
        acceptedAt = try row.decode(column: "accepted_at")
        acceptedUserID = try row.decode(column: "accepted_user_id")
        revokedAt = try row.decode(column: "revoked_at")
    }
}

/// An invitation just made: the only time its token is seen.
public struct NewInvitation: Sendable, Hashable {
    public let id: InvitationID
    /// `pgpi_` and 64 hexadecimal characters, to send to the invited address.
    public let token: String
}

/// What accepting an invitation did.
public struct AcceptedInvitation: Sendable, Hashable {
    public let tenant: TenantID
    public let user: UserID
    /// Whether the account was created (else the one with the email was linked).
    public let created: Bool
}
