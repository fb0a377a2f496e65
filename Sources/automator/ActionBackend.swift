import AutomatorRuntime
import AutomatorServer
import Foundation

/// Where `automator action` acts and reads: through the `automator serve` that holds the data
/// folder, with the server's configuration (its protected networks and accounts, its approvers),
/// integrations, store and journal; or, with no server, on the store (`CaseAccess`) with the
/// configuration `--config` names: acting there on the folder's own SQLite, reading only on the
/// workers' PostgreSQL (`CaseStore.requireWritable`). Either way the answer is the API's JSON, so
/// that one code path prints it.
enum ActionBackend {
    case server(ServerClient)
    /// Its holder is the operator: with no approver named, their `--approve` counts
    /// (`ActionService.run`'s `byOperator`).
    case store(ActionService, approvers: [String]?, CaseStore)

    /// Checks and runs an action (or plans it, with `dryRun`); answers the action.
    func run(_ name: String, parameters: [String: String], ttl: String?, incident: IncidentID?, dryRun: Bool, approve: Bool)
        async throws -> String
    {
        switch self {
        case .server(let client):
            var body = JSONText.Object()
            body["name"] = JSONText.string(name)
            var params = JSONText.Object()
            for (key, value) in parameters { params[key] = JSONText.string(value) }
            body["params"] = params.text
            body["incident"] = incident.map { JSONText.string($0.description) }
            body["ttl"] = ttl.map(JSONText.string)
            body["dry_run"] = dryRun ? "true" : "false"
            body["approve"] = approve ? "true" : "false"
            return try await client.call("POST", "/api/v1/actions", body: body.textWithoutNulls)
        case .store(let service, let approvers, let place):
            try place.requireWritable(dryRun ? "planning \(name)" : "running \(name)")
            return ActionsModule.json(try await service.run(name, parameters: parameters, ttl: ttl, incident: incident,
                                                            by: IncidentBackend.actor, approving: approve,
                                                            approvers: approvers, byOperator: true, dryRun: dryRun))
        }
    }

    /// Undoes one action; answers it.
    func undo(_ id: String) async throws -> String {
        switch self {
        case .server(let client):
            return try await client.call("POST", "/api/v1/actions/\(ServerClient.pathSegment(id))/undo")
        case .store(let service, _, let place):
            try place.requireWritable("undoing \(id)")
            return ActionsModule.json(try await service.undo(id, by: IncidentBackend.actor))
        }
    }

    /// Undoes every done action of an incident, the last one first; answers `{"actions": [...]}`.
    func undoAll(on incident: IncidentID) async throws -> String {
        switch self {
        case .server(let client):
            return try await client.call("POST", "/api/v1/incidents/\(incident)/actions/undo")
        case .store(let service, _, let place):
            try place.requireWritable("undoing the actions of \(incident)")
            return ActionsModule.json(try await service.undoAll(on: incident, by: IncidentBackend.actor))
        }
    }

    /// The actions run, the newest first (of one incident, with `incident`): `{"actions": [...]}`.
    func history(on incident: IncidentID?) async throws -> String {
        switch self {
        case .server(let client):
            return try await client.call("GET", "/api/v1/actions?limit=1000" + (incident.map { "&incident=\($0)" } ?? ""))
        case .store(let service, _, _):
            return ActionsModule.json(try await service.history(on: incident))
        }
    }

    /// One action, with its undo and the question that approved it (`GET /api/v1/actions/{id}`).
    func show(_ id: String) async throws -> String {
        switch self {
        case .server(let client):
            return try await client.call("GET", "/api/v1/actions/\(ServerClient.pathSegment(id))")
        case .store(let service, _, _):
            let (record, undo, question) = try await service.details(id)
            return ActionsModule.json(record, undo: undo, question: question)
        }
    }

    /// What the integrations declare: `{"actions": [...], "off": [...]}` (a server older than the
    /// CLI sends no `off`).
    func catalog() async throws -> String {
        switch self {
        case .server(let client): try await client.call("GET", "/api/v1/actions/catalog")
        case .store(let service, _, _): service.catalogJSON
        }
    }
}
