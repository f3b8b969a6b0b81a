import TenantPlatform
import Testing

/// The kind of ``PlatformError`` the body throws; nil when it throws nothing, and an
/// issue recorded when it throws another error (a raw SQLSTATE leaking, say).
func platformErrorKind(_ body: () async throws -> Void) async -> PlatformError.Kind? {
    do {
        try await body()
        return nil
    } catch let error as PlatformError {
        return error.kind
    } catch {
        Issue.record("expected a PlatformError, got \(error)")
        return nil
    }
}
