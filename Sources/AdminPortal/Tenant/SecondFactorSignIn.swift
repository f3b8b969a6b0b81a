import Permissions

/// The second step of a tenant user's password sign-in, after the password was right, as
/// `auth.second_factor_step` decides it:
///
/// - `code`: the account has an authenticator and must send its current code or a recovery
///   code (`second_factor_required` without one, `wrong_second_factor` for a wrong one; wrong
///   codes count in the account's lockout, as wrong passwords do).
/// - `enrolment`: the tenant requires a second factor and the account has none. A code of the
///   pending enrolment (begun at `POST /session/second-factor`) finishes it here, and the
///   sign-in answer carries the recovery codes, once; without one the sign-in is refused with
///   `second_factor_enrolment_required`, which says where to enrol.
/// - `none`: the password was enough.
///
/// Each call commits on its own (the connection is in autocommit), so a wrong code's count
/// is kept although the request fails.
struct SecondFactorSignIn {
    let auth: AuthClient
    let session: TenantUserSession

    /// - Returns: the new recovery codes when this sign-in confirmed an enrolment; nil otherwise.
    func pass(code: String?) async throws -> [String]? {
        switch try await auth.secondFactorStep(tenant: session.tenant, user: session.user) {
        case .none:
            return nil
        case .code:
            guard let code else { throw APIError.secondFactorRequired }
            guard try await auth.verifySecondFactor(user: session.user, code: code) else { throw APIError.wrongSecondFactor }
            return nil
        case .enrolment:
            guard let code else { throw APIError.secondFactorEnrolmentRequired(slug: session.slug) }
            do {
                return try await auth.confirmTOTPEnrolment(user: session.user, code: code)
            } catch let error as PermissionsError where error.code == .noSecondFactor {
                throw APIError.secondFactorEnrolmentRequired(slug: session.slug)  // nothing begun
            } catch let error as PermissionsError where error.code == .wrongSecondFactorCode || error.code == .invalidArgument {
                throw APIError.wrongSecondFactor
            }
        }
    }
}
