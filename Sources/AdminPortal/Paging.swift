import Foundation
import Hummingbird
import Permissions

/// Keyset paging for the API's lists: `?limit=` (1 to 500, default 50) and `?after=`, the
/// `next` cursor of the previous page, passed back unchanged. A cursor is the last row's sort
/// key, base64url-encoded so that clients treat it as opaque; a page costs the same wherever it
/// is, and rows inserted or deleted between two requests never make the next page repeat or skip
/// a row that was there all along (the `auth.list_*` functions' order).
struct PageRequest: Sendable {
    static let defaultLimit = 50
    static let maximumLimit = 500

    let limit: Int
    /// The decoded key the page starts after; nil for the first page.
    let after: String?

    init(_ request: Request) throws {
        let query = request.uri.queryParameters
        if let text = query.get("limit") {
            guard let limit = Int(text), (1...Self.maximumLimit).contains(limit) else {
                throw APIError.invalidParameter("limit", "must be a whole number from 1 to \(Self.maximumLimit)")
            }
            self.limit = limit
        } else {
            limit = Self.defaultLimit
        }
        if let cursor = query.get("after") {
            guard let key = Self.key(of: cursor) else {
                throw APIError.invalidParameter("after", "is not a cursor of this API",
                                                hint: "Pass the \"next\" of the previous page unchanged, or leave \"after\" out for the first page.")
            }
            after = key
        } else {
            after = nil
        }
    }

    /// The key of lists in creation order: the creation time (its exact bits) and the id.
    static func key(createdAt: Date, id: String) -> String {
        String(createdAt.timeIntervalSinceReferenceDate.bitPattern, radix: 16) + "/" + id
    }

    /// For a list in creation order: the cursor ``key(createdAt:id:)`` wrote, nil for the first
    /// page; 400 for anything else.
    func afterCreation<ID: EntityID>(_ type: ID.Type) throws -> CreationCursor<ID>? {
        guard let after else { return nil }
        let parts = after.split(separator: "/")
        guard parts.count == 2, let bits = UInt64(parts[0], radix: 16), let id = UUID(uuidString: String(parts[1])) else {
            throw APIError.invalidParameter("after", "is not a cursor of this list",
                                            hint: "Pass the \"next\" of the previous page of this list unchanged.")
        }
        return CreationCursor(createdAt: Date(timeIntervalSinceReferenceDate: Double(bitPattern: bits)), id: ID(id))
    }

    static func cursor(of key: String) -> String {
        Data(key.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    private static func key(of cursor: String) -> String? {
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        base64 += String(repeating: "=", count: (4 - base64.count % 4) % 4)
        guard !cursor.isEmpty, let data = Data(base64Encoded: base64) else { return nil }
        return String(data: data, encoding: .utf8)
    }
}

/// One page of a list: its rows, and the cursor of the next page, or null after a page that was
/// not full (a full last page is followed by an empty one).
struct Page<Item: Encodable & Sendable>: ResponseEncodable {
    let items: [Item]
    let next: String?

    init(_ items: [Item], of request: PageRequest, key: (Item) -> String) {
        self.items = items
        next = items.count == request.limit ? items.last.map { PageRequest.cursor(of: key($0)) } : nil
    }

    /// Encodes `next` as null rather than leaving it out, so a client can test it the same way on every page.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(next, forKey: .next)
    }

    private enum CodingKeys: String, CodingKey { case items, next }
}

extension APIError {
    /// 400 for a query or path parameter whose value cannot be used.
    static func invalidParameter(_ name: String, _ problem: String, hint: String? = nil) -> APIError {
        APIError(status: .badRequest, code: "invalid_parameter", message: "parameter \"\(name)\" \(problem)",
                 hint: hint ?? "Correct \"\(name)\" in the URL and send the request again.")
    }
}
