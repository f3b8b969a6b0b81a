import Foundation
import Permissions

/// One step of a model-based run: a call of an `auth` function (through ``AuthClient``) or a
/// direct DML statement on the tables, as DBAs do. Ids are concrete, so an operation can name
/// an unknown id or another tenant's group on purpose.
enum ModelOperation: Sendable {
    /// What a direct `INSERT INTO auth.permission_assignment` grants: a set by id, or a code
    /// (looked up with a subquery, so an unknown code becomes NULL and breaks a CHECK).
    enum RowGrant: Sendable, Hashable {
        case permSet(PermSetID)
        case permission(String)
    }

    // Tenants
    case createTenant(code: String, owner: UserID?)
    case deleteTenant(TenantID)
    case deactivateTenant(TenantID)
    case activateTenant(TenantID)
    case sqlSetTenantActive(TenantID, Bool)
    // Users
    case createUser(username: String)
    case deactivateUser(UserID)
    case activateUser(UserID)
    case sqlSetUserActive(UserID, Bool)
    case sqlDeleteUser(UserID)
    case deleteUser(UserID, force: Bool)
    // Memberships of tenants
    case addUserToTenant(TenantID, UserID)
    case removeUserFromTenant(TenantID, UserID, hard: Bool)
    case sqlInsertMembership(TenantID, UserID)
    case sqlSetMembershipActive(TenantID, UserID, Bool)
    case sqlDeleteMembership(TenantID, UserID)
    // Ownership
    case assignTenantOwner(TenantID, UserID)
    case transferTenantOwnership(TenantID, UserID)
    case assignGroupOwner(TenantID, UserGroupID, UserID)
    case sqlReassignTenantOwner(TenantID, UserID)
    case sqlPromoteGroupOwner(UserGroupID, UserID)
    case sqlDeleteTenantOwners(TenantID)
    // Groups and their members
    case createGroup(TenantID, code: String)
    case deleteGroup(TenantID, UserGroupID)
    case deactivateGroup(TenantID, UserGroupID)
    case activateGroup(TenantID, UserGroupID)
    case sqlSetGroupActive(UserGroupID, Bool)
    case sqlDeleteGroup(UserGroupID)
    case sqlMoveGroupToTenant(UserGroupID, TenantID)
    case addUserToGroup(TenantID, UserGroupID, UserID)
    case removeUserFromGroup(TenantID, UserGroupID, UserID)
    case sqlInsertGroupMember(TenantID, UserGroupID, UserID)
    case sqlDeleteGroupMember(UserGroupID, UserID)
    case sqlMoveGroupMember(from: UserGroupID, to: UserGroupID, UserID)
    // Permission sets
    case createPermSet(TenantID, code: String)
    case addToPermSet(TenantID, setCode: String, codes: [String])
    case removeFromPermSet(TenantID, setCode: String, codes: [String])
    case deletePermSet(TenantID, setCode: String, force: Bool)
    case sqlInsertPermSetCode(PermSetID, String)
    case sqlEmptyPermSet(PermSetID)
    case sqlDeletePermSet(PermSetID)
    // Assignments
    case assign(TenantID, Grantee, Grant)
    case unassign(TenantID, Grantee, Grant)
    case sqlInsertAssignment(TenantID, Grantee, RowGrant)
    case sqlDeleteUserAssignments(TenantID, UserID)
    case sqlMoveGroupAssignments(from: UserGroupID, to: UserGroupID)
    // Codes granted, denied or revoked on one resource
    case grantResource(TenantID, Resource, String, Grantee)
    case denyResource(TenantID, Resource, String, Grantee)
    case revokeResource(TenantID, Resource, String, Grantee)
    // Catalogue (global)
    case createPermission(String)
    case deletePermission(String, force: Bool)
    case sqlDeletePermissionSubtree(String)
    /// Deletes one catalogue row, leaving its descendants in the catalogue.
    case sqlDeletePermissionRow(String)
    // Statements touching several rows, possibly in several tenants
    case sqlSetTenantGroupsActive(TenantID, Bool)
    case sqlFlipMemberships(TenantID)
    case sqlFlipAllTenants
    case sqlRemoveUserFromAllGroups(UserID)
    case sqlMoveUserAssignments(TenantID, from: UserID, to: UserID)
    /// Several operations in one transaction: the first error rolls them all back.
    indirect case transaction([ModelOperation])

    /// The operation's name without arguments, for coverage counts.
    var kind: String {
        String(String(describing: self).prefix { $0 != "(" })
    }

    /// A readable form with ids replaced by `name(id)`, for failure messages.
    func describe(_ name: (UUID) -> String) -> String {
        func g(_ grantee: Grantee) -> String {
            switch grantee {
            case .user(let u): "user \(name(u.rawValue))"
            case .group(let g): "group \(name(g.rawValue))"
            }
        }
        func gr(_ grant: Grant) -> String {
            switch grant {
            case .permSet(let c): "set '\(c)'"
            case .permission(let c): "code '\(c)'"
            }
        }
        switch self {
        case .createTenant(let code, let owner): return "createTenant(\(code), owner: \(owner.map { name($0.rawValue) } ?? "none"))"
        case .deleteTenant(let t): return "deleteTenant(\(name(t.rawValue)))"
        case .deactivateTenant(let t): return "deactivateTenant(\(name(t.rawValue)))"
        case .activateTenant(let t): return "activateTenant(\(name(t.rawValue)))"
        case .sqlSetTenantActive(let t, let b): return "SQL UPDATE tenant \(name(t.rawValue)) SET is_active = \(b)"
        case .createUser(let u): return "createUser(\(u))"
        case .deactivateUser(let u): return "deactivateUser(\(name(u.rawValue)))"
        case .activateUser(let u): return "activateUser(\(name(u.rawValue)))"
        case .sqlSetUserActive(let u, let b): return "SQL UPDATE user_info \(name(u.rawValue)) SET is_active = \(b)"
        case .sqlDeleteUser(let u): return "SQL DELETE user_info \(name(u.rawValue))"
        case .deleteUser(let u, let force): return "deleteUser(\(name(u.rawValue)), force: \(force))"
        case .addUserToTenant(let t, let u): return "addUserToTenant(\(name(t.rawValue)), \(name(u.rawValue)))"
        case .removeUserFromTenant(let t, let u, let hard):
            return "removeUserFromTenant(\(name(t.rawValue)), \(name(u.rawValue)), hard: \(hard))"
        case .sqlInsertMembership(let t, let u): return "SQL INSERT tenant_user (\(name(t.rawValue)), \(name(u.rawValue)))"
        case .sqlSetMembershipActive(let t, let u, let b):
            return "SQL UPDATE tenant_user (\(name(t.rawValue)), \(name(u.rawValue))) SET is_active = \(b)"
        case .sqlDeleteMembership(let t, let u): return "SQL DELETE tenant_user (\(name(t.rawValue)), \(name(u.rawValue)))"
        case .assignTenantOwner(let t, let u): return "assignTenantOwner(\(name(t.rawValue)), \(name(u.rawValue)))"
        case .transferTenantOwnership(let t, let u): return "transferTenantOwnership(\(name(t.rawValue)), \(name(u.rawValue)))"
        case .assignGroupOwner(let t, let gr, let u):
            return "assignGroupOwner(\(name(t.rawValue)), \(name(gr.rawValue)), \(name(u.rawValue)))"
        case .sqlReassignTenantOwner(let t, let u):
            return "SQL UPDATE owner SET user_id = \(name(u.rawValue)) WHERE tenant \(name(t.rawValue)) AND group IS NULL"
        case .sqlPromoteGroupOwner(let gr, let u):
            return "SQL UPDATE owner SET user_group_id = NULL WHERE group \(name(gr.rawValue)) AND user \(name(u.rawValue))"
        case .sqlDeleteTenantOwners(let t): return "SQL DELETE owner WHERE tenant \(name(t.rawValue)) AND group IS NULL"
        case .createGroup(let t, let code): return "createGroup(\(name(t.rawValue)), \(code))"
        case .deleteGroup(let t, let gr): return "deleteGroup(\(name(t.rawValue)), \(name(gr.rawValue)))"
        case .deactivateGroup(let t, let gr): return "deactivateGroup(\(name(t.rawValue)), \(name(gr.rawValue)))"
        case .activateGroup(let t, let gr): return "activateGroup(\(name(t.rawValue)), \(name(gr.rawValue)))"
        case .sqlSetGroupActive(let gr, let b): return "SQL UPDATE user_group \(name(gr.rawValue)) SET is_active = \(b)"
        case .sqlDeleteGroup(let gr): return "SQL DELETE user_group \(name(gr.rawValue))"
        case .sqlMoveGroupToTenant(let gr, let t): return "SQL UPDATE user_group \(name(gr.rawValue)) SET tenant_id = \(name(t.rawValue))"
        case .addUserToGroup(let t, let gr, let u):
            return "addUserToGroup(\(name(t.rawValue)), \(name(gr.rawValue)), \(name(u.rawValue)))"
        case .removeUserFromGroup(let t, let gr, let u):
            return "removeUserFromGroup(\(name(t.rawValue)), \(name(gr.rawValue)), \(name(u.rawValue)))"
        case .sqlInsertGroupMember(let t, let gr, let u):
            return "SQL INSERT user_group_member (\(name(t.rawValue)), \(name(gr.rawValue)), \(name(u.rawValue)))"
        case .sqlDeleteGroupMember(let gr, let u): return "SQL DELETE user_group_member (\(name(gr.rawValue)), \(name(u.rawValue)))"
        case .sqlMoveGroupMember(let from, let to, let u):
            return "SQL UPDATE user_group_member SET group = \(name(to.rawValue)) WHERE group \(name(from.rawValue)) AND user \(name(u.rawValue))"
        case .createPermSet(let t, let code): return "createPermSet(\(name(t.rawValue)), \(code))"
        case .addToPermSet(let t, let s, let codes): return "addPermSetPermissions(\(name(t.rawValue)), \(s), \(codes))"
        case .removeFromPermSet(let t, let s, let codes): return "removePermSetPermissions(\(name(t.rawValue)), \(s), \(codes))"
        case .deletePermSet(let t, let s, let force): return "deletePermSet(\(name(t.rawValue)), \(s), force: \(force))"
        case .sqlInsertPermSetCode(let s, let c): return "SQL INSERT perm_set_permission (\(name(s.rawValue)), '\(c)')"
        case .sqlEmptyPermSet(let s): return "SQL DELETE perm_set_permission WHERE set \(name(s.rawValue))"
        case .sqlDeletePermSet(let s): return "SQL DELETE perm_set \(name(s.rawValue))"
        case .assign(let t, let who, let what): return "assignPermission(\(name(t.rawValue)), \(g(who)), \(gr(what)))"
        case .unassign(let t, let who, let what): return "unassignPermission(\(name(t.rawValue)), \(g(who)), \(gr(what)))"
        case .sqlInsertAssignment(let t, let who, let what):
            let grant = switch what {
            case .permSet(let s): "set \(name(s.rawValue))"
            case .permission(let c): "code '\(c)'"
            }
            return "SQL INSERT permission_assignment (\(name(t.rawValue)), \(g(who)), \(grant))"
        case .sqlDeleteUserAssignments(let t, let u):
            return "SQL DELETE permission_assignment WHERE tenant \(name(t.rawValue)) AND user \(name(u.rawValue))"
        case .sqlMoveGroupAssignments(let from, let to):
            return "SQL UPDATE permission_assignment SET group = \(name(to.rawValue)) WHERE group \(name(from.rawValue))"
        case .grantResource(let t, let r, let c, let who):
            return "grantResourcePermission(\(name(t.rawValue)), \(r.type)/\(r.id), '\(c)', \(g(who)))"
        case .denyResource(let t, let r, let c, let who):
            return "denyResourcePermission(\(name(t.rawValue)), \(r.type)/\(r.id), '\(c)', \(g(who)))"
        case .revokeResource(let t, let r, let c, let who):
            return "revokeResourcePermission(\(name(t.rawValue)), \(r.type)/\(r.id), '\(c)', \(g(who)))"
        case .createPermission(let c): return "createPermission('\(c)')"
        case .deletePermission(let c, let force): return "deletePermission('\(c)', force: \(force))"
        case .sqlDeletePermissionSubtree(let c): return "SQL DELETE permission '\(c)' and its descendants"
        case .sqlDeletePermissionRow(let c): return "SQL DELETE permission '\(c)' (the row only)"
        case .sqlSetTenantGroupsActive(let t, let b): return "SQL UPDATE user_group SET is_active = \(b) WHERE tenant \(name(t.rawValue))"
        case .sqlFlipMemberships(let t): return "SQL UPDATE tenant_user SET is_active = NOT is_active WHERE tenant \(name(t.rawValue))"
        case .sqlFlipAllTenants: return "SQL UPDATE tenant SET is_active = NOT is_active"
        case .sqlRemoveUserFromAllGroups(let u): return "SQL DELETE user_group_member WHERE user \(name(u.rawValue))"
        case .sqlMoveUserAssignments(let t, let from, let to):
            return "SQL UPDATE permission_assignment SET user = \(name(to.rawValue)) WHERE tenant \(name(t.rawValue)) AND user \(name(from.rawValue))"
        case .transaction(let operations):
            return "BEGIN; " + operations.map { $0.describe(name) }.joined(separator: "; ") + "; COMMIT"
        }
    }
}
