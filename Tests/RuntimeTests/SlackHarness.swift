@testable import AutomatorRuntime
@testable import AutomatorServer
import AsyncHTTPClient
import Foundation
import Glibc
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Synchronization
import TestSupport

/// A Slack adapter over a fake Slack, its routes served on loopback.
final class SlackHarness: Sendable {
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    let fake: FakeSlack
    let adapter: SlackAdapter
    let inbox = RecordingInbox()
    private let server: LoopbackServer

    /// - Parameters:
    ///   - connect: runs the adapter (`auth.test`) first, as the bot does.
    ///   - answerWithin: the adapter's deadline for an event's 200.
    ///   - fake: the fake Slack, shared by harnesses that stand for several workers of one app.
    ///   - conversations: where slash commands' conversations are kept; in memory by default.
    init(connect: Bool = true, answerWithin: Duration = .seconds(2), fake: FakeSlack? = nil,
         conversations: any ChatCommandStore = MemoryCommandConversations()) async throws
    {
        if let fake { self.fake = fake } else { self.fake = try await FakeSlack() }
        let adapter = SlackAdapter(configuration: SlackConfiguration(signingSecret: FakeSlack.signingSecret,
                                                                     botToken: FakeSlack.token, apiURL: self.fake.apiURL),
                                   conversations: conversations, answerWithin: answerWithin, logger: Self.logger)
        let inbox = inbox
        self.adapter = adapter
        let router = Router()
        SlackRoutes(adapter: adapter, inbox: inbox).add(to: router)
        // Events as the server takes them: ahead of the router, on the event loop.
        server = try await LoopbackServer(router, handlers: [SlackEventsHandler(adapter: adapter, inbox: inbox)])
        if connect { try await adapter.run(delivering: inbox) }
    }

    deinit { server.stop() }

    /// Stops the server as SIGTERM does (`LoopbackServer.stopGracefully`).
    func stopServerGracefully() async { await server.stopGracefully() }

    struct Answer {
        var status: UInt
        var body: String
    }

    /// POSTs `body` to `path` as Slack would, signed with `secret` at `timestamp` (now by default).
    func post(_ path: String, _ body: String, contentType: String = "application/json",
              timestamp: Int = Int(Date().timeIntervalSince1970), secret: String = FakeSlack.signingSecret,
              signature: String? = nil, headers extra: [(String, String)] = []) async throws -> Answer
    {
        var request = HTTPClientRequest(url: server.url + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: contentType)
        request.headers.add(name: "X-Slack-Request-Timestamp", value: String(timestamp))
        request.headers.add(name: "X-Slack-Signature", value: signature
            ?? SlackSignature.compute(body: Array(body.utf8), timestamp: String(timestamp), secret: secret))
        for (name, value) in extra { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        return Answer(status: response.status.code, body: String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }

    /// An `event_callback` with `event`, as JSON text.
    static func callback(_ event: [String: Any], id: String) -> String {
        let envelope: [String: Any] = [
            "token": "XXYYZZ", "team_id": "T0EXAMPLE", "api_app_id": "A0APP", "type": "event_callback",
            "event": event, "event_id": id, "event_time": 1_700_000_000,
            "authorizations": [["team_id": "T0EXAMPLE", "user_id": "UBOT", "is_bot": true]],
        ]
        return String(decoding: try! JSONSerialization.data(withJSONObject: envelope, options: [.sortedKeys]), as: UTF8.self)
    }

    /// A `message` event, as Slack sends it for a channel.
    static func message(_ text: String, user: String = "U0ALICE", channel: String = "C0SOC",
                        type: String = "channel", ts: String = "1700000000.000100") -> [String: Any]
    {
        ["type": "message", "user": user, "text": text, "ts": ts, "channel": channel, "channel_type": type,
         "event_ts": ts, "team": "T0EXAMPLE"]
    }
}

extension SlackHarness {
    /// Writes `requests` (HTTP/1.1, several pipelined) on one connection in one write, and returns
    /// all the server answered until it closed the connection (the last request asks it to).
    func exchange(_ requests: String) async throws -> String {
        let port = server.port
        return try await Task.detached {
            let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard socket >= 0 else { throw POSIXError(.EMFILE) }
            defer { close(socket) }
            var timeout = timeval(tv_sec: 10, tv_usec: 0)
            setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            guard connected else { throw POSIXError(.ECONNREFUSED) }
            let bytes = Array(requests.utf8)
            guard bytes.withUnsafeBytes({ send(socket, $0.baseAddress, $0.count, 0) }) == bytes.count else {
                throw POSIXError(.EIO)
            }
            var answered = [UInt8]()
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
                guard count > 0 else { break }
                answered += buffer[..<count]
            }
            return String(decoding: answered, as: UTF8.self)
        }.value
    }

    /// A POST of `body` to `path` as raw HTTP/1.1, signed as Slack would.
    static func rawPost(_ path: String, _ body: String, secret: String = FakeSlack.signingSecret,
                        close: Bool = false) -> String
    {
        let timestamp = String(Int(Date().timeIntervalSince1970))
        let signature = SlackSignature.compute(body: Array(body.utf8), timestamp: timestamp, secret: secret)
        return "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + "X-Slack-Request-Timestamp: \(timestamp)\r\nX-Slack-Signature: \(signature)\r\n"
            + (close ? "Connection: close\r\n" : "") + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
    }
}

/// `ChatCommandStore` in memory, for the adapter's tests that keep no conversation past the test;
/// `SlashConversationTests` checks both real stores.
final class MemoryCommandConversations: ChatCommandStore {
    private let kept = Mutex<[String: ChatCommandConversation]>([:])

    func openCommandConversation(_ conversation: ChatCommandConversation) async throws(StoreError) {
        kept.withLock { $0[conversation.network + " " + conversation.id] = conversation }
    }

    func commandConversation(network: String, id: String, openedSince: Date) async throws(StoreError)
        -> ChatCommandConversation?
    {
        kept.withLock { $0[network + " " + id] }.flatMap { $0.openedAt >= openedSince ? $0 : nil }
    }

    func deleteCommandConversations(openedBefore cutoff: Date) async throws(StoreError) -> Int {
        kept.withLock { kept in
            let old = kept.filter { $0.value.openedAt < cutoff }.keys
            for key in old { kept[key] = nil }
            return old.count
        }
    }
}
