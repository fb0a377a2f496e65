import AutomatorRuntime
import Hummingbird
import NIOCore
import NIOHTTPTypes

/// `POST /slack/events`, answered on the event loop that read it, ahead of Hummingbird's router
/// in each connection's pipeline; every other request passes on to Hummingbird untouched.
///
/// Why not a route: Hummingbird runs each connection's requests in a task in Swift's pool, so an
/// event woke a pool thread to check its signature and store its message, and the 200 went back
/// to the loop. Here the request is read, checked and handed to the bot on the loop, and the
/// delivery resumes there after the store's commit (`EventLoopTaskExecutor`): the bot's busiest
/// request no longer passes through the pool at all.
///
/// What the route did, this does: the signature and the timestamp (401), `url_verification`,
/// Slack's retries, the 200 once the message is stored or at the adapter's deadline, a 400 for
/// what is not the Events API, bodies of at most `SlackRoutes.maximumBody` (413),
/// `Connection: close`. Requests on one connection are answered in their order: an event that
/// follows a request Hummingbird has not answered yet waits for that answer, and what follows an
/// event waits for the event's (HTTP/1.1 pipelining), the socket not read meanwhile.
///
/// ```swift
/// .http1(configuration: .init(additionalChannelHandlers: [SlackEventsHandler(adapter: slack, inbox: bot)]))
/// ```
final class SlackEventsHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum State {
        /// Between requests.
        case idle
        /// Passing a request on to Hummingbird, up to its end.
        case passing
        /// Reading an event's body (into `body`).
        case reading(HTTPRequest)
        /// Waiting for the adapter's answer to an event.
        case answering
    }

    private let adapter: SlackAdapter
    private let inbox: any ChatInbox
    private let serverName: String?
    private var state = State.idle
    private var body = ByteBuffer()
    private var tooLarge = false
    /// Requests passed to Hummingbird whose response has not ended.
    private var owed = 0
    /// Parts that arrived while an event was answered, or an event behind Hummingbird's
    /// requests: taken in order once they may be.
    private var held = CircularBuffer<HTTPRequestPart>()
    /// A read asked for while parts were held: the socket is read again once they are taken.
    private var readPending = false
    /// Hummingbird's graceful stop, held back while an event is answered: it closes a
    /// connection it sees idle, and an event is a request it does not see.
    private var quiescing = false
    private var executor: EventLoopTaskExecutor?

    init(adapter: SlackAdapter, inbox: any ChatInbox, serverName: String? = nil) {
        self.adapter = adapter
        self.inbox = inbox
        self.serverName = serverName
    }

    func handlerAdded(context: ChannelHandlerContext) {
        executor = EventLoopTaskExecutor(context.eventLoop)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        held.append(unwrapInboundIn(data))
        takeHeld(context: context, replaying: false)
    }

    func read(context: ChannelHandlerContext) {
        if holding { readPending = true } else { context.read() }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let ended = if case .end = unwrapOutboundIn(data) { true } else { false }
        context.write(data, promise: promise)
        guard ended else { return }
        owed -= 1
        if owed == 0, !held.isEmpty {
            context.eventLoop.assumeIsolated().execute { self.takeHeld(context: context, replaying: true) }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent, case .answering = state {
            quiescing = true
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    private var holding: Bool {
        if case .answering = state { return true }
        return !held.isEmpty
    }

    /// Takes the held parts that may be taken now, in order. Parts passed on outside a read
    /// (`replaying`) are followed by a read's end, which is when Hummingbird's stream gets them.
    private func takeHeld(context: ChannelHandlerContext, replaying: Bool) {
        var passed = false
        while let part = held.first, mayTake(part) {
            held.removeFirst()
            passed = take(part, context: context) || passed
        }
        if replaying, passed { context.fireChannelReadComplete() }
        if readPending, !holding {
            readPending = false
            context.read()
        }
    }

    private func mayTake(_ part: HTTPRequestPart) -> Bool {
        switch state {
        case .answering: false
        case .idle: if case .head(let head) = part, Self.isEvent(head) { owed == 0 } else { true }
        case .passing, .reading: true
        }
    }

    /// Takes one part; true if it went on to Hummingbird.
    private func take(_ part: HTTPRequestPart, context: ChannelHandlerContext) -> Bool {
        switch (state, part) {
        case (.idle, .head(let head)) where Self.isEvent(head):
            state = .reading(head)
            return false
        case (.idle, .head):
            owed += 1
            state = .passing
        case (.passing, .end):
            state = .idle
        case (.reading, .body(var chunk)):
            if tooLarge || body.readableBytes + chunk.readableBytes > SlackRoutes.maximumBody {
                tooLarge = true
                body.clear()
            } else {
                body.writeBuffer(&chunk)
            }
            return false
        case (.reading(let head), .end):
            state = .answering
            answer(head, context: context)
            return false
        default:
            // A body out of a request's order: Hummingbird's to refuse, as before.
            break
        }
        context.fireChannelRead(wrapInboundOut(part))
        return true
    }

    private static func isEvent(_ head: HTTPRequest) -> Bool {
        head.method == .post && head.path?.split(separator: "?", maxSplits: 1).first == "/slack/events"
    }

    private func answer(_ head: HTTPRequest, context: ChannelHandlerContext) {
        let close = head.headerFields[.connection] == "close"
        defer { body.clear(); tooLarge = false }
        guard !tooLarge else { return respond(.tooLarge(limit: SlackRoutes.maximumBody), close: close, context: context) }
        let request = SlackHTTPRequest(body: Array(buffer: body),
                                       timestamp: head.headerFields[.init("X-Slack-Request-Timestamp")!],
                                       signature: head.headerFields[.init("X-Slack-Signature")!],
                                       retry: head.headerFields[.init("X-Slack-Retry-Num")!],
                                       request: "POST /slack/events",
                                       peer: context.remoteAddress?.peer)
        let loop = context.eventLoop
        let handler = NIOLoopBound((self, context), eventLoop: loop)
        Task.immediate(executorPreference: executor) { [adapter, inbox, executor] in
            let answer = await adapter.handleEvents(request, delivering: inbox, resumingOn: executor)
            loop.execute {
                let (self_, context) = handler.value
                self_.respond(answer, close: close, context: context)
            }
        }
    }

    private func respond(_ answer: SlackHTTPResponse, close: Bool, context: ChannelHandlerContext) {
        var head = HTTPResponse(status: .init(code: answer.status))
        head.headerFields[.contentType] = answer.contentType
        head.headerFields[.contentLength] = String(answer.body.utf8.count)
        if let serverName { head.headerFields[.server] = serverName }
        if close { head.headerFields[.connection] = "close" }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if !answer.body.isEmpty { context.write(wrapOutboundOut(.body(ByteBuffer(string: answer.body))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        state = .idle
        if close { return context.close(promise: nil) }
        if quiescing {
            quiescing = false
            context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        takeHeld(context: context, replaying: true)
    }
}
