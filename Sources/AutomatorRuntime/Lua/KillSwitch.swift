internal import CLua
import Dispatch
import Synchronization

/// Stops the Lua code running on a state, from any thread: a timer, a signal, an API call.
///
/// Each run takes a ticket; a kill aimed at a finished run's ticket does nothing, so a late
/// timer cannot stop the next run.
final class KillSwitch: Sendable {
    private struct Target: @unchecked Sendable {
        var L: OpaquePointer?
        var ticket: UInt64 = 0
        var armed = false
    }

    private let target: Mutex<Target>

    init(_ L: OpaquePointer) { target = Mutex(Target(L: L)) }

    /// Starts watching a new run; returns its ticket.
    func begin() -> UInt64 {
        target.withLock { target in
            target.ticket += 1
            target.armed = true
            return target.ticket
        }
    }

    /// Ends the run: later kills of its ticket do nothing, and the state is ready for another.
    func end() {
        target.withLock { target in
            target.armed = false
            if let L = target.L { au_clear_kill(L) }
        }
    }

    /// Stops the run holding `ticket` (or whatever runs, if nil) with `reason` as its error.
    /// Returns whether a run was there to stop.
    @discardableResult
    func kill(ticket: UInt64? = nil, reason: String) -> Bool {
        target.withLock { target in
            guard let L = target.L, target.armed, ticket == nil || ticket == target.ticket else { return false }
            au_kill(L, reason)
            return true
        }
    }

    /// Lifts the kill of the current run for `grace` while `body` runs (a killed run's
    /// `__close` handlers: a chance to clean up), and kills again when the grace is over.
    func withGrace<Result>(_ grace: Duration, _ body: () -> Result) -> Result {
        guard let ticket = target.withLock({ target -> UInt64? in
            guard let L = target.L, target.armed else { return nil }
            au_clear_kill(L)
            return target.ticket
        }) else { return body() }
        let timer = DispatchSource.makeTimerSource(queue: .global(qos: .userInitiated))
        timer.schedule(deadline: .now() + .nanoseconds(grace.nanoseconds), leeway: .milliseconds(1))
        timer.setEventHandler { [self] in
            kill(ticket: ticket, reason: "its __close handlers took longer than \(grace.formatted) after the kill")
        }
        timer.resume()
        defer { timer.cancel() }
        return body()
    }

    /// The state is closing: nothing may reach it any more.
    func invalidate() { target.withLock { $0.L = nil } }
}
