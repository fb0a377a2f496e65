internal import CLua
import Foundation
public import Logging

/// Durable runs: a scheduler whose host calls are recorded in a store, and the runs' life
/// cycle in that store. What `automator serve` runs, and what its API and `automator runs`
/// talk to.
///
/// A run is written to the store before it starts, and its end (completed, failed, killed,
/// diverged) when it ends. In between, every host call that waits or reads the outside world
/// is recorded before the script sees it, so after a crash `recover()` executes each
/// unfinished run again from the start, replaying its record, and it goes on where it was.
///
/// ```swift
/// let service = try RunService(store: try SQLiteStore(folder: "automator-data"),
///                              modules: StandardModules.all(logger: logger))
/// _ = try await service.recover()
/// let run = try await service.submit(script: "triage.lua", source: source, arguments: #"["203.0.113.7"]"#)
/// let ended = await service.waitForEnd(run.id)   // .completed, with its results
/// ```
public final class RunService: Sendable {
    public let store: any Store
    private let scheduler: Scheduler
    private let logger: Logger
    /// Runs started here and not yet ended in the store, with whoever waits for their end.
    private let live = Locked<[RunID: [@Sendable (RunUpdate?) -> Void]]>([:])
    /// The incidents the live runs of playbooks work on, whose close stops them: not a close hook's
    /// (`RunEntry.closeHook`), which the close started.
    private let incidents = Locked<[RunID: IncidentID]>([:])
    /// Whether `recover` resumed the store's unfinished runs here: a server's service, not a
    /// command's (`stop(runsOf:except:reason:)`).
    private let recovered = Locked(false)
    /// Runs a person asked to stop, with why: they end as `killed`, not `failed`, with the reason
    /// as their error (not where the run happened to be when it stopped, in host code as often as not).
    private let killRequests = Locked<[RunID: String]>([:])
    /// Runs stopped here because this worker lost their lease: another worker runs them now, so
    /// nothing of their end is written here.
    private let abandoned = Locked<Set<RunID>>([])
    /// Compiles submitted scripts to check them: one state, reused (a new one per check would
    /// cost more than the compilation).
    private let checker = Locked(SyntaxChecker())
    /// Runs stopped here unfinished because the store refused a write (a full disk), to resume
    /// by replay once it takes writes again. Taken before `live` when both are.
    private let suspended = Locked(SuspendedRuns())

    /// - Parameters:
    ///   - executors: how many; nil for one per core.
    ///   - limits: `memory` caps each run (`executorMemory` all of an executor's runs together);
    ///     `timeout` bounds each stretch of computing between two waits.
    ///   - logger: where runs that had to be suspended are reported.
    public init(store: any Store, modules: [any HostModule], modulePaths: [String] = [], executors: Int? = nil,
                limits: Limits = Limits(),
                logger: Logger = Logger(label: "automator.runs") { _ in SwiftLogNoOpLogHandler() }) throws(LuaError)
    {
        self.store = store
        self.logger = logger
        scheduler = try Scheduler(executors: executors, modules: modules, modulePaths: modulePaths, limits: limits,
                                  store: store)
    }

    // MARK: Runs

    /// Checks and stores a new run, then starts it. Returns it as stored (`running`).
    ///
    /// - Parameters:
    ///   - script: the script's name for people and errors: a path ending in `.lua` (errors
    ///     then read `path:line:`), or a label.
    ///   - arguments: the script's arguments (`...`), as a JSON array.
    ///   - entry: how the script is called; a playbook's function gets the incident made from the
    ///     first argument.
    ///   - incident: the incident a playbook's run works on: its journal tells how the run ended.
    ///   - playbook: a playbook's name, for the reports.
    ///   - writes: changes committed with the run's creation (the incident it works on, say).
    ///   - recorded: false for a run whose host calls are not recorded (the chat watcher's): it
    ///     starts at once, while its creation is being committed (this returns once it is), and
    ///     after a crash before its end it runs again from the start, acting again.
    ///   - whenEnded: called once, like `waitForEnd`'s answer, when the run has ended and its end
    ///     is stored, or has stopped unfinished (nil); on whichever thread wrote the end: keep it short.
    /// - Throws: `.doesNotCompile` or `.badArguments` before anything is stored; `.store` if
    ///   the run could not be stored (a recorded run has not started; one that is not goes on).
    public func submit(id: RunID = .make(), script: String, source: some Collection<UInt8>, arguments: String = "[]",
                       entry: RunEntry = .script, incident: IncidentID? = nil, playbook: String? = nil,
                       with writes: [StoreWrite] = [],
                       recorded: Bool = true, whenEnded: (@Sendable (RunUpdate?) -> Void)? = nil)
        async throws(RunServiceError) -> RunRecord
    {
        let source = Array(source)
        let chunkName = Self.chunkName(for: script)
        try checker.withLock { checker throws(RunServiceError) in
            try checker.check(source, chunkName: chunkName, arguments: Array(arguments.utf8))
        }
        var run = RunRecord(id: id, script: script, source: source, arguments: arguments, entry: entry.stored,
                            incident: incident, playbook: playbook)
        run.status = .running
        let write: StoreWrite = writes.isEmpty ? .createRun(run) : .all([.createRun(run)] + writes)
        let written = await withCheckedContinuation { (continuation: CheckedContinuation<Result<Void, StoreError>, Never>) in
            store.write(write) { continuation.resume(returning: $0) }
            // Queued after its creation, the run's end cannot be committed before it.
            if !recorded { start(run, records: [], recorded: false, whenEnded: whenEnded) }
        }
        if case .failure(let error) = written { throw .store(error) }
        if recorded { start(run, records: [], whenEnded: whenEnded) }
        return run
    }

    /// Starts a run that another's write stored (a close's transaction stores its hook's run:
    /// `IncidentClosedHook`), unless it executes here already.
    func start(stored run: RunRecord) {
        guard !isLive(run.id) else { return }
        start(run, records: [])
    }

    /// Starts a failed run again with `source` (the script as it is now, fixed perhaps): it
    /// replays its recorded calls up to the step that failed, and goes on live from there. A
    /// last call that failed is not replayed but made again.
    ///
    /// - Throws: `.notFound`; `.notRetryable` for a run that did not fail; `.doesNotCompile`.
    public func retry(_ id: RunID, source: [UInt8]? = nil, with writes: [StoreWrite] = [])
        async throws(RunServiceError) -> RunRecord
    {
        guard var run = try await load(id) else { throw .notFound(id) }
        guard run.status == .failed || run.status == .diverged, !isLive(id) else { throw .notRetryable(run) }
        let source = source ?? run.source
        try checker.withLock { checker throws(RunServiceError) in
            try checker.check(source, chunkName: Self.chunkName(for: run.script), arguments: Array(run.arguments.utf8))
        }
        var records: [HostCallRecord]
        do { records = try await store.hostCalls(of: id) } catch { throw .store(error) }
        if let last = records.last, case .failure = try? RecordCoding.decode(last.result) { records.removeLast() }
        let restart = StoreWrite.restartRun(id, source: source, keepingCalls: records.count, at: Date())
        do { try await store.write(writes.isEmpty ? restart : .all([restart] + writes)) } catch { throw .store(error) }
        run.source = source
        run.status = .running
        run.error = nil
        run.finishedAt = nil
        start(run, records: records)
        return run
    }

    /// The run as stored, or nil.
    public func run(_ id: RunID) async throws(StoreError) -> RunRecord? { try await store.loadRun(id) }

    /// Runs, newest first, all or those with `status`.
    public func runs(status: RunRecord.Status? = nil, limit: Int = 100) async throws(StoreError) -> [RunRecord] {
        try await store.listRuns(status: status, limit: limit)
    }

    /// Stops a run and returns it as it ended (`killed`). A run that is not executing here (no
    /// server has it, or it is suspended: see `stoppedByStore`) but unfinished in the store is
    /// marked `killed` there; one that another worker executes, that worker is asked to stop
    /// (`askToKill`). Either way the open tasks it created are cancelled with its end: nothing
    /// would take their answers.
    ///
    /// - Throws: `.notFound`; `.alreadyFinished` for a run that had ended; `.killAsked` for one
    ///   that another worker was asked to stop and has not stopped yet.
    public func kill(_ id: RunID, reason: String = "killed on request") async throws(RunServiceError) -> RunRecord {
        if stopHere(id, reason: reason) {
            // Nil: it stopped unfinished (the store failed) instead, and is marked killed below.
            if await waitForEnd(id) != nil { return try await loadExisting(id) }
            killRequests.withLock { _ = $0.removeValue(forKey: id) }
        }
        // A run suspended here is not resumed while it is being killed; one being resumed meanwhile
        // executes here again, and is killed there.
        guard let wasSuspended = forgetSuspended(id) else { return try await kill(id, reason: reason) }
        do throws(RunServiceError) {
            let run = try await loadExisting(id)
            guard !run.status.isFinished else { throw .alreadyFinished(run) }
            do {
                try await store.write(Self.end(RunUpdate(id, status: .killed, error: reason), of: run.incident))
            } catch {
                guard error.isLeaseLost, let shared = store as? any LeasingStore else { throw .store(error) }
                return try await askToKill(id, reason: reason, on: shared)
            }
        } catch {
            if wasSuspended { keepSuspended(id) }
            throw error
        }
        return try await loadExisting(id)
    }

    /// Asks the worker that executes `id` to kill it (`StoreWrite.askToKill`), as a task done
    /// through one worker resumes the run waiting on another, and waits for its end: at once when
    /// that worker lives; when it died, once its lease has expired and a worker has claimed the
    /// run, which kills it instead of resuming it. A lease and two seconds at most.
    private func askToKill(_ id: RunID, reason: String, on shared: any LeasingStore)
        async throws(RunServiceError) -> RunRecord
    {
        do { try await store.write(.askToKill(.run(id), reason: reason)) } catch { throw .store(error) }
        let deadline = ContinuousClock.now + shared.leaseDuration + .seconds(2)
        while true {
            let run = try await loadExisting(id)
            if run.status == .killed { return run }
            if run.status.isFinished { throw .alreadyFinished(run) }
            guard ContinuousClock.now < deadline else { throw .killAsked(run) }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Kills here, without waiting for their ends, the runs that another worker asked to stop
    /// (`StoreWrite.askToKill`): `id` if it executes here, or any run here when nil (asks may have
    /// been missed).
    ///
    /// - Throws: the store's error when the asks could not be read: the caller looks again later.
    public func killAskedElsewhere(_ id: RunID?) async throws(StoreError) {
        guard let shared = store as? any LeasingStore else { return }
        let here = id.map { isLive($0) ? [$0] : [] } ?? liveRuns
        for (id, reason) in try await shared.killsAsked(of: here) { _ = stopHere(id, reason: reason) }
    }

    /// Tells the executor to stop `id` if it executes here, to end `killed` with `reason`. Whether
    /// it executes here.
    private func stopHere(_ id: RunID, reason: String) -> Bool {
        let executing = live.withLock { live in
            guard live[id] != nil else { return false }
            killRequests.withLock { $0[id] = reason }
            return true
        }
        if executing { scheduler.kill(id, reason: reason) }
        return executing
    }

    /// Stops the runs working on `incident`, but `except`: those executing here, as `kill` does.
    /// A service that did not resume its store's runs, on a store no other worker shares (a
    /// command's, on a data folder whose lock keeps servers off: `automator incident close`,
    /// `automator chat`), also marks killed the incident's unfinished runs the store holds: they
    /// execute nowhere, and the next serve would resume them on an incident closed meanwhile, a
    /// run waiting on an approval included. A server's unfinished runs execute in it (`recover`)
    /// or in another worker, which the cancelled tasks stop.
    ///
    /// - Parameters:
    ///   - only: that one of them alone (a run whose own close found it closed already).
    ///   - reason: asked once, when a run stops.
    public func stop(runsOf incident: IncidentID, except: RunID?, only: RunID? = nil,
                     reason: @escaping IncidentLedger.StopReason) async
    {
        let stops = { (id: RunID) in id != except && (only == nil || id == only) }
        var told: String?
        let ids = incidents.withLock { $0.filter { $0.value == incident && stops($0.key) }.keys.sorted() }
        for id in ids {
            if told == nil { told = await reason() }
            _ = try? await kill(id, reason: told!)
        }
        guard !recovered.withLock({ $0 }), !(store is any LeasingStore) else { return }
        for status in [RunRecord.Status.pending, .running, .waiting] {
            do {
                for run in try await store.listRuns(status: status, limit: Int(Int32.max))
                where run.incident == incident && stops(run.id) && !isLive(run.id)
                    && RunEntry(stored: run.entry) != .closeHook
                {
                    if told == nil { told = await reason() }
                    _ = try await kill(run.id, reason: told!)
                }
            } catch {
                logger.error("the runs of \(incident) left in the store could not be stopped: \(error)")
            }
        }
    }

    /// Returns when the run has ended and its end is stored: how it ended, with no read of the
    /// store while it executes here. A run that ended before the wait began (a fast one, just
    /// submitted) is read back from the store. Nil for a run that stopped unfinished (it resumes
    /// by replay: see `stoppedByStore`) and for one unfinished that does not execute here.
    @discardableResult
    public func waitForEnd(_ id: RunID) async -> RunUpdate? {
        var executing = true
        let ended = await withCheckedContinuation { (continuation: CheckedContinuation<RunUpdate?, Never>) in
            executing = live.withLock { live -> Bool in
                guard live[id] != nil else { return false }
                live[id]!.append { continuation.resume(returning: $0) }
                return true
            }
            if !executing { continuation.resume(returning: nil) }
        }
        if executing { return ended }
        guard let run = try? await store.loadRun(id), run.status.isFinished else { return nil }
        return RunUpdate(id, status: run.status, result: run.result, error: run.error, at: run.finishedAt ?? run.updatedAt)
    }

    /// The host call the run waits in, if this process holds it and it waits in one: read from
    /// the executor at each call, never stored. Nil for a run another worker holds.
    public func callInFlight(of id: RunID) async -> HostCallInFlight? { await scheduler.callInFlight(of: id) }

    /// How many runs execute here now.
    public var liveCount: Int { live.withLock { $0.count } }

    // MARK: Life cycle

    /// Starts again every run the store has unfinished (after a crash or a stop), each replaying
    /// its recorded host calls. Returns how many. On a store shared by several workers, only the
    /// runs no live worker holds (`adopt`).
    public func recover() async throws(StoreError) -> Int {
        recovered.withLock { $0 = true }
        if let shared = store as? any LeasingStore { return try await adopt(from: shared, limit: Int(Int32.max)).count }
        let unfinished = try await store.unfinishedRuns()
        for resumed in unfinished where !isLive(resumed.run.id) { start(resumed.run, records: resumed.records) }
        return unfinished.count
    }

    /// Claims up to `limit` runs that no worker holds (their worker died or stopped) and
    /// resumes them here by replay. Returns them.
    ///
    /// A run that a worker was asked to kill (`StoreWrite.askToKill`) and did not (it died first)
    /// is killed instead, as it would have been there.
    func adopt(from store: any LeasingStore, limit: Int) async throws(StoreError) -> [UnfinishedRun] {
        let claimed = try await store.claimRuns(limit: limit)
        let kills = try await store.killsAsked(of: Set(claimed.map(\.run.id)))
        for resumed in claimed where !isLive(resumed.run.id) {
            if let reason = kills[resumed.run.id] {
                do { _ = try await kill(resumed.run.id, reason: reason) } catch {
                    logger.error("run \(resumed.run.id) was asked to stop (\(reason)) and could not be: \(error)")
                }
            } else {
                start(resumed.run, records: resumed.records, movedFrom: resumed.previousWorker)
            }
        }
        return claimed
    }

    /// The runs executing here now.
    var liveRuns: Set<RunID> { live.withLock { Set($0.keys) } }

    /// Stops here, writing nothing, the runs of `runs` that still execute: this worker no longer
    /// holds their lease, and another one resumes (or has resumed) them by replay.
    func abandon(_ runs: Set<RunID>) {
        for id in runs where isLive(id) {
            abandoned.withLock { _ = $0.insert(id) }
            scheduler.kill(id, reason: "this worker lost the run's lease")
        }
    }

    /// Stops the executors (runs in flight stay unfinished in the store, after the host calls
    /// in flight are recorded), gives up their leases on a shared store, then closes the store.
    public func shutdown() async {
        let resuming = suspended.withLock { suspended in
            suspended.isStopping = true
            return suspended.resuming
        }
        resuming?.cancel()
        await resuming?.value  // no run starts once the executors stop
        let scheduler = self.scheduler
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread {
                scheduler.shutdown()
                continuation.resume()
            }.start()
        }
        // The other workers take this one's runs now rather than when the leases expire.
        try? await (store as? any LeasingStore)?.releaseLeases()
        await store.close()
    }

    // MARK: Running

    private func start(_ run: RunRecord, records: [HostCallRecord], recorded: Bool = true, movedFrom: String? = nil,
                       whenEnded: (@Sendable (RunUpdate?) -> Void)? = nil)
    {
        let id = run.id
        live.withLock { $0[id, default: []] += whenEnded.map { [$0] } ?? [] }
        let entry = RunEntry(stored: run.entry)
        if let incident = run.incident, entry != .closeHook { incidents.withLock { $0[id] = incident } }
        var request = RunRequest(id: id, source: run.source, chunkName: Self.chunkName(for: run.script),
                                 arguments: Array(run.arguments.utf8), records: records,
                                 entry: entry, recorded: recorded)
        request.movedFrom = movedFrom
        let name = run.playbook.map { "playbook \($0)" } ?? "script \(run.script)"
        scheduler.start(request) { [self] outcome in finish(id, named: name, on: run.incident, outcome) }
    }

    /// Stores how a run ended (on the executor's thread: short), then tells who waits.
    ///
    /// - Parameters:
    ///   - name: the playbook or script it runs, for the log's line on a failure.
    ///   - incident: the incident whose journal tells how it ended.
    private func finish(_ id: RunID, named name: String, on incident: IncidentID?, _ outcome: RunOutcome) {
        let killReason = killRequests.withLock { $0.removeValue(forKey: id) }
        if abandoned.withLock({ $0.remove(id) != nil }) {
            incidents.withLock { _ = $0.removeValue(forKey: id) }
            ended(id, nil)
            return
        }
        let update: RunUpdate
        switch outcome {
        case .completed(let results):
            update = RunUpdate(id, status: .completed, result: results)
        case .failed(let error):
            update = switch error.kind {
            case .diverged: RunUpdate(id, status: .diverged, error: error.description)
            case .killed where killReason != nil: RunUpdate(id, status: .killed, error: killReason)
            default: RunUpdate(id, status: .failed, error: error.description)
            }
        case .suspended(.stopping):
            incidents.withLock { _ = $0.removeValue(forKey: id) }
            ended(id, nil)
            return
        case .suspended(.storeFailed(let error)):
            stoppedByStore(id, "its host calls could not be recorded (\(error))", killReason: killReason)
            return
        }
        store.write(Self.end(update, of: incident)) { [self] written in
            if case .failure(let error) = written {
                // Resumed, it ends again as it did: its records replay to the same end.
                stoppedByStore(id, "its end could not be stored (\(error))", killReason: killReason)
                return
            }
            incidents.withLock { _ = $0.removeValue(forKey: id) }
            if update.status == .failed || update.status == .diverged { logFailure(of: id, named: name, incident, update) }
            ended(id, update)
        }
    }

    /// One line for a run that failed or diverged, for whoever watches the log rather than
    /// `/metrics` or `automator runs list`: the error's first line (the traceback is in the run).
    private func logFailure(of id: RunID, named name: String, _ incident: IncidentID?, _ update: RunUpdate) {
        let firstLine = (update.error ?? "").split(separator: "\n", maxSplits: 1).first.map(String.init) ?? ""
        let ended = update.status == .diverged ? "diverged" : "failed"
        let incident = incident.map { ", \($0)" } ?? ""
        logger.error("run \(id) \(ended) (\(name)\(incident)): \(firstLine); automator runs show \(id) has the rest")
    }

    /// A run stopped unfinished because the store refused a write: it stays unfinished there. On a
    /// shared store its lease is given up, and the next claim of any worker (this one too) resumes
    /// it; here, a service that resumes the store's runs resumes it once the store takes writes
    /// again (`resumeSuspended`): a full disk that is cleared, a failed batch, are no reason to wait
    /// for a restart. A command's service leaves it to the next start.
    ///
    /// - Parameter killReason: a kill asked of the run, asked again when it resumes here.
    private func stoppedByStore(_ id: RunID, _ why: String, killReason: String?) {
        let shared = store as? any LeasingStore
        let resumedHere = shared == nil && recovered.withLock { $0 }
        let when = shared != nil ? "on the worker that claims it" : resumedHere ? "once the store takes writes again"
            : "at the next start"
        logger.warning("run \(id) suspended: \(why); it resumes from its record \(when)")
        if let shared { Task { try? await shared.releaseLease(of: id) } }
        if resumedHere {
            if let killReason { killRequests.withLock { $0[id] = killReason } }
            // Kept with its incident, so that closing the incident meanwhile kills it (`stop(runsOf:)`);
            // suspended before it stops being live, so that a kill meanwhile finds it one or the other.
            keepSuspended(id)
        } else {
            incidents.withLock { _ = $0.removeValue(forKey: id) }
        }
        ended(id, nil)
    }

    /// Adds `id` to the runs to resume, and starts resuming them unless that is under way.
    private func keep(_ id: RunID, in suspended: inout SuspendedRuns) {
        guard !suspended.isStopping else { return }
        suspended.runs.insert(id)
        if suspended.resuming == nil { suspended.resuming = Task { await resumeSuspended() } }
    }

    /// Puts back among the runs to resume one that could not be resumed or killed (the store
    /// still fails).
    private func keepSuspended(_ id: RunID) { suspended.withLock { keep(id, in: &$0) } }

    /// Takes `id` out of the suspended runs unless it executes here: nil when it does, otherwise
    /// whether it was suspended. Under one lock with `live`, so that a run is either resumed or
    /// killed in the store, not both.
    private func forgetSuspended(_ id: RunID) -> Bool? {
        suspended.withLock { suspended in
            guard live.withLock({ $0[id] == nil }) else { return nil }
            return suspended.runs.remove(id) != nil
        }
    }

    /// Resumes by replay the runs suspended here by the store's failure, once it takes writes
    /// again (`Backoff.storeWrites`), until none is left. A write of each run's status first says
    /// whether it does: a replay on a store that still fails would act again, at each try, for the
    /// live call whose record failed.
    private func resumeSuspended() async {
        var backoff = Backoff.storeWrites
        while true {
            try? await Task.sleep(for: backoff.next())
            if Task.isCancelled { return }
            let ids = suspended.withLock { $0.runs }
            let resumed = await withTaskGroup(of: Bool.self) { group in
                for id in ids { group.addTask { await self.resume(id) } }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            if resumed > 0 {
                logger.info("the store takes writes again: resumed \(resumed.counted("suspended run"))")
            }
            let done = suspended.withLock { suspended in
                guard suspended.runs.isEmpty || suspended.isStopping else { return false }
                suspended.resuming = nil
                return true
            }
            if done { return }
        }
    }

    /// Resumes one suspended run if the store takes its write; puts it back otherwise. Whether it
    /// was resumed.
    private func resume(_ id: RunID) async -> Bool {
        // It executes here from now on: a kill meanwhile waits for it.
        let claimed = suspended.withLock { suspended in
            guard suspended.runs.contains(id), live.withLock({ live in
                guard live[id] == nil else { return false }
                live[id] = []
                return true
            }) else { return false }
            suspended.runs.remove(id)
            return true
        }
        guard claimed else { return false }
        let run: RunRecord, records: [HostCallRecord]
        do throws(StoreError) {
            guard let found = try await store.loadRun(id), !found.status.isFinished else {
                incidents.withLock { _ = $0.removeValue(forKey: id) }
                ended(id, nil)
                return false
            }
            try await store.write(.updateRun(RunUpdate(id, status: .running)))
            (run, records) = (found, try await store.hostCalls(of: id))
        } catch {
            keepSuspended(id)
            ended(id, nil)
            return false
        }
        start(run, records: records)
        // Asked while it was being resumed, or before its end failed to be stored.
        if let reason = killRequests.withLock({ $0[id] }) { scheduler.kill(id, reason: reason) }
        return true
    }

    /// How a run's end is stored: its status, the line that tells it in its incident's journal
    /// (a playbook's run), and, killed, its open tasks cancelled.
    private static func end(_ update: RunUpdate, of incident: IncidentID?) -> StoreWrite {
        let cancel: [StoreWrite] = update.status == .killed
            ? [.cancelOpenTasks(.runKilled(update.id), by: "automator", at: update.at)] : []
        guard let incident else { return .together([.updateRun(update)] + cancel) }
        let text = switch update.status {
        case .completed: "run \(update.id) completed"
        default: "run \(update.id) \(update.status.rawValue): \(update.error ?? "")"
        }
        let entry = JournalEntry(incident: incident, at: update.at, actor: "automator", kind: .playbook, text: text)
        return .all([.updateRun(update), .appendJournal([entry])] + cancel)
    }

    private func ended(_ id: RunID, _ update: RunUpdate?) {
        for waiter in live.withLock({ $0.removeValue(forKey: id) ?? [] }) { waiter(update) }
    }

    /// Whether the run executes in this process: started or resumed here, and not ended.
    public func isLive(_ id: RunID) -> Bool { live.withLock { $0[id] != nil } }

    private func load(_ id: RunID) async throws(RunServiceError) -> RunRecord? {
        do { return try await store.loadRun(id) } catch { throw .store(error) }
    }

    private func loadExisting(_ id: RunID) async throws(RunServiceError) -> RunRecord {
        guard let run = try await load(id) else { throw .notFound(id) }
        return run
    }

    /// `@path` for a script file, so that errors read `path:line:`; `=label` otherwise.
    static func chunkName(for script: String) -> String {
        script.hasSuffix(".lua") ? "@" + script : "=" + script
    }
}

/// The runs a service resumes once its store takes writes again, and the task that does it while
/// there are any.
private struct SuspendedRuns {
    var runs: Set<RunID> = []
    var resuming: Task<Void, Never>?
    /// The service is stopping: nothing more is resumed.
    var isStopping = false
}

/// A Lua state that only compiles scripts and decodes arguments, to check them: nothing runs
/// on it, so any thread may use it in turn. A script that compiled is not compiled again (a
/// playbook is submitted many times), up to a bound.
private struct SyntaxChecker: @unchecked Sendable {
    private let state = try? LuaState()
    private var compiled: Set<ScriptKey> = []

    mutating func check(_ source: [UInt8], chunkName: String, arguments: [UInt8]) throws(RunServiceError) {
        guard let state else { throw .doesNotCompile("not enough memory to compile the script") }
        let top = lua_gettop(state.L)
        defer { lua_settop(state.L, top) }
        let script = ScriptKey(source: source, chunkName: chunkName)
        if !compiled.contains(script) {
            do { try state.load(source, chunkName: chunkName) } catch { throw .doesNotCompile(error.message) }
            if compiled.count >= 256 { compiled.removeAll() }
            compiled.insert(script)
        }
        do { _ = try LuaRun.pushArguments(json: arguments, on: state.L, marker: state.jsonArrayMarker) } catch {
            throw .badArguments(error.message)
        }
    }
}

/// Why a run could not be submitted or stopped; each says what to do.
public enum RunServiceError: Error, CustomStringConvertible, Sendable {
    case doesNotCompile(String)
    case badArguments(String)
    case notFound(RunID)
    case alreadyFinished(RunRecord)
    case killAsked(RunRecord)
    case notRetryable(RunRecord)
    case store(StoreError)

    public var description: String {
        switch self {
        case .doesNotCompile(let message): "the script does not compile: \(message)"
        case .badArguments(let message): message
        case .notFound(let id): "no run \(id): `automator runs list` shows the runs"
        case .alreadyFinished(let run): "run \(run.id) has already ended (\(run.status.rawValue))"
        case .killAsked(let run):
            "run \(run.id) executes on another worker, which has not stopped it yet (the database may be away from "
                + "it): the kill is kept, and that worker stops it, or the worker that resumes the run; "
                + "`automator runs show \(run.id)` says when it has ended"
        case .notRetryable(let run):
            "run \(run.id) is \(run.status.rawValue): only a failed or diverged run can be retried"
        case .store(let error): "\(error)"
        }
    }
}
