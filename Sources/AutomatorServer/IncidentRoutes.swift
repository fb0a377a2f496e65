import AutomatorRuntime
import Foundation
import Hummingbird

/// `/api/v1/incidents`, `/api/v1/ingest/{source}`, `/api/v1/tasks` and `/api/v1/playbooks`: the
/// incident service over HTTP.
struct IncidentRoutes: Sendable {
    /// The largest incident or alert taken: room for an e-mail with its headers, not for a
    /// mailbox. Bigger evidence goes to the evidence store (issue 7), not into an incident.
    static let maximumBody = 2 << 20

    let service: IncidentService

    func add(to group: RouterGroup<APIRequestContext>) {
        group.post("incidents", use: create)
        group.post("incidents/import", use: importIncidents)
        group.get("incidents", use: list)
        group.get("incidents/{id}", use: show)
        group.patch("incidents/{id}", use: update)
        group.get("incidents/{id}/journal", use: journal)
        group.post("incidents/{id}/journal", use: addToJournal)
        group.post("incidents/{id}/retry", use: retry)
        group.post("incidents/{id}/playbook", use: runPlaybook)
        group.post("ingest/{source}", use: ingest)
        group.get("tasks", use: tasks)
        group.post("tasks/{id}/complete", use: complete)
        group.patch("tasks/{id}", use: assign)
        group.get("playbooks", use: playbooks)
    }

    /// `POST /api/v1/incidents` → 201 with the incident (200 when it was linked to an open one).
    @Sendable func create(_ request: Request, context: APIRequestContext) async throws -> Response {
        let body = try await Self.body(of: request, what: "incident")
        let actor = try RequestActor.of(request, context)
        return try await Self.answer { () async throws(IncidentError) in
            try await service.create(try IncidentDraft(json: body), by: actor)
        }
    }

    /// The largest part of an import taken at once: `automator incident import` sends a long
    /// file in parts well under it.
    static let maximumImport = 64 << 20

    /// `POST /api/v1/incidents/import?file=NAME&first_line=N&dry_run=true` with closed incidents
    /// from another tool, one JSON object a line (`IncidentImport`) → 200 with what it did:
    /// `{"dry_run", "lines", "new", "already", "refused", "refusals": [{"line", "error"}]}`. `file`
    /// names the file in the journal's `imported` entries; `first_line` numbers the body's first
    /// line (a long file is sent in parts); a refused line is listed and the rest goes on.
    @Sendable func importIncidents(_ request: Request, context: APIRequestContext) async throws -> Response {
        let parameters = request.uri.queryParameters
        try parameters.allowOnly(["file", "first_line", "dry_run"])
        let firstLine = parameters.get("first_line").map { Int($0) } ?? 1
        guard let firstLine, firstLine >= 1 else { throw APIError.badRequest("first_line must be a line number: 1 or more") }
        let dryRun = try parameters.dryRun()
        let actor = try RequestActor.of(request, context)
        let body = try await request.collectBody(upTo: Self.maximumImport, tooLarge: "the import is over the limit of "
            + "\(Self.maximumImport >> 20) MiB a request: send the file in parts, each with first_line (automator "
            + "incident import does)")
        let importer = await service.importer(file: parameters.get("file") ?? "the API", by: actor,
                                               dryRun: dryRun, firstLine: firstLine)
        do throws(StoreError) {
            let lines = body.readableBytesView.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
            for line in lines.last?.isEmpty == true ? lines.dropLast() : lines[...] { try await importer.add(line) }
            return .json(try await importer.finish().json)
        } catch {
            throw APIError(status: .serviceUnavailable, message: "\(error): the incidents written before it are kept; "
                + "import the file again once the store is back, and those already there are left")
        }
    }

    /// `POST /api/v1/ingest/{source}`: any alert JSON, turned into an incident by
    /// `mappers/SOURCE.lua`.
    @Sendable func ingest(_ request: Request, context: APIRequestContext) async throws -> Response {
        let source = context.parameters.get("source") ?? ""
        let body = try await Self.body(of: request, what: "alert")
        let actor = try RequestActor.of(request, context)
        return try await Self.answer { () async throws(IncidentError) in
            try await service.ingest(source: source, alert: body, by: actor)
        }
    }

    /// `GET /api/v1/incidents?status=&type=&severity=&sla=&owner=&text=&indicator=&limit=` →
    /// `{"incidents": [...]}`; `sla` takes SLA states (`on_track,at_risk,breached,met`) as they are now.
    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        let parameters = request.uri.queryParameters
        try parameters.allowOnly(["status", "type", "severity", "sla", "owner", "text", "indicator", "limit"])
        var query = IncidentQuery(type: parameters.get("type"), owner: parameters.get("owner"),
                                  text: parameters.get("text"),
                                  indicator: parameters.get("indicator").map(IncidentIndicators.normalized),
                                  limit: try parameters.limit())
        query.statuses = try Self.list(parameters.get("status"), of: Incident.Status.self, "status")
        query.severities = try Self.list(parameters.get("severity"), of: Incident.Severity.self, "severity")
        query.slaStates = try Self.list(parameters.get("sla"), of: SLAState.self, "sla")
        let found: [Incident]
        do throws(StoreError) { found = try await service.store.listIncidents(query) } catch { throw APIError.store(error) }
        return .json(IncidentJSON.list(found))
    }

    /// `GET /api/v1/incidents/{id}` → the case: the incident with its tasks, progress, playbook
    /// run, evidence and actions (`IncidentService.caseFile`).
    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try Self.incident(in: context)
        do { return .json(try await service.caseFile(id)) } catch { throw APIError(error) }
    }

    /// `PATCH /api/v1/incidents/{id}` with what a person changes (`IncidentChange.personFields`):
    /// `{"owner": "alice"}`, `{"status": "closed", "reason": "false positive", "by": "bob"}` → the
    /// incident as it is now.
    @Sendable func update(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try Self.incident(in: context)
        let body = try await Self.body(of: request, what: "change")
        let asked: (change: IncidentChange, by: String?)
        do { asked = try IncidentChange.asked(id, json: body) } catch { throw APIError(error) }
        let actor = try RequestActor.of(request, context, by: asked.by)
        do {
            return .json(IncidentJSON.forAPI(try await service.update(asked.change, by: actor)))
        } catch {
            throw APIError(error)
        }
    }

    /// `GET /api/v1/incidents/{id}/journal?after=SEQUENCE&limit=N` → `{"journal": [...], "more": true}`:
    /// the entries after that sequence (default 0), oldest first, at most `limit` (default and at
    /// most 1000) and about 4 MiB of text. With `more`, ask again after the last entry's sequence.
    @Sendable func journal(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try Self.incident(in: context)
        let parameters = request.uri.queryParameters
        try parameters.allowOnly(["after", "limit"])
        let after = parameters.get("after").map { Int64($0) } ?? 0
        guard let after, after >= 0 else { throw APIError.badRequest("after must be an entry's sequence: 0 or more") }
        let limit = parameters.get("limit") == nil ? IncidentService.journalPageEntries : try parameters.limit()
        do throws(IncidentError) {
            let (entries, more) = try await service.journal(of: id, after: after, limit: limit)
            return .json(IncidentJSON.page(entries, more: more))
        } catch {
            throw APIError(error)
        }
    }

    /// `POST /api/v1/incidents/{id}/journal` with `{"kind": "note", "text": "...", "by": "alice"}`
    /// → 201 with the entry, without its sequence (`GET` shows it). What people add by hand: a note, or a `command` of an investigation
    /// (`automator repl --incident` against this server); the rest of the journal is the work of
    /// the service.
    @Sendable func addToJournal(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try Self.incident(in: context)
        let body = try await Self.body(of: request, what: "entry")
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let text = object["text"] as? String, !text.isEmpty
        else { throw APIError.badRequest(#"send {"kind": "note", "text": "...", "by": "alice"}"#) }
        if let unknown = object.keys.sorted().first(where: { !["kind", "text", "by"].contains($0) }) {
            throw APIError.badRequest("unknown field \(JSONText.string(unknown)): an entry takes kind, text and by")
        }
        let kinds: [JournalEntry.Kind] = [.note, .command]
        guard let kind = JournalEntry.Kind(rawValue: object["kind"] as? String ?? "note"), kinds.contains(kind) else {
            throw APIError.badRequest("kind must be note or command")
        }
        if kind == .note, let refusal = JournalEntry.refusal(ofNote: text) { throw APIError.badRequest(refusal) }
        let actor = try RequestActor.of(request, context, by: try RequestActor.by(in: object))
        let entry = JournalEntry(incident: id, actor: actor, kind: kind, text: text)
        do {
            _ = try await service.load(id)
            try await service.store.write(.appendJournal([entry]))
            return .json(IncidentJSON.forAPI(entry), status: .created)
        } catch let error as IncidentError {
            throw APIError(error)
        } catch let error as StoreError {
            throw APIError.store(error)
        }
    }

    /// `POST /api/v1/incidents/{id}/retry`: the failed playbook run again, from its record.
    @Sendable func retry(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try Self.incident(in: context)
        let actor = try RequestActor.of(request, context)
        do {
            let run = try await service.retry(id, by: actor)
            return .json(RunJSON.object(run, loaded: await service.loadedPlaybooks()))
        } catch {
            throw APIError(error)
        }
    }

    /// `POST /api/v1/incidents/{id}/playbook` with `{"name": "..."}`: starts that playbook on it.
    @Sendable func runPlaybook(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try Self.incident(in: context)
        let body = try await Self.body(of: request, what: "request")
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let name = object["name"] as? String
        else { throw APIError.badRequest(#"send {"name": "PLAYBOOK NAME"}: `GET /api/v1/playbooks` lists them"#) }
        let actor = try RequestActor.of(request, context)
        do {
            let run = try await service.runPlaybook(name, on: id, by: actor)
            return .json(RunJSON.object(run, loaded: await service.loadedPlaybooks()), status: .created)
        } catch {
            throw APIError(error)
        }
    }

    /// `GET /api/v1/tasks?owner=&status=&overdue=true&incident=` → `{"tasks": [...]}`.
    @Sendable func tasks(_ request: Request, context: APIRequestContext) async throws -> Response {
        let parameters = request.uri.queryParameters
        try parameters.allowOnly(["owner", "status", "overdue", "incident", "limit"])
        var query = TaskQuery(owner: parameters.get("owner"), limit: try parameters.limit())
        if let status = parameters.get("status") {
            guard let known = IncidentTask.Status(rawValue: status) else {
                throw APIError.badRequest("unknown status \(JSONText.string(status)): use open or done")
            }
            query.status = known
        }
        if parameters.get("overdue") == "true" { query.dueBefore = Date() }
        query.incident = try parameters.incident()
        let found: [IncidentTask]
        do throws(IncidentError) { found = try await service.tasks(query) } catch { throw APIError(error) }
        return .json(IncidentJSON.list(found))
    }

    /// `POST /api/v1/tasks/{id}/complete` with `{"answer": "...", "by": "alice"}` → the task.
    @Sendable func complete(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let text = context.parameters.get("id"), let id = TaskID(text) else {
            throw APIError.badRequest("the path needs a task id such as T-7")
        }
        let body = try await Self.body(of: request, what: "request")
        let object: [String: Any]
        if body.allSatisfy({ [0x20, 0x0A, 0x0D, 0x09].contains($0) }) {
            object = [:]
        } else {
            guard let parsed = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
                throw APIError.badRequest(#"send a JSON object: {"answer": "yes", "by": "alice"}"#)
            }
            object = parsed
        }
        if let unknown = object.keys.sorted().first(where: { $0 != "answer" && $0 != "by" }) {
            throw APIError.badRequest("unknown field \(JSONText.string(unknown)): a completion takes answer and by")
        }
        guard object["answer"] == nil || object["answer"] is String else {
            throw APIError.badRequest(#""answer" is a string"#)
        }
        let actor = try RequestActor.of(request, context, by: try RequestActor.by(in: object))
        do {
            let task = try await service.ledger.complete(id, answer: object["answer"] as? String ?? "", by: actor)
            return .json(IncidentJSON.forAPI(task))
        } catch {
            throw APIError(error)
        }
    }

    /// `PATCH /api/v1/tasks/{id}` with `{"owner": "bob", "by": "alice"}` → the task, given to its new owner.
    @Sendable func assign(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let text = context.parameters.get("id"), let id = TaskID(text) else {
            throw APIError.badRequest("the path needs a task id such as T-7")
        }
        let body = try await Self.body(of: request, what: "request")
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw APIError.badRequest(#"send a JSON object: {"owner": "bob", "by": "alice"}"#)
        }
        if let unknown = object.keys.sorted().first(where: { $0 != "owner" && $0 != "by" }) {
            throw APIError.badRequest("unknown field \(JSONText.string(unknown)): a task's change takes owner and by")
        }
        guard let owner = object["owner"] as? String else {
            throw APIError.badRequest(#""owner" is required, a string: the person or team the task is given to"#)
        }
        let actor = try RequestActor.of(request, context, by: try RequestActor.by(in: object))
        do {
            return .json(IncidentJSON.forAPI(try await service.ledger.assign(id, to: owner, by: actor)))
        } catch {
            throw APIError(error)
        }
    }

    /// `GET /api/v1/playbooks` → the playbooks in the order they are tried, the mistakes of the
    /// files left out, each with its line (`{"file", "line", "error"}`), and the playbooks no
    /// longer loaded whose runs go on.
    @Sendable func playbooks(_ request: Request, context: APIRequestContext) async throws -> Response {
        let (playbooks, problems) = await service.playbooks()
        do throws(StoreError) {
            return .json(IncidentJSON.playbooks(playbooks, problems: problems, unloaded: try await service.unloadedPlaybooks()))
        } catch {
            throw APIError.store(error)
        }
    }

    // MARK: Helpers

    private static func answer(_ work: () async throws(IncidentError) -> IncidentService.Ingested) async throws -> Response {
        do {
            let ingested = try await work()
            var response = Response.json(IncidentJSON.ingested(ingested), status: ingested.deduplicated ? .ok : .created)
            response.headers[.location] = "/api/v1/incidents/\(ingested.incident.id)"
            return response
        } catch {
            throw APIError(error)
        }
    }

    private static func body(of request: Request, what: String) async throws -> [UInt8] {
        Array(buffer: try await request.collectBody(upTo: maximumBody, tooLarge: "the \(what) is over the limit of "
            + "\(maximumBody >> 20) MiB: keep large payloads (attachments, memory dumps) out of the incident and send "
            + "a reference to them"))
    }

    /// The incident the path names (`{id}`).
    private static func incident(in context: APIRequestContext) throws(APIError) -> IncidentID {
        guard let text = context.parameters.get("id"), let id = IncidentID(text) else {
            throw .badRequest("the path needs an incident id such as INC-42")
        }
        return id
    }

    /// `a,b` as values of `Value`, naming the unknown one with the known ones.
    private static func list<Value: CaseInsensitiveName>(_ text: String?, of type: Value.Type, _ name: String)
        throws(APIError) -> [Value]?
    {
        try text?.split(separator: ",").map { item throws(APIError) in
            guard let value = Value(named: item) else {
                throw .badRequest("unknown \(name) \(JSONText.string(String(item))): use \(Value.names)")
            }
            return value
        }
    }
}

extension APIError {
    /// The status and message for what the incident service refused.
    init(_ error: IncidentError) {
        let status: HTTPResponse.Status = switch error.kind {
        case .invalid: .badRequest
        case .notFound: .notFound
        case .conflict: .conflict
        case .unavailable: .serviceUnavailable
        }
        self.init(status: status, message: error.description)
    }
}
