import AutomatorRuntime
import Synchronization

/// The bot's inbox in the Slack tests: it records what is delivered, and can hold deliveries
/// back to show they do not hold up Slack's answer.
final class RecordingInbox: ChatInbox {
    private struct State {
        var messages: [ChatMessage] = []
        var answers: [ChatAnswer] = []
        var held = false
        var waiting = 0
    }

    private let state = Mutex(State())

    /// Deliveries wait in `receive` until `release`.
    func hold() { state.withLock { $0.held = true } }
    func release() { state.withLock { $0.held = false } }
    /// How many deliveries are waiting in `receive`.
    var waiting: Int { state.withLock { $0.waiting } }
    var messages: [ChatMessage] { state.withLock { $0.messages } }
    var answers: [ChatAnswer] { state.withLock { $0.answers } }

    func receive(_ message: ChatMessage, from adapter: any ChatAdapter) async {
        await waitWhileHeld()
        state.withLock { $0.messages.append(message) }
    }

    func receive(_ answer: ChatAnswer, from adapter: any ChatAdapter) async {
        await waitWhileHeld()
        state.withLock { $0.answers.append(answer) }
    }

    private func waitWhileHeld() async {
        guard state.withLock({ $0.held }) else { return }
        state.withLock { $0.waiting += 1 }
        while state.withLock({ $0.held }) { try? await Task.sleep(for: .milliseconds(5)) }
        state.withLock { $0.waiting -= 1 }
    }

    /// The messages once there are `count`; fails after 10 seconds.
    func messages(count: Int) async throws -> [ChatMessage] {
        try await Self.eventually { self.messages.count >= count ? self.messages : nil }
    }

    func answers(count: Int) async throws -> [ChatAnswer] {
        try await Self.eventually { self.answers.count >= count ? self.answers : nil }
    }

    static func eventually<Value>(_ check: () -> Value?) async throws -> Value {
        for _ in 0..<1000 {
            if let value = check() { return value }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw TimedOut()
    }

    struct TimedOut: Error {}
}
