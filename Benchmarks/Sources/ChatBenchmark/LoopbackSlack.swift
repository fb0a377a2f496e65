import Foundation
import Hummingbird
import Logging
import Synchronization

/// Slack's Web API on loopback, in this process: the methods the bot calls while it watches a
/// channel, answered as Slack answers them, with no checks beyond the token. It notes when
/// each `chat.postMessage` arrives, by the `thread_ts` it answers; `reply(to:)` waits for one.
final class LoopbackSlack: Sendable {
    static let token = "xoxb-bench-token"
    static let channel = "C0SOC"
    static let direct = "D0ALICE"
    static let user = "U0ALICE"

    /// A reply that arrived, or a sender waiting for it.
    private enum Slot {
        case arrived(ContinuousClock.Instant)
        case waiting(CheckedContinuation<ContinuousClock.Instant, Never>)
    }

    private let slots = Mutex<[String: Slot]>([:])
    /// Posts outside a thread (the answers in the direct conversation), in order.
    private let plain = Mutex<[String]>([])
    private let posts = Atomic<Int>(0)
    private let server: Task<Void, any Error>
    let url: String

    init() async throws {
        let router = Router()
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let box = Box()
        router.post("/api/{method}") { request, context -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            guard request.headers[.authorization] == "Bearer \(Self.token)" else {
                return Self.json(#"{"ok":false,"error":"invalid_auth"}"#)
            }
            return Self.json(box.slack?.answer(context.parameters.get("method") ?? "", body: Data(body.readableBytesView))
                ?? #"{"ok":false,"error":"not_ready"}"#)
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in
                                  continuation.yield(channel.localAddress?.port ?? 0)
                                  continuation.finish()
                              },
                              logger: Logger(label: "loopback-slack") { _ in SwiftLogNoOpLogHandler() })
        server = Task { try await app.run() }
        var iterator = ports.makeAsyncIterator()
        url = "http://127.0.0.1:\(await iterator.next() ?? 0)/api"
        box.slack = self
    }

    deinit { server.cancel() }

    /// `chat.postMessage` calls so far.
    var postCount: Int { posts.load(ordering: .relaxed) }

    /// When the reply in the thread of `ts` arrived; waits for it.
    func reply(to ts: String) async -> ContinuousClock.Instant {
        await withCheckedContinuation { continuation in
            let arrived: ContinuousClock.Instant? = slots.withLock { slots in
                if case .arrived(let instant) = slots.removeValue(forKey: ts) { return instant }
                slots[ts] = .waiting(continuation)
                return nil
            }
            if let arrived { continuation.resume(returning: arrived) }
        }
    }

    /// Waits until `count` posts outside a thread have arrived; returns their texts.
    func plainPosts(count: Int, timeout: Duration = .seconds(30)) async throws -> [String] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let texts = plain.withLock { $0 }
            if texts.count >= count { return texts }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw BenchmarkError("the bot did not answer in the direct conversation within \(timeout)")
    }

    private func answer(_ method: String, body: Data) -> String {
        switch method {
        case "chat.postMessage":
            let now = ContinuousClock.now
            let number = posts.add(1, ordering: .relaxed).newValue
            let arguments = (try? JSONSerialization.jsonObject(with: body)) as? [String: Any] ?? [:]
            let channel = arguments["channel"] as? String ?? Self.channel
            if let thread = arguments["thread_ts"] as? String {
                let waiting: CheckedContinuation<ContinuousClock.Instant, Never>? = slots.withLock { slots in
                    if case .waiting(let continuation) = slots.removeValue(forKey: thread) { return continuation }
                    slots[thread] = .arrived(now)
                    return nil
                }
                waiting?.resume(returning: now)
            } else {
                plain.withLock { $0.append(arguments["text"] as? String ?? "") }
            }
            return #"{"ok":true,"channel":"\#(channel)","ts":"1800000000.\#(number)"}"#
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

    private static func json(_ text: String) -> Response {
        Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }

    private static func form(_ body: Data) -> [String: String] {
        var fields = [String: String]()
        for item in URLComponents(string: "?" + String(decoding: body, as: UTF8.self))?.queryItems ?? [] {
            fields[item.name] = item.value ?? ""
        }
        return fields
    }

    /// The router's handler is made before `self` exists.
    private final class Box: @unchecked Sendable {
        // Written once, before anyone is told the server's address.
        var slack: LoopbackSlack?
    }
}
