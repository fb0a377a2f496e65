import Foundation

/// `actions`: what playbooks and chat commands call to act through an integration
/// (`actions.run("checkpoint.block_ip", { ip = ... }, { incident = inc })`), with the checks,
/// the approval, the journal and the idempotency key of `ActionService`.
///
/// The module's table is Lua (`ActionsModule+Lua.swift`), over host functions scripts do not see.
/// `perform` is a recorded waiting call (`HostWait.act`): its `sending` record commits before the
/// action is sent, and its outcome with the call's record; a replay gets its result without acting
/// again, and the action's idempotency key is the run's id and that call's number, the same in
/// every replay.
public struct ActionsModule: HostModule {
    public let name = "actions"
    private let service: ActionService
    /// Every action a dry run, whatever the script asks: `automator run --incident` tries a
    /// playbook, and a try does not touch the firewall.
    private let dryRunsOnly: Bool
    /// Why this process sends no action, whatever its integrations: a command that starts a
    /// playbook with no server (`automator incident create` on the folder's own store).
    /// `actions.available` answers it, so the playbook asks people; `actions.run` refuses with it.
    private let offline: String?

    public init(service: ActionService, dryRunsOnly: Bool = false, offline: String? = nil) {
        self.service = service
        self.dryRunsOnly = dryRunsOnly
        self.offline = offline
    }

    public func register(in table: inout ModuleTable) {
        LuaNearest.register(in: &table)
        let (service, dryRunsOnly, offline) = (self.service, self.dryRunsOnly, self.offline)
        let state = table.state
        let checked = LastPlan()
        let approval = ApprovalQuestion()
        // What the checks refuse (not a dry run's) is kept on the incident, keyed by the call that
        // would have come next: in a durable run with the run's next write, as an action's outcome
        // (`HostWait.act`), so that a store that refuses it stops the run as any of its writes would.
        let keepingRefusal = { [unowned(unsafe) state] (incident: IncidentID?, dryRun: Bool)
            -> (String, String, ActionError) -> Void in
            { name, parameters, error in
                guard !dryRun, let refusal = service.refusal(name, parameters: parameters,
                                                             key: Self.idempotencyKey(state.activeRun) + "/refused",
                                                             incident: incident, requestedBy: state.actor, error)
                else { return }
                if let recording = state.activeRun?.recording {
                    recording.unwrittenChanges.append(refusal)
                } else {
                    service.keep(refusal)
                }
            }
        }
        // run(name, params JSON, dry run, incident, ttl) -> the plan as JSON, with whether it is a dry
        // run; raises what the checks refuse, under the name scripts called (`actions.run: ...`),
        // and keeps the refusal (`keepingRefusal`). A plan depends on the settings (the
        // risk that needs an approval, its channel and timeout, the protected lists): recorded when
        // it passes, so that a replay after they changed (a restart, a reload) takes the branch the
        // run took, where checking again would ask an approval the record does not have, or refuse
        // what was sent. A refusal is not recorded: a replay checks again, and its refusal, keyed by
        // the call that would have come next, is the one already kept.
        table.recordedCheck("run") { [unowned(unsafe) state] call throws(HostError) in
            approval.id = nil
            let dryRun = dryRunsOnly || call.boolean(3)
            if let offline, !dryRun { throw HostError(offline) }
            let incident = try Self.incident(call, 4)
            let plan = try Self.plan(call, service, ttl: 5, standing: state.activeRun?.standingApprovals ?? [],
                                     dryRun: dryRun, last: checked, refused: keepingRefusal(incident, dryRun))
            var object = JSONText.Object()
            object["dry_run"] = dryRun ? "true" : "false"
            object["name"] = JSONText.string(plan.declaration.name)
            object["risk"] = JSONText.string(plan.declaration.risk.rawValue)
            object["approval"] = JSONText.string(plan.approval.rawValue)
            object["summary"] = JSONText.string(plan.summary)
            object["ttl"] = plan.ttl.map { String($0) }
            object["note"] = plan.approvalNote.map(JSONText.string)
            let approvals = service.configuration
            object["channel"] = approvals.approvalChannel.map(JSONText.string)
            object["timeout"] = String(approvals.approvalTimeout)
            return [.string(LuaString(object.textWithoutNulls))]
        }
        // asked_in(question id): the chat question whose answer decides the next `perform` (a yes) or
        // `decline` (a no, or none in time). Not an argument of either, whose arguments a replay
        // compares with the runs recorded before it; not a recorded call either: a replay passes the
        // same id, its `ask`'s recorded answer.
        table.function("asked_in") { call in
            approval.id = try call.string(1).description
            return 0
        }
        // perform(name, params JSON, incident, approved by, dry run[, ttl]) -> the action's record as JSON:
        // planned, done or failed. Its errors (an unknown or closed incident) are actions.run's.
        table.waitingFunction("perform", shownAs: "run") { [unowned(unsafe) state] call in
            let question = approval.id
            approval.id = nil
            // Its record is the outcome: the checks are not made again under today's settings.
            if state.replaysCall { return Self.replayed }
            let dryRun = dryRunsOnly || call.boolean(5)
            let incident = try Self.incident(call, 3)
            // Checked again when live: settings changed since the plan was made (a replay handed it
            // back) may refuse it now, and that refusal is kept as the plan's would be.
            let plan = try Self.plan(call, service, ttl: 6, standing: state.activeRun?.standingApprovals ?? [],
                                     dryRun: dryRun, last: checked, refused: keepingRefusal(incident, dryRun))
            let approvedBy = call.isNoneOrNil(4) ? nil : try call.string(4).description
            let record: ActionRecord
            do {
                record = try service.record(plan, key: Self.idempotencyKey(state.activeRun), incident: incident,
                                            requestedBy: state.actor, approvedBy: approvedBy,
                                            question: approvedBy == nil ? nil : question, dryRun: dryRun)
            } catch { throw HostError("\(error)") }
            if dryRun { return .write(in: service.store) { (ActionService.planned(record, plan), [.string(LuaString(Self.json(record)))]) } }
            return .act(in: service.store, before: .recordAction(record)) { complete in
                service.send(record, plan) { sent in
                    // A failed action is a record too: actions.run returns nil and why, as for a denied one.
                    let raised = if case .failure(let error) = sent { error.raised } else { nil as String? }
                    complete(ActionService.outcome(of: record, plan, sent).map { change, ended in
                        Acted(change: change, outcome: .success([.string(LuaString(Self.json(ended, raised: raised)))]))
                    })
                }
            }
        }
        // decline(name, params JSON, incident, reason): records and journals an action nobody approved,
        // with the question `asked_in` named.
        table.waitingFunction("decline", shownAs: "run") { [unowned(unsafe) state] call in
            let question = approval.id
            approval.id = nil
            if state.replaysCall { return Self.replayed }
            let plan = try Self.plan(call, service, ttl: nil, standing: [], dryRun: false)
            let incident = try Self.incident(call, 3)
            let reason = try call.string(4).description
            let (key, requestedBy) = (Self.idempotencyKey(state.activeRun), state.actor)
            return .task {
                do {
                    try await service.decline(plan, key: key, incident: incident, requestedBy: requestedBy, reason: reason,
                                              question: question)
                } catch { throw HostError("\(error)") }
                return []
            }
        }
        // undo(action id or nil, incident or nil) -> the records undone, as a JSON array
        table.waitingFunction("undo") { [unowned(unsafe) state] call in
            let id = call.isNoneOrNil(1) ? nil : try call.string(1).description
            let incident = try Self.incident(call, 2)
            let by = state.actor
            return .task {
                do {
                    let undone = if let id { [try await service.undo(id, by: by)] } else if let incident {
                        try await service.undoAll(on: incident, by: by)
                    } else { [] as [ActionRecord] }
                    return [.string(LuaString(JSONText.array(undone.map(Self.json))))]
                } catch { throw HostError("\(error)") }
            }
        }
        // history(incident or nil) -> records as a JSON array, newest first
        table.waitingFunction("history") { call in
            let incident = try Self.incident(call, 1)
            return .lookup {
                do { return [.string(LuaString(JSONText.array(try await service.history(on: incident).map(Self.json))))] } catch {
                    throw HostError("\(error)")
                }
            }
        }
        // available(name) -> why it cannot be sent now, or nothing. Recorded as the clock is: the
        // playbook branches on it, and a replay after the integration was set up (a restart with
        // its settings, a reload) takes the branch the run took.
        table.recordedFunction("available") { call throws(HostError) in
            let name = try call.string(1).description
            let why: String?
            do throws(ActionError) { why = try service.unavailability(of: name, dryRun: dryRunsOnly) } catch {
                throw HostError("\(error)")
            }
            return (offline ?? why).map { [.string(LuaString($0))] } ?? []
        }
        table.function("list") { call in
            call.push(JSONText.array(service.catalog.map(Self.json)))
        }
    }

    /// The wait of a call whose record a replay hands back: never begun.
    private static let replayed = HostWait.task { [] }

    /// The key a run's action call carries (`LuaRun.idempotencyKey`); outside a durable run (a
    /// REPL), a key of its own.
    static func idempotencyKey(_ run: LuaRun?) -> String {
        run?.idempotencyKey ?? "local-" + UUID().uuidString.lowercased()
    }

    /// The plan `run` made last in this state: `actions.run` checks the same call again in
    /// `perform` (a plan is the same for the same name, parameters and standing approvals).
    private final class LastPlan {
        var key: (name: String, parameters: String, ttl: String?, standing: Set<String>, dryRun: Bool)?
        var plan: ActionPlan?
    }

    /// The question `asked_in` named, taken by the `perform` or `decline` after it in this state.
    private final class ApprovalQuestion {
        var id: String?
    }

    /// - Parameters:
    ///   - ttl: the position of the call's ttl, if it takes one.
    ///   - refused: called with the name, the parameters' JSON and the error when the checks
    ///     refuse them.
    private static func plan(_ call: LuaCall, _ service: ActionService, ttl position: Int32?, standing: Set<String>,
                             dryRun: Bool, last: LastPlan? = nil, refused: ((String, String, ActionError) -> Void)? = nil)
        throws(HostError) -> ActionPlan
    {
        let name = try call.string(1).description
        let text = try call.string(2).description
        let ttl = if let position, !call.isNoneOrNil(position) { try call.string(position).description } else { nil as String? }
        if let last, let key = last.key, let plan = last.plan, key.name == name, key.parameters == text, key.ttl == ttl,
           key.standing == standing, key.dryRun == dryRun
        { return plan }
        guard let parameters = ActionValue.members(json: text) else {
            throw HostError.argument(2, "the parameters must be a table of names and values")
        }
        let plan: ActionPlan
        do { plan = try service.plan(name, parameters: parameters, ttl: ttl, standing: standing, dryRun: dryRun) } catch {
            refused?(name, text, error)
            throw HostError("\(error)")
        }
        last?.key = (name, text, ttl, standing, dryRun)
        last?.plan = plan
        return plan
    }

    /// The incident id argument `position` holds, if any (`automator test` reads it so too).
    static func incident(_ call: LuaCall, _ position: Int32) throws(HostError) -> IncidentID? {
        guard !call.isNoneOrNil(position) else { return nil }
        let text = try call.string(position).description
        guard let id = IncidentID(text) else { throw HostError.argument(position, "an incident id such as INC-42 expected, got \"\(text)\"") }
        return id
    }

    package static func json(_ record: ActionRecord) -> String { members(record).textWithoutNulls }

    private static func members(_ record: ActionRecord) -> JSONText.Object {
        var object = JSONText.Object()
        object["id"] = JSONText.string(record.id)
        object["name"] = JSONText.string(record.name)
        object["params"] = record.parameters
        object["status"] = JSONText.string(record.status.rawValue)
        object["incident"] = record.incident.map { JSONText.string($0.description) }
        object["requested_by"] = JSONText.string(record.requestedBy)
        object["approved_by"] = record.approvedBy.map(JSONText.string)
        object["idempotency_key"] = JSONText.string(record.key)
        object["at"] = JSONText.time(record.at)
        object["expires_at"] = record.expiresAt.map(JSONText.time)
        // In seconds, as the plan and the declaration give it: what a dry run's action would have had.
        object["ttl"] = record.ttl.map { String($0) }
        object["undone_by"] = record.undoneBy.map(JSONText.string)
        object["undone_at"] = record.undoneAt.map(JSONText.time)
        // The chat question whose answer decided it (yes, no, or none in time), by its id.
        object["question"] = record.question.map(JSONText.string)
        // What the integration answered: JSON when it succeeded; text when it failed or did not run.
        let inWords: Set<ActionRecord.Status> = [.failed, .refused, .denied, .timedOut]
        object["result"] = inWords.contains(record.status) ? record.result.map(JSONText.string) : record.result
        return object
    }

    /// One action as `GET /api/v1/actions/{id}` gives it (`ActionService.details`): its record's
    /// fields, `undo` (the action that reverses it) and `question`, whole, as `GET
    /// /api/v1/questions/{id}` gives it (the one whose answer approved it, denied it, or came too
    /// late), where a list of actions gives its id.
    package static func json(_ record: ActionRecord, undo: String?, question: ChatQuestionRecord?) -> String {
        var object = members(record)
        object["undo"] = undo.map(JSONText.string)
        if let question { object["question"] = QuestionJSON.detail(question, incident: record.incident) }
        return object.textWithoutNulls
    }

    /// An action as `perform` gives it to `actions.run`: with `error`, the table its integration
    /// raised when it failed (`ActionError.raised`), which the playbook gets as why. A replay gets
    /// what was recorded: a run recorded before there was `error` gets the text, as it did.
    private static func json(_ record: ActionRecord, raised: String?) -> String {
        var object = members(record)
        object["error"] = raised
        return object.textWithoutNulls
    }

    /// `{"actions": [...]}`, as the API lists actions run.
    package static func json(_ records: [ActionRecord]) -> String {
        #"{"actions":"# + JSONText.array(records.map(json)) + "}"
    }

    /// `{"actions": [...], "off": [...]}`, as the API lists what the integrations in use declare,
    /// and what those not set up would (`automator action list` shows both: a first look, before
    /// any settings, shows what could be done).
    package static func json(_ declarations: [ActionDeclaration], off: [ActionDeclaration]) -> String {
        #"{"actions":"# + JSONText.array(declarations.map(json)) + #","off":"# + JSONText.array(off.map(json)) + "}"
    }

    /// An action's declaration: its parameters by name, its risk, its undo and ttl (in seconds).
    package static func json(_ declaration: ActionDeclaration) -> String {
        var parameters = JSONText.Object()
        for parameter in declaration.parameters {
            var object = JSONText.Object()
            object["type"] = JSONText.string(parameter.kind.rawValue)
            object["required"] = parameter.required ? "true" : "false"
            object["description"] = JSONText.string(parameter.description)
            parameters[parameter.name] = object.text
        }
        var object = JSONText.Object()
        object["name"] = JSONText.string(declaration.name)
        object["description"] = JSONText.string(declaration.description)
        object["risk"] = JSONText.string(declaration.risk.rawValue)
        object["params"] = parameters.text
        object["undo"] = declaration.undo.map(JSONText.string)
        object["ttl"] = declaration.ttl.map { String($0) }
        return object.textWithoutNulls
    }
}
