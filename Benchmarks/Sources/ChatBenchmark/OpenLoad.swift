import BenchSupport
import NIOCore
import NIOHTTP1

/// One run of messages sent at a fixed rate whatever the server does (an open loop): message
/// `i` is due `i / rate` seconds after the start, and its latency runs from then to its reply's
/// arrival. A server that stalls does not slow the sender down, so the stall shows in the
/// latencies of every message due meanwhile (a closed loop, where the next message waits for
/// the last reply, would hide it). A due message goes out on a connection whose last request
/// serve has taken (200); when none is free it waits in the harness, its clock running.
/// Callbacks on the loop, no task per message; its state is touched on the loop only.
final class OpenLoad: @unchecked Sendable {
    private let messages: [Load.Message]
    private let connections: [Connection]
    private let slack: LoopbackSlack
    private let interval: TimeAmount
    private let done: EventLoopPromise<Void>
    /// Connections with no request in flight.
    private var free: [Int]
    /// Messages due, waiting for a free connection, from `queueHead` on.
    private var queue = [Int]()
    private var queueHead = 0
    /// The message each reply answers, by `ts`.
    private var waiting = [String: Int]()
    private var next = 0
    private var replies = 0
    private(set) var latencies = [Double]()
    private(set) var started = NIODeadline.now()
    private(set) var ended = NIODeadline.now()

    private init(_ messages: [Load.Message], connections: [Connection], slack: LoopbackSlack, rate: Int) {
        self.messages = messages
        self.connections = connections
        self.slack = slack
        interval = .nanoseconds(1_000_000_000 / Int64(rate))
        done = slack.loop.makePromise()
        free = Array(connections.indices.reversed())
        latencies.reserveCapacity(messages.count)
    }

    /// Sends every message at `rate` a second; returns once every reply has arrived, or fails
    /// after `timeout`.
    static func run(_ messages: [Load.Message], rate: Int, over connections: [Connection], slack: LoopbackSlack,
                    timeout: TimeAmount, serveLog: String) async throws -> OpenLoad {
        let load = OpenLoad(messages, connections: connections, slack: slack, rate: rate)
        try await slack.drive(until: load.done, timeout: timeout, serveLog: serveLog, replies: load.replied) {
            load.started = .now()
            load.ended = load.started
            load.sendDue()
        }
        return load
    }

    private func due(_ message: Int) -> NIODeadline { started + interval * Int64(message) }

    /// Queues the messages due by now, sends what the free connections take, and wakes up when
    /// the next one is due.
    private func sendDue() {
        let now = NIODeadline.now()
        while next < messages.count, due(next) <= now {
            queue.append(next)
            next += 1
        }
        sendQueued()
        if next < messages.count {
            slack.loop.scheduleTask(deadline: due(next)) { self.sendDue() }
        }
    }

    private func sendQueued() {
        while queueHead < queue.count, let connection = free.popLast() {
            let message = queue[queueHead]
            queueHead += 1
            waiting[messages[message].ts] = message
            connections[connection].send(messages[message].request).whenComplete { [self] result in
                switch result {
                case .success(let answer) where answer.status == .ok:
                    free.append(connection)
                    sendQueued()
                case .success(let answer):
                    done.fail(BenchmarkError("/slack/events answered \(answer.status.code): \(String(buffer: answer.body))"))
                case .failure(let error):
                    done.fail(error)
                }
            }
        }
        if queueHead == queue.count {
            queue.removeAll(keepingCapacity: true)
            queueHead = 0
        }
    }

    /// A reply to a message waiting for one; a reply to any other is counted by the loopback
    /// API's posts, which the harness checks at the end.
    private func replied(to thread: String, at instant: NIODeadline) {
        guard let message = waiting.removeValue(forKey: thread) else { return }
        latencies.append(Double((instant - due(message)).nanoseconds) / 1e6)
        ended = max(ended, instant)
        replies += 1
        if replies == messages.count { done.succeed() }
    }
}
