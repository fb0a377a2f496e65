import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// Slack's Web API on loopback, on the harness's one event loop: the methods the bot calls
/// while it watches a channel, answered as Slack answers them, with no checks beyond the token.
/// Each `chat.postMessage` in a thread goes to `onReply` with the `thread_ts` it answers and
/// when it arrived; the others (the answers in the direct conversation) are kept in order.
/// Its state is touched on `loop` only.
final class LoopbackSlack: @unchecked Sendable {
    static let token = "xoxb-bench-token"
    static let channel = "C0SOC"
    static let direct = "D0ALICE"
    static let user = "U0ALICE"

    let loop: any EventLoop
    private(set) var url = ""
    /// Called for each post in a thread.
    var onReply: (_ thread: String, _ arrived: NIODeadline) -> Void = { _, _ in }
    /// Posts outside a thread, in order.
    private(set) var plain = [String]()
    /// `chat.postMessage` calls so far.
    private(set) var posts = 0
    private let decoder = JSONDecoder()

    private init(loop: any EventLoop) { self.loop = loop }

    static func start(on loop: any EventLoop) async throws -> LoopbackSlack {
        let slack = LoopbackSlack(loop: loop)
        let server = try await ServerBootstrap(group: loop)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(slack: slack))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        slack.url = "http://127.0.0.1:\(server.localAddress?.port ?? 0)/api"
        return slack
    }

    private struct Post: Decodable {
        var channel: String?
        var text: String?
        var threadTs: String?

        private enum CodingKeys: String, CodingKey { case channel, text, threadTs = "thread_ts" }
    }

    private func answer(_ method: Substring, body: ByteBuffer) -> String {
        switch method {
        case "chat.postMessage":
            let now = NIODeadline.now()
            posts += 1
            let post = (try? decoder.decode(Post.self, from: Data(body.readableBytesView)))
            if let thread = post?.threadTs {
                onReply(thread, now)
            } else {
                plain.append(post?.text ?? "")
            }
            return #"{"ok":true,"channel":"\#(post?.channel ?? Self.channel)","ts":"1800000000.\#(posts)"}"#
        case "auth.test":
            return #"{"ok":true,"url":"https://bench.slack.com/","team":"Bench","user":"automator","team_id":"T0BENCH","user_id":"UBOT","bot_id":"B0BOT"}"#
        case "conversations.list":
            return #"{"ok":true,"channels":[\#(Self.soc)],"response_metadata":{"next_cursor":""}}"#
        case "conversations.info":
            let form = Self.form(body)
            if form["channel"] == Self.direct {
                return #"{"ok":true,"channel":{"id":"\#(Self.direct)","is_im":true,"user":"\#(Self.user)"}}"#
            }
            return form["channel"] == Self.channel ? #"{"ok":true,"channel":\#(Self.soc)}"#
                : #"{"ok":false,"error":"channel_not_found"}"#
        case "conversations.join":
            return #"{"ok":true,"channel":\#(Self.soc)}"#
        case "users.info":
            let id = Self.form(body)["user"] ?? Self.user
            return #"{"ok":true,"user":{"id":"\#(id)","name":"alice","real_name":"Alice"}}"#
        case "reactions.add":
            return #"{"ok":true}"#
        default:
            return #"{"ok":false,"error":"unknown_method"}"#
        }
    }

    private static let soc = #"{"id":"\#(channel)","name":"soc","is_channel":true,"is_private":false}"#

    private static func form(_ body: ByteBuffer) -> [String: String] {
        var fields = [String: String]()
        for item in URLComponents(string: "?" + String(buffer: body))?.queryItems ?? [] {
            fields[item.name] = item.value ?? ""
        }
        return fields
    }

    /// One connection from serve: a request's head and body gathered, answered at its end.
    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        private let slack: LoopbackSlack
        private var method: Substring = ""
        private var authorized = false
        private var body = ByteBuffer()

        init(slack: LoopbackSlack) { self.slack = slack }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                // `/api/METHOD`, as the bot's `api_url` and the method name make it.
                method = head.uri.split(separator: "/").last?.prefix(while: { $0 != "?" }) ?? ""
                authorized = head.headers.first(name: "Authorization") == "Bearer \(LoopbackSlack.token)"
                body.clear()
            case .body(var part):
                body.writeBuffer(&part)
            case .end:
                let answer = ByteBuffer(string: authorized ? slack.answer(method, body: body)
                    : #"{"ok":false,"error":"invalid_auth"}"#)
                let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: [
                    "Content-Type": "application/json; charset=utf-8", "Content-Length": String(answer.readableBytes),
                ])
                context.write(wrapOutboundOut(.head(head)), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(answer))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
