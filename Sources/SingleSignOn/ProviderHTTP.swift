import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The calls to an identity provider: JSON by GET (discovery, key set) and a form by POST
/// (the code exchange). Every call has a deadline, so a provider that accepts the
/// connection and never answers cannot hold a sign-in (or a portal thread) for long, and
/// answers are read up to a size limit.
struct ProviderHTTP: Sendable {
    let client: HTTPClient
    /// The whole call: connecting, sending, and reading the answer.
    let timeout: Duration
    static let maximumAnswer = 1 << 20

    func getJSON(_ url: String, what: String) async throws -> Data {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        let (status, body) = try await send(request, what: what)
        guard status == .ok else {
            throw SSOFailure(.providerUnavailable, "the \(what) at \(url) answered HTTP \(status.code)",
                             hint: "Check the provider's issuer (or Entra directory id): `pgperm org sso test` shows what it finds.")
        }
        return body
    }

    /// Posts a form; the answer is returned whatever its status (OAuth errors come as 400 with JSON).
    func postForm(_ url: String, _ fields: [(String, String)], what: String) async throws -> (HTTPResponseStatus, Data) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        request.body = .bytes(ByteBuffer(string: Self.formEncoded(fields)))
        return try await send(request, what: what)
    }

    private func send(_ request: HTTPClientRequest, what: String) async throws -> (HTTPResponseStatus, Data) {
        let seconds = Int64(timeout / .milliseconds(1))
        do {
            let response = try await client.execute(request, timeout: .milliseconds(seconds))
            let body = try await response.body.collect(upTo: Self.maximumAnswer)
            return (response.status, Data(body.readableBytesView))
        } catch let failure as SSOFailure {
            throw failure
        } catch {
            throw SSOFailure(.providerUnavailable,
                             "the identity provider's \(what) could not be reached within \(timeout): \(Self.reason(error))",
                             hint: "Try again later; if it persists, check the provider's address and this server's network.")
        }
    }

    /// A short reason without the request's contents.
    private static func reason(_ error: any Error) -> String {
        switch error {
        case let error as HTTPClientError where error == .deadlineExceeded: "no answer in time"
        case let error as HTTPClientError where error == .connectTimeout: "connection timed out"
        case let error as NIOTooManyBytesError: "the answer was larger than \(error.maxBytes ?? maximumAnswer) bytes"
        default: "connection failed (\(String(String(describing: error).prefix(200))))"
        }
    }

    /// `application/x-www-form-urlencoded`: everything but unreserved characters escaped.
    static func formEncoded(_ fields: [(String, String)]) -> String {
        fields.map { "\(escape($0.0))=\(escape($0.1))" }.joined(separator: "&")
    }

    static func escape(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
