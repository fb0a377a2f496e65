import Foundation
import Hummingbird
import Synchronization
import TestSupport
import Testing

/// A service on loopback that holds each answer until the test lets it go: a run stays in its
/// HTTP call for as long as the test needs, with no timing.
final class HeldAnswers: Sendable {
    private let state = Mutex((asked: 0, released: 0))

    var asked: Int { state.withLock { $0.asked } }
    /// Lets the oldest answer held go.
    func release() { state.withLock { $0.released += 1 } }

    /// `GET /held`: counted, answered 200 once released.
    func server() async throws -> LoopbackServer {
        let router = Router()
        router.get("/held") { _, _ -> HTTPResponse.Status in
            let number = self.state.withLock { $0.asked += 1; return $0.asked }
            while self.state.withLock({ $0.released }) < number { try await Task.sleep(for: .milliseconds(10)) }
            return .ok
        }
        return try await LoopbackServer(router)
    }

    func waitUntilAsked(_ count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while asked < count {
            try #require(ContinuousClock.now < deadline, "the run did not call the service")
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
