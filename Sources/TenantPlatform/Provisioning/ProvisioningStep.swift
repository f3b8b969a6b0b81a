/// The steps of creating a tenant, in order. The registry records the last one completed,
/// so an interrupted creation resumes where it stopped.
public enum ProvisioningStep: String, CaseIterable, Sendable, Comparable {
    /// The registry row exists (status `provisioning`), with sealed credentials.
    case registered
    /// The tenant's login role exists, with its generated password.
    case role
    /// The database exists (cloned from the template, or empty), and only the role may connect.
    case database
    /// The auth schema and the tenant defaults are installed for the tenant's own group roles;
    /// the login role is a member of its admin role and of nothing else.
    case schema
    /// The tenant, its initial admin user (with password) and its owner are created inside.
    case seed
    /// The registry row says `active`.
    case active

    public static func < (lhs: Self, rhs: Self) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
