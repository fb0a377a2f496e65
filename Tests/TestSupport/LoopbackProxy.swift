import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// An HTTP proxy on loopback, as a company's egress proxy: `CONNECT host:port` opens a tunnel
/// (what clients do for `https://` and WebSockets), and a request in absolute form (`GET
/// http://host:port/path`) is passed on. Whatever the host is named, the proxy connects to that
/// port on 127.0.0.1: a test names hosts that do not resolve (`slack.test`), so that only a
/// request through the proxy can arrive. It records each request's first line, and refuses
/// those without the credentials when it is given some.
public final class LoopbackProxy: Sendable {
    public let port: Int
    private let channel: any Channel
    private let log: NIOLockedValueBox<[String]>

    /// - Parameter credentials: `user:password` the proxy demands (`Proxy-Authorization: Basic`).
    public init(credentials: String? = nil) async throws {
        let log = NIOLockedValueBox<[String]>([])
        self.log = log
        let expected = credentials.map { "Basic " + Data($0.utf8).base64EncodedString() }
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Front(log: log, expected: expected), name: "front")
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        port = channel.localAddress?.port ?? 0
    }

    deinit { channel.close(promise: nil) }

    /// As `HTTPS_PROXY` and `HTTP_PROXY` name it.
    public var url: String { "http://127.0.0.1:\(port)" }

    /// The first line of every request, oldest first: `CONNECT slack.test:4000 HTTP/1.1`.
    public var requests: [String] { log.withLockedValue { $0 } }

    /// Reads the client's head, then joins it to the target.
    private final class Front: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        let log: NIOLockedValueBox<[String]>
        let expected: String?
        var head = ByteBuffer()
        var connecting = false

        init(log: NIOLockedValueBox<[String]>, expected: String?) {
            self.log = log
            self.expected = expected
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            head.writeBuffer(&bytes)
            guard !connecting, let text = head.getString(at: head.readerIndex, length: head.readableBytes),
                  let end = text.range(of: "\r\n\r\n")
            else { return }
            let lines = text[..<end.lowerBound].components(separatedBy: "\r\n")
            let first = lines.first ?? ""
            log.withLockedValue { $0.append(first) }
            let parts = first.split(separator: " ")
            if let expected, !lines.contains(where: { $0.lowercased() == "proxy-authorization: \(expected.lowercased())" }) {
                return refuse(context, "407 Proxy Authentication Required")
            }
            guard parts.count == 3, let port = Self.port(of: String(parts[1]), connect: parts[0] == "CONNECT") else {
                return refuse(context, "400 Bad Request")
            }
            connecting = true
            let tunnel = parts[0] == "CONNECT"
            let client = context.channel
            var rest = head
            if tunnel { rest.moveReaderIndex(forwardBy: text.utf8.distance(from: text.startIndex, to: end.upperBound)) }
            let pending = rest
            ClientBootstrap(group: context.eventLoop).connect(host: "127.0.0.1", port: port).whenComplete { result in
                switch result {
                case .success(let server):
                    Self.join(client, server, pending: pending, answer: tunnel)
                case .failure:
                    client.writeAndFlush(ByteBuffer(string: "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n"))
                        .whenComplete { _ in client.close(promise: nil) }
                }
            }
        }

        private func refuse(_ context: ChannelHandlerContext, _ status: String) {
            let client = context.channel
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "HTTP/1.1 \(status)\r\nContent-Length: 0\r\n\r\n")))
                .whenComplete { _ in client.close(promise: nil) }
        }

        /// `slack.test:4000` for CONNECT, `http://slack.test:4000/api` otherwise.
        static func port(of target: String, connect: Bool) -> Int? {
            let authority = connect ? Substring(target) : target.split(separator: "/").dropFirst().first ?? ""
            return authority.split(separator: ":").last.flatMap { Int($0) } ?? (connect ? nil : 80)
        }

        /// Passes bytes both ways from now on: the tunnel's 200 first, or the request read so far.
        static func join(_ client: any Channel, _ server: any Channel, pending: ByteBuffer, answer: Bool) {
            _ = client.pipeline.removeHandler(name: "front")
            try? client.pipeline.syncOperations.addHandler(Glue(partner: server))
            try? server.pipeline.syncOperations.addHandler(Glue(partner: client))
            if answer { client.writeAndFlush(ByteBuffer(string: "HTTP/1.1 200 Connection established\r\n\r\n"), promise: nil) }
            if pending.readableBytes > 0 { server.writeAndFlush(pending, promise: nil) }
        }
    }

    /// One side of a joined pair: what it reads, its partner writes; when it closes, so does its partner.
    private final class Glue: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer

        let partner: any Channel

        init(partner: any Channel) { self.partner = partner }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            partner.writeAndFlush(unwrapInboundIn(data), promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            partner.close(promise: nil)
            context.fireChannelInactive()
        }
    }
}
