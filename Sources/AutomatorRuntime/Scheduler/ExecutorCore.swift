import Dispatch
import Foundation
import Synchronization

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
            /// It waits for an event kept elsewhere (`HostWait.event`): a stop need not wait for it.
            var awaitsEvent = false
            /// It waits in a lookup (`HostWait.lookup`): its outcome joins the unwritten records,
            /// and a stop need not wait for it (the replay looks again).
            var looksUp = false
            /// When the step in which the run made the host call it waits in started (uptime
            /// nanoseconds): the slice's start, read for the watchdog anyway (`callInFlight`).
            var calledAt: UInt64 = 0

            init(id: RunID, run: LuaRun, environment: Environment, completion: @escaping @Sendable (RunOutcome) -> Void) {
                self.id = id
                self.run = run
                self.environment = environment
                self.completion = completion
            }
        }

        let sandbox: Sandbox
        private let store: (any Store)?
        /// Where host calls' tasks resume after a suspension: the executor's thread (`Inbox`).
        private let tasks: any TaskExecutor
        /// Counts what may stop a run between two steps (a kill asked, a stop, a suspension), from
        /// any thread. An action's send starts on the committer's thread only if the count has not
        /// moved since the executor last took its messages (`interruptionsSeen`); otherwise the
        /// executor decides, after the kill or the stop, as for any other wait.
        let interruptions = Atomic<UInt64>(0)
        /// The count when the executor last took its messages: every interruption before it is
        /// handled, so a run stepped since then was not stopped.
        var interruptionsSeen: UInt64 = 0
        private var runs: [RunID: ActiveRun] = [:]
        private var ready: [(ActiveRun, Result<[LuaValue], HostError>?)] = []
        /// Sleeping runs, with the wait each timer ends: a stale entry (the run was killed) is skipped.
        private var timers = TimerHeap<(run: RunID, wait: UInt64)>()
        private var stopping = false
        /// Scripts compiled once for all their runs. Emptied when full: sources sent whole through
        /// the API could otherwise fill it without end.
        private var templates: [ScriptKey: ChunkTemplate] = [:]
        private static let templateLimit = 256
        /// Integrations' chunks by chunk name, each bound once to one environment that all the
        /// file's lookups and actions share: the `integrations` driver keeps the declaration the
        /// chunk returns, so the file runs once, not for every call (see "Actions" in
        /// ARCHITECTURE.md). A hit compares the source, usually the same array, instead of hashing it.
        private var integrationChunks: [String: (source: [UInt8], environment: Environment, chunk: Chunk)] = [:]

        init(sandbox: Sandbox, store: (any Store)?, tasks: any TaskExecutor) {
            self.sandbox = sandbox
            self.store = store
            self.tasks = tasks
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
                let (environment, chunk) = try chunk(of: request)
                let run = switch request.entry {
                case .script:
                    try LuaRun(state: sandbox.state, function: chunk.reference, jsonArguments: request.arguments)
                case .playbook(let function):
                    try LuaRun(state: sandbox.state, function: try driver("run_playbook", of: "incidents"),
                               leading: [.reference(chunk.reference), .string(request.chunkName.dropFirst().description),
                                         .string(function)],
                               jsonArguments: request.arguments)
                case .hook, .closeHook:
                    try LuaRun(state: sandbox.state, function: try driver("run_hook", of: "incidents"),
                               leading: [.reference(chunk.reference)], jsonArguments: request.arguments)
                case .reputation, .action, .fetch, .chat:
                    try LuaRun(state: sandbox.state, function: try declarationDriver(of: request.entry),
                               leading: [.reference(chunk.reference), .string(request.chunkName.dropFirst().description)],
                               jsonArguments: request.arguments)
                }
                run.id = request.id
                run.entry = request.entry
                if case .chat(let actor) = request.entry { run.actor = actor }
                run.movedFrom = request.movedFrom
                if store != nil, request.recorded { run.recording = RunRecording(runID: request.id, records: request.records) }
                let active = ActiveRun(id: request.id, run: run, environment: environment, completion: completion)
                runs[request.id] = active
                ready.append((active, nil))
            } catch {
                completion(.failed(error))
            }
        }

        /// A function of a module's Lua part that calls what a script declared (a playbook, a hook,
        /// an integration).
        private func driver(_ name: String, of module: String) throws(LuaError) -> LuaReference {
            guard let driver = sandbox.hostFunction(name, of: module) else {
                throw LuaError(.runtime, "this run needs the \(module) module, which this executor lacks")
            }
            return driver
        }

        /// The driver that calls a declaration with the script's name and the run's arguments.
        private func declarationDriver(of entry: RunEntry) throws(LuaError) -> LuaReference {
            switch entry {
            case .reputation: try driver("run_reputation", of: "integrations")
            case .action: try driver("run_action", of: "integrations")
            case .fetch: try driver("run_fetch", of: "integrations")
            default: try driver("run_chat", of: "chat")
            }
        }

        /// The run's chunk in its environment: new for each run, but an integration's, which its
        /// runs share.
        private func chunk(of request: RunRequest) throws(LuaError) -> (Environment, Chunk) {
            let shared = switch request.entry {
            case .reputation, .action, .fetch: true
            default: false
            }
            if shared, let kept = integrationChunks[request.chunkName], kept.source == request.source {
                return (kept.environment, kept.chunk)
            }
            let environment = try sandbox.makeEnvironment()
            let chunk = try sandbox.load(try template(ScriptKey(source: request.source, chunkName: request.chunkName)),
                                         in: environment)
            if shared {
                if integrationChunks.count >= Self.templateLimit { integrationChunks.removeAll() }
                integrationChunks[request.chunkName] = (request.source, environment, chunk)
            }
            return (environment, chunk)
        }

        private func template(_ key: ScriptKey) throws(LuaError) -> ChunkTemplate {
            if let template = templates[key] { return template }
            let template = try sandbox.compile(key.source, chunkName: key.chunkName)
            if templates.count >= Self.templateLimit { templates.removeAll() }
            templates[key] = template
            return template
        }

        func answer(_ id: RunID, wait: UInt64, _ answer: Result<[LuaValue], HostError>) {
            guard let active = runs[id], active.wait == wait else { return }
            if active.looksUp, let call = active.unrecorded, let recording = active.run.recording {
                recording.unwritten.append(recording.record(call.sequence, name: call.name, digest: call.digest,
                                                            outcome: answer))
                active.unrecorded = nil
                active.looksUp = false
            }
            ready.append((active, answer))
        }

        func written(_ id: RunID, wait: UInt64, _ result: Result<Void, StoreError>, then: AfterWrite?,
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
            case .act(let start):
                let id = active.id
                start { acted in post(.acted(id, wait: wait, acted)) }
            case .resume(let answer):
                active.unrecorded = nil
                active.awaitsEvent = false
                ready.append((active, answer))
            }
        }

        /// An effect ended: like a lookup, the run resumes at once, and what keeps the effect joins
        /// the records to write before its next one. A run killed or stopped meanwhile still has its
        /// effect kept; one interrupted is suspended unrecorded, and acts again when replayed.
        func acted(_ id: RunID, wait: UInt64, _ acted: Acted?) {
            guard let active = runs[id], active.wait == wait, let call = active.unrecorded,
                  let recording = active.run.recording
            else {
                if let acted { store?.write(acted.change) { _ in } }
                return
            }
            guard let acted else {
                suspend(active, .stopping)
                return
            }
            recording.unwrittenChanges.append(acted.change)
            recording.unwritten.append(recording.record(call.sequence, name: call.name, digest: call.digest,
                                                        outcome: acted.outcome))
            active.unrecorded = nil
            if stopping {
                suspend(active, .stopping)
                return
            }
            ready.append((active, acted.outcome))
        }

        /// The host call the run `id` waits in, if it is live here and not ready to go on.
        func callInFlight(_ id: RunID, now: UInt64) -> HostCallInFlight? {
            guard let active = runs[id], let call = active.run.waitingCall, !ready.contains(where: { $0.0 === active })
            else { return nil }
            return HostCallInFlight(name: call.shown, since: Date().addingTimeInterval(-Double(now &- active.calledAt) / 1e9))
        }

        func kill(_ id: RunID, reason: String) {
            interruptions.add(1, ordering: .releasing)
            guard let active = runs[id], active.killReason == nil else { return }
            active.killReason = reason
            active.wait += 1  // the wait it was in no longer counts
            active.unrecorded = nil
            active.awaitsEvent = false
            active.looksUp = false
            // The wait ends with nothing; the kill, set before the resume, stops the run at
            // its next instruction, and its __close handlers get their grace.
            ready.append((active, .success([])))
        }

        /// Stops taking runs and stepping them; runs whose host call is in flight stay until
        /// its outcome is recorded.
        func stop() {
            interruptions.add(1, ordering: .releasing)
            stopping = true
            ready.removeAll()
            for active in runs.values where active.unrecorded == nil || active.awaitsEvent || active.looksUp {
                suspend(active, .stopping)
            }
        }

        func suspendAll(_ suspension: Suspension) {
            for active in runs.values { suspend(active, suspension) }
        }

        /// Ends a run without ending it in the store: it is dropped here, unclosed (its
        /// `__close` handlers belong to its next life), and resumes by replay at the next start.
        /// A stop keeps what the run has not written yet (an action's outcome among it).
        private func suspend(_ active: ActiveRun, _ suspension: Suspension) {
            guard runs.removeValue(forKey: active.id) != nil else { return }
            interruptions.add(1, ordering: .releasing)
            if case .stopping = suspension, let store, let recording = active.run.recording, recording.hasUnwritten {
                store.write(.together(recording.takeUnwritten())) { _ in }
            }
            active.completion(.suspended(suspension))
        }

        func wakeTimers(now: UInt64) {
            while let entry = timers.popDue(now: now) {
                guard let active = runs[entry.value.run], active.wait == entry.value.wait else { continue }
                ready.append((active, .success([])))
            }
        }

        /// Steps every run that is ready now; runs made ready meanwhile wait for the next round.
        func stepReadyRuns(slice: SliceTracker, post: @escaping @Sendable (Message) -> Void) {
            let batch = ready
            ready.removeAll(keepingCapacity: true)
            let killSwitch = sandbox.state.killSwitch
            for (active, answer) in batch where runs[active.id] != nil {
                let ticket = killSwitch.begin()
                let started = slice.begin(active.id, ticket: ticket)
                if let reason = active.killReason { killSwitch.kill(ticket: ticket, reason: reason) }
                let outcome: RunOutcome?
                var stopped = false
                do {
                    switch try active.run.resume(with: answer) {
                    case .finished:
                        outcome = finished(active, .completed(try active.run.resultsJSON()))
                    case .waiting(let wait):
                        outcome = nil
                        active.wait += 1
                        active.calledAt = started
                        waiting(on: wait, active, post: post)
                    }
                } catch where error.message.hasSuffix(Executor.stopReason) {
                    // Interrupted by `Executor.shutdown`: it resumes by replay, as the waiting ones do.
                    outcome = nil
                    stopped = true
                } catch {
                    outcome = finished(active, .failed(error))
                }
                slice.end()
                killSwitch.end()
                if stopped { suspend(active, .stopping) }
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
            guard let divergence = recording.divergence else {
                // Records not written yet (lookups and clock reads after the last call that
                // acted) go before the run's end, which is queued after them: a run that ended
                // keeps all its records, and its end waits for no extra commit.
                if let store, recording.hasUnwritten { store.write(.together(recording.takeUnwritten())) { _ in } }
                return outcome
            }
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
            let call = active.run.waitingCall ?? (name: "?", digest: "", shown: "?")
            switch recording.next(call.name, arguments: call.digest) {
            case nil:
                kill(active.id, reason: "diverged: \(recording.divergence ?? call.name)")
            case .replay(let record):
                replay(record, of: wait, for: active)
            case .live(let sequence):
                let id = active.id
                let number = active.wait
                if case .lookup = wait {
                    // Nothing outside learns of a lookup: what the run saw before it, and its
                    // outcome, are written with the next call that acts (one commit fewer
                    // between a message and the bot's answer for each lookup). An effect's
                    // outcome waiting to be written goes now: it waits for no more than a stretch
                    // of computing.
                    if !recording.unwrittenChanges.isEmpty {
                        store.write(.together(recording.takeUnwritten())) { result in
                            post(.written(id, wait: number, result, then: nil))
                        }
                    }
                    active.unrecorded = (sequence, call.name, call.digest)
                    active.looksUp = true
                    begin(wait, for: active, post: post)
                    return
                }
                if case .sleep(let duration) = wait {
                    // A sleep records when it ends, so that a replay sleeps only what is left.
                    let deadline = Date().addingTimeInterval(Double(duration.nanoseconds) / 1e9).millisecondsSince1970
                    let records = recording.takeUnwritten(adding: [recording.record(sequence, name: call.name, digest: call.digest,
                                                                                   outcome: .success([.integer(deadline)]))])
                    store.write(.together(records)) { result in
                        post(.written(id, wait: number, result, then: nil))
                    }
                    begin(wait, for: active, post: post)
                    return
                }
                let unwritten = recording.takeUnwritten()
                active.unrecorded = (sequence, call.name, call.digest)
                if case .event = wait { active.awaitsEvent = true }
                let named = (sequence, call.name, call.digest)
                if case .write(let target, let change) = wait, (target as AnyObject) === (store as AnyObject) {
                    let write: StoreWrite, results: [LuaValue]
                    do { (write, results) = try change() } catch {
                        post(.written(id, wait: number, .failure(error), then: nil))
                        return
                    }
                    let record = recording.record(sequence, name: call.name, digest: call.digest, outcome: .success(results))
                    commit([write, .appendHostCalls([record])], after: unwritten, as: named,
                           then: .resume(.success(results)), for: active, post: post)
                    return
                }
                if case .act(let target, let before, let start) = wait, (target as AnyObject) === (store as AnyObject) {
                    commit([before], after: unwritten, as: named, then: .act(start), for: active, post: post)
                    return
                }
                if unwritten.isEmpty {
                    begin(wait, for: active, post: post)
                } else {
                    store.write(.together(unwritten)) { result in
                        post(.written(id, wait: number, result, then: .begin(wait)))
                    }
                }
            }
        }

        /// A live call that changes the store (`write`, the start of an `act`): its writes commit
        /// with the ones not yet written, and the run goes on with `then`. A change the store
        /// refuses is recorded as the call's error, with the writes not yet written.
        private func commit(_ writes: [StoreWrite], after unwritten: [StoreWrite],
                            as call: (sequence: Int, name: String, digest: String),
                            then: AfterWrite, for active: ActiveRun, post: @escaping @Sendable (Message) -> Void)
        {
            guard let store else { return }
            let id = active.id
            let number = active.wait
            let seen = interruptionsSeen
            store.write(.together(unwritten + writes)) { [self] result in
                if case .success = result, case .act(let start) = then,
                   interruptions.load(ordering: .acquiring) == seen
                {
                    // Nothing could have stopped the run since it asked: the effect starts here,
                    // without a trip through the executor's thread (one hand-off fewer an action).
                    start { acted in post(.acted(id, wait: number, acted)) }
                    return
                }
                guard case .failure(let error) = result, error.kind == .notFound || error.kind == .conflict else {
                    post(.written(id, wait: number, result, then: then))
                    return
                }
                let refused = Result<[LuaValue], HostError>.failure(HostError("\(error)"))
                let record = HostCallRecord(runID: id, sequence: call.sequence, name: call.name,
                                            argumentsDigest: call.digest, result: RecordCoding.encode(refused))
                store.write(.together(unwritten + [.appendHostCalls([record])])) { written in
                    post(.written(id, wait: number, written, then: .resume(refused)))
                }
            }
        }

        /// An effect outside a durable run on its store: `before`, the effect, then what keeps it,
        /// each committed before the next; an interrupted effect fails the call.
        static func act(in store: any Store, before: StoreWrite,
                        _ start: @escaping @Sendable (_ complete: @escaping @Sendable (Acted?) -> Void) -> Void,
                        _ deliver: @escaping @Sendable (Result<[LuaValue], HostError>) -> Void)
        {
            store.write(before) { written in
                if case .failure(let error) = written { return deliver(.failure(HostError("\(error)"))) }
                start { acted in
                    guard let acted else { return deliver(.failure(HostError("interrupted: the process is stopping"))) }
                    store.write(acted.change) { kept in
                        deliver(kept.mapError { HostError("\($0)") }.flatMap { acted.outcome })
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
            timers.insert((active.id, active.wait), at: due)
        }

        func begin(_ wait: HostWait, for active: ActiveRun, post: @escaping @Sendable (Message) -> Void) {
            let id = active.id
            let number = active.wait
            // A live call's outcome is recorded by whichever thread completes it, and the run
            // resumes with it once it is durable: one message to the executor, not two.
            let deliver: @Sendable (Result<[LuaValue], HostError>) -> Void
            if let store, let call = active.unrecorded, !active.looksUp {
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
                timers.insert((id, number), at: deadline)
            case .callback(let start), .event(let start):
                start(deliver)
            case .write(let target, let change):
                let write: StoreWrite, results: [LuaValue]
                do { (write, results) = try change() } catch {
                    deliver(.failure(HostError("\(error)")))
                    return
                }
                target.write(write) { written in deliver(written.map { results }.mapError { HostError("\($0)") }) }
            case .act(let target, let before, let start):
                Self.act(in: target, before: before, start, deliver)
            case .task(let work), .lookup(let work):
                // Started on this thread, up to its first suspension: a lookup that answers from
                // memory (a feed's verdict) is answered without a hop to another thread and back.
                // After one, it resumes on this thread too, sent by the thread that ends the wait.
                Task.immediate(executorPreference: tasks) {
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
