public import Foundation
public import Logging
import Crypto
import Synchronization

/// Runs the actions integrations declare, safely: parameters are checked against the declaration
/// and the configuration before anything is sent; every action is recorded with its idempotency
/// key, who asked and who approved, and journaled on its incident; an action with an undo can be
/// reversed, by a person or by its ttl.
///
/// ```swift
/// let plan = try actions.plan("checkpoint.block_ip", parameters: ["ip": "198.51.100.7"])
/// let done = try await actions.perform(plan, key: "run-…/7", incident: IncidentID(3), requestedBy: "cli:alice",
///                                      approvedBy: "slack:bob")
/// _ = try await actions.undo(done.id, by: "cli:alice")
/// ```
///
/// Approval is asked by the caller (a playbook's `chat.approve`, the CLI's `--approve`): `plan`
/// says whether it is needed, and `perform` records who gave it.
public final class ActionService: Sendable {
    private let integrations: Integrations
    let store: any ActionStore
    /// The `actions` section, shared with the server's chat and replaced with it on SIGHUP.
    private let rules: AccessRules
    private let logger: Logger
    /// Expired actions whose undo failed, and when to try again: an API that is down is not
    /// asked (nor logged about) every second.
    private let retries = Mutex<[String: Date]>([:])
    static let expiryRetry: TimeInterval = 60

    public init(integrations: Integrations, store: any ActionStore, rules: AccessRules, logger: Logger) {
        self.integrations = integrations
        self.store = store
        self.rules = rules
        self.logger = logger
    }

    /// The `actions` section in use: approvals, protected networks and accounts.
    public var configuration: ActionConfiguration { rules.current.actions }

    /// Every action the integrations in use declare.
    public var catalog: [ActionDeclaration] { integrations.actions }

    /// `{"actions": [...], "off": [...]}`: the catalog, and the actions of integrations not set up.
    public var catalogJSON: String { ActionsModule.json(catalog, off: integrations.unconfiguredActions) }

    /// - Parameter dryRun: also an action of an integration that only lacks its settings: a dry
    ///   run sends nothing, so it can be planned before the credentials are there.
    public func declaration(_ name: String, dryRun: Bool = false) throws(ActionError) -> ActionDeclaration {
        if dryRun, !catalog.contains(where: { $0.name == name }),
           let declared = integrations.unconfiguredActions.first(where: { $0.name == name })
        {
            return declared
        }
        return try ActionDeclaration.named(name, in: catalog, off: integrations.unconfiguredActions,
                                           leftOut: integrations.problems)
    }

    /// Why the action `name` cannot be sent now, or nil when it can (`actions.available`): its
    /// integration is declared in the scripts folder but left out, for its missing settings or a
    /// file that does not load. A dry run can plan an action whose integration only lacks its
    /// settings.
    ///
    /// - Throws: `.invalid` for a name no integration declares, with the one a typo meant: a
    ///   mistake in a script must not pass for an integration nobody set up.
    public func unavailability(of name: String, dryRun: Bool = false) throws(ActionError) -> String? {
        if catalog.contains(where: { $0.name == name }) { return nil }
        let integration = String(name.prefix { $0 != "." })
        let unconfigured = integrations.unconfiguredActions
        let problem = integrations.problems.first { $0.path == "integrations/\(integration).lua" }
        if unconfigured.contains(where: { $0.name == name }) {
            return dryRun ? nil : "the integration \(integration) is not set up: " + (problem?.message ?? "see the log")
        }
        // Its file does not load, so which actions it declares is unknown.
        if let problem, !unconfigured.contains(where: { $0.integration == integration }) {
            return "the integration \(integration) is not in use: \(problem.message)"
        }
        // Declared nowhere: this throws, naming the action a typo meant.
        _ = try ActionDeclaration.named(name, in: catalog + unconfigured)
        return nil
    }

    /// Checks an action's parameters (and the call's ttl) and says whether it waits for an approval.
    ///
    /// - Parameters:
    ///   - parameters: values as `JSONSerialization` reads them, or text (`--param ip=…`).
    ///   - ttl: how long this call's action lasts (`24h`), in place of the declaration's; the
    ///     action must have an undo.
    ///   - standing: the actions the playbook approved in its declaration.
    ///   - dryRun: for a dry run (`declaration(_:dryRun:)`).
    /// - Throws: `ActionError` (`.invalid`, `.refused`): nothing was sent.
    public func plan(_ name: String, parameters: [String: Any], ttl: String? = nil, standing: Set<String> = [],
                     dryRun: Bool = false) throws(ActionError) -> ActionPlan
    {
        let declaration = try declaration(name, dryRun: dryRun)
        let configuration = configuration
        let checked = try ActionParameters(declaration: declaration, policy: configuration).check(parameters)
        let approval: ActionPlan.Approval = if let threshold = configuration.approvalRisk, declaration.risk >= threshold {
            standing.contains(name) ? .standing : .required
        } else {
            .notNeeded
        }
        return ActionPlan(declaration: declaration, parameters: checked, approval: approval,
                          ttl: try declaration.lifetime(asked: ttl))
    }

    /// The record of an action its checks refused (`ActionError.invalid` or `.refused`; nothing was
    /// sent), `refused` with why: for the report and the audit. Not journaled: whoever asked gets
    /// the same words (a run fails with them, and its end is journaled). Nil for other errors.
    ///
    /// - Parameter parameters: the parameters as asked, JSON.
    public func refusal(_ name: String, parameters: String, key: String, incident: IncidentID?, requestedBy: String,
                        _ error: ActionError) -> StoreWrite?
    {
        Self.refusal(name, parameters: parameters, id: Self.id(key: key), key: key, incident: incident,
                     requestedBy: requestedBy, error)
    }

    /// `refusal` with its id and time given: a server's, or a test's (`automator test`).
    static func refusal(_ name: String, parameters: String, id: String, key: String, incident: IncidentID?,
                        requestedBy: String, _ error: ActionError, at now: Date = Date()) -> StoreWrite?
    {
        guard error.kind == .invalid || error.kind == .refused else { return nil }
        return .recordAction(ActionRecord(id: id, key: key, name: name, parameters: parameters, incident: incident,
                                          requestedBy: requestedBy, approvedBy: nil, status: .refused,
                                          result: error.description, at: now))
    }

    /// Writes a refusal outside a durable run (the REPL), which nobody waits for: a failure is logged.
    func keep(_ refusal: StoreWrite) {
        store.write(refusal) { [logger] result in
            guard case .failure(let error) = result else { return }
            logger.error("a refused action was not recorded, so the report and the audit will not show it: \(error)")
        }
    }

    /// The id of the action with this idempotency key.
    static func id(key: String) -> String {
        // Not String(format:) per byte: Foundation formatting showed in the action path's profile.
        "ACT-" + Hex.text(SHA256.hash(data: Array(key.utf8)).prefix(5).reduce(0) { $0 << 8 | UInt64($1) }, digits: 10)
    }

    /// Runs a checked action, or with `dryRun` only records what it would do.
    ///
    /// The action is recorded as `sending` before it is sent: a crash while it is out leaves that
    /// record, and the replay sends it again with the same key (which APIs that take one use to
    /// do it once), finding the same record. A run's `actions.run` goes the same way in steps
    /// (`record`, `send`, `outcome`), so that its outcome commits with the call's record.
    ///
    /// - Parameters:
    ///   - key: the idempotency key: a run's id and the call's number, so that a replay has it too.
    ///   - approvedBy: who approved it; required when the plan says so.
    /// - Throws: `ActionError`: `.notApproved` without a needed approval, `.notFound` for an
    ///   unknown incident, `.failed` when the integration failed (recorded and journaled).
    public func perform(_ plan: ActionPlan, key: String, incident: IncidentID?, requestedBy: String,
                        approvedBy: String?, dryRun: Bool = false) async throws(ActionError) -> ActionRecord
    {
        let record = try record(plan, key: key, incident: incident, requestedBy: requestedBy, approvedBy: approvedBy,
                                dryRun: dryRun)
        if dryRun {
            try await write(Self.planned(record, plan))
            return record
        }
        try await write(.recordAction(record))
        let sent = await withCheckedContinuation { continuation in send(record, plan) { continuation.resume(returning: $0) } }
        guard let (change, ended) = Self.outcome(of: record, plan, sent) else {
            throw ActionError(.interrupted, "\(plan.declaration.name) did not finish: the process is stopping")
        }
        try await write(change)
        // With its id: the CLI prints the error alone, and the failed action is in history under it.
        guard ended.status == .done else { throw ActionError(.failed, "\(ended.id): \(ended.result ?? "")") }
        return ended
    }

    /// The record of an action about to be sent (`sending`), or planned in a dry run.
    ///
    /// - Parameter question: the chat question whose yes approved it.
    /// - Throws: `ActionError.notApproved` when the plan needs an approval nobody gave.
    func record(_ plan: ActionPlan, key: String, incident: IncidentID?, requestedBy: String, approvedBy: String?,
                question: String? = nil, dryRun: Bool) throws(ActionError) -> ActionRecord
    {
        if plan.approval == .required, approvedBy == nil, !dryRun {
            // Said to the CLI and the API alike: each way to get the yes, for whoever asked.
            throw ActionError(.notApproved, "\(plan.declaration.name) is \(plan.declaration.risk.rawValue) risk and needs "
                + "an approver's yes: an approver runs it with automator action run --approve (or \"approve\": true in "
                + "POST /api/v1/actions); anyone else asks with !action in chat, or in the incident's war room through "
                + "POST /api/v1/incidents/\(incident?.description ?? "ID")/command {\"text\": \"!action "
                + "\(plan.declaration.name) ...\"}, which waits for an approver's answer")
        }
        var record = ActionRecord(id: Self.id(key: key), key: key, name: plan.declaration.name,
                                  parameters: plan.parametersJSON, incident: incident, requestedBy: requestedBy,
                                  approvedBy: approvedBy, status: dryRun ? .planned : .sending, result: dryRun ? "null" : nil)
        record.question = question
        record.ttl = plan.ttl
        record.followsClose = plan.declaration.onClosed
        return record
    }

    /// A dry run's record and the journal entry of its plan. The store refuses an unknown incident.
    /// (`automator test` keeps a test's actions with it too, so that its journal is the server's.)
    static func planned(_ record: ActionRecord, _ plan: ActionPlan, at now: Date = Date()) -> StoreWrite {
        let lifting = plan.ttl.map { "; its undo would run by itself \(DurationText.text($0)) after it is sent" } ?? ""
        return journaled(.recordAction(record), on: record.incident, by: record.requestedBy, at: now, "dry run, nothing sent: "
            + "would run \(plan.summary) (risk \(plan.declaration.risk.rawValue), approval \(plan.approval.rawValue))"
            + lifting)
    }

    /// Sends a recorded action through its integration, with its key and who asked and approved;
    /// `completion` gets the integration's answer as JSON, on any thread.
    func send(_ record: ActionRecord, _ plan: ActionPlan,
              completion: @escaping @Sendable (Result<String, ActionError>) -> Void)
    {
        var context = JSONText.Object()
        context["idempotency_key"] = JSONText.string(record.key)
        context["incident"] = record.incident.map { JSONText.string($0.description) }
        context["requested_by"] = JSONText.string(record.requestedBy)
        context["approved_by"] = record.approvedBy.map(JSONText.string)
        integrations.perform(plan.declaration, parameters: record.parameters, context: context, completion: completion)
    }

    /// What keeps a sent action's outcome (its record's end and its journal entry), and the action
    /// as it ended: `done`, or `failed` with the integration's error as its result; nil when it was
    /// interrupted (not recorded: its run sends it again when it resumes). `automator test` keeps a
    /// stubbed outcome with it.
    static func outcome(of record: ActionRecord, _ plan: ActionPlan, _ sent: Result<String, ActionError>,
                        at now: Date = Date()) -> (change: StoreWrite, ended: ActionRecord)?
    {
        var record = record
        let approval = record.approvedBy.map { ", approved by \($0)" } ?? ""
        switch sent {
        case .success(let result):
            record.status = .done
            record.result = result
            record.expiresAt = plan.ttl.map { now.addingTimeInterval($0).roundedToMilliseconds }
            let lifting = record.expiresAt.map {
                "; its undo runs by itself at \(JSONText.time($0).dropFirst().dropLast()) (ttl \(plan.ttl.map(DurationText.text) ?? ""))"
            } ?? ""
            let change = journaled(.finishAction(id: record.id, status: .done, result: result, expiresAt: record.expiresAt),
                                   on: record.incident, by: record.requestedBy, at: now,
                                   "\(record.id): ran \(plan.summary)\(approval): \(result)\(lifting)")
            return (change, record)
        case .failure(let error) where error.kind == .interrupted:
            return nil
        case .failure(let error):
            record.status = .failed
            record.result = error.description
            // The integration's error names the action ("checkpoint.block_ip failed: …"): said once.
            let name = plan.declaration.name + " "
            let what = error.description.hasPrefix(name) ? String(error.description.dropFirst(name.count))
                : "failed: \(error.description)"
            let change = journaled(.finishAction(id: record.id, status: .failed, result: error.description, expiresAt: nil),
                                   on: record.incident, by: record.requestedBy, at: now,
                                   "\(record.id): \(plan.summary)\(approval) \(what)")
            return (change, record)
        }
    }

    /// Records and journals an action that was not run because nobody approved it: `timed_out`
    /// when the reason is `nobodyApproved`, else `denied`. The report counts them, the audit
    /// lists them.
    ///
    /// - Parameter question: the chat question answered no, or not in time: `action show` gives
    ///   who answered and when.
    public func decline(_ plan: ActionPlan, key: String, incident: IncidentID?, requestedBy: String, reason: String,
                        question: String? = nil) async throws(ActionError)
    {
        try await write(Self.declined(plan, id: Self.id(key: key), key: key, incident: incident, requestedBy: requestedBy,
                                      reason: reason, question: question))
    }

    /// The record of an action nobody approved and its journal entry (`decline`; `automator test`).
    static func declined(_ plan: ActionPlan, id: String, key: String, incident: IncidentID?, requestedBy: String,
                         reason: String, question: String? = nil, at now: Date = Date()) -> StoreWrite
    {
        var record = ActionRecord(id: id, key: key, name: plan.declaration.name, parameters: plan.parametersJSON,
                                  incident: incident, requestedBy: requestedBy, approvedBy: nil,
                                  status: reason == nobodyApproved ? .timedOut : .denied, result: reason, at: now)
        record.question = question
        let asked = question.map { " (\($0))" } ?? ""
        return journaled(.recordAction(record), on: incident, by: requestedBy, at: now,
                         "\(record.id): not run: \(plan.summary) (asked by \(requestedBy)): \(reason)\(asked)")
    }

    /// Why an action is not run when its approval was asked and nobody answered in time; else
    /// `denied by NAME`. `actions.run` passes it to `decline`, as runs recorded it.
    static let nobodyApproved = "nobody approved it in time"

    /// The action of this id.
    ///
    /// - Throws: `.notFound`, naming where the ids are; `.failed` when the store failed.
    public func action(_ id: String) async throws(ActionError) -> ActionRecord {
        let record: ActionRecord?
        do { record = try await store.action(id) } catch { throw ActionError(.failed, error.description) }
        guard let record else {
            throw ActionError(.notFound, "there is no action \(id): automator action history (GET /api/v1/actions) "
                + "lists the actions run, with their ids")
        }
        return record
    }

    /// One action as `automator action show` gives it: its record, the undo its declaration names
    /// (nil when it has none, or no integration file declares it; one that lacks its settings
    /// still says), and the chat question whose answer decided it: the yes that approved it, the
    /// no that denied it, automator's `timeout` when nobody answered (nil when it was approved
    /// otherwise, needed no approval, or was declined before actions kept their question).
    public func details(_ id: String) async throws(ActionError)
        -> (record: ActionRecord, undo: String?, question: ChatQuestionRecord?)
    {
        let record = try await action(id)
        let declaration = try? declaration(record.name, dryRun: true)
        let undo = declaration.flatMap { declared in declared.undo.map { "\(declared.integration).\($0)" } }
        guard let asked = record.question, let questions = store as? any ChatStore else { return (record, undo, nil) }
        do { return (record, undo, try await questions.question(asked)) } catch {
            throw ActionError(.failed, error.description)
        }
    }

    /// Reverses a done action with its undo, given the same parameters and, in its context, the
    /// action's result.
    ///
    /// - Throws: `ActionError`: `.notFound`, `.conflict` (no undo, or not done), `.failed` (the
    ///   undo raised, or its API refused), saying that the action is still in force and how to
    ///   lift it, as its incident's journal does (`lift`).
    public func undo(_ id: String, by: String) async throws(ActionError) -> ActionRecord {
        let record = try await action(id)
        try Self.checkUndoable(record)
        let inverse = try inverse(of: record)
        return try await lift(record, with: inverse, by: by) { Self.undoFailed(record, inverse, $0) }
    }

    /// Only a done action is undone: one planned, denied, failed or undone already changed nothing
    /// (`undo`; `automator test`).
    static func checkUndoable(_ record: ActionRecord) throws(ActionError) {
        guard record.status == .done else {
            throw ActionError(.conflict, "\(record.id) is \(record.status.rawValue), not done: there is nothing to undo")
        }
    }

    /// What whoever asked for `record`'s undo is told when it was not done (`undo`; `automator test`).
    static func undoFailed(_ record: ActionRecord, _ inverse: ActionDeclaration, _ error: ActionError) -> ActionError {
        let note = record.incident.map {
            " and say so in \($0)'s journal (!note \($0) … in chat, or POST /api/v1/incidents/\($0)/journal)"
        } ?? ""
        return ActionError(error.kind, "\(summary(of: record)) is still in force: "
            + "\(failure(of: inverse, error)). Run the undo again once that is fixed (automator action undo \(record.id), "
            + "or !action undo \(record.id) in chat); or lift it by hand in the product\(note): automator still counts it as "
            + "done", raised: error.raised)
    }

    /// The journal entry of an undo that was not done: the action is still in force (`lift`;
    /// `automator test`).
    static func stillInForce(_ record: ActionRecord, _ inverse: ActionDeclaration, _ error: ActionError, by: String,
                             at now: Date = Date()) -> StoreWrite
    {
        journaled(nil, on: record.incident, by: by, at: now, "\(summary(of: record)) is still in force: "
            + "\(failure(of: inverse, error)) (undo asked by \(by)); once that is fixed, automator action undo "
            + "\(record.id) runs it again")
    }

    /// An undo done: what keeps it (the action's record and its journal entry), and the action
    /// as it is then (`lift`; `automator test`).
    static func undone(_ record: ActionRecord, with inverse: ActionDeclaration, by: String, result: String,
                       at now: Date = Date()) -> (change: StoreWrite, ended: ActionRecord)
    {
        var ended = record
        ended.status = .undone
        ended.undoneBy = by
        ended.undoneAt = now.roundedToMilliseconds
        return (journaled(.undoAction(id: record.id, by: by, at: now), on: record.incident, by: by, at: now,
                          "\(record.id): undone by \(by) with \(inverse.name): \(result)"), ended)
    }

    /// `firewall.unblock_ip failed: the firewall answered 409`: why an undo was not done. The
    /// integration's error names itself most often: said once.
    private static func failure(of inverse: ActionDeclaration, _ error: ActionError) -> String {
        error.description.hasPrefix(inverse.name + " ") ? error.description : "its undo \(inverse.name) failed: \(error)"
    }

    /// `ACT-3f9a0c12b4 firewall.block_ip ip=198.51.100.7`: a recorded action, for people.
    static func summary(of record: ActionRecord) -> String {
        let parameters = ActionValue.members(json: record.parameters) ?? [:]
        return ([record.id, record.name] + parameters.keys.sorted().map { name in
            let value = parameters[name]!
            let json = try? JSONSerialization.data(withJSONObject: value, options: .fragmentsAllowed)
            return "\(name)=\(value as? String ?? json.map { String(decoding: $0, as: UTF8.self) } ?? "\(value)")"
        }).joined(separator: " ")
    }

    /// The declared undo of a recorded action.
    ///
    /// - Throws: `.conflict` when it has none; what `declaration(_:)` throws when its integration
    ///   is not in use.
    private func inverse(of record: ActionRecord) throws(ActionError) -> ActionDeclaration {
        try Self.inverse(of: record, declared: try declaration(record.name), in: catalog)
    }

    /// The undo `action` declares, for `record`, in `catalog` (`automator test` has its own).
    static func inverse(of record: ActionRecord, declared action: ActionDeclaration, in catalog: [ActionDeclaration])
        throws(ActionError) -> ActionDeclaration
    {
        guard let undo = action.undo, let inverse = catalog.first(where: { $0.name == "\(action.integration).\(undo)" })
        else { throw ActionError(.conflict, "\(record.name) has no undo: reverse \(record.id) by hand") }
        return inverse
    }

    /// Sends a done action's undo and records it undone, journaled.
    ///
    /// An undo that was not done (the integration raised, its API refused) is journaled on the
    /// incident too, before it is thrown: the action is still in force, and the error alone
    /// reached only whoever asked (at the CLI, the API or in chat), while the journal said it
    /// done. A write that fails after the undo was done is thrown as it is.
    ///
    /// - Parameters:
    ///   - journalingFailure: false for the ttl's expiry, which journals its first failure alone.
    ///   - failing: what to tell whoever asked when the undo was not done.
    private func lift(_ record: ActionRecord, with inverse: ActionDeclaration, by: String, journalingFailure: Bool = true,
                      failing: (ActionError) -> ActionError = { $0 }) async throws(ActionError) -> ActionRecord
    {
        var context = JSONText.Object()
        context["idempotency_key"] = JSONText.string("undo/" + record.key)
        context["incident"] = record.incident.map { JSONText.string($0.description) }
        context["requested_by"] = JSONText.string(by)
        // What the action returned: an undo that must put back what it replaced (the security groups
        // an instance's quarantine took) reads it there, since it gets the action's parameters alone.
        context["result"] = record.result
        let sent = await withCheckedContinuation { continuation in
            integrations.perform(inverse, parameters: record.parameters, context: context) { continuation.resume(returning: $0) }
        }
        if case .failure(let error) = sent, journalingFailure, let incident = record.incident {
            do { try await store.write(Self.stillInForce(record, inverse, error, by: by)) } catch {
                logger.error("""
                    the failed undo of \(record.id) was not journaled: \(incident)'s journal still counts it as done: \(error)
                    """)
            }
        }
        let (change, undone) = Self.undone(record, with: inverse, by: by, result: try sent.mapError(failing).get())
        try await write(change)
        return undone
    }

    /// Reverses every done action of an incident that has an undo, the last one first; stops at
    /// the first that fails (the ones before it stay undone), or whose integration is not in use
    /// (it cannot say whether there is an undo: skipped, a block would stay under "nothing to undo").
    ///
    /// - Throws: `.notFound` for an incident that does not exist (a mistyped id is not "nothing
    ///   to undo"); an undo's error, naming the action it failed on (journaled, as `undo` does),
    ///   those undone before it and those still done.
    public func undoAll(on incident: IncidentID, by: String) async throws(ActionError) -> [ActionRecord] {
        try await Self.undoAll(try await history(on: incident), on: incident) { (record) throws(ActionError) -> Bool in
            try declaration(record.name).undo != nil
        } lift: { (record) throws(ActionError) -> ActionRecord in
            try await lift(record, with: try inverse(of: record), by: by)
        }
    }

    /// `undoAll` over an incident's `records`, newest first: the server's, or a test's (`automator
    /// test`, whose undos are stubbed).
    ///
    /// - Parameters:
    ///   - undoable: whether the action has an undo; throws when its integration is not in use.
    ///   - lift: undoes a done action, journaled, as `lift(_:with:by:)` does.
    static func undoAll(_ records: [ActionRecord], on incident: IncidentID,
                        undoable: (ActionRecord) throws(ActionError) -> Bool,
                        lift: (ActionRecord) async throws(ActionError) -> ActionRecord) async throws(ActionError)
        -> [ActionRecord]
    {
        var undone: [ActionRecord] = []
        for record in records where record.status == .done {
            guard try undoable(record) else { continue }
            do { undone.append(try await lift(record)) } catch {
                let before = undone.isEmpty ? "none" : undone.map(\.id).joined(separator: ", ")
                let left = records.filter { $0.status == .done && !undone.map(\.id).contains($0.id) }.map(\.id)
                throw ActionError(error.kind, "\(record.id) (\(record.name)) was not undone: \(error); undone before it: "
                    + "\(before); still done: \(left.joined(separator: ", ")): automator action undo --incident "
                    + "\(incident) undoes them once that is fixed", raised: error.raised)
            }
        }
        return undone
    }

    /// Actions newest first, all of them or those of an incident.
    ///
    /// - Throws: `.notFound` for an incident that does not exist (a mistyped id is not "no
    ///   actions").
    public func history(on incident: IncidentID? = nil, limit: Int = 1000) async throws(ActionError) -> [ActionRecord] {
        try await Self.history(in: store, on: incident, limit: limit)
    }

    /// `history` of `store`: the server's, or a test's (`automator test`).
    static func history(in store: any ActionStore, on incident: IncidentID?, limit: Int = 1000)
        async throws(ActionError) -> [ActionRecord]
    {
        do {
            let records = try await store.actions(on: incident, limit: limit)
            if let incident, records.isEmpty, try await store.loadIncident(incident) == nil {
                throw ActionError(.notFound, StoreError.incidentNotFound(incident).description)
            }
            return records
        } catch let error as ActionError {
            throw error
        } catch { throw ActionError(.failed, "\(error)") }
    }

    /// Undoes the actions whose ttl has passed; returns how many. Reads the store, so an expiry
    /// that passed while no server ran happens at the next start.
    @discardableResult
    public func expireDue(at now: Date = Date()) async -> Int {
        guard let due = try? await store.expiringActions() else { return 0 }
        var count = 0
        for record in due {
            guard let expiresAt = record.expiresAt, expiresAt <= now else { break }
            if let next = retries.withLock({ $0[record.id] }), next > now { continue }
            do {
                _ = try await lift(record, with: try inverse(of: record), by: "automator", journalingFailure: false)
                retries.withLock { _ = $0.removeValue(forKey: record.id) }
                count += 1
            } catch {
                let retry = now.addingTimeInterval(Self.expiryRetry)
                let first = retries.withLock { $0.updateValue(retry, forKey: record.id) == nil }
                logger.error("""
                    action \(record.id) (\(record.name)) did not lift at the end of its ttl: \(error); trying again \
                    in a minute (or undo it: automator action undo \(record.id))
                    """)
                // The journal is what the team reads of an incident: with the log alone, it said the
                // action was done and nothing more. Once, not at every retry.
                if first, let incident = record.incident {
                    try? await store.write(Self.journaled(nil, on: incident, by: "automator", """
                        \(record.id) (\(record.name)) did not lift at the end of its ttl: \(error); automator tries \
                        again every minute; or undo it: automator action undo \(record.id)
                        """))
                }
            }
        }
        return count
    }

    /// Lifts the actions whose ttl has passed, looking every `interval`, until cancelled.
    public func expire(every interval: Duration) async {
        while !Task.isCancelled {
            await expireDue()
            try? await Task.sleep(for: interval)
        }
    }

    /// `write` with, on an incident, the journal entry `text` by `actor`.
    private static func journaled(_ write: StoreWrite?, on incident: IncidentID?, by actor: String, at now: Date = Date(),
                                  _ text: String) -> StoreWrite
    {
        let entry = incident.map {
            StoreWrite.appendJournal([JournalEntry(incident: $0, at: now, actor: actor, kind: .action, text: text)])
        }
        return .together([write, entry].compactMap(\.self))
    }

    private func write(_ write: StoreWrite) async throws(ActionError) {
        do { try await store.write(write) } catch {
            switch error.kind {
            case .notFound: throw ActionError(.notFound, error.description)
            // An incident closed, an action undone meanwhile: the store's reason says what to do.
            case .conflict: throw ActionError(.refused, error.description)
            default: throw ActionError(.failed, "the action's record: \(error)")
            }
        }
    }
}
