@testable import AutomatorRuntime
import AsyncHTTPClient
import Hummingbird
import Synchronization
import Testing
import TestSupport

@Suite("The process's HTTP clients", .timeLimit(.minutes(1)))
struct HTTPClientsTests {
    @Test("Slow calls to a host do not hold the next ones in a queue: twelve are in flight at once")
    func manyAtOnce() async throws {
        // Each answer waits until all twelve requests have arrived (or 3 s): with AsyncHTTPClient's
        // default of 8 connections a host, the last four would wait in its queue for the first eight.
        let calls = 12
        let arrived = Mutex(0)
        let router = Router()
        router.get("/slow") { _, _ -> String in
            arrived.withLock { $0 += 1 }
            let clock = ContinuousClock()
            let deadline = clock.now + .seconds(3)
            while arrived.withLock({ $0 }) < calls, clock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            return arrived.withLock { $0 } >= calls ? "together" : "alone"
        }
        let server = try await LoopbackServer(router)
        defer { server.stop() }
        let clients = HTTPClients(configuration: HTTPClient.Configuration())
        let answers = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<calls {
                group.addTask {
                    let url = server.url + "/slow"
                    let response = try await clients.client(for: url).execute(HTTPClientRequest(url: url), timeout: .seconds(10))
                    return String(buffer: try await response.body.collect(upTo: 64))
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers == Array(repeating: "together", count: calls))
        try await clients.shutdown()
    }
}
