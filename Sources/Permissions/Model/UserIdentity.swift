import Foundation
import PQ

/// An account at an external identity provider that signs in as a user (single sign-on),
/// as `auth.get_user_identities` lists them.
public struct UserIdentity: Sendable, Hashable {
    /// The provider's issuer URL, exactly as its tokens carry it (`iss`).
    public let issuer: String
    /// The person's stable id there: `sub`, or for Microsoft Entra ID the object id (`oid`).
    public let subject: String
    /// The verified email the provider gave at the last sign-in.
    public let email: String?
    public let linkedAt: Date
    /// The last sign-in through this identity.
    public let lastUsedAt: Date

    init(row: Row) throws {
        issuer = try row.decode(column: "issuer")
        subject = try row.decode(column: "subject")
        email = try row.decode(column: "email")
        linkedAt = try row.decode(column: "linked_at")
        lastUsedAt = try row.decode(column: "last_used_at")
    }
}
