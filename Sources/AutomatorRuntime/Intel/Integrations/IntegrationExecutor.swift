import Foundation
import Synchronization

/// The executor of one version of an integration's file. When an edited file replaces that
/// version, the executor is retired: the lookups and actions already holding it finish on the
/// version they started with, and it stops after the last of them.
///
/// A request holds it from the moment it is taken from the integrations in use (under their
/// lock, so that a retirement never comes between) until its run ends, or until its quota
/// refuses it (`release()`).
final class IntegrationExecutor: Sendable {
    private let scheduler: Scheduler
    private let state = Mutex(State())

    private struct State {
        var held = 0
        var retired = false
        var stopped = false

        /// Whether the executor should stop now, marking it stopped: retired and idle, or `force`.
        mutating func stopping(force: Bool = false) -> Bool {
            guard !stopped, force || (retired && held == 0) else { return false }
            stopped = true
            return true
        }
    }

    init(_ scheduler: Scheduler) { self.scheduler = scheduler }

    /// Counts a request that will `run` or `release`.
    func hold() { state.withLock { $0.held += 1 } }

    /// Runs a held request; its hold ends when `completion` has been called (on the executor's thread).
    func run(_ request: RunRequest, completion: @escaping @Sendable (RunOutcome) -> Void) {
        scheduler.start(request) { [self] outcome in
            completion(outcome)
            release()
        }
    }

    /// Ends a hold whose request did not run.
    func release() {
        if state.withLock({ $0.held -= 1; return $0.stopping() }) { stopInBackground() }
    }

    /// A newer version took its place, or its file is gone: it stops once the requests holding
    /// it have ended.
    func retire() {
        if state.withLock({ $0.retired = true; return $0.stopping() }) { stopInBackground() }
    }

    /// Stops it now, whatever holds it (the process is stopping); returns when it has stopped.
    func stop() {
        if state.withLock({ $0.stopping(force: true) }) { scheduler.shutdown() }
    }

    /// Off the caller's thread: it may be the executor's own, whose end the stop waits for.
    private func stopInBackground() {
        Thread.detachNewThread { [scheduler] in scheduler.shutdown() }
    }
}
