public import Hummingbird

/// A real HTTP server on 127.0.0.1 and a port the system picks, for the duration of a test.
public final class LoopbackServer: Sendable {
    public let port: Int
    private let task: Task<Void, any Error>

    /// Starts a server answering with `router`; returns once it accepts connections.
    public init(_ router: Router<BasicRequestContext>) async throws {
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in
                                  continuation.yield(channel.localAddress?.port ?? 0)
                                  continuation.finish()
                              })
        task = Task { try await app.run() }
        var iterator = ports.makeAsyncIterator()
        port = await iterator.next() ?? 0
    }

    public var url: String { "http://127.0.0.1:\(port)" }

    public func stop() { task.cancel() }
}
