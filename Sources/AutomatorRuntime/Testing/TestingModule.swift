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
    /// `chat.roles.approver`: whose yes to an approval counts; anyone's when nil.
    let approvers: [String]?
    /// Where the test's evidence is kept, for the outcome's `evidence`.
    let evidence: any EvidenceStore

    func register(in table: inout ModuleTable) {
        let (ledger, stubs, actions, policy, approvers, evidence) = (ledger, stubs, actions, policy, approvers, evidence)
        let store = ledger.store
        // open(incident_json, sla): the incident as the API takes it; its SLA as the server gives it.
        table.waitingFunction("open") { call in
            let text = try call.string(1).bytes
            let draft: IncidentDraft
            do throws(IncidentError) { draft = try IncidentDraft(json: text) } catch {
                throw HostError("the test's incident is not an incident: \(error.description)")
            }
            let sla = try Self.duration(call.value(2), "sla")
            return .write(in: store) { () throws(StoreError) in
                let now = Date()
                var incident = draft.incident(IncidentID(try ledger.takeNow(.incident)), at: now)
                incident.slaDueAt = sla.map { now.addingTimeInterval($0) }
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
                let kept = try await evidence.evidenceList(of: id).sorted { $0.collectedAt < $1.collectedAt }.map { item in
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
        // check_action(name, params JSON or nil) -> why a real call would be refused (an unknown
        // action; with parameters, what the checks before sending refuse), or nil and, with
        // parameters, the plan as actions.run reads it: risk, whether it needs an approval, summary.
        table.function("check_action") { call in
            let name = try call.string(1).description
            let parameters = call.isNoneOrNil(2) ? nil : ActionValue.members(json: try call.string(2).description) ?? [:]
            let plan: ActionPlan
            do throws(ActionError) {
                let declaration = try ActionDeclaration.named(name, in: actions)
                guard let parameters else { return 0 }
                let checked = try ActionParameters(declaration: declaration, policy: policy).check(parameters)
                plan = ActionPlan(declaration: declaration, parameters: checked,
                                  approval: policy.approvalRisk.map { declaration.risk >= $0 } == true ? .required : .notNeeded)
            } catch { return call.push(error.description) }
            var object = JSONText.Object()
            object["risk"] = JSONText.string(plan.declaration.risk.rawValue)
            object["approval"] = JSONText.string(plan.approval.rawValue)
            object["summary"] = JSONText.string(plan.summary)
            object["channel"] = policy.approvalChannel.map(JSONText.string)
            object["timeout"] = String(policy.approvalTimeout)
            return try call.push(.nil) + call.push(object.textWithoutNulls)
        }
        // refused_approval(by) -> why `by`'s yes does not count (chat.roles.approver does not name
        // them), or nothing: the server's rule, with the same words.
        table.function("refused_approval") { call in
            let by = try call.string(1).description
            do throws(ActionError) { try ActionService.requireApprover(by, approvers: approvers) } catch {
                return call.push(error.description)
            }
            return 0
        }
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
