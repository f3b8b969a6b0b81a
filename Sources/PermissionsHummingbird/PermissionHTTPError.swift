import Foundation
import Hummingbird
import Permissions
import PQ

/// A refused request as the client sees it: an HTTP status and the project's JSON error body
/// `{"error": {"code": ..., "message": ..., "detail": ..., "hint": ...}}` (the admin portal's
/// and the tenant API's), where `code` is the SQLSTATE of an error of the auth schema
/// (`42501`, `QN003`) and a snake_case name otherwise (`not_signed_in`).
public struct PermissionHTTPError: HTTPResponseError, Sendable, Equatable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    public var detail: String?
    public var hint: String?

    public init(status: HTTPResponse.Status, code: String, message: String, detail: String? = nil, hint: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail
        self.hint = hint
    }

    /// The request names no tenant and user: 401.
    public static let notSignedIn = PermissionHTTPError(
        status: .unauthorized, code: "not_signed_in", message: "not signed in",
        hint: "Sign in first: this route needs to know who you are and in which tenant.")

    /// The user does not hold the code: 403 with SQLSTATE 42501 and the check's detail and hint.
    static func denied(_ error: PermissionsError) -> PermissionHTTPError {
        PermissionHTTPError(status: .forbidden, code: error.code.sqlState.rawValue, message: error.message,
                            detail: error.detail, hint: error.hint)
    }

    /// The route requires a code the catalogue does not have, or one that is malformed: the
    /// SQL check's own error (QN003, QI002), as a 500, since the service is misconfigured and
    /// no request can fix it.
    static func misconfigured(_ error: PermissionsError) -> PermissionHTTPError {
        PermissionHTTPError(status: .internalServerError, code: error.code.sqlState.rawValue,
                            message: "this route requires a permission code the catalogue cannot check: \(error.message)",
                            detail: error.detail,
                            hint: "The service's route configuration names the code; add it to the catalogue or fix the name.")
    }

    /// The database was needed (a miss) and could not be reached: 503.
    static let databaseUnavailable = PermissionHTTPError(
        status: .serviceUnavailable, code: "permission_check_unavailable",
        message: "the permission could not be checked: the database is unreachable", hint: "Try again in a moment.")

    /// The JSON body.
    public struct Body: Codable, Sendable, Equatable {
        public struct Content: Codable, Sendable, Equatable {
            public let code: String
            public let message: String
            public let detail: String?
            public let hint: String?
        }
        public let error: Content
    }

    public var body: Body { Body(error: .init(code: code, message: message, detail: detail, hint: hint)) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try context.responseEncoder.encode(body, from: request, context: context)
        response.status = status
        return response
    }
}
