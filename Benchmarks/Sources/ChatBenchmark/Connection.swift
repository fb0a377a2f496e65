import NIOCore
import NIOHTTP1
import NIOPosix

/// A request as the sender writes it, made before it is needed (before the clock starts).
struct Request: Sendable {
    var head: HTTPRequestHead
    var body: ByteBuffer

    static func post(_ path: String, to port: Int, headers: [(String, String)], body: String) -> Request {
        let head = HTTPRequestHead(version: .http1_1, method: .POST, uri: path, headers: HTTPHeaders(
            [("Host", "127.0.0.1:\(port)"), ("Content-Length", String(body.utf8.count))] + headers))
        return Request(head: head, body: ByteBuffer(string: body))
    }
}

/// What serve answered.
struct Answer: Sendable {
    var status: HTTPResponseStatus
    var body: ByteBuffer
}

/// A keep-alive HTTP/1.1 connection to serve, one request at a time. Its state is touched on
/// its channel's loop only: `send` must be called there.
final class Connection: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private var context: ChannelHandlerContext?
    private var status = HTTPResponseStatus.ok
    private var body = ByteBuffer()
    private var answer: EventLoopPromise<Answer>?

    static func open(to port: Int, on loop: any EventLoop) async throws -> Connection {
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

    func send(_ request: Request) -> EventLoopFuture<Answer> {
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

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
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

    func channelInactive(context: ChannelHandlerContext) {
        answer?.fail(BenchmarkError("serve closed a connection: its log may say why"))
        answer = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        answer?.fail(error)
        answer = nil
        context.close(promise: nil)
    }
}
