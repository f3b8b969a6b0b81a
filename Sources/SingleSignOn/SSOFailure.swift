/// Why a single sign-on did not complete. ``code`` is the name the API reports
/// (`sso_token_invalid`), ``message`` says what was wrong and ``hint`` what to do; none of
/// them ever holds a token, a code or a secret, so each may be logged and audited as is.
public struct SSOFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        init(_ name: String) { self.name = name }
        public var description: String { name }

        /// The tenant's organization has no single sign-on, or the tenant has no organization.
        public static let notConfigured = Code("sso_not_configured")
        /// The email's domain is allowed by no organization, or by another one than the tenant's.
        public static let domainNotAllowed = Code("sso_domain_not_allowed")
        /// The callback's state is unknown, used, expired, or from another browser.
        public static let invalidState = Code("sso_state_invalid")
        /// The provider answered the authorization with an error (`access_denied`, ...).
        public static let providerRefused = Code("sso_provider_refused")
        /// The provider could not be reached in time, or answered with something unusable.
        public static let providerUnavailable = Code("sso_provider_unavailable")
        /// The ID token failed a check: signature, algorithm, key, issuer, audience, times, nonce, tid.
        public static let invalidToken = Code("sso_token_invalid")
        /// The provider did not vouch for the email (`email_verified`, Entra's `xms_edov`).
        public static let emailNotVerified = Code("sso_email_not_verified")
        /// The person is not a member and may not become one, or is deactivated.
        public static let notAMember = Code("sso_not_a_member")
    }

    public let code: Code
    public let message: String
    public var hint: String?

    public init(_ code: Code, _ message: String, hint: String? = nil) {
        self.code = code
        self.message = message
        self.hint = hint
    }

    public var description: String { "\(code): \(message)" + (hint.map { " (\($0))" } ?? "") }

    static func token(_ message: String) -> SSOFailure {
        SSOFailure(.invalidToken, "the identity provider's ID token was refused: \(message)",
                   hint: "Sign in again; if it keeps failing, the provider's settings (issuer, client id, keys) are wrong.")
    }
}
