import AutomatorRuntime
import Foundation
import Hummingbird

/// `/api/v1/actions`: runs and undoes actions with this server's configuration (its protected
/// networks and accounts, its approvers), integrations and journal, and lists them. `automator
/// action` comes here when a server holds the data folder, so that a command that forgot `--config`
/// cannot act without the protections the server was given, and lists what the server has and did
/// (on PostgreSQL, the folder holds neither). Running and undoing an action take the role
/// `responder` from a personal token, as `!action` does in chat; listing them does not.
struct ActionRoutes: Sendable {
    let actions: ActionService
    /// `responder` for actions, and `approver` for who may approve what they ask for (`"approve": true`).
    let roles: PersonalRoles

    func add(to group: RouterGroup<APIRequestContext>) {
        group.get("actions", use: history)
        group.get("actions/catalog", use: catalog)
        group.get("actions/{id}", use: show)
        group.post("actions", use: run)
        group.post("actions/{id}/undo", use: undo)
        group.post("incidents/{id}/actions/undo", use: undoAll)
    }

    /// `GET /api/v1/actions[?incident=INC-7&limit=100]` → `{"actions": [...]}`, the newest first.
    @Sendable func history(_ request: Request, context: APIRequestContext) async throws -> Response {
        let parameters = request.uri.queryParameters
        try parameters.allowOnly(["incident", "limit"])
        let (incident, limit) = (try parameters.incident(), try parameters.limit())
        do throws(ActionError) {
            let records = try await actions.history(on: incident, limit: limit)
            return .json(ActionsModule.json(records))
        } catch { throw Self.refusal(error) }
    }

    /// `GET /api/v1/actions/catalog` → `{"actions": [...], "off": [...]}`: what the integrations in
    /// use declare, as `actions.list()` gives it to Lua, and what those not set up would.
    @Sendable func catalog(_ request: Request, context: APIRequestContext) async throws -> Response {
        .json(actions.catalogJSON)
    }

    /// `GET /api/v1/actions/{id}` → the action (`ActionsModule.json(_:undo:question:)`); 404 for an
    /// unknown one.
    @Sendable func show(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        do throws(ActionError) {
            let (record, undo, question) = try await actions.details(id)
            return .json(ActionsModule.json(record, undo: undo, question: question))
        } catch { throw Self.refusal(error) }
    }

    /// `POST /api/v1/actions` with `{"name": "checkpoint.block_ip", "params": {"ip": "198.51.100.7"},
    /// "incident": "INC-7", "dry_run": false, "approve": true, "by": "alice"}` → 201 with the action.
    /// With `approve`, the one asking approves it, if they are an approver (with no approver
    /// named, only the shared token's holder may: `UnassignedRole`). 400 for what the
    /// declaration refuses, 403 for what is protected or not approved, 502 when the integration failed.
    @Sendable func run(_ request: Request, context: APIRequestContext) async throws -> Response {
        let example = #"{"name": "checkpoint.block_ip", "params": {"ip": "198.51.100.7"}}"#
        let body = try await request.smallBody(example: example)
        guard let object = (try? JSONSerialization.jsonObject(with: Data(String(buffer: body).utf8))) as? [String: Any],
              let name = object["name"] as? String,
              let parameters = object["params"] == nil ? [:] : object["params"] as? [String: Any]
        else { throw APIError.badRequest("send " + example) }
        // Ignored, {"parms": ...} was refused as "needs ip", and {"dryrun": true} would be sent for real.
        if let unknown = object.keys.sorted().first(where: { !Self.runFields.contains($0) }) {
            throw APIError.badRequest("unknown field \(JSONText.string(unknown)): an action takes "
                + Self.runFields.joined(separator: ", "))
        }
        if let flag = ["dry_run", "approve"].first(where: { object[$0] != nil && !(object[$0] is Bool) }) {
            throw APIError.badRequest("\"\(flag)\" is true or false")
        }
        if object["ttl"] != nil, !(object["ttl"] is String) {
            throw APIError.badRequest(#""ttl" is a duration as text, such as "24h""#)
        }
        var incident: IncidentID?
        if let text = object["incident"], !(text is NSNull) {
            guard let id = (text as? String).flatMap(IncidentID.init) else {
                throw APIError.badRequest(#""incident" is an incident id such as "INC-42""#)
            }
            incident = id
        }
        let actor = try RequestActor.of(request, context, by: try RequestActor.by(in: object))
        try await roles.require(PersonalRoles.responder, to: "running an action", context, on: incident)
        do throws(ActionError) {
            let record = try await actions.run(name, parameters: parameters, ttl: object["ttl"] as? String,
                                               incident: incident, by: actor,
                                               approving: object["approve"] as? Bool == true, approvers: roles.approvers,
                                               byOperator: context.authenticated.person == nil,
                                               dryRun: object["dry_run"] as? Bool == true)
            return .json(ActionsModule.json(record), status: .created)
        } catch { throw Self.refusal(error) }
    }

    /// What `POST /api/v1/actions` takes.
    private static let runFields = ["name", "params", "incident", "ttl", "dry_run", "approve", "by"]

    /// `POST /api/v1/actions/{id}/undo` → the action, undone.
    @Sendable func undo(_ request: Request, context: APIRequestContext) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        let actor = try RequestActor.of(request, context)
        try await roles.require(PersonalRoles.responder, to: "undoing an action", context)
        do throws(ActionError) {
            return .json(ActionsModule.json(try await actions.undo(id, by: actor)))
        } catch { throw Self.refusal(error) }
    }

    /// `POST /api/v1/incidents/{id}/actions/undo` → `{"actions": [...]}`: every done action of the
    /// incident undone, the last one first.
    @Sendable func undoAll(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let text = context.parameters.get("id"), let incident = IncidentID(text) else {
            throw APIError.badRequest("the path needs an incident id such as INC-42")
        }
        let actor = try RequestActor.of(request, context)
        try await roles.require(PersonalRoles.responder, to: "undoing an action", context, on: incident)
        do throws(ActionError) {
            let undone = try await actions.undoAll(on: incident, by: actor)
            return .json(ActionsModule.json(undone))
        } catch { throw Self.refusal(error) }
    }

    private static func refusal(_ error: ActionError) -> APIError {
        let status: HTTPResponse.Status = switch error.kind {
        case .invalid: .badRequest
        case .refused, .notApproved: .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        case .failed: .badGateway
        case .interrupted: .serviceUnavailable
        }
        return APIError(status: status, message: error.description)
    }
}
