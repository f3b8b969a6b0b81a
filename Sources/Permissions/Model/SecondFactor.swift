import Foundation
import PQ

/// Whether password sign-in to a tenant needs a second factor (`auth.get_second_factor_policy`).
public enum SecondFactorPolicy: String, Sendable, Hashable, CaseIterable, PostgresDecodable, PostgresEncodable {
    /// Members may enrol an authenticator; those who did are asked for its code.
    case optional
    /// Every member signing in with a password needs an authenticator; one without enrols first.
    case required

    public var postgresText: String? { rawValue }
}

/// What a user still owes to sign in to a tenant after a right password (`auth.second_factor_step`).
public enum SecondFactorStep: String, Sendable, Hashable, PostgresDecodable {
    /// Nothing: the password was enough.
    case none
    /// The authenticator's code (``AuthClient/verifySecondFactor(user:code:)``).
    case code
    /// The tenant requires a second factor and the user has none: they enrol one first.
    case enrolment
}

/// An authenticator enrolment begun (`auth.begin_totp_enrolment`): the secret to put in the
/// user's app, pending until ``AuthClient/confirmTOTPEnrolment(user:code:)``.
public struct TOTPEnrolment: Sendable, Hashable {
    /// The secret in base32 (RFC 4648, no padding), for typing into the app.
    public let secret: String
    /// `otpauth://totp/...`: the same secret with its issuer and account, for a QR code.
    public let otpauthURI: String
}

/// A user's second factor as `auth.get_second_factor` describes it.
public struct SecondFactorStatus: Sendable, Hashable {
    public let isEnabled: Bool
    /// Begun and not confirmed yet.
    public let isPending: Bool
    public let enabledAt: Date?
    /// Recovery codes not spent yet.
    public let recoveryCodesLeft: Int

    init(row: Row) throws {
        isEnabled = try row.decode(column: "is_enabled")
        isPending = try row.decode(column: "is_pending")
        enabledAt = try row.decode(column: "enabled_at")
        recoveryCodesLeft = try row.decode(column: "recovery_codes_left")
    }
}
