@testable import AdminPortal
import PQ
import Testing

@Suite("Admin portal: the reason a connection test gives")
struct ConnectionTestReasonTests {
    @Test("libpq's preamble with the socket path is dropped; the server's reason stays")
    func reasonWithoutPreamble() {
        let error = PostgresError(kind: .connection, message: """
            connection to server on socket "/tmp/x/.s.PGSQL.5432" failed: FATAL:  role "tenant_acme" is not permitted to log in
            """)
        #expect(AdminTenantRoutes.reason(error) == #"role "tenant_acme" is not permitted to log in"#)
        #expect(AdminTenantRoutes.reason(PostgresError(kind: .server, message: "timeout expired")) == "timeout expired")
    }
}
