import Foundation
import NIOCore
import NIOExtras
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket

/// A WebSocket client connection (RFC 6455) on SwiftNIO, for Socket Mode: `ws://` or `wss://`
/// (TLS, the system's trust roots), through the environment's proxy where it names one (a
/// CONNECT tunnel, `OutboundProxy`), fragmented messages joined, pings answered, frames masked
/// as a client's must be. No package of its own: swift-nio has the protocol, swift-nio-extras
/// the CONNECT.
struct SlackWebSocket: Sendable {
    /// The largest message taken, fragments joined (Slack's envelopes are a few kilobytes).
    static let largestMessage = 4 << 20

    private let channel: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>

    private enum Upgrade: Sendable {
        case upgraded(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>)
        case refused
    }

    /// Connects to `url` and upgrades to a WebSocket.
    ///
    /// - Parameter tls: for `wss://`: the system's trust roots unless a test trusts its own.
    static func connect(to url: URL, proxy: OutboundProxy = .environment,
                        tls: TLSConfiguration = .makeClientConfiguration(), timeout: TimeAmount = .seconds(10))
        async throws(ChatError) -> SlackWebSocket
    {
        guard let scheme = url.scheme?.lowercased(), scheme == "ws" || scheme == "wss", let host = url.host,
              !host.isEmpty
        else {
            throw ChatError(.unavailable, "\(url.absoluteString) is not a WebSocket URL (ws:// or wss://)")
        }
        let secure = scheme == "wss"
        let port = url.port ?? (secure ? 443 : 80)
        let through = proxy.server(scheme: scheme, host: host)
        do {
            let context = secure ? try NIOSSLContext(configuration: tls) : nil
            let negotiation: EventLoopFuture<Upgrade> = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(timeout)
                .connect(host: through?.host ?? host, port: through?.port ?? port) { channel in
                    // The initializer returns before the connection is made: the tunnel and the
                    // upgrade are what its future's future waits for, `timeout` at most (a server
                    // that takes the connection and never answers would hold the bot forever).
                    let deadline = channel.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
                    return channel.eventLoop.makeCompletedFuture {
                        try tunnel(channel, through: through, to: host, port: port, within: timeout)
                    }.map { tunnel in
                        tunnel.flatMapThrowing { try upgrade(channel, to: url, tls: context) }
                            .flatMap { $0 }.always { _ in deadline.cancel() }
                    }
                }
            switch try await negotiation.get() {
            case .upgraded(let channel): return SlackWebSocket(channel: channel)
            case .refused: throw ChatError(.unavailable, "\(host) did not accept the WebSocket")
            }
        } catch let error as ChatError {
            throw error
        } catch {
            throw ChatError(.unavailable, "cannot open the WebSocket to \(host)"
                + (through.map { " through the proxy \($0)" } ?? "") + ": \(error)")
        }
    }

    /// TLS (for `wss://`) and the HTTP upgrade, on a channel connected to the server (or through
    /// the proxy's tunnel to it).
    private static func upgrade(_ channel: any Channel, to url: URL, tls: NIOSSLContext?) throws
        -> EventLoopFuture<Upgrade>
    {
        let host = url.host ?? ""
        if let tls { try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: host)) }
        let upgrader = NIOTypedWebSocketClientUpgrader<Upgrade>(maxFrameSize: largestMessage) { channel, _ in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(
                    NIOWebSocketFrameAggregator(minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 1024,
                                                maxAccumulatedFrameSize: largestMessage))
                return .upgraded(try NIOAsyncChannel(wrappingChannelSynchronously: channel))
            }
        }
        var target = url.path.isEmpty ? "/" : url.path
        if let query = url.query { target += "?" + query }
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: url.port.map { "\(host):\($0)" } ?? host)
        headers.add(name: "Content-Length", value: "0")
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: target, headers: headers)
        let configuration = NIOTypedHTTPClientUpgradeConfiguration<Upgrade>(
            upgradeRequestHead: head, upgraders: [upgrader],
            notUpgradingCompletionHandler: { channel in channel.eventLoop.makeSucceededFuture(.refused) })
        // The server's first frames may come in the read that brings its 101: they are the
        // WebSocket's, not bytes to drop with the HTTP decoder (SwiftNIO's default).
        var pipeline = NIOUpgradableHTTPClientPipelineConfiguration(upgradeConfiguration: configuration)
        pipeline.leftOverBytesStrategy = .forwardBytes
        return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(configuration: pipeline)
    }

    /// Asks `proxy` for a tunnel to `host:port` (`CONNECT`) once `channel` is connected to it;
    /// the future succeeds when the tunnel is open, at once without a proxy. The CONNECT's
    /// handlers have left the pipeline by then.
    private static func tunnel(_ channel: any Channel, through proxy: OutboundProxy.Server?, to host: String, port: Int,
                               within timeout: TimeAmount) throws -> EventLoopFuture<Void>
    {
        guard let proxy else { return channel.eventLoop.makeSucceededVoidFuture() }
        let opened = channel.eventLoop.makePromise(of: Void.self)
        var headers = HTTPHeaders()
        if let authorization = OutboundProxy.authorization(proxy) { headers.add(name: "Proxy-Authorization", value: authorization) }
        let handlers: [(String, any ChannelHandler)] = [
            ("proxy-encoder", HTTPRequestEncoder()),
            ("proxy-decoder", ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .forwardBytes))),
            ("proxy-connect", NIOHTTP1ProxyConnectHandler(targetHost: host, targetPort: port, headers: headers,
                                                          deadline: .now() + timeout, promise: opened)),
        ]
        for (name, handler) in handlers { try channel.pipeline.syncOperations.addHandler(handler, name: name) }
        // The CONNECT handler removes itself once the tunnel is open; the HTTP codec is ours to remove.
        return opened.futureResult.flatMap {
            channel.pipeline.removeHandler(name: "proxy-decoder")
        }.flatMap {
            channel.pipeline.removeHandler(name: "proxy-encoder")
        }
    }

    /// Calls `receive` with each text message until the server closes the connection or
    /// `receive` says to stop (then returns true); `send` writes text messages meanwhile, from any
    /// task. The connection is closed on return, with the closing handshake when the task is
    /// cancelled (the server stopping).
    ///
    /// A connection silent for `idle` is pinged, and one silent for twice that is closed: a
    /// connection that died without a word (a NAT or a proxy forgetting it) would otherwise keep
    /// the bot deaf, waiting for envelopes that go elsewhere.
    func session(idle: Duration = .seconds(60), _ receive: (_ text: String, _ send: Sender) async throws -> Bool)
        async throws -> Bool
    {
        let connection = channel.channel
        return try await channel.executeThenClose { inbound, outbound in
            let sender = Sender(outbound: outbound)
            let heard = Locked(ContinuousClock.now)
            let watchdog = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: idle / 2)
                    let silence = ContinuousClock.now - heard.withLock { $0 }
                    if silence >= idle * 2 { return connection.close(promise: nil) }
                    if silence >= idle { await sender.ping() }
                }
            }
            defer { watchdog.cancel() }
            do {
                for try await frame in inbound {
                    heard.withLock { $0 = .now }
                    switch frame.opcode {
                    case .text:
                        guard try await receive(String(buffer: frame.unmaskedData), sender) else {
                            await sender.close()
                            return true
                        }
                    case .ping:
                        try await outbound.write(WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(),
                                                                data: frame.unmaskedData))
                    case .connectionClose:
                        await sender.close()
                        return false
                    default:
                        continue
                    }
                }
            } catch where Task.isCancelled {}
            // Written by a task that is not cancelled: a cancelled one cannot write.
            if Task.isCancelled { await Task { await sender.close() }.value }
            return false
        }
    }

    /// Writes text messages on the connection; those written after it closed are dropped.
    struct Sender: Sendable {
        let outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>

        func send(_ text: String) async {
            try? await outbound.write(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(),
                                                     data: ByteBuffer(string: text)))
        }

        /// Asks the server for a pong: any frame back says the connection lives.
        func ping() async {
            try? await outbound.write(WebSocketFrame(fin: true, opcode: .ping, maskKey: .random(),
                                                     data: ByteBuffer(string: "automator")))
        }

        /// A normal closure (1000), as a client sends it.
        func close() async {
            var code = ByteBuffer()
            code.write(webSocketErrorCode: .normalClosure)
            try? await outbound.write(WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: code))
        }
    }
}
