import Crypto
import Foundation
import Hummingbird

/// Strong validators for the records an API returns, so that two administrators cannot
/// silently overwrite each other: a record's answer carries `ETag`, and a change sent with
/// `If-Match` is refused with 412 when the record is no longer what the client read.
///
/// The tag is a digest of the record's JSON as the API shows it, so it changes exactly when
/// what the client saw changes, whatever column moved underneath.
enum EntityTag {
    static func of(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        let digest = SHA256.hash(data: try encoder.encode(value))
        return "\"" + digest.prefix(16).map { String(format: "%02x", $0) }.joined() + "\""
    }

    /// Refuses the change unless `If-Match` is absent, `*`, or lists the record's current tag
    /// (strong comparison: a weak tag `W/"..."` never matches).
    static func check(_ request: Request, current value: some Encodable, what: String) throws {
        guard let header = request.headers[.ifMatch] else { return }
        let current = try of(value)
        let listed = header.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !listed.contains("*"), !listed.contains(current) else { return }
        throw APIError(status: .preconditionFailed, code: "precondition_failed",
                       message: "the \(what) changed since you read it",
                       detail: "If-Match names \(header); the \(what) is now \(current).",
                       hint: "Read it again, apply your change to what it is now, and send its ETag in If-Match.")
    }
}

/// A record with its `ETag` header (and `Location` for one just created).
struct Tagged<Value: ResponseEncodable>: ResponseGenerator {
    let value: Value
    var status: HTTPResponse.Status = .ok
    var location: String?

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try value.response(from: request, context: context)
        response.status = status
        response.headers[.eTag] = try EntityTag.of(value)
        if let location { response.headers[.location] = location }
        return response
    }
}
