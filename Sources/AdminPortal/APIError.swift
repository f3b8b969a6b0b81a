import Foundation
import Hummingbird
import Logging
import Permissions
import PermissionsHummingbird
import PQ
import TenantPlatform

/// An API failure as the client sees it: an HTTP status and a JSON body
/// `{"error": {"code": ..., "message": ..., "detail": ..., "hint": ...}}`, where `code` is the
/// SQLSTATE for errors of the auth schema (`QN003`, as in the README's table) and a
/// snake_case name for the platform's own (`tenant_exists`).
struct APIError: HTTPResponseError, Sendable {
    let status: HTTPResponse.Status
    let code: String
    let message: String
    var detail: String?
    var hint: String?

    static let notSignedIn = APIError(status: .unauthorized, code: "not_signed_in", message: "not signed in",
                                      hint: "Sign in first: POST your credentials to the session endpoint.")
    static let invalidAPIKey = APIError(status: .unauthorized, code: "invalid_api_key",
                                        message: "the API key is unknown, revoked or expired, or not this tenant's",
                                        hint: "Send a valid key as Authorization: Bearer pgpk_...; a tenant administrator makes one at POST /t/{slug}/api/api-keys.")
    static let wrongCredentials = APIError(status: .unauthorized, code: "wrong_credentials",
                                           message: "unknown user, wrong password, or the account is locked or inactive")
    /// The password was right and the account has an authenticator: the code must come too.
    static let secondFactorRequired = APIError(status: .unauthorized, code: "second_factor_required",
                                               message: "this account signs in with a second factor",
                                               hint: "Send the 6-digit code of your authenticator app or a recovery code: as second_factor_code with the username and password when signing in, as code otherwise.")
    static let wrongSecondFactor = APIError(status: .unauthorized, code: "wrong_second_factor",
                                            message: "the second-factor code is wrong or used already, or the account is locked",
                                            hint: "Type the code your authenticator app shows now (each code serves once), or an unused recovery code.")
    /// The tenant requires a second factor and the account has none yet.
    static func secondFactorEnrolmentRequired(slug: String) -> APIError {
        APIError(status: .forbidden, code: "second_factor_enrolment_required",
                 message: "this tenant requires a second factor, and the account has none",
                 hint: "POST your username and password to /t/\(slug)/api/session/second-factor for an authenticator secret, "
                     + "add it to an authenticator app, then sign in with its current code as second_factor_code.")
    }
    /// Enrolment before sign-in, asked of a tenant that does not require a second factor.
    static func secondFactorNotRequired(slug: String) -> APIError {
        APIError(status: .forbidden, code: "second_factor_not_required",
                 message: "this tenant does not require a second factor: sign in with your password",
                 hint: "Once signed in, enrol an authenticator at POST /t/\(slug)/api/second-factor.")
    }
    /// A renamed tenant's old slug, answered only to a signed-in user of that tenant (see
    /// ``TenantSessions``); everyone else gets the uniform 401 there.
    static func tenantRenamed(from old: String, to new: String) -> APIError {
        APIError(status: .notFound, code: "tenant_renamed", message: "no tenant is named '\(old)' any more",
                 detail: "The tenant you are signed in to was renamed from '\(old)' to '\(new)'.",
                 hint: "Use /t/\(new)/api/ instead; your session works there.")
    }
    static func forbidden(_ message: String, hint: String? = nil) -> APIError {
        APIError(status: .forbidden, code: "forbidden", message: message, hint: hint)
    }
    static func badRequest(_ message: String, hint: String? = nil) -> APIError {
        APIError(status: .badRequest, code: "bad_request", message: message, hint: hint)
    }

    /// The one JSON shape of the project's errors, shared with the services that use
    /// `RequirePermission` (``PermissionHTTPError``).
    func response(from request: Request, context: some RequestContext) throws -> Response {
        try PermissionHTTPError(status: status, code: code, message: message, detail: detail, hint: hint)
            .response(from: request, context: context)
    }
}

extension APIError {
    /// The client-facing form of an error thrown by the platform, the auth schema or the
    /// connection manager; nil for anything else (a server fault, logged, never shown).
    init?(_ error: any Error) {
        switch error {
        case let error as APIError:
            self = error
        case let error as HTTPError:  // Hummingbird's own: an unknown route, say
            self.init(status: error.status, code: Self.snakeCase(error.status.reasonPhrase.lowercased()),
                      message: error.body ?? error.status.reasonPhrase)
        case let error as PlatformError:
            // Settings and keys are the operator's business: those are server faults.
            guard let status = Self.status(of: error.code) else { return nil }
            self.init(status: status, code: error.code.description, message: error.message,
                      detail: error.detail, hint: error.hint)
        case let error as PermissionsError:
            self.init(status: Self.status(ofSQLState: error.code.sqlState.rawValue), code: error.code.sqlState.rawValue,
                      message: error.message, detail: error.detail, hint: error.hint)
        case let error as PostgresError where error.code == .characterNotInRepertoire:
            // Refused by PQ before anything was sent: a NUL character in some input.
            self.init(status: .badRequest, code: "invalid_text", message: error.message,
                      hint: "Text fields cannot contain the NUL character (U+0000).")
        case let error as PostgresError where error.code?.rawValue == "57P01":
            // The session was ended under the request: a suspension, or a move freezing the database.
            self.init(status: .serviceUnavailable, code: "session_ended",
                      message: "the tenant's database ended this request's session", hint: "Retry the request.")
        case let error as PostgresError where error.code?.rawValue == "25006":
            // The tenant's database is frozen while it moves to another server (TenantMover).
            self.init(status: .serviceUnavailable, code: "tenant_read_only",
                      message: "the tenant's database is read-only for a moment: it is being moved to another server",
                      hint: "Reads work; retry the change in a few seconds.")
        case let error as TenantConnectionError where error.code == .serverUnavailable:
            // Which server, so the operator knows where to look; its address stays in the log.
            self.init(status: .serviceUnavailable, code: "server_unavailable",
                      message: "the database server '\(error.server)' of tenant '\(error.tenant)' is unavailable",
                      hint: "Try again in a moment; the platform reconnects by itself when the server is back.")
        case let error as TenantConnectionError:
            // Pool sizes and settings are for the operator's log, not for the tenant's users.
            self.init(status: .serviceUnavailable, code: Self.snakeCase(error.code.description),
                      message: "no database connection for tenant '\(error.tenant)' is free right now",
                      hint: "Try again in a moment.")
        default:
            return nil
        }
    }

    /// The status of a platform error the client may see; nil for the operator's own
    /// (settings, keys), answered as a 500 with the cause in the log only.
    private static func status(of code: PlatformError.Code) -> HTTPResponse.Status? {
        switch code {
        case .unknownTenant, .unknownOrganization, .unknownAdminUser, .ssoNotConfigured, .notAssigned, .noMigrationToResume,
             .unknownServer:
            .notFound
        case .tenantExists, .organizationExists, .domainTaken, .adminUserExists, .tenantNotActive, .migrationRunning, .serverExists,
             .serverNotActive, .noCapacity, .serverInUse, .moveInProgress, .lastSuperadmin:
            .conflict
        case .invalidSlug, .invalidName, .invalidStatus, .invalidEmail, .invalidDomain, .invalidSSOSettings, .weakPassword,
             .superadminNotScoped, .notConfirmed, .invalidServer:
            .badRequest
        case .provisioningFailed, .multiTenantDisabled, .moveFailed:
            .internalServerError
        default:  // .missingSetting, .invalidSetting, .wrongEncryptionKey, .unknownKeyVersion, .malformedSecret
            nil
        }
    }

    /// The auth schema's classes: QI invalid input, QN not found, QD duplicate, QS state.
    private static func status(ofSQLState state: String) -> HTTPResponse.Status {
        switch state.prefix(2) {
        case "QI": .badRequest
        case "QN": .notFound
        case "QD", "QS": .conflict
        case "42": .forbidden
        default: .internalServerError
        }
    }

    /// `tenantExists` → `tenant_exists`, `Not Found` → `not_found` (after lowercasing).
    static func snakeCase(_ name: String) -> String {
        name.reduce(into: "") { result, character in
            if character.isUppercase { result += "_" + character.lowercased() }
            else if character == " " { result += "_" }
            else { result.append(character) }
        }
    }
}

/// Turns every error a route throws into an ``APIError`` response. Errors the platform
/// explains keep their message (a failed provisioning says which step failed); the server's
/// own failures (503s and 500s) are logged in full. Anything else (a lost database
/// connection, a bug) is logged with the request id and answered with a 500 that carries
/// only that id. It answers rather than throws, so the middleware outside it (headers) sees
/// every answer.
struct APIErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            if let apiError = APIError(error) {
                if apiError.status.code >= 500 {
                    context.logger.warning("request failed", metadata: ["error": "\(error)"])
                }
                return try apiError.response(from: request, context: context)
            }
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            return try APIError(status: .internalServerError, code: "internal_error",
                                message: "the server could not complete the request (request id \(context.id))",
                                hint: "The server log has the cause under this request id.")
                .response(from: request, context: context)
        }
    }
}
