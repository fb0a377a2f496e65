import Hummingbird
import NIOCore
import NIOHTTPTypes

/// Closes a connection that holds a socket without using it: no request within `timeout` of
/// its opening or of its last answer, or a request whose parts stop coming for as long (a
/// header sent a line at a time, a body that stalls), or a body that trickles in slower than
/// `minimumRate` once `timeout` has passed (a byte every minute never stalls). Each such
/// connection held a file descriptor for as long as its client liked: a few thousand of them,
/// from anyone who reaches `/slack/events` or the API, left the server unable to accept a
/// request or open a file. A request that is read whole is never cut: its answer takes what it
/// takes.
///
/// First in each connection's pipeline, so that it sees every request, Slack's events included
/// (`SlackEventsHandler` answers those without Hummingbird, whose own idle timeout would not
/// see them and would close a connection in the middle of one).
final class IdleConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// As nginx's `keepalive_timeout`: longer than clients' own pools keep an idle connection
    /// (60 s for AsyncHTTPClient's), so that a client rarely sends on a connection being closed.
    static let timeout = TimeAmount.seconds(75)
    /// Bytes a second a body must average past `timeout`, as Apache's `mod_reqtimeout` asks
    /// (`MinRate=500`): a 10 MB upload may take 5.5 hours on the slowest honest link, while
    /// holding a thousand connections costs a trickler half a megabyte a second.
    static let minimumRate = 500

    private let timeout: TimeAmount
    private let minimumRate: Int
    /// When a request's part last arrived, or an answer ended; the connection's start before.
    private var lastActive = NIODeadline.uptimeNanoseconds(0)
    /// Requests begun whose answer has not ended.
    private var unanswered = 0
    /// A request's parts are still coming.
    private var reading = false
    /// When the request being read began, and the body bytes it has sent since.
    private var readingSince = NIODeadline.uptimeNanoseconds(0)
    private var bodyBytes = 0
    private var check: Scheduled<Void>?

    init(timeout: TimeAmount = IdleConnectionHandler.timeout, minimumRate: Int = IdleConnectionHandler.minimumRate) {
        self.timeout = timeout
        self.minimumRate = minimumRate
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        check?.cancel()
        check = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActive = context.eventLoop.now
        switch unwrapInboundIn(data) {
        case .head:
            unanswered += 1
            reading = true
            readingSince = lastActive
            bodyBytes = 0
        case .body(let bytes): bodyBytes += bytes.readableBytes
        case .end: reading = false
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            unanswered -= 1
            lastActive = context.eventLoop.now
        }
        context.write(data, promise: promise)
    }

    private func start(_ context: ChannelHandlerContext) {
        lastActive = context.eventLoop.now
        if check == nil { schedule(context, at: lastActive + timeout) }
    }

    private func schedule(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        check = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { self.expire(context) }
    }

    private func expire(_ context: ChannelHandlerContext) {
        check = nil
        // Read whole and being answered: the answer's time is the server's, and it ends the wait.
        let now = context.eventLoop.now
        if !reading, unanswered > 0 { return schedule(context, at: now + timeout) }
        var deadline = lastActive + timeout
        if reading {
            deadline = min(deadline, readingSince + timeout + .seconds(Int64(bodyBytes / minimumRate)))
        }
        if deadline <= now { return context.close(promise: nil) }
        schedule(context, at: deadline)
    }
}
