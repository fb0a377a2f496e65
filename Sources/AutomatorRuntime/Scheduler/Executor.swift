import Dispatch
import Foundation
import Synchronization

/// Runs many Lua scripts at once on one sandboxed state, confined to one thread.
///
/// Each run is a coroutine with its own environment. While a run waits on the host (a timer,
/// a lookup, a person), its coroutine is suspended and costs about a kilobyte; the executor
/// goes on with the others. Other threads talk to it by message: `start`, `kill`, the
/// completions of host waits.
///
/// Not preemptive: a run computes until it waits or finishes. `Limits.timeout` bounds how
/// long one stretch of computing may hold the thread (a watchdog kills it past that).
public final class Executor: Sendable {
    /// Messages from any thread to the executor's thread.
    enum Message {
        case start(RunRequest, completion: @Sendable (RunOutcome) -> Void)
        case answer(RunID, wait: UInt64, Result<[LuaValue], HostError>)
        /// Records of the run are durable (or failed to be); `then` is what comes next.
        case written(RunID, wait: UInt64, Result<Void, StoreError>, then: AfterWrite?)
        /// An effect of the run ended (`HostWait.act`); nil when it was interrupted.
        case acted(RunID, wait: UInt64, Acted?)
        case kill(RunID, reason: String)
        case callInFlight(RunID, reply: @Sendable (HostCallInFlight?) -> Void)
        case stop
        /// A step of a host call's task (`Inbox`).
        case job(UnownedJob)
    }

    /// What a run does once its records are durable.
    enum AfterWrite {
        /// Its live wait may act: what it saw before is kept.
        case begin(HostWait)
        /// The wait's outcome is kept: the script may see it.
        case resume(Result<[LuaValue], HostError>)
        /// What comes before its effect is kept (`HostWait.act`): the effect may start.
        case act(@Sendable (_ complete: @escaping @Sendable (Acted?) -> Void) -> Void)
    }

    /// How long a stopping executor waits for host calls in flight, to record their outcomes.
    static let stopGrace: Duration = .seconds(5)

    private let inbox = Inbox()
    private let slice = SliceTracker()
    private let core: Core
    private let finished = DispatchSemaphore(value: 0)
    /// Cancelled only in deinit; Dispatch sources are thread-safe.
    private nonisolated(unsafe) let watchdog: (any DispatchSourceTimer)?

    /// - Parameters:
    ///   - name: the thread's, as `top -H`, `perf` and debuggers show it; Linux keeps 15 bytes.
    ///   - modules: host modules every run sees.
    ///   - modulePaths: folders `require` searches.
    ///   - limits: `memory` caps each run's memory (and `executorMemory` all the runs'
    ///     together); `timeout` bounds each stretch of computing between two waits.
    ///   - store: where runs' host calls are recorded, for durable runs (see `RunRequest`);
    ///     nil to record nothing.
    public init(name: String = "executor", modules: [any HostModule], modulePaths: [String] = [],
                limits: Limits = Limits(), store: (any Store)? = nil) throws(LuaError)
    {
        let sandbox = try Sandbox(modules: modules, modulePaths: modulePaths)
        sandbox.state.runMemoryLimit = limits.memory
        sandbox.state.memoryLimit = limits.executorMemory
        sandbox.state.memorySetBy = limits.memorySetBy
        core = Core(sandbox: sandbox, store: store, tasks: inbox)
        watchdog = limits.timeout.map { [slice, core] timeout in
            Self.startWatchdog(budget: UInt64(timeout.nanoseconds), slice: slice, killSwitch: core.sandbox.state.killSwitch,
                               reason: "timeout: the run computed for more than \(timeout.formatted) without waiting")
        }
        let thread = Thread { [self] in
            Self.nameThisThread(name)
            self.loop()
        }
        thread.stackSize = 16 << 20  // Lua's own C recursion (up to 200 levels) with room to spare
        thread.start()
    }

    deinit { watchdog?.cancel() }

    // MARK: API for any thread

    /// Starts a run; `completion` is called once, on the executor's thread, when it ends or is
    /// suspended (keep it short: hand the outcome on).
    public func start(_ request: RunRequest, completion: @escaping @Sendable (RunOutcome) -> Void) {
        post(.start(request, completion: completion))
    }

    /// Stops a run: a waiting one at once, a computing one at its next instruction. Its
    /// `<close>` handlers run, and are stopped in turn if they do not finish. Unknown ids
    /// are ignored (the run may have just finished).
    public func kill(_ id: RunID, reason: String = "killed") {
        core.interruptions.add(1, ordering: .releasing)  // before the message: see `Core.interruptions`
        if let ticket = slice.ticket(of: id) { core.sandbox.state.killSwitch.kill(ticket: ticket, reason: reason) }
        post(.kill(id, reason: reason))
    }

    /// Tells `reply`, from the executor's thread, the host call the run `id` waits in; nil when it
    /// is not here, computing, ready to go on, or not in a host call.
    public func callInFlight(of id: RunID, reply: @escaping @Sendable (HostCallInFlight?) -> Void) {
        post(.callInFlight(id, reply: reply))
    }

    /// Stops taking work and returns when the thread has ended. Runs in flight are suspended,
    /// not ended (`.suspended`: a durable run resumes by replay at the next start), after the
    /// host calls in flight have answered and been recorded, for at most `stopGrace`. A run
    /// computing is interrupted and suspended too: it held the thread until its time limit (a
    /// `while true do end` kept `automator incident create` 30 s, `serve`'s stop as long).
    public func shutdown() {
        core.interruptions.add(1, ordering: .releasing)
        post(.stop)
        // Again while the thread runs, should the run stepped next compute too; once stopped, it
        // steps none, and the kill finds nothing to stop.
        while finished.wait(timeout: .now() + .milliseconds(20)) == .timedOut {
            core.sandbox.state.killSwitch.kill(reason: Self.stopReason)
        }
    }

    /// The error a stop interrupts a computing run with; `Core` suspends the run it ends.
    static let stopReason = "interrupted: the process is stopping"

    private func post(_ message: Message) {
        inbox.post(message)
    }

    // MARK: The executor's thread

    private func loop() {
        var stopDeadline: UInt64?
        while true {
            core.interruptionsSeen = core.interruptions.load(ordering: .acquiring)
            for message in inbox.take() {
                switch message {
                case .start(let request, let completion):
                    core.start(request, completion: completion)
                case .answer(let id, let wait, let answer):
                    core.answer(id, wait: wait, answer)
                case .written(let id, let wait, let result, let then):
                    core.written(id, wait: wait, result, then: then, post: post)
                case .acted(let id, let wait, let acted):
                    core.acted(id, wait: wait, acted)
                case .kill(let id, let reason):
                    core.kill(id, reason: reason)
                case .callInFlight(let id, let reply):
                    reply(core.callInFlight(id, now: DispatchTime.now().uptimeNanoseconds))
                case .stop:
                    stopDeadline = DispatchTime.now().uptimeNanoseconds + UInt64(Self.stopGrace.nanoseconds)
                    core.stop()
                case .job(let job):
                    job.runSynchronously(on: inbox.asUnownedTaskExecutor())
                }
            }
            let now = DispatchTime.now().uptimeNanoseconds
            if let stopDeadline {
                if now >= stopDeadline { core.suspendAll(.stopping) }
                if core.isEmpty {
                    inbox.close()
                    finished.signal()
                    return
                }
            }
            core.wakeTimers(now: now)
            if core.hasReadyRuns {
                core.stepReadyRuns(slice: slice, post: post)
                continue
            }
            if let stopDeadline {
                _ = inbox.wakeup.wait(timeout: DispatchTime(uptimeNanoseconds: stopDeadline))
            } else if let earliest = core.earliestTimer {
                _ = inbox.wakeup.wait(timeout: DispatchTime(uptimeNanoseconds: earliest))
            } else {
                inbox.wakeup.wait()
            }
        }
    }

    /// Names the calling thread as Linux shows it (`top -H`, `perf`, `/proc`). Foundation keeps
    /// `Thread.name` to itself there, and Linux keeps 15 bytes of a name: without this, an
    /// executor shows under the name of the thread that created it.
    private static func nameThisThread(_ name: String) {
        let file = open("/proc/thread-self/comm", O_WRONLY)
        guard file >= 0 else { return }
        defer { close(file) }
        let bytes = Array(name.utf8.prefix(15))
        _ = write(file, bytes, bytes.count)
    }

    private static func startWatchdog(budget: UInt64, slice: SliceTracker, killSwitch: KillSwitch, reason: String)
        -> any DispatchSourceTimer
    {
        let timer = DispatchSource.makeTimerSource(queue: .global(qos: .userInitiated))
        let period = max(budget / 20, 1_000_000)  // a runaway is stopped within 5% of its budget
        timer.schedule(deadline: .now(), repeating: .nanoseconds(Int(period)), leeway: .nanoseconds(Int(period / 4)))
        timer.setEventHandler {
            if let ticket = slice.overdue(budget: budget, now: DispatchTime.now().uptimeNanoseconds) { killSwitch.kill(ticket: ticket, reason: reason) }
        }
        timer.resume()
        return timer
    }
}
