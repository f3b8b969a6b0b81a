import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// One TCP connection to a served portal, written byte by byte as an attacker would: any
/// Host header, a request sent slowly, or nothing at all.
struct RawConnection: Sendable {
    private let channel: any Channel
    private let received: NIOLockedValueBox<[UInt8]>

    static func open(port: Int) async throws -> RawConnection {
        let received = NIOLockedValueBox<[UInt8]>([])
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Collector(received: received))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return RawConnection(channel: channel, received: received)
    }

    /// Everything the server sent so far.
    var text: String { String(decoding: received.withLockedValue { $0 }, as: UTF8.self) }

    func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text)).get()
    }

    /// Sends `text` one byte every `interval`, stopping early when the server closes.
    func trickle(_ text: String, every interval: Duration) async {
        for byte in text.utf8 {
            guard channel.isActive, (try? await send(String(decoding: [byte], as: UTF8.self))) != nil else { return }
            try? await Task.sleep(for: interval)
        }
    }

    /// Waits for the server to close the connection; true if it did within `limit`.
    func closedByServer(within limit: Duration) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while channel.isActive, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        return !channel.isActive
    }

    func close() async {
        try? await channel.close().get()
    }

    /// Sends one request that asks the server to close afterwards, and returns its answer.
    static func exchange(port: Int, _ request: String) async throws -> RawResponse {
        let connection = try await open(port: port)
        try await connection.send(request)
        _ = await connection.closedByServer(within: .seconds(20))
        await connection.close()
        return RawResponse(connection.text)
    }

    private final class Collector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let received: NIOLockedValueBox<[UInt8]>

        init(received: NIOLockedValueBox<[UInt8]>) {
            self.received = received
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = Array(buffer: unwrapInboundIn(data))
            received.withLockedValue { $0 += bytes }
        }
    }
}

/// An HTTP/1.1 answer as it came over the wire.
struct RawResponse {
    let status: Int
    let headers: [String: String]
    let body: String

    init(_ text: String) {
        let parts = text.components(separatedBy: "\r\n\r\n")
        let lines = parts[0].components(separatedBy: "\r\n")
        status = lines.first.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
        headers = Dictionary(lines.dropFirst().compactMap { line -> (String, String)? in
            let pair = line.split(separator: ":", maxSplits: 1)
            guard pair.count == 2 else { return nil }
            return (pair[0].lowercased(), pair[1].trimmingCharacters(in: .whitespaces))
        }, uniquingKeysWith: { first, _ in first })
        body = parts.dropFirst().joined(separator: "\r\n\r\n")
    }

    /// The `code` of an error body.
    var errorCode: String? {
        let json = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
        return (json?["error"] as? [String: Any])?["code"] as? String
    }
}
