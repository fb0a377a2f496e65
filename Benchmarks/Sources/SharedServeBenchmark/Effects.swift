import Foundation
import Hummingbird
import Synchronization

/// The outside world of the playbooks, on loopback in this process: `POST /effect` counts the
/// requests per incident (the body is the incident's id), as a ticketing system would receive
/// them; `POST /hold` answers only once `release()` is called, so that a worker's runs stay
/// under way until it is killed.
final class Effects: Sendable {
    private let counts: Tally
    private let released: Release
    private let server: Task<Void, any Error>
    let url: String

    init() async throws {
        let router = Router()
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let counts = Tally(), released = Release()
        self.counts = counts
        self.released = released
        router.post("/effect") { request, _ -> HTTPResponse.Status in
            let incident = String(buffer: try await request.body.collect(upTo: 1 << 10))
            counts.add(incident)
            return .ok
        }
        router.post("/hold") { request, _ -> HTTPResponse.Status in
            let incident = String(buffer: try await request.body.collect(upTo: 1 << 10))
            _ = incident
            while !released.value.load(ordering: .acquiring) { try await Task.sleep(for: .milliseconds(5)) }
            return .ok
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                              onServerRunning: { channel in
                                  continuation.yield(channel.localAddress?.port ?? 0)
                                  continuation.finish()
                              })
        server = Task { try await app.run() }
        var iterator = ports.makeAsyncIterator()
        url = "http://127.0.0.1:\(await iterator.next() ?? 0)"
    }

    /// Requests so far by incident; and forgets them.
    func take() -> [String: Int] { counts.take() }

    var distinct: Int { counts.distinct }

    func hold() { released.value.store(false, ordering: .releasing) }
    func release() { released.value.store(true, ordering: .releasing) }

    private final class Tally: Sendable {
        private let counts = Mutex<[String: Int]>([:])

        func add(_ incident: String) { counts.withLock { $0[incident, default: 0] += 1 } }
        func take() -> [String: Int] { counts.withLock { counts in defer { counts = [:] }; return counts } }
        var distinct: Int { counts.withLock { $0.count } }
    }

    private final class Release: Sendable {
        let value = Atomic<Bool>(false)
    }
}
