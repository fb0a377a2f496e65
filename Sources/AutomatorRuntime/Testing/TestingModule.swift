import Foundation

/// The host side of `automator test`: incidents opened for a test, their journals, the task
/// answers and the virtual clock (`PlaybookTestStubs`). Scripts never see these functions: the
/// module's Lua part (`TestingModule+Lua.swift`) builds `test`, `stub`, `run` and `expect` on
/// them, and stubs the modules that reach the outside world (`intel`, `http`, `chat`, `time`).
struct TestingModule: HostModule {
    let name = "testing"
    /// The globals the Lua part defines for test files (`automator check` knows them).
    static let globals: Set<String> = ["test", "stub", "run", "expect", "incident", "advance"]
    let ledger: IncidentLedger
    let stubs: PlaybookTestStubs
    /// What the scripts' integrations declare: calls are checked as a real call's would be.
    let actions: [ActionDeclaration]
    /// The configuration's rules for actions: what is protected, what needs an approval.
    let policy: ActionConfiguration
    /// `chat.roles` of `--config`: who may answer a question asked for roles, and whose yes to an
    /// approval counts, as on the server (`UnassignedRole`: with no approver named, no person's).
    /// Anyone's when nil: a test given no configuration plays the operator, who answers anything
    /// on a server too (`automator question answer`), so that a playbook is tested before its
    /// team has a configuration.
    let roles: [String: [String]]?
    /// Where the test's evidence and actions are kept: for the outcome's `evidence`, and for
    /// `actions.undo`, `revert_all` and `history`, which read the actions' records as the server's do.
    let records: any EvidenceStore & ActionStore

    func register(in table: inout ModuleTable) {
        LuaNearest.register(in: &table)
        let (ledger, stubs, actions, policy, roles, records) = (ledger, stubs, actions, policy, roles, records)
        let store = ledger.store
        // open(incident_json, sla): the incident as the API or a mapper's result gives it (what a
        // mapper says of the alert's close at its tool is ingestion's, not the playbook's); its SLA
        // as the server gives it.
        table.waitingFunction("open") { call in
            let text = try call.string(1).bytes
            let draft: IncidentDraft
            do throws(IncidentError) { draft = try IncidentDraft.mapped(text).draft } catch {
                throw HostError("the test's incident is not an incident: \(error.description)")
            }
            let sla = try Self.duration(call.value(2), "sla")
            let playbook = call.isNoneOrNil(3) ? nil : try call.string(3).description
            return .write(in: store) { () throws(StoreError) in
                let now = stubs.now
                var incident = draft.incident(IncidentID(try ledger.takeNow(.incident)), at: now)
                incident.slaDueAt = sla.map { now.addingTimeInterval($0) }
                incident.playbook = playbook
                let entry = JournalEntry(incident: incident.id, at: now, actor: "test", kind: .created,
                                         text: "\(incident.severity.rawValue) \(incident.type): \(incident.title)")
                return (.all([.createIncident(incident), .appendJournal([entry])]),
                        [.string(LuaString(IncidentJSON.forScript(incident)))])
            }
        }
        table.waitingFunction("journal") { call in
            guard let id = IncidentID(try call.string(1).description) else { throw HostError("an incident id expected") }
            return .task {
                let entries = try await store.journal(of: id).map { entry -> LuaValue in
                    .table(LuaTable(fields: ["kind": .string(LuaString(entry.kind.rawValue)),
                                             "actor": .string(LuaString(entry.actor)),
                                             "text": .string(LuaString(entry.text))]))
                }
                return [.table(LuaTable(array: entries))]
            }
        }
        // evidence(incident id) -> what the playbook kept on it, oldest first
        table.waitingFunction("evidence") { call in
            guard let id = IncidentID(try call.string(1).description) else { throw HostError("an incident id expected") }
            return .task {
                let kept = try await records.evidenceList(of: id).sorted { $0.collectedAt < $1.collectedAt }.map { item in
                    LuaValue.table(LuaTable(fields: [
                        "id": .string(LuaString(item.id)), "name": .string(LuaString(item.name)),
                        "description": .string(LuaString(item.description)), "sha256": .string(LuaString(item.hashes.sha256)),
                        "size": .integer(item.size), "tags": .table(LuaTable(array: item.tags.map { .string(LuaString($0)) })),
                    ]))
                }
                return [.table(LuaTable(array: kept))]
            }
        }
        table.function("answer_task") { call in
            stubs.answer(try call.string(1).description, with: try call.string(2).description,
                         after: try Self.duration(call.value(3), "after") ?? 0)
            return 0
        }
        // check_action(name, params JSON or nil, ttl or nil) -> why a real call would be refused (an
        // unknown action; with parameters, what the checks before sending refuse), or nil and, with
        // parameters, the plan as actions.run reads it: risk, whether it needs an approval, summary, ttl.
        table.function("check_action") { call in
            let name = try call.string(1).description
            let parameters = call.isNoneOrNil(2) ? nil : ActionValue.members(json: try call.string(2).description) ?? [:]
            let ttl = call.isNoneOrNil(3) ? nil : try call.string(3).description
            let plan: ActionPlan
            do throws(ActionError) {
                let declaration = try ActionDeclaration.named(name, in: actions)
                guard let parameters else { return 0 }
                plan = try Self.plan(declaration, parameters, ttl: ttl, policy: policy)
            } catch { return call.push(error.description) }
            var object = JSONText.Object()
            object["risk"] = JSONText.string(plan.declaration.risk.rawValue)
            object["approval"] = JSONText.string(plan.approval.rawValue)
            object["summary"] = JSONText.string(plan.summary)
            object["ttl"] = plan.ttl.map { String($0) }
            object["note"] = plan.approvalNote.map(JSONText.string)
            object["channel"] = policy.approvalChannel.map(JSONText.string)
            object["timeout"] = String(policy.approvalTimeout)
            return try call.push(.nil) + call.push(object.textWithoutNulls)
        }
        // refused(by, choices JSON, roles JSON or nil) -> why `by`'s answer does not count (chat.roles
        // gives them none of the question's roles) and those roles, or nothing: the server's rule.
        table.function("refused") { call in
            let by = try call.string(1).description
            let asked = call.isNoneOrNil(3) ? [] : try Self.list(call, 3)
            let who = ChatQuestionRecord.answerable(by: asked, choices: try Self.list(call, 2))
            guard let roles, !who.isEmpty else { return 0 }
            let holders = who.joined(separator: " or ")
            // A stubbed answer is a person's in chat, never the operator's: refused when no one holds the role.
            if UnassignedRole.none(of: who, in: roles) {
                return call.push(UnassignedRole.refusal(who, meanwhile: "an operator answers with automator question "
                    + "answer")) + call.push(holders)
            }
            if asked.isEmpty {  // an approval (`answerable`): the rule of the server's actions, in its words
                do throws(ActionError) {
                    try ActionService.requireApprover(by, approvers: roles["approver"], byOperator: false)
                } catch {
                    return call.push(error.description) + call.push("approver")
                }
                return 0
            }
            let name = by.split(separator: ":", maxSplits: 1).last.map(String.init) ?? by
            guard !who.contains(where: { roles[$0]?.contains(by) == true || roles[$0]?.contains(name) == true })
            else { return 0 }
            return call.push("\(name) may not answer: only people with the role \(holders) may (chat.roles in the "
                + "configuration)") + call.push(holders)
        }
        // question(incident or nil, id, channel, text, choices JSON, roles JSON or nil, [answer, by, refused],
        // [timeout]): journals a question asked, its answer (refused: someone without the role gave
        // it), or that nobody answered it within `timeout` seconds from now, as the server's chat
        // does on the run's incident.
        table.waitingFunction("question") { call in
            let incident = call.isNoneOrNil(1) ? nil : IncidentID(try call.string(1).description)
            let question = ChatQuestionRecord(id: try call.string(2).description, runID: nil, network: "test",
                                              channel: try call.string(3).description, message: nil,
                                              text: try call.string(4).description, choices: try Self.list(call, 5),
                                              roles: call.isNoneOrNil(6) ? [] : try Self.list(call, 6),
                                              askedAt: stubs.now)
            let answer = call.isNoneOrNil(7) ? nil : (try call.string(7).description, try call.string(8).description)
            let refused = call.boolean(9)
            let timeout = try Self.duration(call.value(10), "the timeout")
            guard let incident else { return .task { [] } }
            return .write(in: store) { () throws(StoreError) in
                let entry = if let deadline = timeout.map(question.askedAt.addingTimeInterval) {
                    question.timedOut(on: incident, deadline: deadline, at: deadline)
                } else if let (choice, by) = answer {
                    refused ? question.refused(choice, by: by, on: incident, at: stubs.now)
                        : question.answered(choice, by: by, on: incident, at: stubs.now)
                } else {
                    JournalEntry(incident: incident, at: stubs.now, actor: "automator", kind: .approval,
                                 text: question.asked(in: question.channel)
                                     + question.whoMayAnswer(roles: roles ?? [:]))
                }
                return (.appendJournal([entry]), [])
            }
        }
        // act(id, name, params JSON, incident or nil, approved by or nil, stubbed status or nil, its
        // result JSON or error, ttl or nil, the approval's question or nil): keeps an action with
        // its journal entry as the server does: as a dry run (nothing is sent) unless stubbed done
        // or failed.
        table.waitingFunction("act") { call in
            let (id, plan) = try Self.plan(call, actions: actions, ttl: 8, policy: policy)
            let incident = call.isNoneOrNil(4) ? nil : IncidentID(try call.string(4).description)
            let approvedBy = call.isNoneOrNil(5) ? nil : try call.string(5).description
            let status = call.isNoneOrNil(6) ? nil : try call.string(6).description
            let outcome = call.isNoneOrNil(7) ? nil : try call.string(7).description
            var record = ActionRecord(id: id, key: id, name: plan.declaration.name, parameters: plan.parametersJSON,
                                      incident: incident, requestedBy: Self.actor, approvedBy: approvedBy,
                                      status: .sending, result: nil, at: stubs.now)
            record.ttl = plan.ttl
            record.followsClose = plan.declaration.onClosed
            record.question = call.isNoneOrNil(9) ? nil : try call.string(9).description
            let sent: Result<String, ActionError>? = switch status.flatMap(ActionRecord.Status.init(rawValue:)) {
            case .done?: .success(outcome ?? "null")
            case .failed?: .failure(ActionError(.failed, outcome ?? "failed (stub.action)"))
            default: nil
            }
            let write: StoreWrite
            if let sent, let (change, _) = ActionService.outcome(of: record, plan, sent, at: stubs.now) {
                write = .all([.recordAction(record), change])
            } else {
                record.status = .planned
                record.result = "null"
                write = ActionService.planned(record, plan, at: stubs.now)
            }
            return .write(in: store) { () throws(StoreError) in (write, []) }
        }
        // refuse(id, name, params JSON, incident or nil, ttl or nil): keeps the refusal of an
        // actions.run the checks refused, as the server does (`ActionService.refusal`), not journaled:
        // the run fails with the same words.
        table.waitingFunction("refuse") { call in
            let (id, name, parameters) = (try call.string(1).description, try call.string(2).description,
                                          try call.string(3).description)
            let incident = call.isNoneOrNil(4) ? nil : IncidentID(try call.string(4).description)
            let ttl = call.isNoneOrNil(5) ? nil : try call.string(5).description
            let refusal: StoreWrite?
            do throws(ActionError) {
                _ = try Self.plan(ActionDeclaration.named(name, in: actions), ActionValue.members(json: parameters) ?? [:],
                                  ttl: ttl, policy: policy)
                refusal = nil
            } catch {
                refusal = ActionService.refusal(name, parameters: parameters, id: id, key: id, incident: incident,
                                                requestedBy: Self.actor, error, at: stubs.now)
            }
            guard let refusal else { return .task { [] } }
            return .write(in: store) { () throws(StoreError) in (refusal, []) }
        }
        // decline(id, name, params JSON, incident or nil, reason, the question or nil): keeps an
        // action nobody approved, with its journal entry, as the server does.
        table.waitingFunction("decline") { call in
            let (id, plan) = try Self.plan(call, actions: actions, ttl: nil, policy: policy)
            let incident = call.isNoneOrNil(4) ? nil : IncidentID(try call.string(4).description)
            let reason = try call.string(5).description
            let question = call.isNoneOrNil(6) ? nil : try call.string(6).description
            return .write(in: store) { () throws(StoreError) in
                (ActionService.declined(plan, id: id, key: id, incident: incident, requestedBy: Self.actor, reason: reason,
                                        question: question, at: stubs.now), [])
            }
        }
        // undo(action id or nil, incident or nil, {undo name: why it fails} JSON) -> the actions undone
        // as JSON records, as the server's: the one of `id` (actions.undo), or every done one of the
        // incident that has an undo, the newest first (actions.revert_all). An undo is done unless
        // stub.action made it fail: then this raises what the server's raises, journaled alike.
        table.waitingFunction("undo") { call in
            let id = call.isNoneOrNil(1) ? nil : try call.string(1).description
            let incident = try ActionsModule.incident(call, 2)
            let failing = (ActionValue.members(json: try call.string(3).description) ?? [:])
                .compactMapValues { $0 as? String }
            let now = stubs.now
            /// The server's `lift`, with the outcome stub.action gave the undo for the integration's.
            @Sendable func lift(_ record: ActionRecord, with inverse: ActionDeclaration,
                                told: (ActionError) -> ActionError = { $0 }) async throws(ActionError) -> ActionRecord
            {
                if let why = failing[inverse.name] {
                    // Worded as an integration's failure is (`Integrations.perform`).
                    let error = ActionError(.failed, "\(inverse.name) failed: \(why)")
                    if record.incident != nil {
                        try await Self.write(ActionService.stillInForce(record, inverse, error, by: Self.actor, at: now),
                                             in: records)
                    }
                    throw told(error)
                }
                let (change, undone) = ActionService.undone(record, with: inverse, by: Self.actor, result: "null",
                                                            at: now)
                try await Self.write(change, in: records)
                return undone
            }
            return .task {
                do throws(ActionError) {
                    let undone: [ActionRecord]
                    if let id {
                        let record = try await Self.action(id, in: records)
                        try ActionService.checkUndoable(record)
                        let inverse = try Self.inverse(of: record, in: actions)
                        undone = [try await lift(record, with: inverse) {
                            ActionService.undoFailed(record, inverse, $0)
                        }]
                    } else if let incident {
                        let history = Self.newestFirst(try await ActionService.history(in: records, on: incident))
                        undone = try await ActionService.undoAll(history, on: incident) {
                            (record) throws(ActionError) -> Bool in
                            try ActionDeclaration.named(record.name, in: actions).undo != nil
                        } lift: { (record) throws(ActionError) -> ActionRecord in
                            try await lift(record, with: try Self.inverse(of: record, in: actions))
                        }
                    } else {
                        undone = []
                    }
                    return [.string(LuaString(JSONText.array(undone.map(ActionsModule.json))))]
                } catch { throw HostError(error.description) }
            }
        }
        // history(incident or nil) -> the test's actions as the server's actions.history gives them:
        // JSON records, newest first; an incident the test did not open raises.
        table.waitingFunction("history") { call in
            let incident = try ActionsModule.incident(call, 1)
            return .task {
                do throws(ActionError) {
                    let history = Self.newestFirst(try await ActionService.history(in: records, on: incident))
                    return [.string(LuaString(JSONText.array(history.map(ActionsModule.json))))]
                } catch { throw HostError(error.description) }
            }
        }
        // list() -> what the scripts' integrations declare, as the server's actions.list gives it
        table.function("list") { call in call.push(JSONText.array(actions.map(ActionsModule.json))) }
        table.function("now") { call in call.push(number: stubs.now.timeIntervalSince1970) }
        table.waitingFunction("advance") { call in
            let seconds = try Self.duration(call.value(1), "the duration") ?? 0
            return .task {
                await stubs.advance(by: seconds)
                return []
            }
        }
        table.function("breaches") { call in
            try call.push(.table(LuaTable(array: stubs.takeBreaches().map { .string(LuaString($0.description)) })))
        }
    }

    /// Who runs a test's actions, as the journal names the playbook's other writes.
    private static let actor = "script"

    /// The action of `id` in the test's store.
    private static func action(_ id: String, in records: any ActionStore) async throws(ActionError) -> ActionRecord {
        let record: ActionRecord?
        do { record = try await records.action(id) } catch { throw ActionError(.failed, error.description) }
        guard let record else { throw ActionError(.notFound, "no action \(id) in this test") }
        return record
    }

    /// The undo of a recorded action, as the integration that declares it names it.
    private static func inverse(of record: ActionRecord, in actions: [ActionDeclaration]) throws(ActionError)
        -> ActionDeclaration
    {
        try ActionService.inverse(of: record, declared: ActionDeclaration.named(record.name, in: actions), in: actions)
    }

    private static func write(_ change: StoreWrite, in records: any ActionStore) async throws(ActionError) {
        do { try await records.write(change) } catch { throw ActionError(.failed, "the test's store: \(error)") }
    }

    /// `records` newest first, as the server's history gives them. The test's actions happen at
    /// the same time unless the virtual clock moved, and the store breaks ties on the id as text
    /// (ACT-test10 before ACT-test9): their number is the order of the calls.
    private static func newestFirst(_ records: [ActionRecord]) -> [ActionRecord] {
        records.sorted { number(of: $0.id) > number(of: $1.id) }
    }

    private static func number(of id: String) -> Int { Int(id.dropFirst("ACT-test".count)) ?? 0 }

    /// The list of strings argument `index` holds as JSON.
    private static func list(_ call: LuaCall, _ index: Int32) throws(HostError) -> [String] {
        (try? JSONSerialization.jsonObject(with: Data(try call.string(index).bytes))) as? [String] ?? []
    }

    /// The plan of a checked call: parameters and ttl as the server checks them, and whether its
    /// risk needs an approval.
    private static func plan(_ declaration: ActionDeclaration, _ parameters: [String: Any], ttl: String?,
                             policy: ActionConfiguration) throws(ActionError) -> ActionPlan
    {
        let checked = try ActionParameters(declaration: declaration, policy: policy).check(parameters)
        return ActionPlan(declaration: declaration, parameters: checked,
                          approval: policy.approvalRisk.map { declaration.risk >= $0 } == true ? .required : .notNeeded,
                          ttl: try declaration.lifetime(asked: ttl))
    }

    /// The id (argument 1) and plan (name and parameters, arguments 2 and 3; the ttl at `ttl`, if
    /// the call takes one) of a call `check_action` passed.
    private static func plan(_ call: LuaCall, actions: [ActionDeclaration], ttl position: Int32?,
                             policy: ActionConfiguration) throws(HostError) -> (String, ActionPlan)
    {
        let (id, name, parameters) = (try call.string(1).description, try call.string(2).description,
                                      ActionValue.members(json: try call.string(3).description) ?? [:])
        let ttl = if let position, !call.isNoneOrNil(position) { try call.string(position).description } else { nil as String? }
        do throws(ActionError) {
            return (id, try plan(ActionDeclaration.named(name, in: actions), parameters, ttl: ttl, policy: policy))
        } catch { throw HostError(error.description) }
    }

    /// A duration as scripts write them: seconds, or text such as "4h"; nil for nil.
    private static func duration(_ value: LuaValue, _ what: String) throws(HostError) -> TimeInterval? {
        switch value {
        case .nil: return nil
        case .string(let text):
            guard let seconds = DurationText.seconds(text.description) else {
                throw HostError("\(what) must be \(DurationText.expected), got \"\(text)\"")
            }
            return seconds
        case .integer(let seconds) where seconds >= 0: return TimeInterval(seconds)
        case .number(let seconds) where seconds >= 0: return seconds
        case let other: throw HostError("\(what) must be a duration such as \"4h\" or seconds, got \(other.typeName)")
        }
    }
}
