import Foundation
import Hummingbird
import Synchronization

/// The outside world of the playbooks, on loopback in this process: `POST /effect` counts the
/// requests per incident (the body is the incident's id), as a ticketing system would receive
/// them, and keeps the idempotency keys they carried; `POST /hold` answers only once `release()` is called, so that a worker's runs stay
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
            counts.add(incident, key: request.headers[.init("Idempotency-Key")!] ?? "")
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

    /// Requests so far by incident; and forgets them (and their keys).
    func take() -> [String: Int] { counts.take() }

    /// The idempotency keys of the requests so far, by incident.
    var keys: [String: Set<String>] { counts.keys }

    var distinct: Int { counts.distinct }

    func hold() { released.value.store(false, ordering: .releasing) }
    func release() { released.value.store(true, ordering: .releasing) }

    private final class Tally: Sendable {
        private let tally = Mutex<(counts: [String: Int], keys: [String: Set<String>])>(([:], [:]))

        func add(_ incident: String, key: String) {
            tally.withLock { tally in
                tally.counts[incident, default: 0] += 1
                tally.keys[incident, default: []].insert(key)
            }
        }

        func take() -> [String: Int] { tally.withLock { tally in defer { tally = ([:], [:]) }; return tally.counts } }
        var keys: [String: Set<String>] { tally.withLock { $0.keys } }
        var distinct: Int { tally.withLock { $0.counts.count } }
    }

    private final class Release: Sendable {
        let value = Atomic<Bool>(false)
    }
}
