import BenchSupport
import NIOCore
import NIOHTTP1

/// One run of messages over the sender's connections, one message in flight on each: a
/// connection sends its next message when serve has taken its last one (200) and the reply to
/// it has arrived at the loopback API. Callbacks on the loop, no task per message. Its state is
/// touched on the loop only.
final class Load: @unchecked Sendable {
    /// A message's event (its `ts` is the `thread_ts` of the reply) and its request, signed.
    struct Message: Sendable {
        var ts: String
        var request: Request
    }

    /// The message on a connection: when it was sent, whether serve has taken it, when its
    /// reply arrived.
    private struct Slot {
        var sent = NIODeadline.now()
        var taken = false
        var replied: NIODeadline?
    }

    private let messages: [Message]
    private let connections: [Connection]
    private let done: EventLoopPromise<Void>
    private var slots: [Slot]
    /// The slot of each message waiting for its reply, by `ts`.
    private var waiting = [String: Int]()
    private var next = 0
    private var running = 0
    private(set) var latencies = [Double]()
    private(set) var started = NIODeadline.now()
    private(set) var ended = NIODeadline.now()

    private init(_ messages: [Message], connections: [Connection], slack: LoopbackSlack) {
        self.messages = messages
        self.connections = connections
        done = slack.loop.makePromise()
        slots = Array(repeating: Slot(), count: connections.count)
        latencies.reserveCapacity(messages.count)
    }

    /// Sends every message; returns once every reply has arrived, or fails after `timeout`.
    static func run(_ messages: [Message], over connections: [Connection], slack: LoopbackSlack,
                    timeout: TimeAmount, serveLog: String) async throws -> Load {
        let load = Load(messages, connections: connections, slack: slack)
        try await slack.drive(until: load.done, timeout: timeout, serveLog: serveLog, replies: load.replied) {
            load.started = .now()
            load.ended = load.started
            for slot in load.slots.indices { load.send(on: slot) }
        }
        return load
    }

    private func send(on slot: Int) {
        guard next < messages.count else {
            if running == 0 { done.succeed() }
            return
        }
        let message = messages[next]
        next += 1
        running += 1
        slots[slot] = Slot()
        waiting[message.ts] = slot
        connections[slot].send(message.request).whenComplete { [self] result in
            switch result {
            case .success(let answer) where answer.status == .ok:
                slots[slot].taken = true
                finish(slot)
            case .success(let answer):
                done.fail(BenchmarkError("/slack/events answered \(answer.status.code): \(String(buffer: answer.body))"))
            case .failure(let error):
                done.fail(error)
            }
        }
    }

    /// A reply to a message waiting for one; a reply to any other is counted by the loopback
    /// API's posts, which the harness checks at the end.
    private func replied(to thread: String, at instant: NIODeadline) {
        guard let slot = waiting.removeValue(forKey: thread) else { return }
        slots[slot].replied = instant
        finish(slot)
    }

    /// Frees the slot once both its answer and its reply are in.
    private func finish(_ slot: Int) {
        guard slots[slot].taken, let replied = slots[slot].replied else { return }
        latencies.append(Double((replied - slots[slot].sent).nanoseconds) / 1e6)
        ended = max(ended, replied)
        running -= 1
        send(on: slot)
    }
}

extension LoopbackSlack {
    /// Runs a load on the loop: `start` sends, each reply in a thread goes to `replies`, until
    /// `done` completes or `timeout` has passed.
    func drive(until done: EventLoopPromise<Void>, timeout: TimeAmount, serveLog: String,
               replies: @escaping (_ thread: String, _ arrived: NIODeadline) -> Void, start: @escaping () -> Void)
        async throws
    {
        try await loop.flatSubmit { [self] in
            onReply = replies
            let watchdog = loop.scheduleTask(in: timeout) {
                done.fail(BenchmarkError("not every reply arrived within \(timeout.nanoseconds / 1_000_000_000) s; "
                    + "the server's log is \(serveLog)"))
            }
            start()
            done.futureResult.whenComplete { _ in
                watchdog.cancel()
                self.onReply = { _, _ in }
            }
            return done.futureResult
        }.get()
    }
}
