import Foundation
import Permissions

/// Draws random operations from the model's current state: mostly valid ones (existing ids,
/// members of the right tenant, codes in the catalogue) with a share of invalid ones (unknown
/// ids, another tenant's group or set, duplicates, codes missing from the catalogue or
/// malformed), so both the rules and the errors are exercised.
///
/// Every choice is made from arrays in a stable order (creation order, sorted codes) and a
/// seeded ``SplitMix64``: the same seed gives the same run.
struct OperationGenerator {
    /// The catalogue codes a run uses: a small tree, depth up to 3.
    static let codeUniverse = ["a", "a.b", "a.b.c", "a.d", "b", "b.c", "b.c.d", "b.e", "c", "c.f", "c.f.g", "d"]
    static let tenantTarget = 3, userTarget = 6, groupsPerTenant = 3, setsPerTenant = 3
    /// The resources grants name: two of one type, and one of another with the same id.
    static let resourceUniverse = [Resource(type: "doc", id: "1"), Resource(type: "doc", id: "2"), Resource(type: "folder", id: "1")]
    /// What the run asks `auth.filter_resource_ids` about, by type: ids never granted, and
    /// repeated ones, among them.
    static let filteredIDs: [(type: String, ids: [String])] = [("doc", ["2", "9", "1", "2"]), ("folder", ["1", "9"])]

    private(set) var rng: SplitMix64
    private var tenantsCreated = 0
    private var usersCreated = 0
    /// Starts the names of new tenants and users, so that writers sharing a database never
    /// take each other's names.
    private let namePrefix: String

    init(seed: UInt64, namePrefix: String = "") {
        rng = SplitMix64(seed: seed)
        self.namePrefix = namePrefix
    }

    /// The kinds of operation and their relative weights: assignments and group members most
    /// often, since they move permissions; deletions of whole tenants and users rarely.
    private enum Kind: CaseIterable {
        case assign, unassign, sqlInsertAssignment, sqlDeleteUserAssignments, sqlMoveGroupAssignments
        case addUserToGroup, removeUserFromGroup, sqlInsertGroupMember, sqlDeleteGroupMember, sqlMoveGroupMember
        case addUserToTenant, removeUserFromTenant, sqlInsertMembership, sqlSetMembershipActive, sqlDeleteMembership
        case createPermSet, addToPermSet, removeFromPermSet, deletePermSet, sqlInsertPermSetCode, sqlEmptyPermSet, sqlDeletePermSet
        case createGroup, deleteGroup, deactivateGroup, activateGroup, sqlSetGroupActive, sqlDeleteGroup, sqlMoveGroupToTenant
        case createTenant, deleteTenant, deactivateTenant, activateTenant, sqlSetTenantActive
        case createUser, deactivateUser, activateUser, sqlSetUserActive, sqlDeleteUser, deleteUser
        case assignTenantOwner, transferTenantOwnership, assignGroupOwner, sqlReassignTenantOwner, sqlPromoteGroupOwner,
             sqlDeleteTenantOwners
        case createPermission, deletePermission, sqlDeletePermissionSubtree, sqlDeletePermissionRow
        case sqlSetTenantGroupsActive, sqlFlipMemberships, sqlFlipAllTenants, sqlRemoveUserFromAllGroups, sqlMoveUserAssignments
        case grantResource, denyResource, revokeResource
        case transaction

        /// Kinds that create rows: left out of transactions, whose ids the model learns only afterwards.
        var creates: Bool { [.createTenant, .createUser, .createGroup, .createPermSet, .createPermission].contains(self) }

        var weight: Int {
            switch self {
            case .assign: 28
            case .unassign: 10
            case .sqlInsertAssignment: 8
            case .addUserToGroup: 16
            case .addToPermSet: 12
            case .addUserToTenant: 10
            // Reactivation more often than deactivation, so that most memberships are live.
            case .activateGroup, .activateUser, .activateTenant: 8
            case .removeUserFromGroup, .removeFromPermSet, .removeUserFromTenant, .sqlInsertGroupMember, .sqlSetMembershipActive,
                 .sqlDeleteTenantOwners: 5
            case .sqlMoveGroupAssignments, .sqlDeleteGroupMember, .sqlMoveGroupMember, .sqlInsertMembership, .createPermSet,
                 .sqlInsertPermSetCode, .createGroup, .sqlSetGroupActive, .sqlSetTenantActive, .sqlSetUserActive,
                 .assignTenantOwner, .transferTenantOwnership, .assignGroupOwner, .createPermission, .deletePermission,
                 // At 2, seed 3 went 1,000 steps without one that succeeded (most sets are assigned: QS004).
                 .deletePermSet: 3
            case .deactivateGroup, .deactivateTenant, .deactivateUser,
                 .sqlDeleteUserAssignments, .sqlDeleteMembership, .sqlEmptyPermSet, .sqlDeletePermSet,
                 .deleteGroup, .sqlDeleteGroup, .createUser, .createTenant, .sqlReassignTenantOwner, .sqlPromoteGroupOwner,
                 .deleteUser: 2
            case .transaction: 6
            case .grantResource: 12
            case .denyResource: 8
            case .revokeResource: 6
            // At 1, sqlFlipAllTenants (which conflicts with every older snapshot: 40001) and deleteTenant could go a
            // whole run of 1,000 steps without succeeding once, failing the coverage check.
            case .sqlSetTenantGroupsActive, .sqlFlipMemberships, .sqlRemoveUserFromAllGroups, .sqlMoveUserAssignments,
                 .sqlFlipAllTenants, .deleteTenant: 2
            case .sqlMoveGroupToTenant, .sqlDeleteUser, .sqlDeletePermissionSubtree, .sqlDeletePermissionRow: 1
            }
        }
    }

    /// The names of all kinds, as ``ModelOperation/kind`` spells them.
    static let kindNames = Set(Kind.allCases.map { String(describing: $0) })
    /// Kinds that exist to be refused (moving a group to another tenant): they succeed only as no-ops.
    static let refusedKindNames: Set<String> = ["sqlMoveGroupToTenant"]

    private static let weightedKinds: [Kind] = Kind.allCases.flatMap { Array(repeating: $0, count: $0.weight) }

    mutating func next(_ model: PermissionsModel) -> ModelOperation {
        // Keep the population up: after deletions, and to build it up at the start.
        if model.users.count < Self.userTarget, rng.chance(0.6) { return newUser() }
        if model.tenants.count < Self.tenantTarget, rng.chance(0.6) { return newTenant(model) }
        if model.catalogue.count < 8, rng.chance(0.6), let code = absentCode(model) { return .createPermission(code) }
        // Within one tenant: enough members, groups and sets for most operations to find one.
        if let t = model.inOrder(model.tenants.keys).randomElement(using: &rng), let tenant = model.tenants[t] {
            if tenant.members.count < 4, rng.chance(0.5),
               let u = model.inOrder(model.users.keys).filter({ tenant.members[$0] == nil }).randomElement(using: &rng) {
                return .addUserToTenant(t, u)
            }
            if tenant.groups.count < 2, rng.chance(0.5),
               let code = (0..<Self.groupsPerTenant).map({ "g\($0)" }).filter({ c in !tenant.groups.values.contains { $0.code == c } })
                   .randomElement(using: &rng) {
                return .createGroup(t, code: code)
            }
            if tenant.permSets.count < 2, rng.chance(0.5),
               let code = (0..<Self.setsPerTenant).map({ "s\($0)" }).filter({ tenant.permSets[$0] == nil }).randomElement(using: &rng) {
                return .createPermSet(t, code: code)
            }
        }
        return operation(Self.weightedKinds.randomElement(using: &rng)!, model)
    }

    private mutating func operation(_ kind: Kind, _ m: PermissionsModel) -> ModelOperation {
        switch kind {
        case .assign:
            let t = tenant(m)
            return .assign(t, grantee(m, t), grant(m, t))
        case .unassign:
            let t = tenant(m)
            // Mostly an existing assignment, so that removals succeed.
            if rng.chance(0.7), let row = pick(m.tenants[t].map { Array($0.assignments) } ?? [], sortedBy: { PermissionsModel.describe($0, m.name) }) {
                let grant: Grant = switch row.grant {
                case .permSet(let s): .permSet(m.permSet(s)?.code ?? "?")
                case .permission(let c): .permission(c)
                }
                return .unassign(t, row.grantee, grant)
            }
            return .unassign(t, grantee(m, t), grant(m, t))
        case .sqlInsertAssignment:
            let t = tenant(m)
            let rowGrant: ModelOperation.RowGrant = rng.chance(0.5) ? .permSet(permSetID(m, t)) : .permission(code(m))
            return .sqlInsertAssignment(t, grantee(m, t), rowGrant)
        case .sqlDeleteUserAssignments:
            let t = tenant(m)
            return .sqlDeleteUserAssignments(t, user(m, in: t))
        case .sqlMoveGroupAssignments:
            let t = tenant(m)
            return .sqlMoveGroupAssignments(from: group(m, t), to: group(m, t))

        case .addUserToGroup:
            let t = tenant(m)
            return .addUserToGroup(t, group(m, t), user(m, in: t))
        case .removeUserFromGroup:
            let t = tenant(m)
            // Mostly an actual member, so that removals succeed.
            if rng.chance(0.7), let (g, u) = groupMember(m, t) { return .removeUserFromGroup(t, g, u) }
            return .removeUserFromGroup(t, group(m, t), user(m, in: t))
        case .sqlInsertGroupMember:
            let t = tenant(m)
            return .sqlInsertGroupMember(t, group(m, t), user(m, in: t))
        case .sqlDeleteGroupMember:
            let t = tenant(m)
            if rng.chance(0.7), let (g, u) = groupMember(m, t) { return .sqlDeleteGroupMember(g, u) }
            return .sqlDeleteGroupMember(group(m, t), user(m, in: t))
        case .sqlMoveGroupMember:
            let t = tenant(m)
            return .sqlMoveGroupMember(from: group(m, t), to: group(m, t), user(m, in: t))

        case .addUserToTenant:
            return .addUserToTenant(tenant(m), user(m))
        case .removeUserFromTenant:
            let t = tenant(m)
            return .removeUserFromTenant(t, user(m, in: t), hard: rng.chance(0.4))
        case .sqlInsertMembership:
            let t = tenant(m)
            if rng.chance(0.7), let u = m.inOrder(m.users.keys).filter({ m.tenants[t]?.members[$0] == nil }).randomElement(using: &rng) {
                return .sqlInsertMembership(t, u)
            }
            return .sqlInsertMembership(t, user(m))
        case .sqlSetMembershipActive:
            let t = tenant(m)
            return .sqlSetMembershipActive(t, user(m, in: t), rng.chance(0.7))
        case .sqlDeleteMembership:
            let t = tenant(m)
            return .sqlDeleteMembership(t, user(m, in: t))

        case .createPermSet:
            let t = tenant(m)
            return .createPermSet(t, code: rng.chance(0.05) ? "bad set!" : "s\(Int.random(in: 0..<Self.setsPerTenant, using: &rng))")
        case .addToPermSet:
            let t = tenant(m)
            return .addToPermSet(t, setCode: setCode(m, t), codes: codes(m))
        case .removeFromPermSet:
            let t = tenant(m)
            return .removeFromPermSet(t, setCode: setCode(m, t), codes: codes(m))
        case .deletePermSet:
            let t = tenant(m)
            return .deletePermSet(t, setCode: setCode(m, t), force: rng.chance(0.5))
        case .sqlInsertPermSetCode:
            return .sqlInsertPermSetCode(permSetID(m, tenant(m)), code(m))
        case .sqlEmptyPermSet:
            return .sqlEmptyPermSet(permSetID(m, tenant(m)))
        case .sqlDeletePermSet:
            return .sqlDeletePermSet(permSetID(m, tenant(m)))

        case .createGroup:
            let t = tenant(m)
            return .createGroup(t, code: rng.chance(0.05) ? "bad group!" : "g\(Int.random(in: 0..<Self.groupsPerTenant, using: &rng))")
        case .deleteGroup:
            let t = tenant(m)
            return .deleteGroup(t, group(m, t))
        case .deactivateGroup:
            let t = tenant(m)
            return .deactivateGroup(t, group(m, t))
        case .activateGroup:
            let t = tenant(m)
            return .activateGroup(t, group(m, t))
        case .sqlSetGroupActive:
            return .sqlSetGroupActive(group(m, tenant(m)), rng.chance(0.7))
        case .sqlDeleteGroup:
            return .sqlDeleteGroup(group(m, tenant(m)))
        case .sqlMoveGroupToTenant:
            return .sqlMoveGroupToTenant(group(m, tenant(m)), tenant(m))

        case .createTenant:
            // At the target size: reuse a code, which must fail (QD001).
            if m.tenants.count >= Self.tenantTarget, let taken = pick(m.tenants.values.map(\.code), sortedBy: { $0 }) {
                return .createTenant(code: taken, owner: nil)
            }
            return newTenant(m)
        case .deleteTenant:
            return .deleteTenant(tenant(m))
        case .deactivateTenant:
            return .deactivateTenant(tenant(m))
        case .activateTenant:
            return .activateTenant(tenant(m))
        case .sqlSetTenantActive:
            return .sqlSetTenantActive(tenant(m), rng.chance(0.7))

        case .createUser:
            // At the target size: the name of an existing user in upper case, which must fail (QD002).
            if m.users.count >= Self.userTarget, let taken = pick(m.users.values.map(\.username), sortedBy: { $0 }) {
                return .createUser(username: taken.uppercased())
            }
            return newUser()
        case .deactivateUser:
            return .deactivateUser(user(m))
        case .activateUser:
            return .activateUser(user(m))
        case .sqlSetUserActive:
            return .sqlSetUserActive(user(m), rng.chance(0.7))
        case .sqlDeleteUser:
            return .sqlDeleteUser(user(m))
        case .deleteUser:
            return .deleteUser(user(m), force: rng.chance(0.5))

        case .assignTenantOwner:
            return .assignTenantOwner(tenant(m), user(m))
        case .transferTenantOwnership:
            return .transferTenantOwnership(tenant(m), user(m))
        case .assignGroupOwner:
            let t = tenant(m)
            return .assignGroupOwner(t, group(m, t), user(m, in: t))
        case .sqlReassignTenantOwner:
            return .sqlReassignTenantOwner(tenant(m), user(m))
        case .sqlPromoteGroupOwner:
            let t = tenant(m)
            // Mostly an existing group owner, so that the update changes a row.
            let owners = m.tenants[t].map { tenant in
                tenant.groups.flatMap { g, group in group.owners.map { (g, $0) } }
            } ?? []
            if rng.chance(0.8), let (g, u) = pick(owners, sortedBy: { "\(m.name($0.0.rawValue)) \(m.name($0.1.rawValue))" }) {
                return .sqlPromoteGroupOwner(g, u)
            }
            return .sqlPromoteGroupOwner(group(m, t), user(m, in: t))
        case .sqlDeleteTenantOwners:
            return .sqlDeleteTenantOwners(tenant(m))

        case .createPermission:
            if rng.chance(0.1) { return .createPermission(rng.chance(0.5) ? "Bad.Code" : "a..b") }
            return .createPermission(absentCode(m) ?? Self.codeUniverse.randomElement(using: &rng)!)
        case .deletePermission:
            // Mostly a code nothing uses, which can go.
            if rng.chance(0.6), let unused = m.catalogue.sorted().filter({ !m.isInUse($0) }).randomElement(using: &rng) {
                return .deletePermission(unused, force: false)
            }
            return .deletePermission(code(m), force: rng.chance(0.4))
        case .sqlDeletePermissionRow:
            return .sqlDeletePermissionRow(code(m))
        case .sqlDeletePermissionSubtree:
            return .sqlDeletePermissionSubtree(code(m))

        case .sqlSetTenantGroupsActive:
            return .sqlSetTenantGroupsActive(tenant(m), rng.chance(0.7))
        case .sqlFlipMemberships:
            return .sqlFlipMemberships(tenant(m))
        case .sqlFlipAllTenants:
            return .sqlFlipAllTenants
        case .sqlRemoveUserFromAllGroups:
            return .sqlRemoveUserFromAllGroups(user(m))
        case .sqlMoveUserAssignments:
            let t = tenant(m)
            return .sqlMoveUserAssignments(t, from: user(m, in: t), to: user(m, in: t))
        case .grantResource:
            let t = tenant(m)
            return .grantResource(t, resource(), code(m), grantee(m, t))
        case .denyResource:
            let t = tenant(m)
            // Mostly a deny of something a member may use now, so that denies override grants.
            if rng.chance(0.7), let (resource, code, grantee) = usableToDeny(m, t) { return .denyResource(t, resource, code, grantee) }
            return .denyResource(t, resource(), code(m), grantee(m, t))
        case .revokeResource:
            let t = tenant(m)
            // Mostly an existing grant or deny, so that revocations remove something.
            let rows = m.tenants[t].map { Array($0.resourceGrants.keys) } ?? []
            if rng.chance(0.7), let row = pick(rows, sortedBy: { "\($0.resource.type)/\($0.resource.id) \($0.code) \(PermissionsModel.describe($0.grantee, m.name))" }) {
                return .revokeResource(t, row.resource, row.code, row.grantee)
            }
            return .revokeResource(t, resource(), code(m), grantee(m, t))
        case .transaction:
            // Each operation is drawn from the state the previous ones leave, so most succeed.
            var scratch = m
            var operations: [ModelOperation] = []
            for _ in 0..<Int.random(in: 2...4, using: &rng) {
                var kind = Self.weightedKinds.randomElement(using: &rng)!
                while kind.creates || kind == .transaction { kind = Self.weightedKinds.randomElement(using: &rng)! }
                let operation = operation(kind, scratch)
                _ = scratch.apply(operation, createdID: nil)
                operations.append(operation)
            }
            return .transaction(operations)
        }
    }

    // MARK: - Picking arguments

    private mutating func pick<T>(_ items: [T], sortedBy key: (T) -> String) -> T? {
        items.sorted { key($0) < key($1) }.randomElement(using: &rng)
    }

    private mutating func newUser() -> ModelOperation {
        usersCreated += 1
        return .createUser(username: "\(namePrefix)u\(usersCreated)")
    }

    private mutating func newTenant(_ m: PermissionsModel) -> ModelOperation {
        tenantsCreated += 1
        let owner: UserID? = rng.chance(0.5) ? m.inOrder(m.users.keys).randomElement(using: &rng) : nil
        return .createTenant(code: "\(namePrefix)T\(tenantsCreated)", owner: owner)
    }

    /// An existing tenant, sometimes an unknown id.
    private mutating func tenant(_ m: PermissionsModel) -> TenantID {
        if rng.chance(0.95), let t = m.inOrder(m.tenants.keys).randomElement(using: &rng) { return t }
        return TenantID(rng.uuid())
    }

    /// An existing user, sometimes an unknown id.
    private mutating func user(_ m: PermissionsModel) -> UserID {
        if rng.chance(0.95), let u = m.inOrder(m.users.keys).randomElement(using: &rng) { return u }
        return UserID(rng.uuid())
    }

    /// Mostly a member of `t` (active or not), otherwise any user.
    private mutating func user(_ m: PermissionsModel, in t: TenantID) -> UserID {
        if rng.chance(0.8), let u = m.inOrder(m.tenants[t]?.members.keys ?? [:].keys).randomElement(using: &rng) { return u }
        return user(m)
    }

    /// Mostly a group of `t`; otherwise another tenant's group or an unknown id.
    private mutating func group(_ m: PermissionsModel, _ t: TenantID) -> UserGroupID {
        let own = m.inOrder(m.tenants[t]?.groups.keys ?? [:].keys)
        let all = m.inOrder(m.tenants.values.flatMap(\.groups.keys))
        if rng.chance(0.88), let g = own.randomElement(using: &rng) { return g }
        if rng.chance(0.7), let g = all.randomElement(using: &rng) { return g }
        return UserGroupID(rng.uuid())
    }

    /// Mostly the code of one of `t`'s sets; sometimes a code `t` may not have.
    private mutating func setCode(_ m: PermissionsModel, _ t: TenantID) -> String {
        if rng.chance(0.85), let code = pick(Array(m.tenants[t]?.permSets.keys ?? [:].keys), sortedBy: { $0 }) { return code }
        return "s\(Int.random(in: 0...Self.setsPerTenant, using: &rng))"
    }

    /// Mostly one of `t`'s sets; otherwise another tenant's set or an unknown id.
    private mutating func permSetID(_ m: PermissionsModel, _ t: TenantID) -> PermSetID {
        let own = m.inOrder(m.tenants[t]?.permSets.values.map(\.id) ?? [])
        let all = m.inOrder(m.tenants.values.flatMap { $0.permSets.values.map(\.id) })
        if rng.chance(0.85), let s = own.randomElement(using: &rng) { return s }
        if rng.chance(0.7), let s = all.randomElement(using: &rng) { return s }
        return PermSetID(rng.uuid())
    }

    /// A (group, member) pair of `t`, if any.
    private mutating func groupMember(_ m: PermissionsModel, _ t: TenantID) -> (UserGroupID, UserID)? {
        guard let tenant = m.tenants[t] else { return nil }
        let pairs = m.inOrder(tenant.groups.keys).flatMap { g in m.inOrder(tenant.groups[g]!.members).map { (g, $0) } }
        return pairs.randomElement(using: &rng)
    }

    private mutating func grantee(_ m: PermissionsModel, _ t: TenantID) -> Grantee {
        rng.chance(0.55) ? .user(user(m, in: t)) : .group(group(m, t))
    }

    private mutating func grant(_ m: PermissionsModel, _ t: TenantID) -> Grant {
        rng.chance(0.45) ? .permSet(setCode(m, t)) : .permission(code(m))
    }

    /// Mostly a code in the catalogue; sometimes one of the tree not in it now, or a malformed one.
    private mutating func code(_ m: PermissionsModel) -> String {
        let roll = Double.random(in: 0..<1, using: &rng)
        if roll < 0.9, let code = m.catalogue.sorted().randomElement(using: &rng) { return code }
        if roll < 0.97 { return absentCode(m) ?? Self.codeUniverse.randomElement(using: &rng)! }
        return ["A", "a.", "a b"].randomElement(using: &rng)!
    }

    /// A (resource, code) a member of `t` may use, by a grant there or tenant-wide, with the code
    /// or one of its ancestors, and the member or one of their groups to deny it to.
    private mutating func usableToDeny(_ m: PermissionsModel, _ t: TenantID) -> (Resource, String, Grantee)? {
        guard let tenant = m.tenants[t] else { return nil }
        let codes = m.catalogue.sorted()
        let usable = m.inOrder(tenant.members.keys).flatMap { u in
            Self.resourceUniverse.flatMap { r in
                codes.filter { code in
                    switch m.resourceDecision(tenant: t, user: u, resource: r, code: code) {
                    case .grantedThere, .tenantWide: true
                    default: false
                    }
                }.map { (u, r, $0) }
            }
        }
        guard let (user, resource, code) = usable.randomElement(using: &rng) else { return nil }
        let denied = codes.filter { PermissionsModel.grants($0, code) }.randomElement(using: &rng)!
        let groups = m.inOrder(tenant.groups.keys).filter { tenant.groups[$0]!.members.contains(user) }
        var grantee: Grantee = .user(user)
        if rng.chance(0.5), let group = groups.randomElement(using: &rng) { grantee = .group(group) }
        // Not the very grant that would be replaced: a deny to another grantee of the member overrides it.
        let key = PermissionsModel.ResourceGrantKey(resource: resource, grantee: grantee, code: denied)
        if tenant.resourceGrants[key] == false, case .group = grantee { grantee = .user(user) }
        else if tenant.resourceGrants[key] == false, let group = groups.randomElement(using: &rng) { grantee = .group(group) }
        return (resource, denied, grantee)
    }

    /// Mostly one of the universe; sometimes a malformed type, a blank id or an id too long.
    private mutating func resource() -> Resource {
        if rng.chance(0.97) { return Self.resourceUniverse.randomElement(using: &rng)! }
        return [Resource(type: "Doc", id: "1"), Resource(type: "doc", id: ""), Resource(type: "doc", id: String(repeating: "x", count: 256))]
            .randomElement(using: &rng)!
    }

    private mutating func codes(_ m: PermissionsModel) -> [String] {
        (0..<Int.random(in: 1...3, using: &rng)).map { _ in code(m) }
    }

    private mutating func absentCode(_ m: PermissionsModel) -> String? {
        Self.codeUniverse.filter { !m.catalogue.contains($0) }.randomElement(using: &rng)
    }
}
