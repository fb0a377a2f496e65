import Dispatch
import Synchronization

/// The run computing now, so that a kill or the watchdog can reach it while the thread is busy.
final class SliceTracker: Sendable {
    private struct Slice {
        var run: RunID?
        var ticket: UInt64 = 0
        var started: UInt64 = 0
    }

    private let slice = Mutex(Slice())

    /// Returns when the slice starts (uptime nanoseconds).
    func begin(_ run: RunID, ticket: UInt64) -> UInt64 {
        let now = DispatchTime.now().uptimeNanoseconds
        slice.withLock { $0 = Slice(run: run, ticket: ticket, started: now) }
        return now
    }

    func end() { slice.withLock { $0.run = nil } }

    /// The kill ticket of `run` if it is computing now.
    func ticket(of run: RunID) -> UInt64? {
        slice.withLock { $0.run == run ? $0.ticket : nil }
    }

    /// The kill ticket of the computing run if it has computed for more than `budget`.
    func overdue(budget: UInt64, now: UInt64) -> UInt64? {
        slice.withLock { slice in
            slice.run != nil && now > slice.started && now - slice.started > budget ? slice.ticket : nil
        }
    }
}
