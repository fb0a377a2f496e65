public import Foundation
public import Logging

/// The core loop of the SOC: an incident arrives (created, or mapped from an alert), duplicates
/// of an open one are linked to it, the playbook that matches starts a durable run on it, its
/// SLA is timed, and people complete the tasks its run waits on.
///
/// ```swift
/// let ledger = IncidentLedger(store: store)
/// let modules = StandardModules.all(logger: logger) + [IncidentsModule(ledger: ledger)]
/// let service = try IncidentService(ledger: ledger, runs: try RunService(store: store, modules: modules),
///                                   scripts: "scripts", modules: modules)
/// try await service.start()
/// let created = try await service.create(IncidentDraft(title: "Phishing", type: "phishing", severity: .high), by: "api")
/// ```
public final class IncidentService: Sendable {
    public let ledger: IncidentLedger
    public let runs: RunService
    public var store: any IncidentStore { ledger.store }
    let catalog: PlaybookCatalog
    private let evaluator: ScriptEvaluator
    private let slaTimers: SLATimers
    /// The SLA breaches that could not be handled, left for the next start.
    private let failedBreaches = Locked<Set<IncidentID>>([])
    private let ingestion = KeyedSerializer()
    /// The sources whose alerts are kept unmapped now, by why, as the log said it once.
    private let unmappedSources = FailureStreaks<UnmappedReason>()
    /// The sources whose mapper's `is_duplicate` fails now (their alerts are linked), by the
    /// mapper's file, as the log said it once.
    private let failingDuplicateChecks = FailureStreaks<String>()
    private let dedupWindow: TimeInterval
    let logger: Logger

    /// What an arriving incident became.
    public struct Ingested: Sendable {
        public var incident: Incident
        /// It was linked to an incident with the same source and reference, instead of opening a
        /// new one: an open one, or a closed one for an alert its tool has closed too (`SourceClose`).
        public var deduplicated: Bool
        /// The playbook's run started on it.
        public var run: RunRecord?
        /// What its sender should know: why an alert was kept unmapped (its mapper is missing,
        /// or failed), so that it is fixed.
        public var warning: String?
    }

    /// - Parameters:
    ///   - scripts: the folder of `playbooks/`, `mappers/`, `sla.lua` and `hooks/`.
    ///   - modules: the modules of the runs (they must include `IncidentsModule`), for reading
    ///     the playbooks' declarations.
    ///   - dedupWindow: how long after it opened an incident takes the duplicates of its alert,
    ///     unless the mapper says otherwise.
    public init(ledger: IncidentLedger, runs: RunService, scripts: String, modules: [any HostModule],
                dedupWindow: TimeInterval = 86400,
                logger: Logger = Logger(label: "automator.incidents") { _ in SwiftLogNoOpLogHandler() }) throws(LuaError)
    {
        self.ledger = ledger
        self.runs = runs
        self.dedupWindow = dedupWindow
        self.logger = logger
        evaluator = try ScriptEvaluator(modules: modules, modulePaths: [scripts])
        catalog = PlaybookCatalog(folder: scripts, evaluator: evaluator, policy: ledger.slaPolicy,
                                  closeHook: ledger.closeHook, logger: logger)
        let slaTimers = SLATimers()
        self.slaTimers = slaTimers
        for case let module as IncidentsModule in modules { module.opener.attach(self) }
        ledger.whenSLAMoved { id, due in slaTimers.schedule(id, at: due) }
        ledger.whenClosed { [runs] id, closer, only, reason, hook in
            await runs.stop(runsOf: id, except: closer, only: only, reason: reason)
            if let hook { runs.start(stored: hook) }
        }
    }

    /// Reads the scripts, resumes the runs a stop or a crash left unfinished, and starts the SLA
    /// timers, firing at once those that fell due meanwhile.
    public func start() async throws(IncidentError) {
        await catalog.refresh(force: true)
        do { _ = try await runs.recover() } catch { throw .store(error) }
        let awaiting: [Incident]
        do { awaiting = try await store.listIncidents(IncidentQuery(awaitingSLA: true, limit: 1_000_000)) } catch {
            throw .store(error)
        }
        for incident in awaiting { if let due = incident.slaDueAt { slaTimers.schedule(incident.id, at: due) } }
        var overdue: (@Sendable () async -> [IncidentID])?
        if store is any LeasingStore { overdue = { [self] in await self.overdue() } }
        slaTimers.start(overdue: overdue) { [self] id in await breach(id) }
    }

    /// On a store shared with other workers, the deadlines that passed more than a second ago and
    /// are not handled: those of incidents that another worker opened and could not handle (it
    /// died or stopped), whose timers are not here. The earliest first, a few at a time; not those
    /// that failed here, which wait for the next start as on one worker.
    private func overdue() async -> [IncidentID] {
        let failed = failedBreaches.withLock { $0 }
        let query = IncidentQuery(awaitingSLA: true, slaDueBefore: Date().addingTimeInterval(-1), limit: 64 + failed.count)
        return ((try? await store.listIncidents(query)) ?? []).map(\.id).filter { !failed.contains($0) }
    }

    /// Stops the SLA timers and the runs (they stay unfinished in the store), then closes it.
    public func shutdown() async {
        await slaTimers.stop()
        await runs.shutdown()
    }

    // MARK: Arriving incidents

    /// Opens an incident, or links it to an open one with the same source and reference, and
    /// starts the playbook that matches it.
    ///
    /// - Parameter choosingPlaybook: false to open it with no playbook (to run one by hand).
    public func create(_ draft: IncidentDraft, by actor: String, choosingPlaybook: Bool = true)
        async throws(IncidentError) -> Ingested
    {
        guard choosingPlaybook else { return try await open(draft, by: actor, choosingPlaybook: false) }
        return try await create(draft, by: actor, window: dedupWindow, isDuplicate: nil)
    }

    /// Turns an alert into an incident with `mappers/SOURCE.lua`, then as `create`; an alert its
    /// tool has closed already (the mapper's `closed_in_source`, `SourceClose`) whose reference's
    /// latest incident here is closed is journaled on that one, and opens and reopens nothing.
    ///
    /// An alert with no mapper (or one that does not load), or that its mapper fails on or maps
    /// to no valid incident, is kept as an incident of type `unmapped` (`keepUnmapped`).
    ///
    /// - Throws: `.invalid` for an alert that is not JSON, or a source that is not a name.
    public func ingest(source: String, alert: [UInt8], by actor: String) async throws(IncidentError) -> Ingested {
        switch try await mapping(alert, from: source) {
        case .unmapped(let kind, let reason, let alertText):
            return try await keepUnmapped(alertText, from: source, by: actor, kind, because: reason)
        case .mapped(let draft, let closed, let window, let isDuplicate, let mapperPath):
            if let kept = unmappedSources.ended(source) {
                logger.info("""
                    alerts from \(source) are mapped again by \(mapperPath): \(kept) were kept as unmapped \
                    incidents meanwhile (post them to /api/v1/ingest/\(source) again to map them)
                    """)
            }
            return try await create(draft, closed: closed, by: actor, window: window, isDuplicate: isDuplicate)
        }
    }

    /// What an alert would become, with nothing stored (`automator fetch run --dry-run`).
    public struct Preview: Sendable {
        /// The incident its mapper makes, or the `unmapped` one it would be kept as.
        public var draft: IncidentDraft
        /// The incident it would join instead of opening one: an open one, or a closed one for an
        /// alert its tool has closed too.
        public var joins: IncidentID?
        /// The status of the incident it would join.
        public var joinsStatus: Incident.Status?
        /// The playbook that would start on the incident it opens.
        public var playbook: String?
        /// Why it would be kept as `unmapped`.
        public var warning: String?
    }

    /// What `ingest` would do with `alert`, storing nothing: the same mapper, the same search for the
    /// incident it joins, the same choice of playbook.
    ///
    /// - Throws: as `ingest`, and `.store` when the open incidents could not be read.
    public func preview(source: String, alert: [UInt8]) async throws(IncidentError) -> Preview {
        let draft: IncidentDraft
        let joins: Incident?
        var warning: String?
        switch try await mapping(alert, from: source) {
        case .unmapped(_, let reason, let alertText):
            draft = Self.unmappedDraft(from: source, because: reason, raw: RawJSON.compact(alertText))
            joins = try await openUnmapped(from: source)
            warning = "it would be kept as an incident of type unmapped: \(reason)"
        case .mapped(let mapped, let closed, let window, let isDuplicate, _):
            draft = mapped
            joins = try await joined(by: draft, closed: closed, window: window, isDuplicate: isDuplicate)
        }
        var playbook: String?
        if joins == nil { playbook = await catalog.choose(for: draft.incident(IncidentID(0), at: Date()))?.name }
        return Preview(draft: draft, joins: joins?.id, joinsStatus: joins?.status, playbook: playbook, warning: warning)
    }

    /// An alert read by its source's mapper, nothing stored yet: what `ingest` stores and `preview` shows.
    private enum Mapping {
        /// The incident, what its tool says of its close when it closed it already, how long after
        /// it opened an incident takes its duplicates, the mapper's own `is_duplicate`, and the
        /// mapper's file.
        case mapped(IncidentDraft, closed: SourceClose?, window: TimeInterval,
                    isDuplicate: (@Sendable (Incident) async -> Bool)?, mapper: String)
        /// An alert (its text) that no mapper could read, and why.
        case unmapped(UnmappedReason, because: String, alert: String)
    }

    /// `alert` through `mappers/SOURCE.lua`.
    ///
    /// - Throws: `.invalid` for an alert that is not JSON, or a source that is not a name.
    private func mapping(_ alert: [UInt8], from source: String) async throws(IncidentError) -> Mapping {
        if let problem = IngestSource.problem(source) { throw IncidentError(.invalid, problem) }
        do { _ = try JSONSerialization.jsonObject(with: Data(alert), options: [.fragmentsAllowed]) } catch {
            throw IncidentError(.invalid, "the alert is not valid JSON (\(JSONSerialization.reason(error)))")
        }
        let alertText = String(decoding: alert, as: UTF8.self)
        let mapper: PlaybookCatalog.Mapper
        do { mapper = try await catalog.mapper(for: source) } catch {
            return .unmapped(.noMapper, because: error.description, alert: alertText)
        }
        let mapped: String
        do { mapped = try await evaluator.call("map", on: mapper.declaration, json: "[" + alertText + "]") } catch {
            return .unmapped(.mapperFailed, because: "the mapper \(mapper.path) failed: \(error.description)", alert: alertText)
        }
        var draft: IncidentDraft
        let closed: SourceClose?
        do { (draft, closed) = try IncidentDraft.mapped(Array(mapped.utf8)) } catch {
            return .unmapped(.noValidIncident, because: "the mapper \(mapper.path) returned no valid incident: "
                + error.description, alert: alertText)
        }
        draft.source = source
        draft.raw = RawJSON.compact(alertText)
        var decide: (@Sendable (Incident) async -> Bool)?
        if mapper.decidesDuplicates {
            let (evaluator, logger, failing) = (self.evaluator, self.logger, failingDuplicateChecks)
            decide = { existing in
                let arguments = "[" + mapped + "," + IncidentJSON.forScript(existing) + "]"
                do {
                    let duplicate = try await evaluator.call("is_duplicate", on: mapper.declaration, json: arguments) == "true"
                    if let linked = failing.ended(source) {
                        logger.info("""
                            is_duplicate of \(mapper.path) works again: \(linked.counted("alert")) from \(source) were \
                            linked to an open incident meanwhile, without it
                            """)
                    }
                    return duplicate
                } catch {
                    if failing.failed(source, mapper.path) {
                        logger.warning("""
                            is_duplicate of \(mapper.path) failed, the alert is linked to \(existing.id): \(error) (the next \
                            failures are not logged while they go on, and the end of them is)
                            """)
                    }
                    return true
                }
            }
        }
        return .mapped(draft, closed: closed, window: mapper.dedupWindow ?? dedupWindow, isDuplicate: decide,
                       mapper: mapper.path)
    }

    /// Opens an incident of type `unmapped` for an alert its mapper could not read, with the
    /// alert as its raw data and why in its details (a playbook may match the type, to tell
    /// someone). Refused, the alert would be lost: its sender drops what is refused, so a mapper
    /// that breaks on a new shape of alert would lose every one of them.
    ///
    /// The next ones from the same source, while that incident is open and within the
    /// deduplication window, are folded into it, each alert whole in a journal entry: a mapper
    /// that breaks on every alert would otherwise page someone for each of them.
    ///
    /// The log says it for the first alert from `source` kept for this `kind` of reason only
    /// (`unmappedSources`); the incident's journal has each alert and its reason.
    private func keepUnmapped(_ alert: String, from source: String, by actor: String, _ kind: UnmappedReason,
                              because reason: String) async throws(IncidentError) -> Ingested
    {
        if unmappedSources.failed(source, kind) {
            logger.warning("""
                an alert from \(source) is kept as an unmapped incident: \(reason) (the next ones from \(source) are \
                kept too, not logged while the reason stays: the incident's journal has each)
                """)
        }
        let raw = RawJSON.compact(alert)
        var kept = try await ingestion.serialize(source + "\u{0}unmapped") { [self] () async throws(IncidentError) in
            if let existing = try await openUnmapped(from: source) {
                return try await fold(into: existing, by: actor, "another alert its mapper could not read: \(reason)\n\(raw)")
            }
            return try await open(Self.unmappedDraft(from: source, because: reason, raw: raw), by: actor)
        }
        kept.warning = "the alert is kept as \(kept.incident.id), of type unmapped: \(reason)"
        return kept
    }

    /// The open `unmapped` incident from `source` that the next alert no mapper can read folds into.
    private func openUnmapped(from source: String) async throws(IncidentError) -> Incident? {
        let query = IncidentQuery(statuses: IncidentQuery.open, type: "unmapped", source: source,
                                  createdSince: Date().addingTimeInterval(-dedupWindow), limit: 1)
        do throws(StoreError) { return try await store.listIncidents(query).first } catch { throw .store(error) }
    }

    /// The incident that keeps an alert from `source` that no mapper could read (`raw`), and why.
    private static func unmappedDraft(from source: String, because reason: String, raw: String) -> IncidentDraft {
        // Also from a source with no mapper yet: "its mapper" would send people looking for one.
        var draft = IncidentDraft(title: "An alert from \(source) that no mapper could read", type: "unmapped",
                                  severity: .high)
        draft.details = reason + "\n\nThe alert is this incident's raw data, and the next ones from \(source) are in "
            + "its journal while it is open: fix (or write) the mapper, then post them to /api/v1/ingest/\(source) "
            + "again."
        draft.raw = raw
        draft.source = source
        return draft
    }

    /// Opens `draft`, or links it to the incident it joins (`joined`); `closed` when its tool has
    /// closed the alert already.
    private func create(_ draft: IncidentDraft, closed: SourceClose? = nil, by actor: String, window: TimeInterval,
                        isDuplicate: (@Sendable (Incident) async -> Bool)?) async throws(IncidentError) -> Ingested
    {
        guard let source = draft.source, let reference = draft.sourceRef, window > 0 || closed != nil else {
            return try await open(draft, by: actor)
        }
        // Alerts with one reference are taken one at a time, so that two arriving together do
        // not both open an incident.
        return try await ingestion.serialize(source + "\u{0}" + reference) { [self] () async throws(IncidentError) in
            guard let existing = try await joined(by: draft, closed: closed, window: window, isDuplicate: isDuplicate)
            else { return try await open(draft, by: actor) }
            let said = closed.map { ", " + $0.described(at: source) } ?? ""
            if existing.status == .closed {
                return try await fold(into: existing, by: actor, "the alert arrived again\(said): \(draft.title); "
                    + "\(existing.id) stays closed, and nothing opened")
            }
            return try await fold(into: existing, by: actor, "a duplicate alert arrived\(said): \(draft.title)")
        }
    }

    /// The incident `draft` joins: the open one (`openDuplicate`); else, for an alert its tool has
    /// closed already (`closed`), the latest incident with its source and reference when that one
    /// is closed, however long ago it opened: a close is news on it, most often the echo of its own
    /// close written back to the tool. Nil when it opens its own.
    private func joined(by draft: IncidentDraft, closed: SourceClose?, window: TimeInterval,
                        isDuplicate: (@Sendable (Incident) async -> Bool)?) async throws(IncidentError) -> Incident?
    {
        if let open = try await openDuplicate(of: draft, window: window, isDuplicate: isDuplicate) { return open }
        guard closed != nil, let source = draft.source, let reference = draft.sourceRef else { return nil }
        let latest: Incident?
        do throws(StoreError) {
            latest = try await store.listIncidents(IncidentQuery(source: source, sourceRef: reference, limit: 1)).first
        } catch {
            throw .store(error)
        }
        return latest?.status == .closed ? latest : nil
    }

    /// The open incident `draft` joins: the one opened within `window` with its source and
    /// reference, unless the mapper's `isDuplicate` says otherwise; nil when it opens its own.
    private func openDuplicate(of draft: IncidentDraft, window: TimeInterval,
                               isDuplicate: (@Sendable (Incident) async -> Bool)?) async throws(IncidentError) -> Incident?
    {
        guard let source = draft.source, let reference = draft.sourceRef, window > 0 else { return nil }
        let query = IncidentQuery(statuses: IncidentQuery.open, source: source, sourceRef: reference,
                                  createdSince: Date().addingTimeInterval(-window), limit: 1)
        let existing: Incident?
        do throws(StoreError) { existing = try await store.listIncidents(query).first } catch { throw .store(error) }
        guard let existing, await isDuplicate?(existing) ?? true else { return nil }
        return existing
    }

    /// Counts one more alert on `existing`, journaled as `text`.
    private func fold(into existing: Incident, by actor: String, _ text: String) async throws(IncidentError) -> Ingested {
        var change = IncidentChange(existing.id)
        change.addsAlert = true
        let entry = JournalEntry(incident: existing.id, at: change.at, actor: actor, kind: .alert, text: text)
        do throws(StoreError) { try await store.write(.all([.updateIncident(change), .appendJournal([entry])])) } catch {
            throw .store(error)
        }
        var linked = existing
        linked.alertCount += 1
        return Ingested(incident: linked, deduplicated: true, run: nil)
    }

    /// Opens a new incident and starts its playbook, in one transaction.
    private func open(_ draft: IncidentDraft, by actor: String, choosingPlaybook: Bool = true)
        async throws(IncidentError) -> Ingested
    {
        let now = Date()
        let number: Int
        do { number = try await ledger.take(.incident) } catch { throw .store(error) }
        var incident = draft.incident(IncidentID(number), at: now)
        let playbook = choosingPlaybook ? await catalog.choose(for: incident) : nil
        let policy = await catalog.slaPolicy()
        if let (sla, _) = policy.sla(type: incident.type, severity: incident.severity, playbook: playbook?.name) {
            incident.slaDueAt = incident.createdAt.addingTimeInterval(sla)
        }
        var journal = [JournalEntry(incident: incident.id, at: now, actor: actor, kind: .created,
                                    text: "\(incident.severity.rawValue) \(incident.type): \(incident.title)")]
        var run: RunRecord?
        var warning: String?
        if let playbook {
            var started = incident
            let runID = RunID.make()
            started.playbook = playbook.name
            started.runID = runID
            started.status = .active
            let entry = JournalEntry(incident: incident.id, at: now, actor: "automator", kind: .playbook,
                                     text: "playbook \(playbook.name) (\(playbook.path)) started: run \(runID)")
            do {
                run = try await start(playbook, entry: "run", on: started, id: runID,
                                      with: [.createIncident(started), .appendJournal(journal + [entry])])
                incident = started
            } catch where error.kind == .invalid {
                // Refused with its run, the incident would be lost (a sender drops what is refused)
                // and its number with it: it opens without the run, which says why.
                warning = "\(incident.id) is open, but \(error): fix it, then automator playbook run \(playbook.name) "
                    + "\(incident.id)"
                journal.append(JournalEntry(incident: incident.id, at: now, actor: "automator", kind: .playbook,
                                            text: "playbook \(playbook.name) (\(playbook.path)) did not start: \(error)"))
            }
        }
        if run == nil {
            do { try await store.write(.all([.createIncident(incident), .appendJournal(journal)])) } catch {
                throw .store(error)
            }
        }
        if let due = incident.slaDueAt { slaTimers.schedule(incident.id, at: due) }
        return Ingested(incident: incident, deduplicated: false, run: run, warning: warning)
    }

    private func start(_ playbook: Playbook, entry: String, on incident: Incident, id: RunID = .make(),
                       with writes: [StoreWrite]) async throws(IncidentError) -> RunRecord
    {
        do {
            return try await runs.submit(id: id, script: playbook.path, source: playbook.source,
                                         arguments: "[" + IncidentJSON.forScript(incident) + "]",
                                         entry: .playbook(entry), incident: incident.id, playbook: playbook.name,
                                         with: writes)
        } catch {
            // A store that failed (a full disk, a lost database) is no fault of the request: the
            // sender of an alert retries a 503, and drops what a 400 refused.
            if case .store(let failure) = error { throw .store(failure) }
            throw IncidentError(.invalid, "playbook \(playbook.path): \(error)")
        }
    }

    /// An import of closed incidents from another tool, their SLAs by the scripts folder's
    /// policy (`IncidentImport`).
    public func importer(file: String, by actor: String, dryRun: Bool, firstLine: Int = 1) async -> IncidentImport {
        IncidentImport(store: store, ledger: ledger, policy: await catalog.slaPolicy(), file: file, by: actor,
                       dryRun: dryRun, firstLine: firstLine)
    }

    // MARK: Playbooks

    /// The playbooks in order of preference, and the files that could not be read.
    public func playbooks() async -> (playbooks: [Playbook], problems: [PlaybookProblem]) {
        await catalog.refresh()
        return (await catalog.playbooks, await catalog.problems)
    }

    /// Starts the playbook `name` on an incident, whatever its match: a person's choice.
    public func runPlaybook(_ name: String, on id: IncidentID, by actor: String) async throws(IncidentError) -> RunRecord {
        guard let playbook = await catalog.playbook(named: name) else {
            let names = await catalog.playbooks.map(\.name)
            throw IncidentError(.notFound, "there is no playbook \"\(name)\": "
                + (names.isEmpty ? "the playbooks folder has none" : "the playbooks are " + names.joined(separator: ", ")))
        }
        let incident = try await load(id)
        try Self.refuseClosed(incident, then: "start the playbook")
        try await refuseWhileRunning(incident)
        let runID = RunID.make()
        let change = Self.starting(playbook.name, run: runID, on: incident)
        let entry = JournalEntry(incident: id, at: change.at, actor: actor, kind: .playbook,
                                 text: "playbook \(playbook.name) (\(playbook.path)) started: run \(runID)")
        return try await start(playbook, entry: "run", on: incident, id: runID,
                               with: [.updateIncident(change), .appendJournal([entry])])
    }

    /// The change that starts a playbook's run on an incident: a new one becomes active, as one
    /// does when a playbook starts on it as it opens (`automator run --incident` showed `new`
    /// where the server shows `active`).
    private static func starting(_ playbook: String, run: RunID, on incident: Incident) -> IncidentChange {
        var change = IncidentChange(incident.id)
        change.playbook = playbook
        change.runID = run
        if incident.status == .new { change.status = .active }
        return change
    }

    /// A second playbook run beside an unfinished one would ask the same people twice, and the
    /// incident would show the second only: the first must end (or be killed) first.
    private func refuseWhileRunning(_ incident: Incident) async throws(IncidentError) {
        guard let current = incident.runID else { return }
        let run: RunRecord?
        do { run = try await runs.run(current) } catch { throw .store(error) }
        guard let run, !run.status.isFinished else { return }
        throw IncidentError(.conflict, "\(incident.id)'s playbook run \(current) (\(incident.playbook ?? "a playbook")) is "
            + "still \(run.status.rawValue): wait for it to end, or stop it first (automator runs kill \(current))")
    }

    /// Closing cancelled the incident's tasks and stopped its run: a playbook started on it again
    /// would ask people for work that no longer matters, on a case nobody looks at.
    private static func refuseClosed(_ incident: Incident, then what: String) throws(IncidentError) {
        guard incident.status == .closed else { return }
        throw IncidentError(.conflict, "\(incident.id) is closed (\(incident.closeReason ?? "no reason")): reopen it "
            + "first (automator incident update \(incident.id) --status active), then \(what)")
    }

    /// Runs a playbook file on an incident (`automator run playbook.lua --incident FILE`).
    public func runPlaybook(file path: String, source: [UInt8], on id: IncidentID, by actor: String)
        async throws(IncidentError) -> RunRecord
    {
        let incident = try await load(id)
        let playbook = Playbook(name: path, path: path, source: source, priority: 0, match: nil, sla: nil,
                                handlesBreach: false)
        let runID = RunID.make()
        let change = Self.starting(path, run: runID, on: incident)
        let entry = JournalEntry(incident: id, at: change.at, actor: actor, kind: .playbook,
                                 text: "playbook \(path) started: run \(runID)")
        return try await start(playbook, entry: "run", on: incident, id: runID,
                               with: [.updateIncident(change), .appendJournal([entry])])
    }

    /// Starts the incident's failed playbook run again, with the playbook as it is now: it
    /// replays to the step that failed and goes on.
    ///
    /// - Throws: `.conflict` when the playbook is no longer in the scripts folder or no longer
    ///   loads: the run's stored source would run code that was deleted or is being fixed.
    public func retry(_ id: IncidentID, by actor: String) async throws(IncidentError) -> RunRecord {
        let incident = try await load(id)
        guard let runID = incident.runID else {
            throw IncidentError(.conflict, "incident \(id) has no playbook run to retry")
        }
        try Self.refuseClosed(incident, then: "retry")
        var source: [UInt8]?
        if let name = incident.playbook {
            guard let current = await catalog.playbook(named: name) else {
                let file = (try? await runs.run(runID))?.script
                if let problem = await catalog.problems.first(where: { $0.path == file }) {
                    throw IncidentError(.conflict, "the playbook \(name) does not load: \(problem); fix it, then retry")
                }
                throw IncidentError(.conflict, "the playbook \(name) is no longer in the scripts folder"
                    + (file.map { " (\($0))" } ?? "") + ": restore it, or start another with automator playbook run")
            }
            source = current.source
        }
        let entry = JournalEntry(incident: id, actor: actor, kind: .playbook, text: "run \(runID) retried")
        do {
            return try await runs.retry(runID, source: source, with: [.appendJournal([entry])])
        } catch {
            throw IncidentError(error.isConflict ? .conflict : .invalid, "\(error)")
        }
    }

    // MARK: People's changes

    /// Changes an incident as a person asks (`PATCH /api/v1/incidents/ID`, `automator incident
    /// update` and `close`): journaled on it as a playbook's changes are, in one transaction.
    /// Closing needs a reason, may say what the incident turned out to be (`resolution`), cancels
    /// the open tasks, stops the incident's runs (`IncidentLedger.closed`) and starts the close hook
    /// (`IncidentClosedHook`, created in the close's transaction); any other status reopens a closed
    /// incident, clearing its reason and resolution, but restarts neither its tasks nor its runs.
    /// Another severity moves the SLA (`SLAPolicy.move`), breached at once when already past.
    public func update(_ change: IncidentChange, by actor: String) async throws(IncidentError) -> Incident {
        guard !change.summary.isEmpty else {
            throw IncidentError(.invalid, "nothing to change: give an owner, a severity, a status or labels")
        }
        let closing = change.status == .closed
        if closing, change.closeReason?.trimmingCharacters(in: .whitespaces).isEmpty ?? true {
            throw IncidentError(.invalid, "closing needs a reason, such as \"false positive: a test mail\"")
        }
        if change.resolution != nil, !closing {
            throw .invalid("resolution", "given only with a close (status closed)")
        }
        let current = try await load(change.id)
        // Closed again, its close time would move, and with it the time to resolve in reports.
        if closing, current.status == .closed {
            throw IncidentError(.conflict, "\(change.id) is closed already (\(current.closeReason ?? "no reason")): "
                + "reopen it first (status active) to close it again")
        }
        var change = change
        let sla = await catalog.slaPolicy().move(&change, of: current)
        var write = change.write(by: actor, movingSLA: sla)
        // Read with the policy: the hook as the folder has it now.
        var hook: RunRecord?
        if closing, let closeHook = ledger.closeHook.withLock({ $0 }) {
            let started = closeHook.start(on: change.applied(to: current))
            hook = started.run
            write = .all([write] + started.writes)
        }
        do { try await store.write(write) } catch { throw .store(error) }
        if closing {
            let reason = change.stopReason(by: actor)
            await ledger.closed(change.id, by: nil, hook: hook) { reason }
        }
        if sla != nil, let due = change.slaDueAt { slaTimers.schedule(change.id, at: due) }
        return try await load(change.id)
    }

    // MARK: Reading

    /// The tasks `query` asks for; of an incident that does not exist, `.notFound` rather than
    /// none, so a mistyped id is not read as "no open tasks".
    public func tasks(_ query: TaskQuery) async throws(IncidentError) -> [IncidentTask] {
        let found: [IncidentTask]
        do { found = try await store.listTasks(query) } catch { throw .store(error) }
        if found.isEmpty, let id = query.incident { _ = try await load(id) }
        return found
    }

    /// The incident with its tasks, its playbook's run and, once its SLA is breached, the run of
    /// the breach's hook (nil when there is no hook), which may have failed.
    public func details(_ id: IncidentID) async throws(IncidentError)
        -> (incident: Incident, tasks: [IncidentTask], run: RunRecord?, breachHook: RunRecord?)
    {
        let incident = try await load(id)
        do throws(StoreError) {
            let tasks = try await store.listTasks(TaskQuery(incident: id))
            var run: RunRecord?
            if let runID = incident.runID { run = try await runs.run(runID) }
            var hook: RunRecord?
            if incident.slaBreachedAt != nil {
                hook = try await store.lastRun(of: id, calling: [.playbook("on_sla_breach"), .hook])
            }
            return (incident, tasks, run, hook)
        } catch {
            throw .store(error)
        }
    }

    /// The run of the incident's last close's hook (`hooks/incident_closed.lua`), nil when none
    /// started: the API's `close_hook`, as `sla.hook` is the breach's.
    public func closeHook(of id: IncidentID) async throws(IncidentError) -> RunRecord? {
        do { return try await store.lastRun(of: id, calling: [.closeHook]) } catch { throw .store(error) }
    }

    /// The most text a page of a journal holds (`journal(of:after:limit:)`), in bytes: far below
    /// what the CLI reads from a server in one answer (64 MiB), with room for JSON's escapes,
    /// whatever an entry holds (an unreadable alert is kept whole in its entry, up to 2 MiB).
    public static let journalPageBytes = 4 << 20
    /// The most entries a page of a journal holds, and how many `GET …/journal` gives by default.
    public static let journalPageEntries = 1000

    /// A page of the incident's journal: the entries after sequence `after`, oldest first, at
    /// most `limit` of them and about `journalPageBytes` of text; `more` when the page is full
    /// (by either), so that the page after its last entry may hold more.
    ///
    /// - Throws: `.notFound` for an unknown incident.
    public func journal(of id: IncidentID, after: Int64, limit: Int) async throws(IncidentError)
        -> (entries: [JournalEntry], more: Bool)
    {
        _ = try await load(id)
        let entries: [JournalEntry]
        do {
            entries = try await store.journal(of: id, after: after, limit: limit, bytes: Self.journalPageBytes)
        } catch {
            throw .store(error)
        }
        let size = entries.reduce(0) { $0 + $1.text.utf8.count }
        return (entries, entries.count == limit || size >= Self.journalPageBytes)
    }

    public func load(_ id: IncidentID) async throws(IncidentError) -> Incident {
        let incident: Incident?
        do { incident = try await store.loadIncident(id) } catch { throw .store(error) }
        guard let incident else {
            throw IncidentError(.notFound, "there is no incident \(id): `automator incident list` shows the incidents")
        }
        return incident
    }

    // MARK: SLA

    /// The SLA of an open incident ran out: marked breached, and its hook (the playbook's
    /// `on_sla_breach`, else `hooks/sla_breach.lua`) started, in one transaction, so that a
    /// restart neither loses nor repeats it. A deadline that a change moved later is timed again.
    private func breach(_ id: IncidentID) async {
        do {
            guard let incident = try await store.loadIncident(id), incident.status != .closed,
                  incident.slaBreachedAt == nil, let due = incident.slaDueAt
            else { return }
            var change = IncidentChange(id)
            guard due <= change.at else {
                slaTimers.schedule(id, at: due)
                return
            }
            change.slaBreachedAt = change.at
            let late = Int(change.at.timeIntervalSince(due))
            var writes: [StoreWrite] = [.updateIncident(change)]
            var breached = incident
            breached.slaBreachedAt = change.at
            let arguments = "[" + IncidentJSON.forScript(breached) + "]"
            // Changed after its due time and not breached then: the change moved it into the past.
            let why = incident.updatedAt > due ? "a change moved it into the past" : "the server was down"
            var text = "SLA breached: due \(JSONText.time(due).dropFirst().dropLast())"
                + (late > 1 ? ", handled \(late) s late (\(why))" : "")
            let playbook = await incident.playbook.asyncMap { await catalog.playbook(named: $0) } ?? nil
            if let playbook, playbook.handlesBreach {
                text += "; on_sla_breach of \(playbook.path) started"
                writes.append(.appendJournal([JournalEntry(incident: id, at: change.at, actor: "automator", kind: .sla, text: text)]))
                _ = try await runs.submit(script: playbook.path, source: playbook.source, arguments: arguments,
                                          entry: .playbook("on_sla_breach"), incident: id, playbook: playbook.name,
                                          with: writes)
            } else if let hook = await catalog.breachHook {
                text += "; \(hook.path) started"
                writes.append(.appendJournal([JournalEntry(incident: id, at: change.at, actor: "automator", kind: .sla, text: text)]))
                _ = try await runs.submit(script: hook.path, source: hook.source, arguments: arguments, entry: .hook,
                                          incident: id, with: writes)
            } else {
                writes.append(.appendJournal([JournalEntry(incident: id, at: change.at, actor: "automator", kind: .sla, text: text)]))
                try await store.write(.all(writes))
            }
        } catch RunServiceError.store(let error) where error.kind == .conflict,
                let error as StoreError where error.kind == .conflict {
            logger.debug("the SLA breach of \(id) is handled already (by another worker): \(error)")
        } catch {
            failedBreaches.withLock { _ = $0.insert(id) }
            logger.error("the SLA breach of \(id) could not be handled: \(error); it is tried again at the next start")
        }
    }
}

extension Optional {
    fileprivate func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}

extension RunServiceError {
    fileprivate var isConflict: Bool {
        if case .notRetryable = self { true } else { false }
    }
}
