import Dispatch
import Synchronization

/// The deadlines of Slack's hand-overs (`SlackAdapter.handOver`): each answer is given at its
/// deadline unless given before. One Dispatch timer for them all, armed for the earliest that may
/// still be due, rather than one per event: at 2,000 events a second, that was 2,000 timers a
/// second in Dispatch's heap, each waking a thread two seconds later to do nothing. Now a timer
/// fires about once per `within` under a steady load, when the answers came in time.
final class SlackDeadlines: Sendable {
    /// An answer to give once: by the delivery, or at the deadline.
    final class Answer: Sendable {
        private let waiting: Mutex<CheckedContinuation<Void, Never>?>

        init(_ continuation: CheckedContinuation<Void, Never>) { waiting = Mutex(continuation) }

        /// Gives the answer, unless it was given.
        func give() { waiting.withLock { $0.take() }?.resume() }

        var given: Bool { waiting.withLock { $0 == nil } }
    }

    private struct State {
        /// In the order they were added, so by deadline: every one is `within` after its adding.
        var queue: [(due: UInt64, answer: Answer)] = []
        /// Where the queue begins: the entries before it are done.
        var head = 0
        var armed = false

        /// Drops the done entries at the head: those given, and, at `now`, those due (returned).
        mutating func dropDone(now: UInt64? = nil) -> [Answer] {
            var due: [Answer] = []
            while head < queue.count {
                let (deadline, answer) = queue[head]
                if answer.given {
                    head += 1
                } else if let now, deadline <= now {
                    due.append(answer)
                    head += 1
                } else {
                    break
                }
            }
            if head == queue.count {
                queue.removeAll(keepingCapacity: true)
                head = 0
            } else if head > 64, head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            return due
        }
    }

    private let within: UInt64
    private let state = Mutex(State())

    init(within: Duration) { self.within = UInt64(max(0, within.nanoseconds)) }

    /// `answer` is given `within` from now, unless it is given before.
    func add(_ answer: Answer) {
        let due = DispatchTime.now().uptimeNanoseconds &+ within
        let arm = state.withLock { state in
            _ = state.dropDone()
            state.queue.append((due, answer))
            defer { state.armed = true }
            return !state.armed
        }
        if arm { self.arm(at: due) }
    }

    private func arm(at due: UInt64) {
        DispatchQueue.global().asyncAfter(deadline: DispatchTime(uptimeNanoseconds: due)) { [self] in fire() }
    }

    private func fire() {
        let (due, next) = state.withLock { state in
            let due = state.dropDone(now: DispatchTime.now().uptimeNanoseconds)
            let next = state.head < state.queue.count ? state.queue[state.head].due : nil
            state.armed = next != nil
            return (due, next)
        }
        for answer in due { answer.give() }
        if let next { arm(at: next) }
    }
}
