import Permissions

/// The second step of a tenant user's password sign-in, after the password was right.
///
/// - An account with an authenticator must send its current code or a recovery code
///   (`second_factor_required` without one, `wrong_second_factor` for a wrong one; wrong codes
///   count in the account's lockout, as wrong passwords do).
/// - An account with a pending enrolment that sends a code of it finishes the enrolment
///   here: the sign-in answer carries the recovery codes, once.
/// - Otherwise a tenant whose policy is `required` refuses the sign-in with
///   `second_factor_enrolment_required`, which says where to enrol.
///
/// Each call commits on its own (the connection is in autocommit), so a wrong code's count
/// is kept although the request fails.
struct SecondFactorSignIn {
    let auth: AuthClient
    let session: TenantUserSession

    /// - Returns: the new recovery codes when this sign-in confirmed an enrolment; nil otherwise.
    func pass(code: String?) async throws -> [String]? {
        let status = try await auth.secondFactor(user: session.user)
        if status.isEnabled {
            guard let code else { throw APIError.secondFactorRequired }
            guard try await auth.verifySecondFactor(user: session.user, code: code) else { throw APIError.wrongSecondFactor }
            return nil
        }
        if status.isPending, let code {
            do {
                return try await auth.confirmTOTPEnrolment(user: session.user, code: code)
            } catch let error as PermissionsError where error.code == .wrongSecondFactorCode || error.code == .invalidArgument {
                throw APIError.wrongSecondFactor
            }
        }
        guard try await auth.secondFactorPolicy(tenant: session.tenant) == .optional else {
            throw APIError.secondFactorEnrolmentRequired(slug: session.slug)
        }
        return nil
    }
}
