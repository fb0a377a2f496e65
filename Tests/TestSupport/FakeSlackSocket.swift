import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import Synchronization

/// Slack's Socket Mode end on loopback: a real WebSocket server (RFC 6455, on SwiftNIO) that
/// greets each connection with `hello` as Slack does, sends the envelopes a test gives it on the
/// newest connection, and records what the client sends back (the acknowledgements). The fake
/// Web API's `apps.connections.open` hands out its URL (`FakeSlack.State.socketURL`). Over TLS
/// (`wss://`, `TestCertificate`) when asked, as Slack's is.
public final class FakeSlackSocket: Sendable {
    public let port: Int
    private let server: NIOAsyncChannel<EventLoopFuture<Connection>, Never>
    private let state = Shared()

    private struct State {
        var writers: [NIOAsyncChannelOutboundWriter<WebSocketFrame>] = []
        var received: [String] = []
        var closedByClient = 0
    }

    private final class Shared: Sendable {
        private let mutex = Mutex(State())

        func withLock<Result>(_ body: (inout State) -> Result) -> Result { mutex.withLock { body(&$0) } }
    }

    private enum Connection: Sendable {
        case websocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>)
        case plain
    }

    /// - Parameter answersPings: false for a connection that died without a word: nothing answers.
    public init(tls: Bool = false, answersPings: Bool = true) async throws {
        let context = tls ? try NIOSSLContext(configuration: .makeServerConfiguration(
            certificateChain: [.certificate(try NIOSSLCertificate(bytes: Array(TestCertificate.certificate.utf8), format: .pem))],
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(TestCertificate.key.utf8), format: .pem)))) : nil
        server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let context { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context)) }
                    let upgrader = NIOTypedWebSocketServerUpgrader<Connection>(
                        shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
                        upgradePipelineHandler: { channel, _ in
                            channel.eventLoop.makeCompletedFuture {
                                .websocket(try NIOAsyncChannel(wrappingChannelSynchronously: channel))
                            }
                        })
                    return try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(
                        configuration: .init(upgradeConfiguration: NIOTypedHTTPServerUpgradeConfiguration(
                            upgraders: [upgrader],
                            notUpgradingCompletionHandler: { channel in
                                channel.close(promise: nil)
                                return channel.eventLoop.makeSucceededFuture(.plain)
                            })))
                }
            }
        port = server.channel.localAddress?.port ?? 0
        let (server, state) = (server, state)
        Task {
            try await withThrowingDiscardingTaskGroup { group in
                try await server.executeThenClose { connections in
                    for try await connection in connections {
                        group.addTask {
                            guard case .websocket(let socket) = try? await connection.get() else { return }
                            try? await Self.serve(socket, state: state, answersPings: answersPings)
                        }
                    }
                }
            }
        }
    }

    deinit { server.channel.close(promise: nil) }

    /// The URL `apps.connections.open` answers: a new ticket each time, as Slack's.
    public var url: String { "ws://127.0.0.1:\(port)/link/?ticket=\(UInt32.random(in: 1...UInt32.max))&app_id=A0APP" }

    /// How many connections were made, and how many the client closed.
    public var connections: Int { state.withLock { $0.writers.count } }
    public var closedByClient: Int { state.withLock { $0.closedByClient } }

    /// The text messages the client sent, oldest first.
    public var received: [String] { state.withLock { $0.received } }

    /// Sends `text` on the newest connection.
    public func send(_ text: String) async throws {
        guard let writer = state.withLock({ $0.writers.last }) else { throw NoConnection() }
        try await writer.write(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: text)))
    }

    /// Sends `text` in fragments of `size` bytes, as a server may.
    public func sendFragmented(_ text: String, size: Int) async throws {
        guard let writer = state.withLock({ $0.writers.last }) else { throw NoConnection() }
        let bytes = Array(text.utf8)
        var start = 0
        while start < bytes.count {
            let end = min(start + size, bytes.count)
            try await writer.write(WebSocketFrame(fin: end == bytes.count, opcode: start == 0 ? .text : .continuation,
                                                  data: ByteBuffer(bytes: bytes[start..<end])))
            start = end
        }
    }

    /// Sends a ping; the client's pong is not recorded.
    public func ping() async throws {
        guard let writer = state.withLock({ $0.writers.last }) else { throw NoConnection() }
        try await writer.write(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer(string: "are you there")))
    }

    public struct NoConnection: Error {}

    private static func serve(_ socket: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, state: Shared,
                              answersPings: Bool) async throws
    {
        try await socket.executeThenClose { inbound, outbound in
            state.withLock { $0.writers.append(outbound) }
            try await outbound.write(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: """
                {"type":"hello","num_connections":1,"debug_info":{"host":"applink-1","approximate_connection_time":18060},\
                "connection_info":{"app_id":"A0APP"}}
                """)))
            for try await frame in inbound {
                switch frame.opcode {
                case .text:
                    let text = String(buffer: frame.unmaskedData)
                    state.withLock { $0.received.append(text) }
                case .ping where answersPings:
                    try await outbound.write(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData))
                case .connectionClose:
                    state.withLock { $0.closedByClient += 1 }
                    return
                default:
                    continue
                }
            }
        }
    }
}
