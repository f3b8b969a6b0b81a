import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting

/// A browser-like client over Hummingbird's test client: keeps the cookies the server sets,
/// sends JSON, and reads JSON answers.
final class PortalClient: @unchecked Sendable {
    let client: any TestClientProtocol
    /// Cookie name → value, as a browser would keep them (paths ignored: tests use one each).
    private(set) var cookies: [String: String] = [:]

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
        /// The `code` of an error body.
        var errorCode: String? { error["code"] as? String }
        var errorMessage: String? { error["message"] as? String }
        /// The `error` object of an error body (`code`, `message`, `detail`, `hint`).
        var error: [String: Any] { json["error"] as? [String: Any] ?? [:] }
        var setCookies: [String] { headers[values: .setCookie] }
    }

    @discardableResult
    /// Sends `json` as the body, or `raw` as is (labelled JSON whatever it holds).
    func send(_ method: HTTPRequest.Method, _ uri: String, json: [String: Any]? = nil, raw: String? = nil,
              headers extra: HTTPFields = [:]) async throws -> Reply {
        var headers = extra
        if !cookies.isEmpty {
            headers[.cookie] = cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ")
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
        for setCookie in reply.setCookies {
            let pair = setCookie.split(separator: ";")[0].split(separator: "=", maxSplits: 1)
            let name = String(pair[0])
            let value = pair.count > 1 ? String(pair[1]) : ""
            cookies[name] = value.isEmpty ? nil : value
        }
        return reply
    }

    func get(_ uri: String) async throws -> Reply { try await send(.get, uri) }

    /// Replaces the cookie jar, e.g. to replay another client's session.
    func setCookie(_ name: String, _ value: String?) {
        cookies[name] = value
    }
}
