import ArgumentParser
import AsyncHTTPClient
import AutomatorRuntime
import AutomatorServer
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Where `automator incident`, `task`, `playbook` and `question` find the incidents of a data
/// folder (`CaseAccess`): the server that holds the folder, through its API; with none, the store,
/// through an incident service of their own. Either way the answer is the API's JSON, so that one
/// code path prints it.
///
/// The service of a command has no SLA timers and resumes no run: that is the server's work. On
/// the folder's own SQLite, a playbook run it starts goes on while the command lives (see
/// `settle`); what is left of it resumes at the next `automator serve`. On the workers'
/// PostgreSQL it only reads (`CaseStore.requireWritable`).
enum IncidentBackend {
    case server(ServerClient)
    case store(IncidentService, scripts: String, CaseStore, Integrations)

    /// Runs `body` on the folder's backend, then closes it. A failure prints `error: ...` and
    /// exits 1.
    static func perform<Answer>(_ options: IncidentOptions,
                                _ body: (IncidentBackend) async throws(CommandFailure) -> Answer) async throws -> Answer
    {
        do {
            let backend = try await open(options)
            let result: Result<Answer, CommandFailure>
            do { result = .success(try await body(backend)) } catch { result = .failure(error) }
            if case .store(let service, _, let place, let integrations) = backend {
                await service.shutdown()
                integrations.shutdown()
                withExtendedLifetime(place) {}
            }
            return try result.get()
        } catch {
            CommandLogging.report(error)
            throw ExitCode.failure
        }
    }

    private static func open(_ options: IncidentOptions) async throws(CommandFailure) -> IncidentBackend {
        switch try await CaseAccess.open(options.place) {
        case .server(let client):
            return .server(client)
        case .store(let place):
            // The integrations' declarations with none of their settings: a playbook's actions
            // are checked (a misspelt name fails), and none is sent. Nothing to log: none is used.
            let integrations = await Integrations(folder: options.scripts + "/integrations", settings: [:],
                                                  environment: [:],
                                                  logger: Logger(label: "automator") { _ in SwiftLogNoOpLogHandler() })
            let service = try service(on: place, scripts: options.scripts, integrations: integrations)
            return .store(service, scripts: options.scripts, place, integrations)
        }
    }

    /// A command's own incident service on the store, with `integrations`' actions, which it never
    /// sends (`offline`).
    static func service(on place: CaseStore, scripts: String, integrations: Integrations)
        throws(CommandFailure) -> IncidentService
    {
        do {
            let store = place.store
            let ledger = IncidentLedger(store: store)
            let logger = CommandLogging.logger(verbose: false)
            let actions = ActionService(integrations: integrations, store: store, rules: AccessRules(), logger: logger)
            let modules = StandardModules.all(logger: logger)
                + [IncidentsModule(ledger: ledger), EvidenceModule(service: EvidenceService(store: store,
                                                                                            dataFolder: place.folder)),
                   ActionsModule(service: actions, offline: Self.offline)]
            let runs = try RunService(store: store, modules: modules, modulePaths: [scripts], executors: 1)
            return try IncidentService(ledger: ledger, runs: runs, scripts: scripts, modules: modules)
        } catch {
            throw CommandFailure("\(error)")
        }
    }

    /// Why a playbook a command starts sends no action: the server holds the integrations'
    /// settings and the protections, and a command acts with neither.
    static let offline = "no automator serve holds this data folder, and only a server sends actions "
        + "(start automator serve before opening incidents that should act)"

    /// The person at the terminal: `$SUDO_USER` (sudo sets `USER` to root, so the journal and the
    /// evidence's custody named every analyst of a worker `cli:root`), else `$USER`, else `$LOGNAME`,
    /// else the account the process runs as (cron, `env -i`, a container's shell set neither): the
    /// journal names them `cli:alice`, and not plain `cli` in one shell and `cli:alice` in another.
    static let user: String? = {
        let environment = ProcessInfo.processInfo.environment
        if let name = ["SUDO_USER", "USER", "LOGNAME"].lazy.compactMap({ environment[$0] }).first(where: { !$0.isEmpty }) {
            return name
        }
        return getpwuid(getuid()).map { String(cString: $0.pointee.pw_name) }
    }()
    static var actor: String { user.map { "cli:\($0)" } ?? "cli" }

    // MARK: Incidents

    /// `draft` is an incident's JSON, as `POST /api/v1/incidents` takes it.
    func create(_ draft: String) async throws(CommandFailure) -> String {
        switch self {
        case .server(let client):
            return try await client.call("POST", "/api/v1/incidents", body: draft)
        case .store(let service, let scripts, let place, _):
            try place.requireWritable("opening an incident (its playbook's run)")
            Self.warnIfMissing(scripts)
            let created: IncidentService.Ingested
            do { created = try await service.create(try IncidentDraft(json: Array(draft.utf8)), by: Self.actor) } catch {
                throw CommandFailure("\(error)")
            }
            if let run = created.run { _ = await Self.settle(run, of: created.incident.id, in: service.runs) }
            return IncidentJSON.ingested(created)
        }
    }

    /// Imports the closed incidents of `lines`, one JSON object a line (`IncidentImport`), saying
    /// where it is on a terminal. A server is sent the file in parts (`importPart`), each its own
    /// request, so that a long file neither meets the request's size limit nor waits on one
    /// answer for minutes.
    func importIncidents(_ lines: FileLines, file: String, dryRun: Bool) async throws(CommandFailure)
        -> IncidentImport.Summary
    {
        let progress = ProgressLine("incident import \(file)")
        switch self {
        case .server(let client):
            var summary = IncidentImport.Summary(dryRun: dryRun)
            var part: [UInt8] = []
            var count = 0
            func send() async throws(CommandFailure) {
                let parameters = [("file", file), ("first_line", "\(summary.lines + 1)"), ("dry_run", dryRun ? "true" : nil)]
                let answer = try await client.call("POST", "/api/v1/incidents/import?" + Self.queryString(parameters),
                                                   bytes: part)
                guard let done = IncidentImport.Summary(json: answer) else {
                    throw CommandFailure("the server did not answer the import with its summary: \(answer.prefix(200))")
                }
                summary.add(done)
                (part, count) = ([], 0)
                progress.tick { summary.headline }
            }
            while let line = lines.next() {
                part += line
                part.append(UInt8(ascii: "\n"))
                count += 1
                if count == Self.importPart.lines || part.count >= Self.importPart.bytes { try await send() }
            }
            if count > 0 { try await send() }
            return summary
        case .store(let service, _, let place, _):
            if !dryRun { try place.requireWritable("importing incidents") }
            let importer = await service.importer(file: file, by: Self.actor, dryRun: dryRun)
            do throws(StoreError) {
                while let line = lines.next() {
                    try await importer.add(line)
                    progress.tick { importer.progress.headline }
                }
                return try await importer.finish()
            } catch {
                throw CommandFailure("\(error): the incidents written before it are kept; run the import again once the "
                    + "store is back, and those already there are left")
            }
        }
    }

    /// How much of a file goes to a server in one request: a few seconds' work.
    private static let importPart = (lines: 2000, bytes: 4 << 20)

    func incidents(_ query: IncidentQuery) async throws(CommandFailure) -> String {
        switch self {
        case .server(let client):
            let parameters: [(String, String?)] = [
                ("status", query.statuses?.map(\.rawValue).joined(separator: ",")), ("type", query.type),
                ("severity", query.severities?.map(\.rawValue).joined(separator: ",")),
                ("sla", query.slaStates?.map(\.rawValue).joined(separator: ",")), ("owner", query.owner),
                ("text", query.text), ("indicator", query.indicator), ("limit", "\(query.limit)"),
            ]
            return try await client.call("GET", "/api/v1/incidents?" + Self.queryString(parameters))
        case .store(let service, _, _, _):
            let found: [Incident]
            do { found = try await service.store.listIncidents(query) } catch { throw CommandFailure("\(error)") }
            return IncidentJSON.list(found)
        }
    }

    /// The case: the incident with its tasks, their progress, its playbook's run, its evidence
    /// and its actions (`IncidentService.caseFile`); and the server that sent it, as a note names
    /// it (`the server at URL (automator 0.1.0)`), nil from the store.
    func incident(_ id: IncidentID) async throws(CommandFailure) -> (json: String, server: String?) {
        switch self {
        case .server(let client):
            let answer = try await client.answer("GET", "/api/v1/incidents/\(id)")
            return (answer.body, "the server at \(client.url) (\(answer.server))")
        case .store(let service, _, _, _):
            do { return (try await service.caseFile(id), nil) } catch { throw CommandFailure("\(error)") }
        }
    }

    /// A page of the journal: `{"journal": [...], "more": false}`, the entries after sequence
    /// `after`, oldest first (see `IncidentService.journal(of:after:limit:)`).
    func journal(of id: IncidentID, after: Int64) async throws(CommandFailure) -> String {
        switch self {
        case .server(let client):
            return try await client.call("GET", "/api/v1/incidents/\(id)/journal?after=\(after)")
        case .store(let service, _, _, _):
            do {
                let (entries, more) = try await service.journal(of: id, after: after,
                                                                limit: IncidentService.journalPageEntries)
                return IncidentJSON.page(entries, more: more)
            } catch {
                throw CommandFailure("\(error)")
            }
        }
    }

    /// `{"journal": [...]}`: the whole journal, oldest first, read a page at a time, since a
    /// journal of large alerts is more than one answer from a server may be.
    func journal(of id: IncidentID) async throws(CommandFailure) -> String {
        var entries: [Any] = []
        var after: Int64 = 0
        while true {
            let json = try await journal(of: id, after: after)
            guard let page = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any],
                  let found = page["journal"] as? [[String: Any]]
            else { throw CommandFailure("the journal of \(id) could not be read: \(json.prefix(200))") }
            entries += found as [Any]
            guard page["more"] as? Bool == true, let last = (found.last?["sequence"] as? NSNumber)?.int64Value else { break }
            after = last
        }
        let whole = try? JSONSerialization.data(withJSONObject: ["journal": entries], options: [.withoutEscapingSlashes])
        return String(decoding: whole ?? Data(), as: UTF8.self)
    }

    /// Changes what a person may change (`change` is the JSON `PATCH /api/v1/incidents/ID`
    /// takes); answers the incident.
    func update(_ id: IncidentID, _ change: JSONText.Object) async throws(CommandFailure) -> String {
        switch self {
        case .server(let client):
            var body = change
            // The journal names them `api:alice` then, as `cli:alice` on the folder.
            if let user = Self.user { body["by"] = JSONText.string(user) }
            return try await client.call("PATCH", "/api/v1/incidents/\(id)", body: body.text)
        case .store(let service, _, let place, _):
            try place.requireWritable("changing \(id)")
            do {
                let asked = try IncidentChange.asked(id, json: Array(change.text.utf8)).change
                let changed = try await service.update(asked, by: Self.actor)
                // The close hook's run started here: let it do its work while the command lives.
                if asked.status == .closed, let hook = try await service.closeHook(of: id), !hook.status.isFinished {
                    _ = await Self.settle(hook, of: id, in: service.runs)
                }
                return IncidentJSON.forAPI(changed)
            } catch {
                throw CommandFailure("\(error)")
            }
        }
    }

    /// Starts the incident's failed playbook run again; answers the run.
    func retry(_ id: IncidentID) async throws(CommandFailure) -> String {
        switch self {
        case .server(let client):
            return try await client.call("POST", "/api/v1/incidents/\(id)/retry")
        case .store(let service, let scripts, let place, _):
            try place.requireWritable("retrying \(id)'s run")
            Self.warnIfMissing(scripts)
            do {
                let run = try await service.retry(id, by: Self.actor)
                return RunJSON.object(await Self.settle(run, of: id, in: service.runs), loaded: nil)
            } catch {
                throw CommandFailure("\(error)")
            }
        }
    }

    // MARK: Tasks

    func tasks(_ query: TaskQuery) async throws(CommandFailure) -> String {
        switch self {
        case .server(let client):
            let parameters: [(String, String?)] = [
                ("status", query.status?.rawValue), ("overdue", query.dueBefore == nil ? nil : "true"),
                ("owner", query.owner), ("incident", query.incident?.description), ("limit", "\(query.limit)"),
            ]
            return try await client.call("GET", "/api/v1/tasks?" + Self.queryString(parameters))
        case .store(let service, _, _, _):
            let found: [IncidentTask]
            do { found = try await service.tasks(query) } catch { throw CommandFailure("\(error)") }
            return IncidentJSON.list(found)
        }
    }

    /// Completes a task as `name` (nil: anonymous); answers the task.
    func complete(_ id: TaskID, answer: String, by name: String?) async throws(CommandFailure) -> String {
        switch self {
        case .server(let client):
            var body = JSONText.Object()
            body["answer"] = JSONText.string(answer)
            if let name { body["by"] = JSONText.string(name) }
            return try await client.call("POST", "/api/v1/tasks/\(id)/complete", body: body.text)
        case .store(let service, _, let place, _):
            try place.requireWritable("completing \(id)")
            let task: IncidentTask
            do { task = try await service.ledger.complete(id, answer: answer, by: name.map { "cli:\($0)" } ?? "cli") } catch {
                throw CommandFailure("\(error)")
            }
            await Self.noteWaitingRun(of: task, runs: service.runs)
            return IncidentJSON.forAPI(task)
        }
    }

    /// Gives an open task to `owner`, as `name` (nil: anonymous); answers the task.
    func assign(_ id: TaskID, to owner: String, by name: String?) async throws(CommandFailure) -> String {
        switch self {
        case .server(let client):
            var body = JSONText.Object()
            body["owner"] = JSONText.string(owner)
            if let name { body["by"] = JSONText.string(name) }
            return try await client.call("PATCH", "/api/v1/tasks/\(id)", body: body.text)
        case .store(let service, _, let place, _):
            try place.requireWritable("giving \(id) to \(owner)")
            do {
                return IncidentJSON.forAPI(try await service.ledger.assign(id, to: owner, by: name.map { "cli:\($0)" } ?? "cli"))
            } catch {
                throw CommandFailure("\(error)")
            }
        }
    }

    // MARK: Questions

    /// `{"questions": [...]}`: those nobody answered, oldest first, all or `incident`'s.
    func questions(of incident: IncidentID?) async throws(CommandFailure) -> String {
        switch self {
        case .server(let client):
            return try await client.call("GET", "/api/v1/questions" + (incident.map { "?incident=\($0)" } ?? ""))
        case .store(let service, _, _, _):
            do { return QuestionJSON.list(try await Self.chatStore(of: service).openQuestions(of: incident)) } catch {
                throw CommandFailure("\(error)")
            }
        }
    }

    /// One question, answered or not (`QuestionJSON.detail`).
    func question(_ id: String) async throws(CommandFailure) -> String {
        switch self {
        case .server(let client):
            return try await client.call("GET", "/api/v1/questions/\(ServerClient.pathSegment(id))")
        case .store(let service, _, _, _):
            let found: (question: ChatQuestionRecord, incident: IncidentID?)?
            do { found = try await Self.chatStore(of: service).questionOnIncident(id) } catch {
                throw CommandFailure("\(error)")
            }
            guard let found else { throw CommandFailure(QuestionJSON.unknown(id)) }
            return QuestionJSON.detail(found.question, incident: found.incident)
        }
    }

    /// Answers a question as `name` (nil: anonymous): `{"id", "choice"}`. On a folder no server
    /// holds, the run waiting on it goes on at the next `automator serve`.
    func answer(_ id: String, choice: String, by name: String?) async throws(CommandFailure) -> String {
        var answered = JSONText.Object()
        answered["id"] = JSONText.string(id)
        switch self {
        case .server(let client):
            var body = JSONText.Object()
            body["choice"] = JSONText.string(choice)
            if let name { body["by"] = JSONText.string(name) }
            return try await client.call("POST", "/api/v1/questions/\(id)/answer", body: body.text)
        case .store(let service, let scripts, let place, _):
            try place.requireWritable("answering \(id)")
            do {
                let store = try Self.chatStore(of: service)
                let chat = ChatService(store: store, adapters: [], scripts: scripts)
                answered["choice"] = JSONText.string(try await chat.answer(id, choice: choice, by: name.map { "cli:\($0)" } ?? "cli"))
                if let run = try await store.question(id)?.runID { CommandLogging.note("the run \(run) waiting on \(id) goes on at the next automator serve") }
            } catch {
                throw CommandFailure("\(error)")
            }
            return answered.text
        }
    }

    private static func chatStore(of service: IncidentService) throws(CommandFailure) -> any ChatStore {
        guard let store = service.store as? any ChatStore else { throw CommandFailure("this store keeps no questions") }
        return store
    }

    // MARK: Playbooks

    /// `{"playbooks": [...], "problems": [...]}`: in the order they are tried, then the files
    /// that could not be read.
    func playbooks() async throws(CommandFailure) -> String {
        switch self {
        case .server(let client):
            return try await client.call("GET", "/api/v1/playbooks")
        case .store(let service, let scripts, _, _):
            Self.warnIfMissing(scripts)
            let (playbooks, problems) = await service.playbooks()
            do { return IncidentJSON.playbooks(playbooks, problems: problems, unloaded: try await service.unloadedPlaybooks()) } catch {
                throw CommandFailure("\(error)")
            }
        }
    }

    /// The playbooks of `scripts` alone, for a data folder that is not there: no server holds it,
    /// and no run of it waits (`"unloaded"` is empty).
    static func playbooks(in scripts: String) async throws(CommandFailure) -> String {
        warnIfMissing(scripts)
        do {
            let (playbooks, problems) = try await ScriptChecker(scripts: scripts).playbooks()
            return IncidentJSON.playbooks(playbooks, problems: problems, unloaded: [])
        } catch {
            throw CommandFailure("\(error)")
        }
    }

    /// Starts the playbook `name` on an incident, whatever its match; answers the run.
    func runPlaybook(_ name: String, on id: IncidentID) async throws(CommandFailure) -> String {
        switch self {
        case .server(let client):
            var body = JSONText.Object()
            body["name"] = JSONText.string(name)
            return try await client.call("POST", "/api/v1/incidents/\(id)/playbook", body: body.text)
        case .store(let service, let scripts, let place, _):
            try place.requireWritable("starting a playbook on \(id)")
            Self.warnIfMissing(scripts)
            do {
                let run = try await service.runPlaybook(name, on: id, by: Self.actor)
                return RunJSON.object(await Self.settle(run, of: id, in: service.runs), loaded: nil)
            } catch {
                throw CommandFailure("\(error)")
            }
        }
    }

    // MARK: Helpers

    /// Lets a run started here go on while it works, so that what it does first (its notes, the
    /// task it waits on) is done when the command ends: returns the run once it has ended, or
    /// has recorded no host call for `quiet` (it waits on a person, a timer, a slow lookup), or
    /// after `patience`. Stopping it then is safe: its host calls in flight are recorded first.
    /// A run that failed already is noted, with what to do: "created" or "running" alone would
    /// read as handled while the playbook (or the close hook) failed at its first step.
    private static func settle(_ run: RunRecord, of incident: IncidentID, in runs: RunService) async -> RunRecord {
        let quiet = Duration.milliseconds(400)
        let patience = Duration.seconds(10)
        let deadline = ContinuousClock.now + patience
        var calls = -1
        var latest = run
        while ContinuousClock.now < deadline {
            try? await Task.sleep(for: quiet)
            guard let stored = try? await runs.run(run.id) else { break }
            latest = stored
            guard !stored.status.isFinished, let count = try? await runs.store.hostCalls(of: run.id).count, count != calls
            else { break }
            calls = count
        }
        if latest.status == .failed || latest.status == .diverged {
            let hook = latest.entry == RunEntry.closeHook.stored
            let advice = hook ? "fix \(latest.script); \(incident) stays closed, and automator runs show \(latest.id) "
                + "has the rest" : "fix the playbook, then automator incident retry \(incident)"
            CommandLogging.note("the \(hook ? "close hook's" : "playbook") run \(latest.id) \(latest.status.rawValue): "
                + "\(latest.error ?? "no reason given"); \(advice)")
        }
        return latest
    }

    /// `name=value&...` for the parameters that have a value.
    private static func queryString(_ parameters: [(String, String?)]) -> String {
        parameters.compactMap { name, value in value.map { name + "=" + ServerClient.pathSegment($0) } }
            .joined(separator: "&")
    }

    /// Playbooks come from the scripts folder only here: say so when it is not there.
    private static func warnIfMissing(_ scripts: String) {
        var isFolder: ObjCBool = false
        if !FileManager.default.fileExists(atPath: scripts, isDirectory: &isFolder) || !isFolder.boolValue {
            CommandLogging.note("there is no scripts folder \(scripts): no playbook is found (pass --scripts with the folder "
                + "automator serve uses)")
        }
    }

    /// Says when the run waiting on `task`, just completed on a folder no server holds, is not
    /// executing here either: it goes on only when a server resumes it. Also `automator chat`'s.
    static func noteWaitingRun(of task: IncidentTask, runs: RunService) async {
        guard let runID = task.runID, !runs.isLive(runID), let run = try? await runs.run(runID), !run.status.isFinished
        else { return }
        CommandLogging.note("the playbook run \(runID) waiting on \(task.id) goes on at the next automator serve")
    }
}
