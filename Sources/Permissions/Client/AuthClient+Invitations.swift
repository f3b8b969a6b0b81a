import Foundation
import PQ

extension AuthClient {
    /// Invites an email to a tenant with a permission set and/or a group (`auth.create_invitation`),
    /// replacing a pending invitation of the same address. The token is returned this once.
    ///
    /// - Throws: `.unknownTenant`, `.invalidArgument` (blank, or an expiry not in the future),
    ///   `.invalidEmail`, `.invalidAssignment` (neither set nor group), `.unknownPermSet`,
    ///   `.unknownUserGroup`.
    public func createInvitation(tenant: TenantID, email: String, expiresAt: Date, permSet: String? = nil,
                                 group: UserGroupID? = nil) async throws -> NewInvitation {
        let row = try await call("""
            SELECT invitation_id, token
            FROM auth.create_invitation(_tenant_id := $1, _email := $2, _expires_at := $3, _perm_set_code := $4,
                                        _user_group_id := $5)
            """, [tenant, email, expiresAt, permSet, group]).single()
        return NewInvitation(id: try row.decode(column: "invitation_id"), token: try row.decode(column: "token"))
    }

    /// Takes an invitation's token, once (`auth.accept_invitation`): links the account with the
    /// invited email or creates one, makes it a member with the invitation's set and group.
    ///
    /// - Parameter username: for a created account; default the email.
    /// - Throws: `.invalidInvitation` (unknown, expired, revoked or used: one code for all),
    ///   `.ambiguousEmail`, `.usernameTaken`.
    public func acceptInvitation(token: String, username: String? = nil, displayName: String? = nil) async throws
        -> AcceptedInvitation {
        let row = try await call("""
            SELECT tenant_id, user_id, created
            FROM auth.accept_invitation(_token := $1, _username := $2, _display_name := $3)
            """, [token, username, displayName]).single()
        return AcceptedInvitation(tenant: try row.decode(column: "tenant_id"), user: try row.decode(column: "user_id"),
                                  created: try row.decode(column: "created"))
    }

    /// Revokes a pending invitation (`auth.revoke_invitation`); again changes nothing.
    ///
    /// - Throws: `.unknownTenant`, `.invalidInvitation` (another tenant's too), `.invitationAccepted`.
    public func revokeInvitation(tenant: TenantID, invitation: InvitationID) async throws {
        try await call("SELECT auth.revoke_invitation(_tenant_id := $1, _invitation_id := $2)", [tenant, invitation])
    }

    /// A page of a tenant's invitations, oldest first, with their status (`auth.list_invitations`).
    ///
    /// - Parameters:
    ///   - pageSize: 1 to 500. Default 50.
    ///   - after: the ``Invitation/cursor`` of the last invitation of the previous page; `nil` for the first.
    /// - Throws: `.unknownTenant`, `.invalidPage`.
    public func listInvitations(tenant: TenantID, pageSize: Int = 50, after: CreationCursor<InvitationID>? = nil) async throws
        -> [Invitation] {
        try await call("""
            SELECT invitation_id, email, perm_set_code, user_group_id, user_group_code, status, expires_at, created_at,
                   invited_by, accepted_at, accepted_user_id, revoked_at
            FROM auth.list_invitations(_tenant_id := $1, _page_size := $2, _after_created_at := $3,
                                       _after_invitation_id := $4)
            """, [tenant, pageSize, after?.createdAt, after?.id]).map(Invitation.init(row:))
    }
}
