import AsyncHTTPClient
import AutomatorRuntime
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1
import Synchronization

/// A server on loopback that passes every request on to `target` and its answer back, holding
/// back for a while the requests `hold` selects: a homeserver whose answers to the bot's posts
/// are slow, to stop the bot while they are on their way. A held request goes on to the target
/// after its delay even when its client has gone, as one that reached a real server would.
public final class LoopbackRelay: Sendable {
    private let server: LoopbackServer
    private let state = State()

    /// What to hold and for how long, and how many requests were held: read by the server's handler.
    private final class State: Sendable {
        let holding = Mutex<(select: Callback<@Sendable (_ method: String, _ path: String) -> Bool>, delay: Duration)?>(nil)
        let count = Mutex(0)
    }

    public init(to target: String) async throws {
        let state = self.state
        let pass: @Sendable (Request, BasicRequestContext) async throws -> Response = { request, _ in
            let method = request.method.rawValue
            let delay = state.holding.withLock { $0.flatMap { $0.select.call(method, request.uri.path) ? $0.delay : nil } }
            if delay != nil { state.count.withLock { $0 += 1 } }
            var passed = HTTPClientRequest(url: target + request.uri.description)
            passed.method = HTTPMethod(rawValue: method)
            if let value = request.headers[.authorization] { passed.headers.add(name: "Authorization", value: value) }
            if let value = request.headers[.contentType] { passed.headers.add(name: "Content-Type", value: value) }
            passed.body = .bytes(try await request.body.collect(upTo: 64 << 20))
            let passing = Task {
                if let delay { try await Task.sleep(for: delay) }
                let answer = try await HTTPClient.shared.execute(passed, timeout: .seconds(120))
                return (answer.status.code, answer.headers["Content-Type"].first,
                        try await answer.body.collect(upTo: 64 << 20))
            }
            let (status, type, body) = try await passing.value
            return Response(status: .init(code: Int(status)), headers: type.map { [.contentType: $0] } ?? [:],
                            body: .init(byteBuffer: body))
        }
        let router = Router()
        router.get("**", use: pass)
        router.post("**", use: pass)
        router.put("**", use: pass)
        router.delete("**", use: pass)
        server = try await LoopbackServer(router)
    }

    public var url: String { server.url }

    /// Holds the requests `select` picks (by method and path) for `delay` before passing them on,
    /// from now on; nil passes every request at once again.
    public func hold(_ select: (@Sendable (_ method: String, _ path: String) -> Bool)?, for delay: Duration = .zero) {
        state.holding.withLock { $0 = select.map { (Callback($0), delay) } }
    }

    /// How many requests were held so far.
    public var held: Int { state.count.withLock { $0 } }

    public func stop() { server.stop() }
}
