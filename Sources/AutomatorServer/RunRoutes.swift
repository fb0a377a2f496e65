import AutomatorRuntime
import Foundation
import Hummingbird

/// `/api/v1/runs`: submit, list, show and kill runs, through the run service.
struct RunRoutes: Sendable {
    /// The largest request body taken: a script sent as text, with its arguments.
    static let maximumBody = 1 << 20
    /// The most runs one list returns.
    static let maximumLimit = 1000

    let runs: RunService
    /// The playbooks loaded now, to tell the runs of those no longer loaded (`RunJSON`).
    let playbooks: @Sendable () async -> Set<String>
    let scripts: ScriptFolder
    let roles: PersonalRoles

    func add(to group: RouterGroup<APIRequestContext>) {
        group.post("runs", use: submit)
        group.get("runs", use: list)
        group.get("runs/{id}", use: show)
        group.post("runs/{id}/kill", use: kill)
    }

    /// `POST /api/v1/runs` → 201 `{"id": ..., "status": ...}`. A personal token needs the role
    /// `author` to send `source`: Lua of its own does all a playbook does.
    @Sendable func submit(_ request: Request, context: APIRequestContext) async throws -> Response {
        let body = try await request.collectBody(upTo: Self.maximumBody, tooLarge: "the request body is over the limit "
            + #"of 1 MiB: put a long script in the scripts folder and submit it by name, as {"script": "triage.lua"}"#)
        let submission = try SubmitRequest(body: Array(buffer: body))
        if case .source = submission.script {
            try await roles.require(PersonalRoles.author, to: "running Lua sent with the request (\"source\")",
                                    instead: #"a playbook of the scripts folder runs by name, as {"script": "triage.lua"}"#,
                                    context)
        }
        let (name, source) = switch submission.script {
        case .file(let name): try scripts.load(name)
        case .source(let text): ("api", Data(text.utf8))
        }
        do {
            let run = try await runs.submit(script: name, source: source, arguments: submission.arguments)
            var response = Response.json(#"{"id":\#(JSONText.string(run.id.rawValue)),"status":"\#(run.status.rawValue)"}"#,
                                         status: .created)
            response.headers[.location] = "/api/v1/runs/\(run.id)"
            return response
        } catch {
            throw APIError(error)
        }
    }

    /// `GET /api/v1/runs?status=...&limit=...` → `{"runs": [...]}`, newest first.
    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        let query = request.uri.queryParameters
        if let unknown = query.map({ String($0.key) }).first(where: { $0 != "status" && $0 != "limit" }) {
            throw APIError.badRequest("unknown parameter \(JSONText.string(unknown)): the list takes status and limit, "
                + "as in /api/v1/runs?status=failed&limit=20")
        }
        let status = try query.get("status").map { name throws(APIError) in
            guard let status = RunRecord.Status(rawValue: name) else {
                throw .badRequest("unknown status \(JSONText.string(name)): use one of "
                    + RunRecord.Status.allCases.map(\.rawValue).joined(separator: ", "))
            }
            return status
        }
        let limit = try query.get("limit").map { text throws(APIError) in
            guard let limit = Int(text), (1...Self.maximumLimit).contains(limit) else {
                throw .badRequest("limit must be a whole number from 1 to \(Self.maximumLimit), not "
                    + JSONText.string(text))
            }
            return limit
        }
        do {
            let listed = try await runs.runs(status: status, limit: limit ?? 100)
            return .json(RunJSON.list(listed, loaded: await playbooks()))
        } catch {
            throw APIError.store(error)
        }
    }

    /// `GET /api/v1/runs/{id}` → the run.
    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try Self.id(in: context)
        let run: RunRecord?
        do { run = try await runs.run(id) } catch { throw APIError.store(error) }
        guard let run else { throw APIError(.notFound(id)) }
        let wait: RunWait?
        do { wait = try await RunWait.find(for: run, in: runs.store) } catch { throw APIError.store(error) }
        // Asked of the executor only for a run shown running: a waiting one says what it waits on.
        let call = run.status == .running ? await runs.callInFlight(of: id) : nil
        return .json(RunJSON.object(run, loaded: await playbooks(), waitingOn: wait, inCall: call))
    }

    /// `POST /api/v1/runs/{id}/kill` → the run as it ended.
    @Sendable func kill(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = try Self.id(in: context)
        do {
            return .json(RunJSON.object(try await runs.kill(id), loaded: await playbooks()))
        } catch {
            throw APIError(error)
        }
    }

    private static func id(in context: APIRequestContext) throws(APIError) -> RunID {
        guard let id = context.parameters.get("id") else { throw .badRequest("the path needs a run id") }
        return RunID(id)
    }
}

extension APIError {
    /// The status and message for what the run service refused.
    init(_ error: RunServiceError) {
        switch error {
        case .doesNotCompile, .badArguments:
            self.init(status: .badRequest, message: "\(error)")
        case .notFound(let id):
            self = .notFound("no run \(id): GET /api/v1/runs lists the runs")
        case .alreadyFinished, .notRetryable:
            self.init(status: .conflict, message: "\(error)")
        case .killAsked:
            self.init(status: .serviceUnavailable, message: "\(error)")
        case .store(let error):
            self = .store(error)
        }
    }
}
