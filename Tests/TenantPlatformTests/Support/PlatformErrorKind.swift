import TenantPlatform
import Testing

/// The code of the ``PlatformError`` the body throws; nil when it throws nothing, and an
/// issue recorded when it throws another error (a raw SQLSTATE leaking, say).
func platformErrorKind(_ body: () async throws -> Void) async -> PlatformError.Code? {
    do {
        try await body()
        return nil
    } catch let error as PlatformError {
        return error.code
    } catch {
        Issue.record("expected a PlatformError, got \(error)")
        return nil
    }
}
