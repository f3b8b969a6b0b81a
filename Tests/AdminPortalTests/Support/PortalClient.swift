import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// A browser-like client over Hummingbird's test client: keeps the cookies the server sets,
/// sends each only to the paths it is scoped to (as a browser matches `Path`), sends JSON,
/// and reads JSON answers. Every answer from an API is checked against its OpenAPI document.
final class PortalClient: @unchecked Sendable {
    let client: any TestClientProtocol
    /// Cookie name → value and path (one path per name: the server sets each name at one path).
    private var jar: [String: (value: String, path: String)] = [:]

    /// Cookie name → value, whatever their paths.
    var cookies: [String: String] { jar.mapValues(\.value) }

    init(_ client: any TestClientProtocol) {
        self.client = client
    }

    struct Reply {
        let status: HTTPResponse.Status
        let headers: HTTPFields
        let body: Data

        /// The body as a JSON object.
        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
        }
        var jsonArray: [[String: Any]] {
            (try? JSONSerialization.jsonObject(with: body)) as? [[String: Any]] ?? []
        }
        /// The objects listed under `key` (`tenants` of a page of tenants).
        func list(_ key: String) -> [[String: Any]] {
            json[key] as? [[String: Any]] ?? []
        }
        /// The `code` of an error body.
        var errorCode: String? { error["code"] as? String }
        var errorMessage: String? { error["message"] as? String }
        /// The `error` object of an error body (`code`, `message`, `detail`, `hint`).
        var error: [String: Any] { json["error"] as? [String: Any] ?? [:] }
        var setCookies: [String] { headers[values: .setCookie] }
        /// The `Set-Cookie` of this name, split: its value and its attributes (`Path=/t/`, `HttpOnly`, ...).
        func setCookie(named name: String) -> (value: String, attributes: Set<String>)? {
            for header in setCookies {
                let parts = header.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
                let pair = parts[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                guard String(pair[0]) == name else { continue }
                return (pair.count > 1 ? String(pair[1]) : "", Set(parts.dropFirst()))
            }
            return nil
        }
    }

    @discardableResult
    /// Sends `json` as the body, or `raw` as is (labelled JSON whatever it holds).
    func send(_ method: HTTPRequest.Method, _ uri: String, json: [String: Any]? = nil, raw: String? = nil,
              headers extra: HTTPFields = [:]) async throws -> Reply {
        var headers = extra
        let path = String(uri.prefix { $0 != "?" })
        let sent = jar.filter { Self.pathMatches(path, cookiePath: $0.value.path) }
        if !sent.isEmpty {
            headers[.cookie] = sent.map { "\($0.key)=\($0.value.value)" }.sorted().joined(separator: "; ")
        }
        var body: ByteBuffer?
        if let json {
            body = ByteBuffer(data: try JSONSerialization.data(withJSONObject: json))
        } else if let raw {
            body = ByteBuffer(string: raw)
        }
        if body != nil {
            headers[.contentType] = "application/json"
        }
        let response = try await client.executeRequest(uri: uri, method: method, headers: headers, body: body)
        let reply = Reply(status: response.status, headers: response.headers, body: Data(buffer: response.body))
        for violation in OpenAPIContract.shared.violations(method: method, uri: uri, status: reply.status.code, body: reply.body) {
            Issue.record("the answer breaks the OpenAPI document: \(violation)")
        }
        for setCookie in reply.setCookies {
            let attributes = setCookie.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            let pair = attributes[0].split(separator: "=", maxSplits: 1)
            let name = String(pair[0])
            let value = pair.count > 1 ? String(pair[1]) : ""
            let cookiePath = attributes.dropFirst().first { $0.lowercased().hasPrefix("path=") }.map { String($0.dropFirst(5)) }
            jar[name] = value.isEmpty ? nil : (value, cookiePath ?? "/")
        }
        return reply
    }

    /// RFC 6265, 5.1.4: the cookie's path is the request's, or a prefix of it ending in "/"
    /// or followed by "/".
    static func pathMatches(_ path: String, cookiePath: String) -> Bool {
        guard path.hasPrefix(cookiePath) else { return false }
        return path.count == cookiePath.count || cookiePath.hasSuffix("/")
            || path.dropFirst(cookiePath.count).first == "/"
    }

    func get(_ uri: String) async throws -> Reply { try await send(.get, uri) }

    /// Sets or removes a cookie by hand, sent everywhere (`Path=/`), e.g. to replay another
    /// client's session or to craft a request a browser would not make.
    func setCookie(_ name: String, _ value: String?) {
        jar[name] = value.map { ($0, "/") }
    }
}
