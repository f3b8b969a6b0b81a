import Hummingbird
import Permissions
import PQ

/// Lets a request through only when its user holds a permission code in its tenant, checked
/// by a ``PermissionCache`` (in-process when the cache is current, else by the database).
///
/// ```swift
/// router.group("users")
///     .add(middleware: RequirePermission("users.create_user", cache: cache))
///     .post { request, context in ... }
/// ```
///
/// The tenant and the user come from the context (``PermissionRequestContext``), set by the
/// application's authentication middleware, which must run first. Answers, in the project's
/// JSON error shape (``PermissionHTTPError``):
/// - 401 `not_signed_in` when the context names no tenant and user;
/// - 403 `42501` when the user does not hold the code (or any code, or all of them, for
///   ``init(anyOf:cache:consistency:)`` and ``init(allOf:cache:consistency:)``), with the
///   same detail and hint as `auth.require_permission`;
/// - 500 with the SQL check's own SQLSTATE (`QN003` unknown code, `QI002` malformed) when
///   the route requires a code the catalogue cannot check: a misconfigured route, logged;
/// - 503 `permission_check_unavailable` when the database was needed and is unreachable.
public struct RequirePermission<Context: PermissionRequestContext>: RouterMiddleware {
    public let codes: [String]
    public let requireAll: Bool
    public let cache: PermissionCache
    public let consistency: PermissionCache.Consistency

    /// Requires one code.
    public init(_ code: String, cache: PermissionCache, consistency: PermissionCache.Consistency = .cached) {
        self.init(codes: [code], requireAll: true, cache: cache, consistency: consistency)
    }

    /// Requires at least one of the codes.
    public init(anyOf codes: [String], cache: PermissionCache, consistency: PermissionCache.Consistency = .cached) {
        self.init(codes: codes, requireAll: false, cache: cache, consistency: consistency)
    }

    /// Requires every one of the codes.
    public init(allOf codes: [String], cache: PermissionCache, consistency: PermissionCache.Consistency = .cached) {
        self.init(codes: codes, requireAll: true, cache: cache, consistency: consistency)
    }

    private init(codes: [String], requireAll: Bool, cache: PermissionCache, consistency: PermissionCache.Consistency) {
        self.codes = codes
        self.requireAll = requireAll
        self.cache = cache
        self.consistency = consistency
    }

    public func handle(_ request: Request, context: Context,
                       next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let identity = context.permissionIdentity else { throw PermissionHTTPError.notSignedIn }
        do {
            if codes.count == 1 {
                try await cache.requirePermission(tenant: identity.tenant, user: identity.user, code: codes[0],
                                                  consistency: consistency)
            } else {
                try await cache.requirePermissions(tenant: identity.tenant, user: identity.user, codes: codes,
                                                   requireAll: requireAll, consistency: consistency)
            }
        } catch let error as PermissionsError where error.code == .insufficientPrivilege {
            throw PermissionHTTPError.denied(error)
        } catch let error as PermissionsError {
            context.logger.error("a route requires a permission code that cannot be checked",
                                 metadata: ["codes": "\(codes)", "error": "\(error)"])
            throw PermissionHTTPError.misconfigured(error)
        } catch let error as PostgresError where error.isServerUnreachable {
            context.logger.warning("permission check failed: the database is unreachable", metadata: ["error": "\(error)"])
            throw PermissionHTTPError.databaseUnavailable
        }
        return try await next(request, context)
    }
}
