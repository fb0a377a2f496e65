import Foundation

/// `incidents`, and the incident and task objects playbooks work with (`inc:note(...)`,
/// `inc:task{...}`, `t:wait()`), plus the `playbook { ... }` and `mapper { ... }` declarations.
///
/// The objects are written in Lua (`IncidentsModule+Lua.swift`) over host functions that the
/// scripts do not see. Every change is a `HostWait.write`: in a durable run it commits with the
/// call's record, so a replay never notes, closes or creates a task twice. Reads (`find`, `get`)
/// are recorded like any waiting call, and `t:wait()` suspends the run until a person answers.
public struct IncidentsModule: HostModule {
    public let name = "incidents"
    private let ledger: IncidentLedger
    /// For `incidents.create`: the service that chooses the new incident's playbook.
    public let opener = IncidentOpener()

    public init(ledger: IncidentLedger) { self.ledger = ledger }

    public func register(in table: inout ModuleTable) {
        LuaNearest.register(in: &table)
        let ledger = self.ledger
        let store = ledger.store
        let state = table.state
        let actor: () -> String = { [unowned(unsafe) state] in state.actor }
        // approve_standing(names JSON): the playbook's standing approvals, for the actions module.
        table.function("approve_standing") { [unowned(unsafe) state] call in
            guard let names = try? JSONDecoder().decode([String].self, from: Data(try call.string(1).bytes)) else {
                throw HostError("approvals must list action names, as in approvals = { \"checkpoint.block_ip\" }")
            }
            state.activeRun?.standingApprovals = Set(names)
            return 0
        }
        table.waitingFunction("note") { call in
            let id = try Self.incident(call, 1)
            let text = try call.string(2).description
            if let refusal = JournalEntry.refusal(ofNote: text) { throw HostError.argument(2, refusal) }
            let entry = JournalEntry(incident: id, actor: actor(), kind: .note, text: text)
            return .write(in: store) { (.appendJournal([entry]), []) }
        }
        // update(id, changes, fields_json) → the new SLA due time, when the change moved it.
        table.waitingFunction("update") { call in
            let asked = try Self.change(call, at: ledger.now)
            let by = actor()
            return .write(in: store) { () throws(StoreError) in
                var change = asked
                let sla = try ledger.moveSLANow(&change)
                let due: [LuaValue] = sla == nil ? [] : change.slaDueAt.map { [Self.seconds($0)] } ?? []
                return (change.write(by: by, movingSLA: sla), due)
            }
        }
        // sla_moved(id, due): after `update` committed, the new due time is timed here.
        table.function("sla_moved") { call in
            let id = try Self.incident(call, 1)
            ledger.slaMoved(id, due: Date(timeIntervalSince1970: try call.number(2)))
            return 0
        }
        // close(id, reason, resolution): with the close hook's run, when the scripts folder has one.
        table.waitingFunction("close") { [unowned(unsafe) state] call in
            var change = IncidentChange(try Self.incident(call, 1), at: ledger.now)
            change.status = .closed
            change.closeReason = try call.string(2).description
            if !call.isNoneOrNil(3) {
                let name = try call.string(3).description
                guard let resolution = Incident.Resolution(named: name) else {
                    throw HostError("resolution must be one of \(Incident.Resolution.names), got \(JSONText.string(name))")
                }
                change.resolution = resolution
            }
            let (asked, by, closer) = (change, actor(), state.activeRun?.id)
            return .write(in: store) { () throws(StoreError) in (try ledger.closeNow(asked, by: by, closer: closer), []) }
        }
        // closed(id): after `close` committed, the incident's other runs stop (`IncidentLedger.closed`).
        // Recorded as a lookup is, with the run's next write (its end, most often), not by a commit
        // of its own: what it does is done again by a replay, and alike (a run already stopped, a
        // waiter already told).
        table.waitingFunction("closed") { [unowned(unsafe) state] call in
            let id = try Self.incident(call, 1)
            let closer = state.activeRun?.id
            let by = actor()
            return .lookup {
                await ledger.closed(id, by: closer, as: by)
                return []
            }
        }
        // closed_first(id): `close` was refused. Someone closed the incident first: the run ends
        // killed here, as their close ends it (`IncidentLedger.closedFirst`); otherwise it returns.
        table.waitingFunction("closed_first") { [unowned(unsafe) state] call in
            let id = try Self.incident(call, 1)
            let run = state.activeRun?.id
            return .task {
                try await ledger.closedFirst(id, under: run)
                return []
            }
        }
        table.waitingFunction("link") { call in
            let id = try Self.incident(call, 1)
            let other = try Self.incident(call, 2)
            let entries = [JournalEntry(incident: id, actor: actor(), kind: .link, text: "linked to \(other)"),
                           JournalEntry(incident: other, actor: actor(), kind: .link, text: "linked to \(id)")]
            return .write(in: store) { (.all([.linkIncidents(id, other), .appendJournal(entries)]), []) }
        }
        table.waitingFunction("task") { [unowned(unsafe) state] call in
            // Checked now, numbered only when the call acts: a replay takes no number.
            let spec = try Self.task(call, id: TaskID(0), run: state.activeRun?.id, at: ledger.now)
            let by = actor()
            return .write(in: store) { () throws(StoreError) in
                var task = spec
                task.id = TaskID(try ledger.takeNow(.task))
                let text = "\(task.id) \(task.title)" + (task.owner.map { " for \($0)" } ?? "")
                    + (task.dueAt.map { ", due \(JSONText.time($0).dropFirst().dropLast())" } ?? "")
                var object: [LuaValue: LuaValue] = [
                    "id": .string(LuaString(task.id.description)), "title": .string(LuaString(task.title)),
                    "status": "open",
                ]
                if let owner = task.owner { object["owner"] = .string(LuaString(owner)) }
                if let due = task.dueAt { object["due"] = .number(due.timeIntervalSince1970) }
                let entry = JournalEntry(incident: task.incident, at: task.createdAt, actor: by, kind: .task, text: text)
                return (.all([.createTask(task), .appendJournal([entry])]), [.table(LuaTable(fields: object))])
            }
        }
        table.waitingFunction("wait") { call in
            guard let id = TaskID(try call.string(1).description) else {
                throw HostError("a task id such as T-7 expected")
            }
            return .event { complete in ledger.waitForTask(id, complete) }
        }
        table.waitingFunction("find") { call in
            let query = try Self.query(call, at: ledger.now)
            // A lookup: a search changes nothing.
            return .lookup {
                let found = try await store.listIncidents(query)
                return [.string(LuaString(JSONText.array(found.map(IncidentJSON.forScript))))]
            }
        }
        // seen(indicator, except): a lookup too, of four columns of one incident. A store that can
        // read on this thread answers without the run waiting (recorded as the clock is); one over
        // the network answers as a lookup does.
        if let reader = store.sightingReader() {
            table.recordedFunction("seen") { call throws(HostError) in
                let (indicator, except) = try Self.sightingQuery(call)
                do throws(StoreError) {
                    return [Self.sighting(try reader.sighting(of: indicator, except: except))]
                } catch {
                    throw HostError("\(error)")
                }
            }
        } else {
            table.waitingFunction("seen") { call in
                let (indicator, except) = try Self.sightingQuery(call)
                return .lookup { [Self.sighting(try await store.sighting(of: indicator, except: except))] }
            }
        }
        let opener = self.opener
        table.waitingFunction("create") { call in
            // The draft is the JSON `json.encode` made of the script's table: the checks and
            // their messages are the API's.
            let text = try call.string(1).description
            let draft: IncidentDraft
            do throws(IncidentError) { draft = try IncidentDraft(json: Array(text.utf8)) } catch {
                throw HostError(error.description)
            }
            let by = actor()
            return .task {
                let ingested = try await opener.open(draft, by: by)
                return [.string(LuaString(IncidentJSON.forScript(ingested.incident)))]
            }
        }
        table.waitingFunction("tasks") { call in
            var query = TaskQuery()
            if !call.isNoneOrNil(1) { query.incident = try Self.incident(call, 1) }
            if !call.isNoneOrNil(2) {
                guard let status = IncidentTask.Status(rawValue: try call.string(2).description) else {
                    throw HostError.argument(2, "open, done or cancelled expected")
                }
                query.status = status
            }
            let asked = query
            return .task {
                let tasks = try await store.listTasks(asked)
                return [.string(LuaString(JSONText.array(tasks.prefix(100).map { IncidentJSON.forScript($0) })))]
            }
        }
        table.waitingFunction("complete_task") { call in
            guard let id = TaskID(try call.string(1).description) else {
                throw HostError.argument(1, "a task id such as T-7 expected")
            }
            let answer = call.isNoneOrNil(2) ? "" : try call.string(2).description
            let by = actor()
            return .task {
                let task = try await ledger.complete(id, answer: answer, by: by)
                return [.string(LuaString(IncidentJSON.forScript(task)))]
            }
        }
        table.waitingFunction("assign_task") { call in
            guard let id = TaskID(try call.string(1).description) else {
                throw HostError.argument(1, "a task id such as T-7 expected")
            }
            let owner = try call.string(2).description
            let by = actor()
            return .task {
                let task = try await ledger.assign(id, to: owner, by: by)
                return [.string(LuaString(IncidentJSON.forScript(task)))]
            }
        }
        table.waitingFunction("get") { call in
            let id = try Self.incident(call, 1)
            return .task {
                guard let incident = try await store.loadIncident(id) else { return [.nil] }
                return [.string(LuaString(IncidentJSON.forScript(incident)))]
            }
        }
    }

    // MARK: Arguments

    private static func incident(_ call: LuaCall, _ position: Int32) throws(HostError) -> IncidentID {
        let text = try call.string(position).description
        guard let id = IncidentID(text) else {
            throw HostError.argument(position, "an incident id such as INC-42 expected, got \"\(text)\"")
        }
        return id
    }

    private static let changeFields = ["title", "type", "severity", "status", "owner", "labels", "fields", "details"]
    private static let taskFields = ["title", "owner", "due", "description", "choices"]
    private static let queryFields = ["type", "severity", "status", "source", "source_ref", "owner", "text", "indicator",
                                      "since", "limit"]

    private static func isNamed(_ key: LuaValue, among names: [String]) -> Bool {
        if case .string(let name) = key { names.contains(name.description) } else { false }
    }

    /// A key a script's table should not hold, as an error names it: `ownr (did you mean owner?)`,
    /// `[1]` for one that is no name.
    private static func misnamed(_ key: LuaValue, among names: [String]) -> String {
        guard case .string(let name) = key else {
            if case .integer(let index) = key { return "[\(index)]" }
            return "[\(key.typeName)]"
        }
        return name.description + (Typo.meant(by: name.description, among: names).map { " (did you mean \($0)?)" } ?? "")
    }

    /// `update(id, changes, fields_json)`: the changes table as the script gave it, and its
    /// `fields` already encoded by `json.encode` (so `json.null` removes a field), made `at` the
    /// ledger's now (a test's virtual clock: its SLA is past or not by that clock).
    private static func change(_ call: LuaCall, at now: Date) throws(HostError) -> IncidentChange {
        var change = IncidentChange(try incident(call, 1), at: now)
        guard case .table(let changes) = try call.value(2) else { throw HostError("a table of changes expected") }
        for (key, value) in changes.fields {
            guard case .string(let name) = key else { throw HostError("changes are named by strings") }
            func text() throws(HostError) -> String {
                guard case .string(let string) = value else {
                    throw HostError("\(name) must be a string, got \(value.typeName)")
                }
                return string.description
            }
            switch name.description {
            case "title": change.title = try text()
            case "type": change.type = try text()
            case "details": change.details = try text()
            case "owner": change.owner = .some(try text())
            case "severity":
                guard let severity = Incident.Severity(named: try text()) else {
                    throw HostError("severity must be one of \(Incident.Severity.names)")
                }
                change.severity = severity
            case "status":
                guard let status = Incident.Status(named: try text()), status != .closed else {
                    throw HostError("status must be new, active or pending (use inc:close{ reason = ... })")
                }
                change.status = status
            case "labels":
                guard case .table(let list) = value, list.fields.isEmpty,
                      case let labels = list.array.compactMap({ if case .string(let s) = $0 { s.description } else { nil } }),
                      labels.count == list.array.count
                else { throw HostError("labels must be a list of strings") }
                change.labels = labels
            case "fields":
                guard !call.isNoneOrNil(3) else { throw HostError("fields must be a table") }
                change.fieldsPatch = try call.string(3).description
            default:
                throw HostError("\(misnamed(key, among: changeFields)) cannot be changed: use title, type, severity, "
                    + "status, owner, labels, fields or details")
            }
        }
        return change
    }

    /// `task(id, spec)`: `title` (required), `owner`, `due`, `description`, `choices`; created `now`.
    private static func task(_ call: LuaCall, id: TaskID, run: RunID?, at now: Date) throws(HostError) -> IncidentTask {
        let incidentID = try incident(call, 1)
        guard case .table(let spec) = try call.value(2) else {
            throw HostError("a table expected, as in inc:task{ title = \"Confirm with the reporter\" }")
        }
        // A misspelt `ownr` or `choice` would make a task nobody is asked for, or one without its choices.
        if let unknown = spec.fields.keys.first(where: { !isNamed($0, among: taskFields) }) {
            throw HostError("unknown field \(misnamed(unknown, among: taskFields)): a task takes "
                + taskFields.joined(separator: ", "))
        }
        func text(_ key: String) throws(HostError) -> String? {
            switch spec[.string(LuaString(key))] {
            case .nil: return nil
            case .string(let value): return value.description
            case let other: throw HostError("\(key) must be a string, got \(other.typeName)")
            }
        }
        guard let title = try text("title"), !title.isEmpty else {
            throw HostError("the task needs a title, as in inc:task{ title = \"Confirm with the reporter\" }")
        }
        var choices: [String] = []
        switch spec["choices"] {
        case .nil: break
        case .table(let list) where list.fields.isEmpty:
            for choice in list.array {
                guard case .string(let text) = choice else { throw HostError("choices must be strings") }
                choices.append(text.description)
            }
        default: throw HostError("choices must be a list of strings")
        }
        return IncidentTask(id: id, incident: incidentID, runID: run, title: title, owner: try text("owner"),
                            description: try text("description") ?? "", choices: choices,
                            dueAt: try dueSeconds(spec["due"]).map(now.addingTimeInterval), createdAt: now)
    }

    /// A task's `due`, in seconds from when it is given: a duration (`"2h"`) or a number of
    /// seconds, above 0. A due of 0 or less gave a task overdue as it was given, and the owner's
    /// first notice of it was "⏰ overdue"; one beyond `DurationText.longest` overflows the store's
    /// milliseconds.
    private static func dueSeconds(_ value: LuaValue) throws(HostError) -> Double? {
        let seconds: Double?
        let shown: String
        switch value {
        case .nil: return nil
        case .string(let text): (seconds, shown) = (DurationText.seconds(text.description), "\"\(text)\"")
        case .integer(let number): (seconds, shown) = (Double(number), "\(number)")
        case .number(let number): (seconds, shown) = (number, "\(number)")
        case let other: (seconds, shown) = (nil, other.typeName)
        }
        guard let seconds, seconds > 0, seconds <= DurationText.longest else {
            throw HostError("due must be \(DurationText.expected) or a number of seconds, above 0: the task falls "
                + "due that long after it is given; got \(shown)")
        }
        return seconds
    }

    /// `seen(indicator [, except])`: the indicator as the index holds it, and the incident to leave
    /// out (the one the message is about).
    private static func sightingQuery(_ call: LuaCall) throws(HostError) -> (String, IncidentID?) {
        let indicator = IncidentIndicators.normalized(try call.string(1).description)
        return (indicator, call.isNoneOrNil(2) ? nil : try incident(call, 2))
    }

    /// `{ id, status, created_at, closed_at }` (seconds, as `find` gives them), or nil.
    private static func sighting(_ sighting: Sighting?) -> LuaValue {
        guard let sighting else { return .nil }
        var fields: [LuaValue: LuaValue] = [
            "id": .string(LuaString(sighting.id.description)), "status": .string(LuaString(sighting.status.rawValue)),
            "created_at": seconds(sighting.createdAt),
        ]
        if let closed = sighting.closedAt { fields["closed_at"] = seconds(closed) }
        return .table(LuaTable(fields: fields))
    }

    /// As `JSONText.seconds` writes them: whole seconds are integers.
    private static func seconds(_ date: Date) -> LuaValue {
        let milliseconds = date.millisecondsSince1970
        return milliseconds % 1000 == 0 ? .integer(milliseconds / 1000) : .number(Double(milliseconds) / 1000)
    }

    /// `find{ type, severity, status, source, owner, text, since, limit }`, `since` back from `now`.
    private static func query(_ call: LuaCall, at now: Date) throws(HostError) -> IncidentQuery {
        var query = IncidentQuery(limit: 20)
        guard !call.isNoneOrNil(1) else { return query }
        guard case .table(let spec) = try call.value(1) else { throw HostError("a table of criteria expected") }
        func strings(_ key: String) throws(HostError) -> [String]? {
            switch spec[.string(LuaString(key))] {
            case .nil: return nil
            case .string(let value): return [value.description]
            case .table(let list) where list.fields.isEmpty:
                return try list.array.map { value throws(HostError) in
                    guard case .string(let text) = value else { throw HostError("\(key) must list strings") }
                    return text.description
                }
            default: throw HostError("\(key) must be a string or a list of strings")
            }
        }
        if let unknown = spec.fields.keys.first(where: { !isNamed($0, among: queryFields) }) {
            throw HostError("unknown criterion \(misnamed(unknown, among: queryFields)): use type, severity, status, "
                + "source, source_ref, owner, text, indicator, since or limit")
        }
        query.type = try strings("type")?.first
        query.source = try strings("source")?.first
        query.sourceRef = try strings("source_ref")?.first
        query.owner = try strings("owner")?.first
        query.text = try strings("text")?.first
        query.indicator = try strings("indicator")?.first.map(IncidentIndicators.normalized)
        if let names = try strings("severity") {
            query.severities = try names.map { name throws(HostError) in
                guard let severity = Incident.Severity(named: name) else {
                    throw HostError("unknown severity \"\(name)\"")
                }
                return severity
            }
        }
        if let names = try strings("status") {
            query.statuses = try names.map { name throws(HostError) in
                guard let status = Incident.Status(named: name) else {
                    throw HostError("unknown status \"\(name)\"")
                }
                return status
            }
        }
        if let since = try strings("since")?.first {
            guard let seconds = DurationText.seconds(since) else {
                throw HostError("since must be \(DurationText.expected), got \"\(since)\"")
            }
            query.createdSince = now.addingTimeInterval(-seconds)
        }
        switch spec["limit"] {
        case .nil: break
        case .integer(let limit) where limit >= 1 && limit <= 1000: query.limit = Int(limit)
        default: throw HostError("limit must be an integer from 1 to 1000")
        }
        return query
    }
}
