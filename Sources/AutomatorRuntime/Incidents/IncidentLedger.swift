import Foundation

/// Incidents, tasks and journals in the store, for the services and the `incidents` module
/// alike: the numbers to give (`INC-42`, `T-7`), task completion, and the runs waiting on tasks.
///
/// Numbers are taken from the store before the write, so that a playbook's write (a new task)
/// and the record of the call that made it commit in one transaction with the number in both.
public final class IncidentLedger: Sendable {
    /// Why a closed incident's runs stop (`IncidentChange.stopReason`), which may need a read.
    public typealias StopReason = @Sendable () async -> String

    public let store: any IncidentStore
    /// Completions of the runs waiting in `t:wait()`, by task.
    private let waiters = Locked<[TaskID: [@Sendable (Result<[LuaValue], HostError>) -> Void]]>([:])
    /// Who answers a task that a run waits on when no person will: `automator test`'s stubs.
    private let standIn: (any TaskStandIn)?
    /// What stops a closed incident's runs (the incident service's runs): all but the closer, or
    /// only one, `killed` with the reason, asked only when one stops; nil where no runs are kept
    /// (`automator test`).
    private let stopRuns = Locked<Callback<@Sendable (IncidentID, _ closer: RunID?, _ only: RunID?, _ reason: @escaping StopReason,
                                                  _ hook: RunRecord?) async -> Void>?>(nil)
    /// Told of each task completed here (`whenCompleted`).
    private let completions = Locked<Callback<@Sendable (IncidentTask) async -> Void>?>(nil)
    /// The SLA policy the incident service read last (`PlaybookCatalog`); empty where no service
    /// reads the scripts folder (`automator test`), and then no change moves an SLA.
    let slaPolicy = Locked(SLAPolicy())
    /// `hooks/incident_closed.lua` as the incident service read it last (`PlaybookCatalog`); nil
    /// where there is none, or no service reads the scripts folder (`automator test`, whose world
    /// runs the hook itself).
    let closeHook = Locked<IncidentClosedHook?>(nil)
    /// The close hooks' runs that a playbook's close (`inc:close`) stored, by incident and closer,
    /// to start once the close committed (`closed(_:by:as:)`): only the call that wrote one starts
    /// it, not a replay of the call, whose run a restart resumed (or ended) already.
    private let hooksToStart = Locked<[HookOwner: RunRecord]>([:])
    /// What times an SLA that a change moved (the incident service's timers).
    private let slaTimer = Locked<Callback<@Sendable (IncidentID, _ due: Date) -> Void>?>(nil)

    /// The time tasks are created, due and answered by: the stand-in's (a test's virtual clock),
    /// else the wall clock's.
    var now: Date { standIn?.now ?? Date() }

    public init(store: any IncidentStore, standIn: (any TaskStandIn)? = nil) {
        self.store = store
        self.standIn = standIn
    }

    /// The next number of `kind`.
    func take(_ kind: NumberedKind) async throws(StoreError) -> Int { try await store.takeNumber(kind) }

    /// The next number of `kind`, for a `HostWait.write` change, which is called on an executor's
    /// thread and cannot await: on PostgreSQL the thread waits for the round trip (tasks are made
    /// for people, a few per incident, so the executor's other runs seldom notice).
    func takeNow(_ kind: NumberedKind) throws(StoreError) -> Int { try store.takeNumberNow(kind) }

    /// Completes an open task with `answer` (one of its choices, when it has some), journals it,
    /// and resumes the run waiting on it.
    ///
    /// - Throws: `.notFound`, `.conflict` for a task already done, `.invalid` for an answer not
    ///   among the choices.
    public func complete(_ id: TaskID, answer: String, by actor: String) async throws(IncidentError) -> IncidentTask {
        guard let task = try await loadTask(id) else {
            throw IncidentError(.notFound, "there is no task \(id): `automator task list` shows the open tasks")
        }
        switch task.status {
        case .open: break
        case .done: throw IncidentError(.conflict, "task \(id) is already done (answer: \(task.answer ?? ""))")
        case .cancelled:
            // The store keeps no reason: an incident still open means the run that asked was killed.
            let closed = (try? await store.loadIncident(task.incident))?.status == .closed
            throw IncidentError(.conflict, "task \(id) was cancelled: " + (closed ? "its incident \(task.incident) was closed"
                : "the run that asked it was killed; nothing waits for an answer"))
        }
        guard task.choices.isEmpty || task.choices.contains(answer) else {
            let choices = task.choices.map { JSONText.string($0) }.joined(separator: ", ")
            // An empty answer is one not given (`task done T-2` with no --answer), not a wrong one.
            throw .invalid("answer", answer.isEmpty ? "no answer was given: task \(id) asks for one of \(choices)"
                : "one of \(choices) expected, got \(JSONText.string(answer))")
        }
        let now = self.now
        let entry = JournalEntry(incident: task.incident, at: now, actor: actor, kind: .taskDone,
                                 text: "\(id) \(task.title): \(answer.isEmpty ? "done" : answer)")
        do {
            try await store.write(.all([.completeTask(id, answer: answer, by: actor, at: now), .appendJournal([entry])]))
        } catch { throw .store(error) }
        resolve(id, .success([.string(LuaString(answer))]))
        var done = task
        done.status = .done
        done.answer = answer
        done.completedBy = actor
        done.completedAt = now.roundedToMilliseconds
        await completions.withLock { $0 }?.call(done)
        return done
    }

    /// Gives an open task to `owner` (a person or a team, as playbooks name them), journaled on its
    /// incident: whoever was on duty when the playbook asked may not be who answers.
    ///
    /// - Throws: `.notFound`, `.conflict` for a task done or cancelled, `.invalid` for an owner
    ///   that is empty or not one line.
    public func assign(_ id: TaskID, to owner: String, by actor: String) async throws(IncidentError) -> IncidentTask {
        let owner = owner.trimmingCharacters(in: .whitespaces)
        guard !owner.isEmpty, owner.count <= 200, !owner.contains(where: \.isNewline) else {
            throw .invalid("owner", "a person or a team on one line expected, such as alice or tier2")
        }
        guard var task = try await loadTask(id) else {
            throw IncidentError(.notFound, "there is no task \(id): `automator task list` shows the open tasks")
        }
        guard task.status == .open else {
            throw IncidentError(.conflict, "task \(id) is \(task.status == .done ? "done" : "cancelled"): only an open task "
                + "is given to someone")
        }
        guard task.owner != owner else { return task }
        let entry = JournalEntry(incident: task.incident, at: now, actor: actor, kind: .task,
                                 text: "\(id) \(task.title): given to \(owner)" + (task.owner.map { " (was \($0))" } ?? ""))
        do { try await store.write(.all([.assignTask(id, owner: owner), .appendJournal([entry])])) } catch {
            throw .store(error)
        }
        task.owner = owner
        return task
    }

    /// Sets what is told of each task completed in this process, once the run waiting on it here
    /// (if any) is resumed: `automator chat` says when that run is not here, and so waits for a server.
    public func whenCompleted(_ observe: @escaping @Sendable (IncidentTask) async -> Void) {
        completions.withLock { $0 = Callback(observe) }
    }

    /// Calls `complete` with the task's answer once it is done: at once if it is already (done
    /// while no server ran, or before the run waited), or when a person completes it.
    func waitForTask(_ id: TaskID, _ complete: @escaping @Sendable (Result<[LuaValue], HostError>) -> Void) {
        waiters.withLock { $0[id, default: []].append(complete) }
        // Registered first, then read: a completion committed before the read is seen by it, one
        // committed after finds the waiter.
        Task {
            do {
                guard let task = try await store.loadTask(id) else {
                    resolve(id, .failure(HostError("there is no task \(id)")))
                    return
                }
                switch task.status {
                case .done, .cancelled: resolve(id, Self.outcome(of: task))
                case .open: if let standIn { await answer(task, standIn: standIn) }
                }
            } catch {
                resolve(id, .failure(HostError("task \(id) could not be read: \(error)")))
            }
        }
    }

    /// Sets what times an SLA that a change moved (`slaMoved`).
    func whenSLAMoved(_ schedule: @escaping @Sendable (IncidentID, _ due: Date) -> Void) {
        slaTimer.withLock { $0 = Callback(schedule) }
    }

    /// A change that committed moved `id`'s SLA to `due`: it is timed again, and breached at
    /// once when `due` is past, as the timers breach any SLA.
    func slaMoved(_ id: IncidentID, due: Date) { slaTimer.withLock { $0 }?.call(id, due) }

    /// Sets the due time `change` gives its incident (`SLAPolicy.move`), for a `HostWait.write`
    /// change, which is called on an executor's thread and cannot await: the thread waits for the
    /// incident's read, only for a change of type or severity. Returns the journal's line.
    func moveSLANow(_ change: inout IncidentChange) throws(StoreError) -> String? {
        guard change.type != nil || change.severity != nil else { return nil }
        let policy = slaPolicy.withLock { $0 }
        guard !policy.table.isEmpty || !policy.playbooks.isEmpty else { return nil }
        let id = change.id
        guard let incident = try waitBlocking({ [store] () async throws(StoreError) in try await store.loadIncident(id) })
        else { return nil }
        return policy.move(&change, of: incident)
    }

    /// What a playbook's close (`inc:close`, a `HostWait.write` change on an executor's thread,
    /// which cannot await) commits: `change`'s write and, when the scripts folder has a close hook,
    /// the hook's run (`IncidentClosedHook`), kept to start once the close committed. The thread
    /// waits for the incident's read, for the hook's argument, only when there is a hook.
    func closeNow(_ change: IncidentChange, by actor: String, closer: RunID?) throws(StoreError) -> StoreWrite {
        let write = change.write(by: actor, closer: closer)
        guard let hook = closeHook.withLock({ $0 }) else { return write }
        let id = change.id
        // An unknown incident: the close is refused by the store, with no hook.
        guard let incident = try waitBlocking({ [store] () async throws(StoreError) in try await store.loadIncident(id) })
        else { return write }
        let started = hook.start(on: change.applied(to: incident))
        hooksToStart.withLock { $0[HookOwner(incident: id, closer: closer)] = started.run }
        return .all([write] + started.writes)
    }

    /// Sets what stops a closed incident's runs (`closed`, `closedFirst`).
    func whenClosed(stop: @escaping @Sendable (IncidentID, _ closer: RunID?, _ only: RunID?, _ reason: @escaping StopReason,
                                               _ hook: RunRecord?) async -> Void)
    {
        stopRuns.withLock { $0 = Callback(stop) }
    }

    /// `id` was closed and its open tasks cancelled (`StoreWrite.cancelOpenTasks`): its runs stop
    /// here, `killed` with `reason` (`IncidentChange.stopReason`), but `closer`, the one that closed
    /// it, and a run still waiting on one of its tasks (in `automator test`, or one that was not
    /// stopped) gets the error of a cancelled task. A person who closes an incident means its
    /// automation to end with it: a playbook waiting on an approval would otherwise act later on
    /// an incident nobody looks at any more.
    ///
    /// Most closes stop nothing (the playbook closing its own incident, no run waiting on a
    /// task): they read nothing either, as `reason` is asked only when a run stops.
    ///
    /// - Parameter hook: the close hook's run that the close stored, started once the runs are
    ///   stopped (it is not one of them).
    func closed(_ id: IncidentID, by closer: RunID?, hook: RunRecord? = nil, reason: @escaping StopReason) async {
        await stopRuns.withLock { $0 }?.call(id, closer, nil, reason, hook)
        // A run that waits on a task from now on reads the task first, and finds it cancelled.
        guard waiters.withLock({ !$0.isEmpty }) else { return }
        guard let cancelled = try? await store.listTasks(TaskQuery(incident: id, status: .cancelled)) else { return }
        for task in cancelled { resolve(task.id, Self.outcome(of: task)) }
    }

    /// `id` was closed by `closer`'s `inc:close`, as `actor`: as `closed(_:by:reason:)`, its other
    /// runs killed with that close's reason.
    func closed(_ id: IncidentID, by closer: RunID?, as actor: String) async {
        let hook = hooksToStart.withLock { $0.removeValue(forKey: HookOwner(incident: id, closer: closer)) }
        await closed(id, by: closer, hook: hook) { [self] in
            let at = (try? await store.loadIncident(id))?.closedAt ?? now
            return IncidentChange.stopReason(closing: id, by: actor, at: at)
        }
    }

    /// The store refused `run`'s close of `id` (`inc:close`): when `id` is closed already, someone
    /// closed it first, and their close stops `run`, a run of `id`, as it stops the incident's other
    /// runs. It is stopped here, `killed` with that close's reason, whichever came first of the
    /// refusal and the kill their close asked (from another worker, the kill comes later). A run
    /// on no incident or another (a chat command's) goes on, and so does one where no runs are
    /// kept (`automator test`): the refusal is its error.
    func closedFirst(_ id: IncidentID, under run: RunID?) async throws(StoreError) {
        // The hook's run was refused with the close: it is in no store.
        hooksToStart.withLock { _ = $0.removeValue(forKey: HookOwner(incident: id, closer: run)) }
        guard let run, let stop = stopRuns.withLock({ $0 }), let reason = try await stopReason(ofClosed: id) else { return }
        await stop.call(id, nil, run, { reason }, nil)
    }

    /// What the close of `id` stopped its runs with (`IncidentChange.stopReason`), its closer read
    /// from the journal's entry of the close; nil when `id` is not closed.
    private func stopReason(ofClosed id: IncidentID) async throws(StoreError) -> String? {
        guard let incident = try await store.loadIncident(id), incident.status == .closed, let at = incident.closedAt else {
            return nil
        }
        var closer = "someone"
        var after: Int64 = 0
        while true {
            let page = try await store.journal(of: id, after: after, limit: 1000, bytes: IncidentService.journalPageBytes)
            guard let last = page.last else { break }
            if let entry = page.last(where: { $0.kind == .closed && $0.at == at }) { closer = entry.actor }
            after = last.sequence
        }
        return IncidentChange.stopReason(closing: id, by: closer, at: at)
    }

    /// What `t:wait()` gives for a task no longer open: its answer, or an error when it was
    /// cancelled, so that a run waiting on it goes no further on an incident that is closed.
    private static func outcome(of task: IncidentTask) -> Result<[LuaValue], HostError> {
        guard task.status == .cancelled else { return .success([.string(LuaString(task.answer ?? ""))]) }
        return .failure(HostError("\(task.id) (\(task.title)) was cancelled: its incident \(task.incident) was closed"))
    }

    /// Tasks were completed (or cancelled) by another worker sharing the store: `id`, or any when nil (changes
    /// may have been missed). The runs here waiting on them go on.
    ///
    /// - Throws: the store's error when a task could not be read (the others are looked at): the
    ///   caller looks again later.
    public func completedElsewhere(_ id: TaskID?) async throws(StoreError) {
        let waited = waiters.withLock { waiters in id.map { waiters[$0] == nil ? [] : [$0] } ?? Array(waiters.keys) }
        var failure: StoreError?
        for id in waited {
            do {
                guard let task = try await store.loadTask(id), task.status != .open else { continue }
                resolve(id, Self.outcome(of: task))
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
    }

    private func answer(_ task: IncidentTask, standIn: any TaskStandIn) async {
        switch await standIn.answer(task) {
        case .success(let answer):
            do { _ = try await complete(task.id, answer: answer, by: standIn.actor) } catch {
                resolve(task.id, .failure(HostError("\(standIn.actor) could not answer \(task.id) (\(task.title)): \(error)")))
            }
        case .failure(let error):
            resolve(task.id, .failure(error))
        }
    }

    private func resolve(_ id: TaskID, _ result: Result<[LuaValue], HostError>) {
        for waiter in waiters.withLock({ $0.removeValue(forKey: id) ?? [] }) { waiter(result) }
    }

    func loadTask(_ id: TaskID) async throws(IncidentError) -> IncidentTask? {
        do { return try await store.loadTask(id) } catch { throw .store(error) }
    }
}

/// Whose close stored a close hook's run (`IncidentLedger.hooksToStart`): a run closes one
/// incident at a time.
private struct HookOwner: Hashable {
    var incident: IncidentID
    var closer: RunID?
}
