import Foundation

/// Where a page of a list in creation order starts: after the row with this creation time and
/// id. The lists of assignments, API keys and invitations page this way; pass a row's `cursor`
/// as `after` for the next page.
public struct CreationCursor<ID: EntityID>: Sendable, Hashable {
    public let createdAt: Date
    public let id: ID

    public init(createdAt: Date, id: ID) {
        self.createdAt = createdAt
        self.id = id
    }
}
