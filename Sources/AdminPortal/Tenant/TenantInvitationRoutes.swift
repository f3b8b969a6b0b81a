import Foundation
import Hummingbird
import Permissions
import TenantPlatform

/// `/t/{slug}/api/invitations`: a tenant's administrators invite an email with a permission set
/// and/or a group; the invited person accepts with the token (sent to them by the
/// application) at `POST /invitations/accept`, without a session.
///
/// Inviting makes a member (`users.create_user`) and gives rights: with a set it also needs
/// `permissions.assign`, with a group `groups.manage`, so nobody invites into more than they
/// could give themselves.
struct TenantInvitationRoutes {
    let work: TenantWork
    let connections: TenantConnectionManager

    /// The invitation lasts 7 days unless `expires_at` says otherwise.
    struct NewInvitation: Decodable {
        let email: String
        let expiresAt: Date?
        let permSetCode: String?
        let userGroupId: UserGroupID?
    }

    struct Acceptance: Decodable {
        let token: String
        /// For an account created by the acceptance: its username (default the email), and a
        /// password to sign in with. An existing account keeps its own password.
        let username: String?
        let displayName: String?
        let password: String?
    }

    struct InvitationView: ResponseEncodable, Sendable {
        let invitationId: APIID
        let email: String
        let permSetCode: String?
        let userGroupId: APIID?
        let userGroupCode: String?
        let status: String
        let expiresAt: Date
        let createdAt: Date
        let invitedBy: APIID?
        let acceptedAt: Date?
        let acceptedUserId: APIID?
        let revokedAt: Date?

        init(_ invitation: Invitation) {
            invitationId = APIID(invitation.id)
            email = invitation.email
            permSetCode = invitation.permSetCode
            userGroupId = invitation.groupID.map(APIID.init)
            userGroupCode = invitation.groupCode
            status = invitation.status.rawValue
            expiresAt = invitation.expiresAt
            createdAt = invitation.createdAt
            invitedBy = invitation.invitedBy.map(APIID.init)
            acceptedAt = invitation.acceptedAt
            acceptedUserId = invitation.acceptedUserID.map(APIID.init)
            revokedAt = invitation.revokedAt
        }

        var cursorKey: String { PageRequest.key(createdAt: createdAt, id: invitationId.text) }
    }

    /// The only answer that holds the token.
    struct CreatedView: ResponseEncodable {
        let invitationId: APIID
        let token: String
        let expiresAt: Date
    }

    struct AcceptedView: ResponseEncodable {
        let userId: APIID
        /// Whether an account was created; else the one with the invited email was linked.
        let created: Bool
    }

    static let defaultLifetime: TimeInterval = 7 * 86_400

    func register(open: RouterGroup<PortalContext>, signedIn: RouterGroup<PortalContext>) {
        signedIn.get("invitations") { request, context in
            let page = try PageRequest(request)
            let after = try page.afterCreation(InvitationID.self)
            let invitations = try await work.run(context, requiring: TenantAPICode.viewUsers) { auth, session in
                try await auth.listInvitations(tenant: session.tenant, pageSize: page.limit, after: after)
            }
            return Page(invitations.map(InvitationView.init), of: page, key: \.cursorKey)
        }
        signedIn.post("invitations") { request, context in
            let new = try await request.decode(as: NewInvitation.self, context: context)
            let expiresAt = new.expiresAt ?? Date().addingTimeInterval(Self.defaultLifetime)
            let created = try await work.run(context, requiring: TenantAPICode.createUsers) { auth, session in
                if new.permSetCode != nil {
                    try await auth.requirePermission(tenant: session.tenant, user: session.user, code: TenantAPICode.assignPermissions)
                }
                if new.userGroupId != nil {
                    try await auth.requirePermission(tenant: session.tenant, user: session.user, code: TenantAPICode.manageGroups)
                }
                return try await auth.createInvitation(tenant: session.tenant, email: new.email, expiresAt: expiresAt,
                                                       permSet: new.permSetCode, group: new.userGroupId)
            }
            return EditedResponse(status: .created, headers: [.location: "invitations/\(created.id)"],
                                  response: CreatedView(invitationId: APIID(created.id), token: created.token, expiresAt: expiresAt))
        }
        signedIn.delete("invitations/{invitation_id}") { _, context in
            let id = try context.id(InvitationID.self, "invitation_id")
            try await work.run(context, requiring: TenantAPICode.createUsers) { auth, session in
                try await auth.revokeInvitation(tenant: session.tenant, invitation: id)
            }
            return Response(status: .noContent)
        }
        // No session: the token is the credential. An unknown tenant answers as a bad token.
        open.post("invitations/accept") { request, context in
            let acceptance = try await request.decode(as: Acceptance.self, context: context)
            if let password = acceptance.password { try SignInFields.checkPassword(password) }
            guard let tenant = context.tenant else { throw APIError.invalidInvitation }
            let authTenant = try tenant.authTenantID()
            let accepted = try await connections.withUnitOfWork(in: tenant, actor: nil) { connection in
                let auth = AuthClient(connection)
                let accepted = try await auth.acceptInvitation(token: acceptance.token, username: acceptance.username,
                                                               displayName: acceptance.displayName)
                // A token of another tenant's invitation in this database is no invitation here.
                guard accepted.tenant == authTenant else { throw APIError.invalidInvitation }
                if let password = acceptance.password {
                    // Never the password of an account that existed: that would hand it to the token's holder.
                    guard accepted.created else { throw APIError.accountExists }
                    try await auth.setUserPassword(accepted.user, password: password)
                }
                return accepted
            }
            return EditedResponse(status: .created, response: AcceptedView(userId: APIID(accepted.user), created: accepted.created))
        }
    }
}

extension APIError {
    /// The same answer as `auth.accept_invitation`'s QN010, for a tenant that is not there.
    static let invalidInvitation = APIError(status: .notFound, code: PermissionsError.Code.invalidInvitation.sqlState.rawValue,
                                            message: "invalid invitation",
                                            detail: "The invitation is unknown, expired, revoked or already accepted.",
                                            hint: "Ask the tenant's administrator for a new invitation.")
    static let accountExists = APIError(status: .conflict, code: "account_exists",
                                        message: "an account with this email exists already: it keeps its own password",
                                        hint: "Accept without a password, then sign in with the account's password.")
}
