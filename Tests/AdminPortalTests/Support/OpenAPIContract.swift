import Foundation
import HTTPTypes
import Testing

/// The APIs' OpenAPI documents (`web/openapi/`), and a check of one answer against them:
/// ``PortalClient`` runs it on every answer any test receives, so the documents cannot
/// drift from the server. It knows the part of JSON Schema the documents use: `$ref`,
/// `type` (one or several), `properties`, `required`, `additionalProperties: false`,
/// `items` and `enum`.
struct OpenAPIContract: Sendable {
    static let shared = OpenAPIContract()

    private let admin: JSONValue
    private let tenant: JSONValue
    private let signIn: JSONValue

    private init() {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appending(path: "../../../web/openapi").standardizedFileURL
        func load(_ name: String) -> JSONValue {
            // A document that does not load fails every test that talks to the API.
            (try? JSONDecoder().decode(JSONValue.self, from: Data(contentsOf: folder.appending(path: name)))) ?? .null
        }
        admin = load("admin-api.json")
        tenant = load("tenant-api.json")
        signIn = load("sso-api.json")
    }

    /// What is wrong with this answer according to the documents; empty when it conforms,
    /// or when the path is outside the APIs.
    func violations(method: HTTPRequest.Method, uri: String, status: Int, body: Data) -> [String] {
        let path = String(uri.prefix { $0 != "?" })
        let document: JSONValue
        let route: String
        if path.hasPrefix("/admin/api/") {
            (document, route) = (admin, String(path.dropFirst("/admin/api".count)))
        } else if path.hasPrefix("/t/"), let range = path.range(of: "/api/"), !path[path.index(path.startIndex, offsetBy: 3)..<range.lowerBound].contains("/") {
            (document, route) = (tenant, String(path[range.lowerBound...].dropFirst("/api".count)))
        } else if path.hasPrefix("/sso/") {
            (document, route) = (signIn, String(path.dropFirst("/sso".count)))
        } else {
            return []
        }
        guard case .object = document else { return ["the OpenAPI documents in web/openapi/ do not load"] }
        let what = "\(method.rawValue) \(path) → \(status)"
        guard let operation = Self.operation(in: document, route: route, method: method.rawValue.lowercased()) else {
            // An unknown route or method is answered in the error shape; anything else must be documented.
            if status == 404 || status == 405 { return Self.check(body, against: .object(["$ref": .string("#/components/schemas/Error")]), in: document, what) }
            return ["\(what): no operation \(method.rawValue) \(route) in the OpenAPI document"]
        }
        guard let responses = operation["responses"]?.object,
              let declared = responses[String(status)] ?? responses["default"],
              let response = Self.resolve(declared, in: document).object
        else { return ["\(what): status \(status) is not documented"] }
        guard let schema = response["content"]?.object?["application/json"]?.object?["schema"] else {
            return body.isEmpty ? [] : ["\(what): the document declares no body, the answer has \(body.count) bytes"]
        }
        return Self.check(body, against: schema, in: document, what)
    }

    /// The operation for `route`: a template whose literal segments match it, fewest
    /// parameters first (`/permissions/check` before `/permissions/{code}`).
    private static func operation(in document: JSONValue, route: String, method: String) -> [String: JSONValue]? {
        let segments = route.split(separator: "/", omittingEmptySubsequences: false)
        let paths = document["paths"]?.object ?? [:]
        let matching = paths.keys.filter { template in
            let parts = template.split(separator: "/", omittingEmptySubsequences: false)
            return parts.count == segments.count && zip(parts, segments).allSatisfy { part, segment in
                part.hasPrefix("{") ? !segment.isEmpty : part == segment
            }
        }.sorted { $0.filter { $0 == "{" }.count < $1.filter { $0 == "{" }.count }
        return matching.lazy.compactMap { paths[$0]?[method]?.object }.first
    }

    private static func check(_ body: Data, against schema: JSONValue, in document: JSONValue, _ what: String) -> [String] {
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: body) else {
            return ["\(what): the body is not JSON: \(String(decoding: body.prefix(200), as: UTF8.self))"]
        }
        var problems: [String] = []
        validate(value, schema, in: document, at: "$", into: &problems)
        return problems.map { "\(what): \($0)" }
    }

    private static func resolve(_ value: JSONValue, in document: JSONValue) -> JSONValue {
        guard case .string(let reference)? = value["$ref"], reference.hasPrefix("#/") else { return value }
        let target = reference.dropFirst(2).split(separator: "/").reduce(document) { $0[String($1)] ?? .null }
        return resolve(target, in: document)
    }

    private static func validate(_ value: JSONValue, _ rawSchema: JSONValue, in document: JSONValue, at path: String,
                                 into problems: inout [String]) {
        let schema = resolve(rawSchema, in: document)
        if let types = schema["type"] {
            let allowed = types.array?.compactMap(\.string) ?? types.string.map { [$0] } ?? []
            guard allowed.contains(where: value.isOfType) else {
                problems.append("\(path) is \(value.typeName), the document says \(allowed.joined(separator: " or "))")
                return
            }
        }
        if let options = schema["enum"]?.array, !options.contains(value) {
            problems.append("\(path) = \(value) is not one of \(options)")
        }
        if case .object(let fields) = value {
            let properties = schema["properties"]?.object ?? [:]
            for case .string(let name) in schema["required"]?.array ?? [] where fields[name] == nil {
                problems.append("\(path) lacks the required \(name)")
            }
            for (name, field) in fields {
                if let property = properties[name] {
                    validate(field, property, in: document, at: "\(path).\(name)", into: &problems)
                } else if schema["additionalProperties"] == .bool(false) {
                    problems.append("\(path).\(name) is not in the document")
                }
            }
        }
        if case .array(let items) = value, let itemSchema = schema["items"] {
            for (index, item) in items.enumerated() {
                validate(item, itemSchema, in: document, at: "\(path)[\(index)]", into: &problems)
            }
        }
    }
}

/// A JSON value as decoded, keeping booleans, integers and other numbers apart (which
/// `JSONSerialization`'s NSNumbers do not).
enum JSONValue: Decodable, Equatable, Sendable, CustomStringConvertible {
    case null, bool(Bool), integer(Int), number(Double), string(String), array([JSONValue]), object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int.self) { self = .integer(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    subscript(key: String) -> JSONValue? { object?[key] }
    var object: [String: JSONValue]? { if case .object(let value) = self { value } else { nil } }
    var array: [JSONValue]? { if case .array(let value) = self { value } else { nil } }
    var string: String? { if case .string(let value) = self { value } else { nil } }

    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .integer: "integer"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// JSON Schema's rule: an integer is also a number.
    func isOfType(_ type: String) -> Bool {
        type == typeName || (type == "number" && typeName == "integer")
    }

    var description: String {
        switch self {
        case .string(let text): "\"\(text)\""
        default: typeName
        }
    }
}
