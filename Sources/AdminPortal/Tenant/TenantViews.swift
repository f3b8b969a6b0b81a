import Foundation
import Hummingbird
import Permissions

// The tenant API's records as JSON (snake_case keys, lower-case ids, ISO 8601 times). Optional
// fields are left out when empty.

/// A member of the tenant. `is_active`: the user and their membership are both active.
struct UserView: ResponseEncodable, Sendable {
    let userId: APIID
    let username: String
    let email: String?
    let displayName: String?
    let isActive: Bool
    let joinedAt: Date

    init(_ user: TenantUser) {
        userId = APIID(user.userID)
        username = user.username
        email = user.email
        displayName = user.displayName
        isActive = user.isActive
        joinedAt = user.joinedAt
    }
}

struct GroupView: ResponseEncodable, Sendable {
    let userGroupId: APIID
    let code: String
    let name: String
    let isActive: Bool
    let memberCount: Int
    let createdAt: Date
    let updatedAt: Date

    init(_ group: UserGroup) {
        userGroupId = APIID(group.id)
        code = group.code
        name = group.name
        isActive = group.isActive
        memberCount = group.memberCount
        createdAt = group.createdAt
        updatedAt = group.updatedAt
    }
}

/// A member or an owner of a group; `added_at` is when they became one.
struct GroupMemberView: ResponseEncodable, Sendable {
    let userId: APIID
    let username: String
    let email: String?
    let displayName: String?
    let isActive: Bool
    let addedAt: Date

    init(_ member: GroupMember) {
        userId = APIID(member.userID)
        username = member.username
        email = member.email
        displayName = member.displayName
        isActive = member.isActive
        addedAt = member.addedAt
    }
}

struct PermSetView: ResponseEncodable, Sendable {
    let permSetId: APIID
    let code: String
    let name: String
    let description: String?
    let permissionCount: Int
    let assignmentCount: Int
    let createdAt: Date
    let updatedAt: Date

    init(_ set: PermSet) {
        permSetId = APIID(set.id)
        code = set.code
        name = set.name
        description = set.description
        permissionCount = set.permissionCount
        assignmentCount = set.assignmentCount
        createdAt = set.createdAt
        updatedAt = set.updatedAt
    }
}

/// A catalogue code, in a set or in the catalogue tree (with its children there).
struct CatalogueNodeView: ResponseEncodable, Sendable {
    let permCode: String
    let name: String
    let description: String?
    var children: [CatalogueNodeView]?

    init(_ entry: CatalogueEntry, children: [CatalogueNodeView]? = nil) {
        permCode = entry.code
        name = entry.name
        description = entry.description
        self.children = children
    }

    /// The catalogue's depth-first list (`auth.list_permissions`) as a tree.
    static func tree(_ entries: [CatalogueEntry]) -> [CatalogueNodeView] {
        var index = entries.startIndex
        func children(of parent: String?) -> [CatalogueNodeView] {
            var nodes: [CatalogueNodeView] = []
            while index < entries.endIndex, entries[index].parentCode == parent {
                let entry = entries[index]
                index += 1
                nodes.append(CatalogueNodeView(entry, children: children(of: entry.code)))
            }
            return nodes
        }
        return children(of: nil)
    }
}

/// An assignment: exactly one of user and group, one of set and code.
struct AssignmentView: ResponseEncodable, Sendable {
    let assignmentId: APIID
    let userId: APIID?
    let userGroupId: APIID?
    /// The user's username or the group's code.
    let granteeName: String
    let permSetCode: String?
    let permCode: String?
    let createdAt: Date

    init(_ assignment: Assignment) {
        assignmentId = APIID(assignment.id)
        switch assignment.grantee {
        case .user(let user): (userId, userGroupId) = (APIID(user), nil)
        case .group(let group): (userId, userGroupId) = (nil, APIID(group))
        }
        granteeName = assignment.granteeName
        switch assignment.grant {
        case .permSet(let code): (permSetCode, permCode) = (code, nil)
        case .permission(let code): (permSetCode, permCode) = (nil, code)
        }
        createdAt = assignment.createdAt
    }

    /// The page key: creation time and id, the order of `auth.list_permission_assignments`.
    var cursorKey: String { PageRequest.key(createdAt: createdAt, id: assignmentId.text) }
}

/// One path that grants a code, or the reason none does (`auth.explain_permission`).
struct ExplanationView: ResponseEncodable, Sendable {
    let granted: Bool
    let path: String?
    let reason: String?
    let userGroupId: APIID?
    let userGroupCode: String?
    let permSetCode: String?
    let grantedCode: String?
    let assignmentId: APIID?

    init(_ explanation: PermissionExplanation) {
        granted = explanation.granted
        path = explanation.path?.rawValue
        reason = explanation.reason?.rawValue
        userGroupId = explanation.groupID.map(APIID.init)
        userGroupCode = explanation.groupCode
        permSetCode = explanation.permSetCode
        grantedCode = explanation.grantedCode
        assignmentId = explanation.assignmentID.map(APIID.init)
    }
}

struct StatisticsView: ResponseEncodable, Sendable {
    let tenantName: String
    let userCount: Int
    let groupCount: Int
    let permissionSetCount: Int
    let assignmentCount: Int

    init(_ statistics: TenantStatistics) {
        tenantName = statistics.tenantName
        userCount = statistics.userCount
        groupCount = statistics.groupCount
        permissionSetCount = statistics.permissionSetCount
        assignmentCount = statistics.assignmentCount
    }
}

/// An audit row; `details` is the row as written (`{"new": ...}`, `{"old": ...}` or both).
struct AuditEntryView: ResponseEncodable, Sendable {
    let auditId: Int64
    let occurredAt: Date
    let actorUserId: APIID?
    let dbRole: String
    let action: String
    let details: JSONValue

    init(_ entry: AuditEntry) throws {
        auditId = entry.id
        occurredAt = entry.occurredAt
        actorUserId = entry.actor.map(APIID.init)
        dbRole = entry.databaseRole
        action = entry.action
        details = try JSONDecoder().decode(JSONValue.self, from: Data(entry.details.utf8))
    }
}

/// Any JSON, passed through as it came (the audit log's row images).
enum JSONValue: Codable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}
