import Foundation
import Hummingbird
import Permissions
import TenantPlatform

/// `/t/{slug}/api/second-factor`: the signed-in user's own authenticator (enrol, confirm,
/// new recovery codes, remove), the tenant's policy, and an administrator's reset of a
/// member who lost theirs. Sign-in itself is ``SecondFactorSignIn``'s.
///
/// Enrolling asks for the password, and removing an enabled authenticator or making new
/// recovery codes for a current code (``CredentialProofs``), so a stolen session cannot weaken
/// the account or attach the thief's authenticator. Enabling an authenticator ends the
/// member's other sessions, and an administrator's reset all of them: they were opened
/// without it.
struct TenantSecondFactorRoutes {
    let work: TenantWork
    let proofs: CredentialProofs
    let sessions: TenantSessions

    struct StatusView: ResponseEncodable {
        let enabled: Bool
        let pending: Bool
        let enabledAt: Date?
        let recoveryCodesLeft: Int
        /// The tenant's policy: `optional` or `required`.
        let policy: String
    }

    struct EnrolmentView: ResponseEncodable {
        let secret: String
        let otpauthUri: String

        init(_ enrolment: TOTPEnrolment) {
            secret = enrolment.secret
            otpauthUri = enrolment.otpauthURI
        }
    }

    struct RecoveryCodesView: ResponseEncodable {
        let recoveryCodes: [String]
    }

    struct CodeBody: Decodable {
        let code: String?
    }

    struct PasswordBody: Decodable {
        let password: String
    }

    struct PolicyBody: Decodable {
        let policy: String
    }

    func register(on group: RouterGroup<PortalContext>) {
        group.get("second-factor") { _, context in
            try await work.run(context, requiring: nil) { auth, session in
                let status = try await auth.secondFactor(user: session.user)
                return StatusView(enabled: status.isEnabled, pending: status.isPending, enabledAt: status.enabledAt,
                                  recoveryCodesLeft: status.recoveryCodesLeft,
                                  policy: try await auth.secondFactorPolicy(tenant: session.tenant).rawValue)
            }
        }
        // The password first: a stolen session alone must not attach the thief's authenticator.
        group.post("second-factor") { request, context in
            let body = try await request.decode(as: PasswordBody.self, context: context)
            try await proofs.password(body.password, context)
            return try await work.run(context, requiring: nil) { auth, session in
                EnrolmentView(try await auth.beginTOTPEnrolment(user: session.user, issuer: session.slug))
            }
        }
        group.post("second-factor/confirm") { request, context in
            let code = try await Self.code(request, context)
            let codes = try await work.run(context, requiring: nil) { auth, session in
                RecoveryCodesView(recoveryCodes: try await auth.confirmTOTPEnrolment(user: session.user, code: code ?? ""))
            }
            let session = try context.requireTenantUser()
            try await sessions.endSessions(of: session.user, in: session, keepingThatOf: request)
            return codes
        }
        group.post("second-factor/recovery-codes") { request, context in
            try await proofs.secondFactor(try await Self.code(request, context), context)
            return try await work.run(context, requiring: nil) { auth, session in
                RecoveryCodesView(recoveryCodes: try await auth.regenerateRecoveryCodes(user: session.user))
            }
        }
        group.post("second-factor/disable") { request, context in
            if let code = try await Self.code(request, context) {
                try await proofs.secondFactor(code, context)
                try await work.run(context, requiring: nil) { auth, session in
                    try await auth.disableTOTP(user: session.user)
                }
            } else {
                // Without a code, a pending enrolment only (it protects nothing yet), in one
                // statement: one confirmed meanwhile stays.
                try await work.run(context, requiring: nil) { auth, session in
                    if try await !auth.cancelTOTPEnrolment(user: session.user),
                       try await auth.secondFactor(user: session.user).isEnabled {
                        throw APIError.secondFactorRequired
                    }
                }
            }
            return Response(status: .noContent)
        }
        group.put("second-factor/policy") { request, context in
            let body = try await request.decode(as: PolicyBody.self, context: context)
            guard let policy = SecondFactorPolicy(rawValue: body.policy) else {
                throw APIError.invalidField("policy", "must be optional or required")
            }
            try await work.run(context, requiring: TenantAPICode.administerTenant) { auth, session in
                try await auth.setSecondFactorPolicy(tenant: session.tenant, policy)
            }
            return Response(status: .noContent)
        }
        // For a member who lost both the device and the recovery codes: they enrol again.
        group.delete("users/{user_id}/second-factor") { _, context in
            let user = try context.id(UserID.self, "user_id")
            try await work.run(context, requiring: TenantAPICode.updateUsers) { auth, session in
                _ = try await auth.tenantUser(session.tenant, user: user)  // another tenant's user: 404
                try TenantUserRoutes.refuseSelf(user, session, "reset the second factor of",
                                                hint: "Remove your own at POST /t/\(session.slug)/api/second-factor/disable, with a current code.")
                try await auth.disableTOTP(user: user)
            }
            try await sessions.endSessions(of: user, in: try context.requireTenantUser())
            return Response(status: .noContent)
        }
    }

    /// The body's code, at most ``SignInFields/maximumCodeLength`` characters.
    private static func code(_ request: Request, _ context: PortalContext) async throws -> String? {
        let code = try await request.decode(as: CodeBody.self, context: context).code
        if let code { try SignInFields.check("code", code, maximumLength: SignInFields.maximumCodeLength) }
        return code
    }
}
