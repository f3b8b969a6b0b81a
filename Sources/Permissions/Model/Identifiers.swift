import Foundation
import PQ

/// A uuid key of one kind of entity. Each kind is its own type, so a ``TenantID`` can never
/// be passed where a ``UserID`` is expected.
public protocol EntityID: Hashable, Sendable, Codable, CustomStringConvertible, PostgresEncodable, PostgresDecodable {
    var rawValue: UUID { get }
    init(_ rawValue: UUID)
}

extension EntityID {
    public var description: String { rawValue.uuidString.lowercased() }
    public var postgresText: String? { rawValue.postgresText }
    public init(postgresText text: String, type: PostgresType) throws {
        self.init(try UUID(postgresText: text, type: type))
    }
    public init(from decoder: any Decoder) throws { self.init(try UUID(from: decoder)) }
    public func encode(to encoder: any Encoder) throws { try rawValue.encode(to: encoder) }
}

public struct TenantID: EntityID {
    public let rawValue: UUID
    public init(_ rawValue: UUID) { self.rawValue = rawValue }
}

public struct UserID: EntityID {
    public let rawValue: UUID
    public init(_ rawValue: UUID) { self.rawValue = rawValue }
}

public struct UserGroupID: EntityID {
    public let rawValue: UUID
    public init(_ rawValue: UUID) { self.rawValue = rawValue }
}

public struct PermSetID: EntityID {
    public let rawValue: UUID
    public init(_ rawValue: UUID) { self.rawValue = rawValue }
}

public struct PermissionID: EntityID {
    public let rawValue: UUID
    public init(_ rawValue: UUID) { self.rawValue = rawValue }
}

public struct AssignmentID: EntityID {
    public let rawValue: UUID
    public init(_ rawValue: UUID) { self.rawValue = rawValue }
}

public struct ResourceGrantID: EntityID {
    public let rawValue: UUID
    public init(_ rawValue: UUID) { self.rawValue = rawValue }
}

public struct APIKeyID: EntityID {
    public let rawValue: UUID
    public init(_ rawValue: UUID) { self.rawValue = rawValue }
}

public struct InvitationID: EntityID {
    public let rawValue: UUID
    public init(_ rawValue: UUID) { self.rawValue = rawValue }
}
