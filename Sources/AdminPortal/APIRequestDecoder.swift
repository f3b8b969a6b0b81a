import Foundation
import Hummingbird
import NIOCore

/// Reads a JSON request body into a route's input type, and turns every way that can fail
/// into an ``APIError`` that names the field: a body over the limit (413), text that is not
/// JSON, a missing field, a value of the wrong type, or a NUL character (which libpq would
/// silently cut the string at).
///
/// Keys are the SQL functions' snake_case names (`perm_code`, `tenant_id`).
struct APIRequestDecoder: RequestDecoder {
    func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext) async throws -> T {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: context.maxUploadSize)
        } catch is NIOTooManyBytesError {
            throw APIError(status: .contentTooLarge, code: "body_too_large",
                           message: "the request body is larger than \(context.maxUploadSize) bytes",
                           hint: "Send a smaller JSON body.")
        }
        let data = Data(buffer: body)
        if let field = Self.fieldHoldingNUL(in: data) {
            throw APIError.invalidField(field, "must not contain the NUL character (\\u0000)")
        }
        do {
            return try Self.decoder.decode(T.self, from: data)
        } catch let error as DecodingError {
            throw APIError(error)
        }
    }

    private static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    /// The path of the first key or string value that holds a NUL. JSON can only write one
    /// as `\u0000`, so bodies without that text are not parsed twice.
    private static func fieldHoldingNUL(in data: Data) -> String? {
        guard data.range(of: Data(#"\u0000"#.utf8)) != nil,
              let json = try? JSONSerialization.jsonObject(with: data, options: .fragmentsAllowed) else { return nil }
        return pathOfNUL(in: json, at: "")
    }

    private static func pathOfNUL(in value: Any, at path: String) -> String? {
        switch value {
        case let text as String:
            return text.unicodeScalars.contains("\0") ? (path.isEmpty ? "(body)" : path) : nil
        case let object as [String: Any]:
            for (key, member) in object.sorted(by: { $0.key < $1.key }) {
                let memberPath = path.isEmpty ? key : "\(path).\(key)"
                if key.unicodeScalars.contains("\0") { return memberPath }
                if let found = pathOfNUL(in: member, at: memberPath) { return found }
            }
            return nil
        case let array as [Any]:
            return array.indices.lazy.compactMap { pathOfNUL(in: array[$0], at: "\(path)[\($0)]") }.first
        default:
            return nil
        }
    }
}

extension APIError {
    /// 400 for a field whose value cannot be used.
    static func invalidField(_ field: String, _ problem: String) -> APIError {
        APIError(status: .badRequest, code: "invalid_field", message: "field \"\(field)\" \(problem)",
                 hint: "Correct \"\(field)\" in the JSON body and send it again.")
    }

    /// A body that did not decode, said in the API's terms: the field by its JSON name.
    init(_ error: DecodingError) {
        switch error {
        case .keyNotFound(let key, let context):
            let field = Self.fieldPath(context.codingPath + [key])
            self.init(status: .badRequest, code: "missing_field", message: "field \"\(field)\" is missing",
                      hint: "Add \"\(field)\" to the JSON body.")
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            guard !context.codingPath.isEmpty else {
                self.init(status: .badRequest, code: "invalid_json", message: "the request body must be \(Self.jsonKind(type))",
                          hint: "Send a JSON object with Content-Type: application/json.")
                return
            }
            self = .invalidField(Self.fieldPath(context.codingPath), "must be \(Self.jsonKind(type))")
        case .dataCorrupted(let context) where !context.codingPath.isEmpty:
            self = .invalidField(Self.fieldPath(context.codingPath), "has an invalid value")
        default:
            self.init(status: .badRequest, code: "invalid_json", message: "the request body is not valid JSON",
                      hint: "Send a JSON object with Content-Type: application/json.")
        }
    }

    /// `perm_codes[2]`: JSON names, as the client wrote them (the decoder converts them to
    /// camelCase, so they are converted back).
    private static func fieldPath(_ path: [any CodingKey]) -> String {
        path.reduce(into: "") { text, key in
            if let index = key.intValue { text += "[\(index)]" }
            else { text += (text.isEmpty ? "" : ".") + snakeCase(key.stringValue) }
        }
    }

    private static func jsonKind(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is any Numeric.Type: "a number"
        case is [Any].Type: "a list"
        default: "an object"
        }
    }
}
