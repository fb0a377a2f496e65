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
        case start(RunRequest, completion: @Sendable (RunOutcome) -> Void)
        case answer(RunID, wait: UInt64, Result<[LuaValue], HostError>)
        /// Records of the run are durable (or failed to be); `then` is what comes next.
        case written(RunID, wait: UInt64, Result<Void, StoreError>, then: AfterWrite?)
        case kill(RunID, reason: String)
        case stop
    }

    /// What a run does once its records are durable.
    fileprivate enum AfterWrite {
        /// Its live wait may act: what it saw before is kept.
        case begin(HostWait)
        /// The wait's outcome is kept: the script may see it.
        case resume(Result<[LuaValue], HostError>)
    }

    /// How long a stopping executor waits for host calls in flight, to record their outcomes.
    static let stopGrace: Duration = .seconds(5)

    private let inbox = Locked<[Message]>([])
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
    ///   - store: where runs' host calls are recorded, for durable runs (see `RunRequest`);
    ///     nil to record nothing.
    public init(modules: [any HostModule], modulePaths: [String] = [], limits: Limits = Limits(memory: 1 << 30),
                store: (any Store)? = nil) throws(LuaError)
    {
        let sandbox = try Sandbox(modules: modules, modulePaths: modulePaths)
        sandbox.state.memoryLimit = limits.memory
        core = Core(sandbox: sandbox, store: store)
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

    /// Starts a run; `completion` is called once, on the executor's thread, when it ends or is
    /// suspended (keep it short: hand the outcome on).
    public func start(_ request: RunRequest, completion: @escaping @Sendable (RunOutcome) -> Void) {
        post(.start(request, completion: completion))
    }

    /// Stops a run: a waiting one at once, a computing one at its next instruction. Its
    /// `<close>` handlers run, and are stopped in turn if they do not finish. Unknown ids
    /// are ignored (the run may have just finished).
    public func kill(_ id: RunID, reason: String = "killed") {
        if let ticket = slice.ticket(of: id) { core.sandbox.state.killSwitch.kill(ticket: ticket, reason: reason) }
        post(.kill(id, reason: reason))
    }

    /// Stops taking work and returns when the thread has ended. Runs in flight are suspended,
    /// not ended (`.suspended`: a durable run resumes by replay at the next start), after the
    /// host calls in flight have answered and been recorded, for at most `stopGrace`.
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
        var stopDeadline: UInt64?
        while true {
            let messages = inbox.withLock { messages in
                defer { messages.removeAll(keepingCapacity: true) }
                return messages
            }
            for message in messages {
                switch message {
                case .start(let request, let completion):
                    core.start(request, completion: completion)
                case .answer(let id, let wait, let answer):
                    core.answer(id, wait: wait, answer)
                case .written(let id, let wait, let result, let then):
                    core.written(id, wait: wait, result, then: then, post: post)
                case .kill(let id, let reason):
                    core.kill(id, reason: reason)
                case .stop:
                    stopDeadline = DispatchTime.now().uptimeNanoseconds + UInt64(Self.stopGrace.nanoseconds)
                    core.stop()
                }
            }
            let now = DispatchTime.now().uptimeNanoseconds
            if let stopDeadline {
                if now >= stopDeadline { core.suspendAll(.stopping) }
                if core.isEmpty {
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
                _ = wakeup.wait(timeout: DispatchTime(uptimeNanoseconds: stopDeadline))
            } else if let earliest = core.earliestTimer {
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
            /// The live call the run waits in, whose outcome is to be recorded.
            var unrecorded: (sequence: Int, name: String, digest: String)?

            init(id: RunID, run: LuaRun, environment: Environment, completion: @escaping @Sendable (RunOutcome) -> Void) {
                self.id = id
                self.run = run
                self.environment = environment
                self.completion = completion
            }
        }

        let sandbox: Sandbox
        private let store: (any Store)?
        private var runs: [RunID: ActiveRun] = [:]
        private var ready: [(ActiveRun, Result<[LuaValue], HostError>?)] = []
        private var timers = TimerHeap()
        private var stopping = false
        /// Scripts compiled once for all their runs. Emptied when full: sources sent whole through
        /// the API could otherwise fill it without end.
        private var templates: [TemplateKey: ChunkTemplate] = [:]
        private static let templateLimit = 256

        private struct TemplateKey: Hashable {
            var source: [UInt8]
            var chunkName: String
        }

        init(sandbox: Sandbox, store: (any Store)?) {
            self.sandbox = sandbox
            self.store = store
        }

        var hasReadyRuns: Bool { !ready.isEmpty }
        var isEmpty: Bool { runs.isEmpty }
        var earliestTimer: UInt64? { timers.earliest }

        func start(_ request: RunRequest, completion: @escaping @Sendable (RunOutcome) -> Void) {
            guard !stopping else {
                completion(.suspended(.stopping))
                return
            }
            guard runs[request.id] == nil else {
                completion(.failed(LuaError(.runtime, "a run with id \(request.id) is already running")))
                return
            }
            do {
                let environment = try sandbox.makeEnvironment()
                let chunk = try sandbox.load(try template(of: request), in: environment)
                let run = try LuaRun(state: sandbox.state, function: chunk.reference, jsonArguments: request.arguments)
                if store != nil { run.recording = RunRecording(runID: request.id, records: request.records) }
                let active = ActiveRun(id: request.id, run: run, environment: environment, completion: completion)
                runs[request.id] = active
                ready.append((active, nil))
            } catch {
                completion(.failed(error))
            }
        }

        private func template(of request: RunRequest) throws(LuaError) -> ChunkTemplate {
            let key = TemplateKey(source: request.source, chunkName: request.chunkName)
            if let template = templates[key] { return template }
            let template = try sandbox.compile(request.source, chunkName: request.chunkName)
            if templates.count >= Self.templateLimit { templates.removeAll() }
            templates[key] = template
            return template
        }

        func answer(_ id: RunID, wait: UInt64, _ answer: Result<[LuaValue], HostError>) {
            guard let active = runs[id], active.wait == wait else { return }
            ready.append((active, answer))
        }

        fileprivate func written(_ id: RunID, wait: UInt64, _ result: Result<Void, StoreError>, then: AfterWrite?,
                     post: @escaping @Sendable (Message) -> Void)
        {
            guard let active = runs[id] else { return }
            if case .failure(let error) = result {
                suspend(active, .storeFailed(error))
                return
            }
            guard active.wait == wait, let then else { return }
            if stopping {
                suspend(active, .stopping)
                return
            }
            switch then {
            case .begin(let hostWait): begin(hostWait, for: active, post: post)
            case .resume(let answer):
                active.unrecorded = nil
                ready.append((active, answer))
            }
        }

        func kill(_ id: RunID, reason: String) {
            guard let active = runs[id], active.killReason == nil else { return }
            active.killReason = reason
            active.wait += 1  // the wait it was in no longer counts
            active.unrecorded = nil
            // The wait ends with nothing; the kill, set before the resume, stops the run at
            // its next instruction, and its __close handlers get their grace.
            ready.append((active, .success([])))
        }

        /// Stops taking runs and stepping them; runs whose host call is in flight stay until
        /// its outcome is recorded.
        func stop() {
            stopping = true
            ready.removeAll()
            for active in runs.values where active.unrecorded == nil { suspend(active, .stopping) }
        }

        func suspendAll(_ suspension: Suspension) {
            for active in runs.values { suspend(active, suspension) }
        }

        /// Ends a run without ending it in the store: it is dropped here, unclosed (its
        /// `__close` handlers belong to its next life), and resumes by replay at the next start.
        private func suspend(_ active: ActiveRun, _ suspension: Suspension) {
            guard runs.removeValue(forKey: active.id) != nil else { return }
            active.completion(.suspended(suspension))
        }

        func wakeTimers(now: UInt64) {
            while let entry = timers.popDue(now: now) {
                guard let active = runs[entry.run], active.wait == entry.wait else { continue }
                ready.append((active, .success([])))
            }
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
                        outcome = finished(active, .completed(try active.run.resultsJSON()))
                    case .waiting(let wait):
                        outcome = nil
                        active.wait += 1
                        waiting(on: wait, active, post: post)
                    }
                } catch {
                    outcome = finished(active, .failed(error))
                }
                slice.end()
                killSwitch.end()
                if let outcome {
                    runs[active.id] = nil
                    active.completion(outcome)
                }
            }
        }

        /// The outcome of a run that ended, or its divergence from its record.
        private func finished(_ active: ActiveRun, _ outcome: RunOutcome) -> RunOutcome {
            guard let recording = active.run.recording else { return outcome }
            if active.killReason == nil { recording.checkEnd() }
            guard let divergence = recording.divergence else { return outcome }
            return .failed(LuaError(.diverged, "the run diverged from its record: \(divergence)"))
        }

        /// A run waits in a host call: a replay hands back the record; a live call acts once
        /// what the run saw before it is durable, and its outcome is recorded before the run
        /// sees it.
        private func waiting(on wait: HostWait, _ active: ActiveRun, post: @escaping @Sendable (Message) -> Void) {
            guard let store, let recording = active.run.recording else {
                begin(wait, for: active, post: post)
                return
            }
            let call = active.run.waitingCall ?? (name: "?", digest: "")
            switch recording.next(call.name, arguments: call.digest) {
            case nil:
                kill(active.id, reason: "diverged: \(recording.divergence ?? call.name)")
            case .replay(let record):
                replay(record, of: wait, for: active)
            case .live(let sequence):
                var records = recording.unwritten
                recording.unwritten.removeAll()
                let id = active.id
                let number = active.wait
                if case .sleep(let duration) = wait {
                    // A sleep records when it ends, so that a replay sleeps only what is left.
                    let deadline = Date().addingTimeInterval(Double(duration.nanoseconds) / 1e9).millisecondsSince1970
                    records.append(recording.record(sequence, name: call.name, digest: call.digest,
                                                    outcome: .success([.integer(deadline)])))
                    store.write(.appendHostCalls(records)) { result in
                        post(.written(id, wait: number, result, then: nil))
                    }
                    begin(wait, for: active, post: post)
                    return
                }
                active.unrecorded = (sequence, call.name, call.digest)
                if records.isEmpty {
                    begin(wait, for: active, post: post)
                } else {
                    store.write(.appendHostCalls(records)) { result in
                        post(.written(id, wait: number, result, then: .begin(wait)))
                    }
                }
            }
        }

        private func replay(_ record: HostCallRecord, of wait: HostWait, for active: ActiveRun) {
            let outcome: Result<[LuaValue], HostError>
            do { outcome = try RecordCoding.decode(record.result) } catch {
                outcome = .failure(HostError("the record of call \(record.sequence) cannot be read: the store is damaged"))
            }
            guard case .sleep = wait, case .success(let values) = outcome, case .integer(let deadline) = values.first else {
                ready.append((active, outcome))
                return
            }
            let left = deadline - Date().millisecondsSince1970
            guard left > 0 else {
                ready.append((active, .success([])))
                return
            }
            let due = DispatchTime.now().uptimeNanoseconds &+ UInt64(left) * 1_000_000
            timers.insert(.init(deadline: due, run: active.id, wait: active.wait))
        }

        fileprivate func begin(_ wait: HostWait, for active: ActiveRun, post: @escaping @Sendable (Message) -> Void) {
            let id = active.id
            let number = active.wait
            // A live call's outcome is recorded by whichever thread completes it, and the run
            // resumes with it once it is durable: one message to the executor, not two.
            let deliver: @Sendable (Result<[LuaValue], HostError>) -> Void
            if let store, let call = active.unrecorded {
                deliver = { result in
                    let record = HostCallRecord(runID: id, sequence: call.sequence, name: call.name,
                                                argumentsDigest: call.digest, result: RecordCoding.encode(result))
                    store.write(.appendHostCalls([record])) { written in
                        post(.written(id, wait: number, written, then: .resume(result)))
                    }
                }
            } else {
                deliver = { result in post(.answer(id, wait: number, result)) }
            }
            switch wait {
            case .sleep(let duration):
                let deadline = DispatchTime.now().uptimeNanoseconds &+ UInt64(max(0, duration.nanoseconds))
                timers.insert(.init(deadline: deadline, run: id, wait: number))
            case .callback(let start):
                start(deliver)
            case .task(let work):
                Task {
                    let result: Result<[LuaValue], HostError>
                    do { result = .success(try await work()) } catch let error as HostError {
                        result = .failure(error)
                    } catch {
                        result = .failure(HostError("\(error)"))
                    }
                    deliver(result)
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
