import Foundation
import Permissions

/// The rules of DESIGN.md §3, written plainly, as a reference for the database.
///
/// The state mirrors the `auth` tables the rules depend on. ``apply(_:createdID:)`` returns the
/// SQLSTATE the database must raise for an operation, or nil when it must succeed; an operation
/// that fails leaves the model unchanged, as a failed statement leaves the database (nothing is
/// lost on bad input). ``hasPermission(tenant:user:code:)`` is the check, written from the rule:
///
///   effective permissions of U in T = U's direct assignments in T ∪ the assignments in T of the
///   *active* groups of T that U is a member of, only while T, U and U's membership of T are all
///   active; a tenant owner passes every check under the same three conditions; holding a code
///   grants its descendants, never its parent.
///
/// ``hasResourcePermission(tenant:user:resource:code:)`` is the check on one resource (issue 20):
/// the same live access; the owner passes; a deny there of the code or an ancestor, to the user or
/// an active group of theirs, refuses, overriding every grant; else a grant there of the code or
/// an ancestor, or the code held tenant-wide, grants.
struct PermissionsModel {
    struct Tenant {
        var code: String
        var isActive = true
        /// Members of the tenant and whether each membership is active (soft removal keeps the row).
        var members: [UserID: Bool] = [:]
        var owners: Set<UserID> = []
        var groups: [UserGroupID: Group] = [:]
        /// Keyed by code, unique within the tenant.
        var permSets: [String: PermSet] = [:]
        var assignments: Set<Assignment> = []
        /// Rows of auth.resource_grant: one state per (resource, grantee, code), true for a deny.
        var resourceGrants: [ResourceGrantKey: Bool] = [:]
    }

    struct ResourceGrantKey: Hashable {
        var resource: Resource
        var grantee: Grantee
        var code: String
    }

    struct Group {
        var code: String
        var isActive = true
        var members: Set<UserID> = []
        /// Group owners: rights over the group only, never a permission.
        var owners: Set<UserID> = []
    }

    struct PermSet {
        var id: PermSetID
        var codes: Set<String> = []
    }

    /// A row of auth.permission_assignment inside one tenant.
    struct Assignment: Hashable {
        enum Grant: Hashable {
            case permSet(PermSetID)
            case permission(String)
        }
        var grantee: Grantee
        var grant: Grant
    }

    struct User {
        var username: String
        var isActive = true
    }

    private(set) var tenants: [TenantID: Tenant] = [:]
    private(set) var users: [UserID: User] = [:]
    /// The global catalogue of codes.
    private(set) var catalogue: Set<String> = []
    /// A readable name for every id the run has created, for failure messages.
    private(set) var names: [UUID: String] = [:]
    /// Numbers groups and sets, so that a code re-created after a delete gets a new name.
    private var serial = 0
    /// Creation order of every id. Ids come from gen_random_uuid() and dictionaries iterate in
    /// a per-process order, so the generator sorts by this to stay reproducible.
    private(set) var creationOrder: [UUID: Int] = [:]

    /// `ids` in creation order.
    func inOrder<ID: EntityID>(_ ids: some Sequence<ID>) -> [ID] {
        ids.sorted { (creationOrder[$0.rawValue] ?? .max, $0.rawValue.uuidString) < (creationOrder[$1.rawValue] ?? .max, $1.rawValue.uuidString) }
    }

    private mutating func created(_ id: UUID, name: String) {
        names[id] = name
        creationOrder[id] = creationOrder.count
    }

    func name(_ id: UUID) -> String { names[id] ?? "unknown-\(id.uuidString.prefix(8).lowercased())" }

    // MARK: - The check

    /// Whether `held` grants `code`: the same code or one of its ancestors.
    static func grants(_ held: String, _ code: String) -> Bool {
        held == code || code.hasPrefix(held + ".")
    }

    /// True when the user's membership of the tenant is live: tenant, user and membership active.
    func hasLiveMembership(tenant: TenantID, user: UserID) -> Bool {
        guard let t = tenants[tenant], t.isActive, users[user]?.isActive == true else { return false }
        return t.members[user] == true
    }

    /// The codes the user holds in the tenant (not expanded to descendants).
    func heldCodes(tenant tenantID: TenantID, user: UserID) -> Set<String> {
        guard let tenant = tenants[tenantID] else { return [] }
        var held: Set<String> = []
        for assignment in tenant.assignments {
            switch assignment.grantee {
            case .user(let u):
                guard u == user else { continue }
            case .group(let g):
                // Only active groups of the tenant the user is a member of.
                guard let group = tenant.groups[g], group.isActive, group.members.contains(user) else { continue }
            }
            switch assignment.grant {
            case .permission(let code): held.insert(code)
            case .permSet(let id):
                if let set = tenant.permSets.values.first(where: { $0.id == id }) { held.formUnion(set.codes) }
            }
        }
        return held
    }

    /// `auth.has_permission` for a code in the catalogue.
    func hasPermission(tenant: TenantID, user: UserID, code: String) -> Bool {
        guard hasLiveMembership(tenant: tenant, user: user) else { return false }
        if tenants[tenant]!.owners.contains(user) { return true }
        return heldCodes(tenant: tenant, user: user).contains { Self.grants($0, code) }
    }

    /// Why `auth.has_resource_permission` answers as it does, for the run's coverage counts.
    enum ResourceDecision: Equatable {
        case noLiveAccess, owner
        /// A deny there; `overriding` when a grant (there or tenant-wide) would have granted.
        case denied(overriding: Bool)
        /// A grant there; `inherited` when only through an ancestor of the code.
        case grantedThere(inherited: Bool)
        case tenantWide
        case notGranted

        var granted: Bool {
            switch self {
            case .owner, .grantedThere, .tenantWide: true
            case .noLiveAccess, .denied, .notGranted: false
            }
        }
    }

    /// `auth.has_resource_permission` for a code in the catalogue, with the reason.
    func resourceDecision(tenant tenantID: TenantID, user: UserID, resource: Resource, code: String) -> ResourceDecision {
        guard hasLiveMembership(tenant: tenantID, user: user) else { return .noLiveAccess }
        let tenant = tenants[tenantID]!
        if tenant.owners.contains(user) { return .owner }
        var denied = false, grantedExactly = false, grantedByAncestor = false
        for (key, isDeny) in tenant.resourceGrants where key.resource == resource && Self.grants(key.code, code) {
            switch key.grantee {
            case .user(let u):
                guard u == user else { continue }
            case .group(let g):
                // Only active groups of the tenant the user is a member of.
                guard let group = tenant.groups[g], group.isActive, group.members.contains(user) else { continue }
            }
            if isDeny {
                denied = true
            } else if key.code == code {
                grantedExactly = true
            } else {
                grantedByAncestor = true
            }
        }
        let tenantWide = heldCodes(tenant: tenantID, user: user).contains { Self.grants($0, code) }
        if denied { return .denied(overriding: grantedExactly || grantedByAncestor || tenantWide) }
        if grantedExactly || grantedByAncestor { return .grantedThere(inherited: !grantedExactly) }
        return tenantWide ? .tenantWide : .notGranted
    }

    func hasResourcePermission(tenant: TenantID, user: UserID, resource: Resource, code: String) -> Bool {
        resourceDecision(tenant: tenant, user: user, resource: resource, code: code).granted
    }

    /// `auth.filter_resource_ids`: the ids given, once each in their first place, that pass the check.
    func filterResourceIDs(tenant: TenantID, user: UserID, type: String, ids: [String], code: String) -> [String] {
        var seen: Set<String> = []
        return ids.filter {
            seen.insert($0).inserted && hasResourcePermission(tenant: tenant, user: user, resource: Resource(type: type, id: $0), code: code)
        }
    }

    /// `auth.get_user_permissions`: every catalogue code the user passes the check for.
    func userPermissions(tenant: TenantID, user: UserID) -> Set<String> {
        catalogue.filter { hasPermission(tenant: tenant, user: user, code: $0) }
    }

    // MARK: - Lookups the generator uses

    /// True when `code` or one of its descendants is in a set, directly assigned, or granted or
    /// denied on a resource (auth.delete_permission refuses it).
    func isInUse(_ code: String) -> Bool {
        tenants.values.contains { tenant in
            tenant.permSets.values.contains { $0.codes.contains { Self.grants(code, $0) } }
                || tenant.assignments.contains { if case .permission(let c) = $0.grant { Self.grants(code, c) } else { false } }
                || tenant.resourceGrants.keys.contains { Self.grants(code, $0.code) }
        }
    }

    func tenant(of group: UserGroupID) -> TenantID? {
        tenants.first { $0.value.groups[group] != nil }?.key
    }

    func permSet(_ id: PermSetID) -> (tenant: TenantID, code: String)? {
        for (tenantID, tenant) in tenants {
            if let (code, _) = tenant.permSets.first(where: { $0.value.id == id }) { return (tenantID, code) }
        }
        return nil
    }

    // MARK: - Applying operations

    /// SQLSTATEs the database raises, by name.
    enum Code {
        static let foreignKey = "23503", unique = "23505", check = "23514"
    }

    /// Applies `operation` and returns the SQLSTATE the database must raise, or nil. On an
    /// error nothing changes. `createdID` is the id the database returned for a create.
    mutating func apply(_ operation: ModelOperation, createdID: UUID?) -> String? {
        var next = self
        let error = next.applyOrFail(operation, createdID: createdID ?? UUID())
        if error == nil { self = next }
        return error
    }

    private func tenantError(_ t: TenantID) -> String? { tenants[t] == nil ? "QN001" : nil }
    private func userError(_ u: UserID) -> String? { users[u] == nil ? "QN002" : nil }
    private func groupError(_ t: TenantID, _ g: UserGroupID) -> String? { tenants[t]?.groups[g] == nil ? "QN005" : nil }
    private func memberError(_ t: TenantID, _ u: UserID) -> String? { tenants[t]?.members[u] == nil ? "QN006" : nil }

    /// What auth.raise_permission_not_found says about a code missing from the catalogue.
    private static func missingCodeError(_ code: String) -> String {
        code.range(of: #"^[a-z0-9_]+(\.[a-z0-9_]+)*$"#, options: .regularExpression) == nil ? "QI002" : "QN003"
    }

    /// What auth.assert_resource says about a resource: QI001 for a blank type or id, QI011 for a
    /// malformed type or an id over 255 characters.
    private static func resourceError(_ resource: Resource) -> String? {
        if resource.type.trimmingCharacters(in: .whitespaces).isEmpty || resource.id.trimmingCharacters(in: .whitespaces).isEmpty {
            return "QI001"
        }
        let validType = resource.type.range(of: #"^[a-z][a-z0-9_]{0,62}$"#, options: .regularExpression) != nil
        return validType && resource.id.count <= 255 ? nil : "QI011"
    }

    private static func isValidCode(_ code: String) -> Bool {
        code.range(of: #"^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$"#, options: .regularExpression) != nil
    }

    /// The first error of `auth.find_permissions`, in argument order.
    private func codesError(_ codes: [String]) -> String? {
        if codes.isEmpty { return "QI001" }
        return codes.first { !catalogue.contains($0) }.map(Self.missingCodeError)
    }

    private mutating func applyOrFail(_ operation: ModelOperation, createdID: UUID) -> String? {
        switch operation {
        // Tenants ------------------------------------------------------------------------
        case .createTenant(let code, let owner):
            if let owner, let e = userError(owner) { return e }
            if tenants.values.contains(where: { $0.code == code }) { return "QD001" }
            let id = TenantID(createdID)
            var tenant = Tenant(code: code)
            if let owner { tenant.members[owner] = true; tenant.owners = [owner] }
            tenants[id] = tenant
            created(createdID, name: code)
        case .deleteTenant(let t):
            if let e = tenantError(t) { return e }
            tenants[t] = nil
        case .deactivateTenant(let t), .activateTenant(let t):
            if let e = tenantError(t) { return e }
            if case .activateTenant = operation { tenants[t]!.isActive = true } else { tenants[t]!.isActive = false }
        case .sqlSetTenantActive(let t, let active):
            tenants[t]?.isActive = active

        // Users --------------------------------------------------------------------------
        case .createUser(let username):
            if users.values.contains(where: { $0.username.lowercased() == username.lowercased() }) { return "QD002" }
            users[UserID(createdID)] = User(username: username)
            created(createdID, name: username)
        case .deactivateUser(let u), .activateUser(let u):
            if let e = userError(u) { return e }
            if case .activateUser = operation { users[u]!.isActive = true } else { users[u]!.isActive = false }
        case .sqlSetUserActive(let u, let active):
            users[u]?.isActive = active
        case .sqlDeleteUser(let u):
            // Cascades to every membership, and from there to groups, ownerships and assignments.
            removeUser(u)
        case .deleteUser(let u, let force):
            if let e = userError(u) { return e }
            // A tenant must not silently lose its owner, unless forced.
            if !force, tenants.values.contains(where: { $0.owners.contains(u) }) { return "QS002" }
            removeUser(u)

        // Memberships --------------------------------------------------------------------
        case .addUserToTenant(let t, let u):
            if let e = tenantError(t) ?? userError(u) { return e }
            if tenants[t]!.members[u] == true { return "QD006" }
            tenants[t]!.members[u] = true
        case .removeUserFromTenant(let t, let u, let hard):
            if let e = tenantError(t) ?? userError(u) ?? memberError(t, u) { return e }
            // A tenant must not silently lose its owner.
            if tenants[t]!.owners.contains(u) { return "QS002" }
            if hard { removeMembership(t, u) } else { tenants[t]!.members[u] = false }
        case .sqlInsertMembership(let t, let u):
            if tenants[t]?.members[u] != nil { return Code.unique }
            if tenants[t] == nil || users[u] == nil { return Code.foreignKey }
            tenants[t]!.members[u] = true
        case .sqlSetMembershipActive(let t, let u, let active):
            if tenants[t]?.members[u] != nil { tenants[t]!.members[u] = active }
        case .sqlDeleteMembership(let t, let u):
            // Direct DML may remove even an owner: the ownership goes with the membership.
            removeMembership(t, u)

        // Ownership ----------------------------------------------------------------------
        case .assignTenantOwner(let t, let u):
            // A current owner is no error: the result holds (the membership is reactivated).
            if let e = tenantError(t) ?? userError(u) { return e }
            tenants[t]!.members[u] = true
            tenants[t]!.owners.insert(u)
        case .transferTenantOwnership(let t, let u):
            if let e = tenantError(t) ?? userError(u) { return e }
            tenants[t]!.members[u] = true
            tenants[t]!.owners = [u]
        case .assignGroupOwner(let t, let g, let u):
            if let e = tenantError(t) ?? groupError(t, g) ?? userError(u) ?? memberError(t, u) { return e }
            tenants[t]!.groups[g]!.owners.insert(u)
        case .sqlReassignTenantOwner(let t, let u):
            // UPDATE auth.owner SET user_id = u WHERE tenant_id = t AND user_group_id IS NULL.
            guard let owners = tenants[t]?.owners, !owners.isEmpty else { return nil }
            // The trigger names an unknown user with our SQLSTATE.
            if users[u] == nil { return "QN002" }
            // Several owner rows all become (t, u): they merge into one, as a transfer.
            // An existing membership is kept as it is, even inactive.
            if tenants[t]!.members[u] == nil { tenants[t]!.members[u] = true }
            tenants[t]!.owners = [u]
        case .sqlPromoteGroupOwner(let g, let u):
            // UPDATE auth.owner SET user_group_id = NULL: the group owner becomes a tenant owner.
            guard let t = tenant(of: g), tenants[t]!.groups[g]!.owners.contains(u) else { return nil }
            // Already a tenant owner: the row merges into that ownership.
            tenants[t]!.groups[g]!.owners.remove(u)
            tenants[t]!.owners.insert(u)
        case .sqlDeleteTenantOwners(let t):
            tenants[t]?.owners = []

        // Groups -------------------------------------------------------------------------
        case .createGroup(let t, let code):
            if let e = tenantError(t) { return e }
            if !Self.isValidCode(code) { return "QI003" }
            if tenants[t]!.groups.values.contains(where: { $0.code == code }) { return "QD004" }
            tenants[t]!.groups[UserGroupID(createdID)] = Group(code: code)
            serial += 1
            created(createdID, name: "\(tenants[t]!.code)/\(code)#\(serial)")
        case .deleteGroup(let t, let g):
            if let e = tenantError(t) ?? groupError(t, g) { return e }
            removeGroup(t, g)
        case .deactivateGroup(let t, let g), .activateGroup(let t, let g):
            if let e = tenantError(t) ?? groupError(t, g) { return e }
            if case .activateGroup = operation {
                tenants[t]!.groups[g]!.isActive = true
            } else {
                tenants[t]!.groups[g]!.isActive = false
            }
        case .sqlSetGroupActive(let g, let active):
            if let t = tenant(of: g) { tenants[t]!.groups[g]!.isActive = active }
        case .sqlDeleteGroup(let g):
            if let t = tenant(of: g) { removeGroup(t, g) }
        case .sqlMoveGroupToTenant(let g, let target):
            // tenant_id of a group is immutable (a trigger raises QS003).
            if let t = tenant(of: g), t != target { return "QS003" }
        case .addUserToGroup(let t, let g, let u):
            if let e = tenantError(t) ?? groupError(t, g) ?? userError(u) ?? memberError(t, u) { return e }
            if tenants[t]!.groups[g]!.members.contains(u) { return "QD007" }
            tenants[t]!.groups[g]!.members.insert(u)
        case .removeUserFromGroup(let t, let g, let u):
            if let e = tenantError(t) ?? groupError(t, g) ?? userError(u) { return e }
            if !tenants[t]!.groups[g]!.members.contains(u) { return "QN008" }
            tenants[t]!.groups[g]!.members.remove(u)
        case .sqlInsertGroupMember(let t, let g, let u):
            // The primary key (group, user) is checked before the foreign keys.
            if let gt = tenant(of: g), tenants[gt]!.groups[g]!.members.contains(u) { return Code.unique }
            if tenants[t]?.groups[g] == nil || tenants[t]?.members[u] == nil { return Code.foreignKey }
            tenants[t]!.groups[g]!.members.insert(u)
        case .sqlDeleteGroupMember(let g, let u):
            if let t = tenant(of: g) { tenants[t]!.groups[g]!.members.remove(u) }
        case .sqlMoveGroupMember(let from, let to, let u):
            // (Moving a row onto itself changes nothing.)
            guard from != to, let t = tenant(of: from), tenants[t]!.groups[from]!.members.contains(u) else { return nil }
            if let tt = tenant(of: to), tenants[tt]!.groups[to]!.members.contains(u) { return Code.unique }
            // The row keeps its tenant: the target group must be in it.
            if tenants[t]!.groups[to] == nil { return Code.foreignKey }
            tenants[t]!.groups[from]!.members.remove(u)
            tenants[t]!.groups[to]!.members.insert(u)

        // Permission sets ----------------------------------------------------------------
        case .createPermSet(let t, let code):
            if let e = tenantError(t) { return e }
            if !Self.isValidCode(code) { return "QI003" }
            if tenants[t]!.permSets[code] != nil { return "QD003" }
            tenants[t]!.permSets[code] = PermSet(id: PermSetID(createdID))
            serial += 1
            created(createdID, name: "\(tenants[t]!.code)/\(code)#\(serial)")
        case .addToPermSet(let t, let setCode, let codes), .removeFromPermSet(let t, let setCode, let codes):
            if let e = tenantError(t) { return e }
            if tenants[t]!.permSets[setCode] == nil { return "QN004" }
            if let e = codesError(codes) { return e }
            if case .addToPermSet = operation {
                tenants[t]!.permSets[setCode]!.codes.formUnion(codes)
            } else {
                tenants[t]!.permSets[setCode]!.codes.subtract(codes)
            }
        case .deletePermSet(let t, let setCode, let force):
            if let e = tenantError(t) { return e }
            guard let set = tenants[t]!.permSets[setCode] else { return "QN004" }
            // An assigned set is refused unless forced; forced, its assignments go with it.
            if !force, tenants[t]!.assignments.contains(where: { $0.grant == .permSet(set.id) }) { return "QS004" }
            removePermSet(t, set.id)
        case .sqlInsertPermSetCode(let s, let code):
            // INSERT ... SELECT $1, permission_id FROM auth.permission WHERE code = $2: no row for an unknown code.
            guard catalogue.contains(code) else { return nil }
            guard let (t, setCode) = permSet(s) else { return Code.foreignKey }
            if tenants[t]!.permSets[setCode]!.codes.contains(code) { return Code.unique }
            tenants[t]!.permSets[setCode]!.codes.insert(code)
        case .sqlEmptyPermSet(let s):
            if let (t, setCode) = permSet(s) { tenants[t]!.permSets[setCode]!.codes = [] }
        case .sqlDeletePermSet(let s):
            if let (t, _) = permSet(s) { removePermSet(t, s) }

        // Assignments --------------------------------------------------------------------
        case .assign(let t, let grantee, let grant), .unassign(let t, let grantee, let grant):
            // auth.resolve_assignment: tenant, then grantee, then the set or code.
            if let e = tenantError(t) { return e }
            switch grantee {
            case .user(let u): if let e = userError(u) ?? memberError(t, u) { return e }
            case .group(let g): if let e = groupError(t, g) { return e }
            }
            let row: Assignment
            switch grant {
            case .permSet(let code):
                guard let set = tenants[t]!.permSets[code] else { return "QN004" }
                row = Assignment(grantee: grantee, grant: .permSet(set.id))
            case .permission(let code):
                if !catalogue.contains(code) { return Self.missingCodeError(code) }
                row = Assignment(grantee: grantee, grant: .permission(code))
            }
            if case .assign = operation {
                if tenants[t]!.assignments.contains(row) { return "QD008" }
                tenants[t]!.assignments.insert(row)
            } else {
                if tenants[t]!.assignments.remove(row) == nil { return "QN007" }
            }
        case .sqlInsertAssignment(let t, let grantee, let rowGrant):
            let grant: Assignment.Grant
            switch rowGrant {
            case .permSet(let s): grant = .permSet(s)
            case .permission(let code):
                // The subquery yields NULL: neither a set nor a code, so the CHECK fails first.
                guard catalogue.contains(code) else { return Code.check }
                grant = .permission(code)
            }
            let row = Assignment(grantee: grantee, grant: grant)
            if tenants[t]?.assignments.contains(row) == true { return Code.unique }
            // Composite foreign keys keep everything inside the tenant.
            let granteeOK = switch grantee {
            case .user(let u): tenants[t]?.members[u] != nil
            case .group(let g): tenants[t]?.groups[g] != nil
            }
            let grantOK = switch rowGrant {
            case .permSet(let s): permSet(s)?.tenant == t
            case .permission: true
            }
            if !granteeOK || !grantOK { return Code.foreignKey }
            tenants[t]!.assignments.insert(row)
        case .sqlDeleteUserAssignments(let t, let u):
            if let kept = tenants[t]?.assignments.filter({ $0.grantee != .user(u) }) { tenants[t]!.assignments = kept }
        case .sqlMoveGroupAssignments(let from, let to):
            guard from != to, let t = tenant(of: from) else { return nil }
            let moving = tenants[t]!.assignments.filter { $0.grantee == .group(from) }
            guard !moving.isEmpty else { return nil }
            let moved = Set(moving.map { Assignment(grantee: .group(to), grant: $0.grant) })
            if !moved.isDisjoint(with: tenants[t]!.assignments) { return Code.unique }
            if tenants[t]!.groups[to] == nil { return Code.foreignKey }
            tenants[t]!.assignments.subtract(moving)
            tenants[t]!.assignments.formUnion(moved)

        // Resource grants ----------------------------------------------------------------
        case .grantResource(let t, let resource, let code, let grantee), .denyResource(let t, let resource, let code, let grantee),
             .revokeResource(let t, let resource, let code, let grantee):
            // auth.assert_resource_grantee: tenant, resource, grantee; then the code.
            if let e = tenantError(t) ?? Self.resourceError(resource) { return e }
            switch grantee {
            case .user(let u): if let e = userError(u) ?? memberError(t, u) { return e }
            case .group(let g): if let e = groupError(t, g) { return e }
            }
            if !catalogue.contains(code) { return Self.missingCodeError(code) }
            let key = ResourceGrantKey(resource: resource, grantee: grantee, code: code)
            switch operation {
            // One state per (resource, grantee, code): a grant replaces a deny and the reverse.
            case .grantResource: tenants[t]!.resourceGrants[key] = false
            case .denyResource: tenants[t]!.resourceGrants[key] = true
            // Nothing to revoke is no error (the function answers false).
            default: tenants[t]!.resourceGrants[key] = nil
            }

        // Catalogue ----------------------------------------------------------------------
        case .createPermission(let code):
            if Self.missingCodeError(code) == "QI002" { return "QI002" }
            if catalogue.contains(code) { return "QD005" }
            // Missing ancestors are created too.
            let segments = code.split(separator: ".")
            for depth in 1...segments.count { catalogue.insert(segments[..<depth].joined(separator: ".")) }
        case .deletePermission(let code, let force):
            if !catalogue.contains(code) { return Self.missingCodeError(code) }
            if !force, isInUse(code) { return "QS001" }
            removeSubtree(code)
        case .sqlDeletePermissionSubtree(let code), .sqlDeletePermissionRow(let code):
            // Direct DML skips the in-use check, as the forced function does.
            removeSubtree(code)

        // Statements touching several rows -------------------------------------------------
        case .sqlSetTenantGroupsActive(let t, let active):
            for g in Array(tenants[t]?.groups.keys ?? [:].keys) { tenants[t]!.groups[g]!.isActive = active }
        case .sqlFlipMemberships(let t):
            for u in Array(tenants[t]?.members.keys ?? [:].keys) { tenants[t]!.members[u]!.toggle() }
        case .sqlFlipAllTenants:
            for t in Array(tenants.keys) { tenants[t]!.isActive.toggle() }
        case .sqlRemoveUserFromAllGroups(let u):
            for t in Array(tenants.keys) {
                for g in Array(tenants[t]!.groups.keys) { tenants[t]!.groups[g]!.members.remove(u) }
            }
        case .sqlMoveUserAssignments(let t, let from, let to):
            guard from != to, let assignments = tenants[t]?.assignments else { return nil }
            let moving = assignments.filter { $0.grantee == .user(from) }
            guard !moving.isEmpty else { return nil }
            let moved = Set(moving.map { Assignment(grantee: .user(to), grant: $0.grant) })
            if !moved.isDisjoint(with: assignments) { return Code.unique }
            if tenants[t]!.members[to] == nil { return Code.foreignKey }
            tenants[t]!.assignments.subtract(moving)
            tenants[t]!.assignments.formUnion(moved)
        case .transaction(let operations):
            // The caller discards every change when one of them fails, as ROLLBACK does.
            for operation in operations {
                if let error = applyOrFail(operation, createdID: UUID()) { return error }
            }
        }
        return nil
    }

    /// Hard removal of a membership: its ownerships, group memberships, group ownerships and
    /// assignments in that tenant go with it (ON DELETE CASCADE).
    private mutating func removeMembership(_ t: TenantID, _ u: UserID) {
        guard tenants[t]?.members[u] != nil else { return }
        tenants[t]!.members[u] = nil
        tenants[t]!.owners.remove(u)
        for g in Array(tenants[t]!.groups.keys) {
            tenants[t]!.groups[g]!.members.remove(u)
            tenants[t]!.groups[g]!.owners.remove(u)
        }
        tenants[t]!.assignments = tenants[t]!.assignments.filter { $0.grantee != .user(u) }
        tenants[t]!.resourceGrants = tenants[t]!.resourceGrants.filter { $0.key.grantee != .user(u) }
    }

    /// A user deleted everywhere: every membership goes, with what hangs off it.
    private mutating func removeUser(_ u: UserID) {
        users[u] = nil
        for t in Array(tenants.keys) { removeMembership(t, u) }
    }

    /// A code deleted with its descendants (a code never outlives its parent): sets lose
    /// them, direct assignments and resource grants of them go.
    private mutating func removeSubtree(_ code: String) {
        let subtree = catalogue.filter { Self.grants(code, $0) }
        catalogue.subtract(subtree)
        for t in Array(tenants.keys) {
            for setCode in Array(tenants[t]!.permSets.keys) { tenants[t]!.permSets[setCode]!.codes.subtract(subtree) }
            tenants[t]!.assignments = tenants[t]!.assignments.filter {
                if case .permission(let c) = $0.grant { !subtree.contains(c) } else { true }
            }
            tenants[t]!.resourceGrants = tenants[t]!.resourceGrants.filter { !subtree.contains($0.key.code) }
        }
    }

    private mutating func removeGroup(_ t: TenantID, _ g: UserGroupID) {
        tenants[t]!.groups[g] = nil
        tenants[t]!.assignments = tenants[t]!.assignments.filter { $0.grantee != .group(g) }
        tenants[t]!.resourceGrants = tenants[t]!.resourceGrants.filter { $0.key.grantee != .group(g) }
    }

    private mutating func removePermSet(_ t: TenantID, _ s: PermSetID) {
        tenants[t]!.permSets = tenants[t]!.permSets.filter { $0.value.id != s }
        tenants[t]!.assignments = tenants[t]!.assignments.filter { $0.grant != .permSet(s) }
    }

    // MARK: - The state as lines, to compare with the tables

    /// One line per row of the tables the model mirrors, ids replaced by names, sorted; the
    /// driver builds the same lines from the database.
    func stateLines() -> [String] {
        var lines: [String] = catalogue.map { "permission \($0)" }
        for (id, user) in users { lines.append("user \(name(id.rawValue)) active=\(user.isActive)") }
        for (tid, t) in tenants {
            let tn = name(tid.rawValue)
            lines.append("tenant \(tn) active=\(t.isActive)")
            for (u, active) in t.members { lines.append("member \(tn) \(name(u.rawValue)) active=\(active)") }
            for u in t.owners { lines.append("owner \(tn) - \(name(u.rawValue))") }
            for (gid, g) in t.groups {
                let gn = name(gid.rawValue)
                lines.append("group \(tn) \(gn) active=\(g.isActive)")
                for u in g.members { lines.append("group_member \(gn) \(name(u.rawValue))") }
                for u in g.owners { lines.append("owner \(tn) \(gn) \(name(u.rawValue))") }
            }
            for (_, s) in t.permSets {
                lines.append("perm_set \(tn) \(name(s.id.rawValue))")
                for c in s.codes { lines.append("perm_set_permission \(name(s.id.rawValue)) \(c)") }
            }
            for a in t.assignments { lines.append("assignment \(tn) \(Self.describe(a, name))") }
            for (key, isDeny) in t.resourceGrants {
                lines.append("resource_grant \(tn) \(Self.describe(key.grantee, name)) \(key.resource.type)/\(key.resource.id) \(key.code) deny=\(isDeny)")
            }
        }
        return lines.sorted()
    }

    static func describe(_ grantee: Grantee, _ name: (UUID) -> String) -> String {
        switch grantee {
        case .user(let u): "user:\(name(u.rawValue))"
        case .group(let g): "group:\(name(g.rawValue))"
        }
    }

    static func describe(_ a: Assignment, _ name: (UUID) -> String) -> String {
        let who = describe(a.grantee, name)
        let what = switch a.grant {
        case .permSet(let s): "set:\(name(s.rawValue))"
        case .permission(let c): "code:\(c)"
        }
        return "\(who) \(what)"
    }
}
