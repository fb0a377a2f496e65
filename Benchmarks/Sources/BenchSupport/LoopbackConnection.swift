public import NIOCore
public import NIOHTTP1
import NIOPosix

/// A request as the sender writes it, made before it is needed (before the clock starts).
public struct Request: Sendable {
    public var head: HTTPRequestHead
    public var body: ByteBuffer

    public static func post(_ path: String, to port: Int, headers: [(String, String)], body: String) -> Request {
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path, headers: HTTPHeaders(
            [("Host", "127.0.0.1:\(port)"), ("Content-Length", String(body.utf8.count))] + headers))
        return Request(head: head, body: ByteBuffer(string: body))
    }
}

/// What the server answered.
public struct Answer: Sendable {
    public var status: HTTPResponseStatus
    public var body: ByteBuffer
}

/// A keep-alive HTTP/1.1 connection to a loopback server, one request at a time, on plain
/// SwiftNIO: the lightest client there is. Its state is touched on its channel's loop only:
/// `send` must be called there.
public final class Connection: ChannelInboundHandler, @unchecked Sendable {
    public typealias InboundIn = HTTPClientResponsePart
    public typealias OutboundOut = HTTPClientRequestPart

    /// The server closed the connection with a request in flight: its log may say why.
    public struct Closed: Error {}

    private var context: ChannelHandlerContext?
    private var status = HTTPResponseStatus.ok
    private var body = ByteBuffer()
    private var answer: EventLoopPromise<Answer>?

    /// The loop `send` must be called on.
    public var loop: any EventLoop { context!.eventLoop }

    public static func open(to port: Int, on loop: any EventLoop) async throws -> Connection {
        let channel = try await ClientBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(Connection())
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return try await channel.pipeline.handler(type: Connection.self).get()
    }

    public func send(_ request: Request) -> EventLoopFuture<Answer> {
        guard let context else { preconditionFailure("a connection is used before it is open") }
        context.eventLoop.preconditionInEventLoop()
        precondition(answer == nil, "one request at a time on a connection")
        let promise = context.eventLoop.makePromise(of: Answer.self)
        answer = promise
        context.write(wrapOutboundOut(.head(request.head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(request.body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        return promise.futureResult
    }

    public func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = head.status
            body.clear()
        case .body(var part):
            body.writeBuffer(&part)
        case .end:
            let promise = answer
            answer = nil
            promise?.succeed(Answer(status: status, body: body))
        }
    }

    public func channelInactive(context: ChannelHandlerContext) {
        answer?.fail(Closed())
        answer = nil
    }

    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        answer?.fail(error)
        answer = nil
        context.close(promise: nil)
    }
}
