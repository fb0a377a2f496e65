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
    fileprivate enum Message {
        case start(RunID, source: [UInt8], chunkName: String, arguments: [LuaValue],
                   completion: @Sendable (RunOutcome) -> Void)
        case answer(RunID, wait: UInt64, Result<[LuaValue], HostError>)
        case kill(RunID, reason: String)
        case stop
    }

    private let inbox = Mutex<[Message]>([])
    private let wakeup = DispatchSemaphore(value: 0)
    private let slice = SliceTracker()
    private let core: Core
    private let finished = DispatchSemaphore(value: 0)
    /// Cancelled only in deinit; Dispatch sources are thread-safe.
    private nonisolated(unsafe) let watchdog: (any DispatchSourceTimer)?

    /// - Parameters:
    ///   - modules: host modules every run sees.
    ///   - modulePaths: folders `require` searches.
    ///   - limits: `memory` caps the whole state (all its runs); `timeout` bounds each
    ///     stretch of computing between two waits.
    public init(modules: [any HostModule], modulePaths: [String] = [], limits: Limits = Limits(memory: 1 << 30))
        throws(LuaError)
    {
        let sandbox = try Sandbox(modules: modules, modulePaths: modulePaths)
        sandbox.state.memoryLimit = limits.memory
        core = Core(sandbox: sandbox)
        watchdog = limits.timeout.map { [slice, core] timeout in
            Self.startWatchdog(budget: UInt64(timeout.nanoseconds), slice: slice, killSwitch: core.sandbox.state.killSwitch,
                               reason: "timeout: the run computed for more than \(timeout.formatted) without waiting")
        }
        let thread = Thread { [self] in self.loop() }
        thread.name = "automator-executor"
        thread.stackSize = 16 << 20  // Lua's own C recursion (up to 200 levels) with room to spare
        thread.start()
    }

    deinit { watchdog?.cancel() }

    // MARK: API for any thread

    /// Starts `source` as a new run; `completion` is called once, on the executor's thread,
    /// when it ends (keep it short: hand the outcome on).
    @discardableResult
    public func start(_ source: some Collection<UInt8>, chunkName: String, arguments: [LuaValue] = [],
                      id: RunID = .make(), completion: @escaping @Sendable (RunOutcome) -> Void) -> RunID
    {
        post(.start(id, source: Array(source), chunkName: chunkName, arguments: arguments, completion: completion))
        return id
    }

    /// Stops a run: a waiting one at once, a computing one at its next instruction. Its
    /// `<close>` handlers run, and are stopped in turn if they do not finish. Unknown ids
    /// are ignored (the run may have just finished).
    public func kill(_ id: RunID, reason: String = "killed") {
        if let ticket = slice.ticket(of: id) { core.sandbox.state.killSwitch.kill(ticket: ticket, reason: reason) }
        post(.kill(id, reason: reason))
    }

    /// Stops taking work, kills what is left, and returns when the thread has ended.
    public func shutdown() {
        post(.stop)
        finished.wait()
    }

    private func post(_ message: Message) {
        inbox.withLock { $0.append(message) }
        wakeup.signal()
    }

    // MARK: The executor's thread

    private func loop() {
        var stopping = false
        while true {
            let messages = inbox.withLock { messages in
                defer { messages.removeAll(keepingCapacity: true) }
                return messages
            }
            for message in messages {
                switch message {
                case .start(let id, let source, let chunkName, let arguments, let completion):
                    if stopping {
                        completion(.failed(LuaError(.killed, "the executor is shutting down")))
                    } else {
                        core.start(id, source: source, chunkName: chunkName, arguments: arguments, completion: completion)
                    }
                case .answer(let id, let wait, let answer):
                    core.answer(id, wait: wait, answer)
                case .kill(let id, let reason):
                    core.kill(id, reason: reason)
                case .stop:
                    stopping = true
                    core.killAll(reason: "the executor is shutting down")
                }
            }
            core.wakeTimers(now: DispatchTime.now().uptimeNanoseconds)
            if core.hasReadyRuns {
                core.stepReadyRuns(slice: slice, post: post)
                continue
            }
            if stopping, core.isEmpty {
                finished.signal()
                return
            }
            if let earliest = core.earliestTimer {
                _ = wakeup.wait(timeout: DispatchTime(uptimeNanoseconds: earliest))
            } else {
                wakeup.wait()
            }
        }
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

extension Executor {
    /// The state and the runs, touched only on the executor's thread.
    final class Core: @unchecked Sendable {
        final class ActiveRun {
            let id: RunID
            let run: LuaRun
            let environment: Environment
            let completion: @Sendable (RunOutcome) -> Void
            /// Numbers the run's waits: an answer for an older wait (after a kill) is ignored.
            var wait: UInt64 = 0
            var killReason: String?

            init(id: RunID, run: LuaRun, environment: Environment, completion: @escaping @Sendable (RunOutcome) -> Void) {
                self.id = id
                self.run = run
                self.environment = environment
                self.completion = completion
            }
        }

        let sandbox: Sandbox
        private var runs: [RunID: ActiveRun] = [:]
        private var ready: [(ActiveRun, Result<[LuaValue], HostError>?)] = []
        private var timers = TimerHeap()

        init(sandbox: Sandbox) { self.sandbox = sandbox }

        var hasReadyRuns: Bool { !ready.isEmpty }
        var isEmpty: Bool { runs.isEmpty }
        var earliestTimer: UInt64? { timers.earliest }

        func start(_ id: RunID, source: [UInt8], chunkName: String, arguments: [LuaValue],
                   completion: @escaping @Sendable (RunOutcome) -> Void)
        {
            guard runs[id] == nil else {
                completion(.failed(LuaError(.runtime, "a run with id \(id) is already running")))
                return
            }
            do {
                let environment = try sandbox.makeEnvironment()
                let chunk = try sandbox.load(source, chunkName: chunkName, in: environment)
                let run = try LuaRun(state: sandbox.state, function: chunk.reference, arguments: arguments)
                let active = ActiveRun(id: id, run: run, environment: environment, completion: completion)
                runs[id] = active
                ready.append((active, nil))
            } catch {
                completion(.failed(error))
            }
        }

        func answer(_ id: RunID, wait: UInt64, _ answer: Result<[LuaValue], HostError>) {
            guard let active = runs[id], active.wait == wait else { return }
            ready.append((active, answer))
        }

        func kill(_ id: RunID, reason: String) {
            guard let active = runs[id], active.killReason == nil else { return }
            active.killReason = reason
            active.wait += 1  // the wait it was in no longer counts
            // The wait ends with nothing; the kill, set before the resume, stops the run at
            // its next instruction, and its __close handlers get their grace.
            ready.append((active, .success([])))
        }

        func killAll(reason: String) {
            for id in runs.keys { kill(id, reason: reason) }
        }

        func wakeTimers(now: UInt64) {
            while let entry = timers.popDue(now: now) { answer(entry.run, wait: entry.wait, .success([])) }
        }

        /// Steps every run that is ready now; runs made ready meanwhile wait for the next round.
        fileprivate func stepReadyRuns(slice: SliceTracker, post: @escaping @Sendable (Message) -> Void) {
            let batch = ready
            ready.removeAll(keepingCapacity: true)
            let killSwitch = sandbox.state.killSwitch
            for (active, answer) in batch where runs[active.id] != nil {
                let ticket = killSwitch.begin()
                slice.begin(active.id, ticket: ticket)
                if let reason = active.killReason { killSwitch.kill(ticket: ticket, reason: reason) }
                let outcome: RunOutcome?
                do {
                    switch try active.run.resume(with: answer) {
                    case .finished:
                        outcome = .completed(try active.run.results { stack, first, count throws(LuaError) in
                            try (first..<first + count).map { index throws(LuaError) in try stack.value(at: index) }
                        })
                    case .waiting(let wait):
                        outcome = nil
                        active.wait += 1
                        begin(wait, for: active, post: post)
                    }
                } catch {
                    outcome = .failed(error)
                }
                slice.end()
                killSwitch.end()
                if let outcome {
                    runs[active.id] = nil
                    active.completion(outcome)
                }
            }
        }

        fileprivate func begin(_ wait: HostWait, for active: ActiveRun, post: @escaping @Sendable (Message) -> Void) {
            let id = active.id
            let number = active.wait
            switch wait {
            case .sleep(let duration):
                let deadline = DispatchTime.now().uptimeNanoseconds &+ UInt64(max(0, duration.nanoseconds))
                timers.insert(.init(deadline: deadline, run: id, wait: number))
            case .callback(let start):
                start { result in post(.answer(id, wait: number, result)) }
            case .task(let work):
                Task {
                    let result: Result<[LuaValue], HostError>
                    do { result = .success(try await work()) } catch let error as HostError {
                        result = .failure(error)
                    } catch {
                        result = .failure(HostError("\(error)"))
                    }
                    post(.answer(id, wait: number, result))
                }
            }
        }
    }
}

/// The run computing now, so that a kill or the watchdog can reach it while the thread is busy.
final class SliceTracker: Sendable {
    private struct Slice {
        var run: RunID?
        var ticket: UInt64 = 0
        var started: UInt64 = 0
    }

    private let slice = Mutex(Slice())

    func begin(_ run: RunID, ticket: UInt64) {
        let now = DispatchTime.now().uptimeNanoseconds
        slice.withLock { $0 = Slice(run: run, ticket: ticket, started: now) }
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
