public import Hummingbird
import HummingbirdCore
public import NIOCore
import Logging
import ServiceLifecycle
import Synchronization

/// A real HTTP server on 127.0.0.1 and a port the system picks, for the duration of a test.
public final class LoopbackServer: Sendable {
    public let port: Int
    private let task: Task<Void, any Error>
    private let group: ServiceGroup
    private let listener: Mutex<(any Channel)?>

    /// Starts a server answering with `router`, with `handlers` in each connection's pipeline ahead of
    /// it; returns once it accepts connections.
    public init(_ router: Router<BasicRequestContext>,
                handlers: @autoclosure @escaping @Sendable () -> [any RemovableChannelHandler] = []) async throws
    {
        let (listeners, continuation) = AsyncStream<any Channel>.makeStream()
        let app = Application(router: router,
                              server: .http1(configuration: .init(additionalChannelHandlers: handlers())),
                              configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in
                                  continuation.yield(channel)
                                  continuation.finish()
                              })
        // In a group of its own, so that a test can stop it gracefully, as SIGTERM stops automator serve.
        let group = ServiceGroup(configuration: .init(services: [app], logger: Logger(label: "loopback") { _ in
            SwiftLogNoOpLogHandler()
        }))
        self.group = group
        task = Task { try await group.run() }
        var iterator = listeners.makeAsyncIterator()
        let listener = await iterator.next()
        port = listener?.localAddress?.port ?? 0
        self.listener = Mutex(listener)
    }

    public var url: String { "http://127.0.0.1:\(port)" }

    public func stop() { task.cancel() }

    /// Stops as SIGTERM stops a server: no new connection, and each open one closed once it is
    /// idle.
    public func stopGracefully() async { await group.triggerGracefulShutdown() }

    /// Closes the listening socket: a new connection is refused, while the requests under way are
    /// answered (`stop` cuts them), as from a server that went away between two requests.
    public func stopAccepting() async throws {
        try await listener.withLock { $0.take() }?.close()
    }
}
