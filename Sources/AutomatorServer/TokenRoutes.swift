import AutomatorRuntime
import Foundation
import Hummingbird

/// `/api/v1/tokens`: the personal API tokens, managed with the server's shared token only (the
/// operator's, as powerful as the data folder): a personal token would otherwise make a token in
/// another's name, or rotate or revoke the others'. `automator token` comes here when a server holds the
/// data folder.
struct TokenRoutes: Sendable {
    let store: any PersonalTokenStore

    func add(to group: RouterGroup<APIRequestContext>) {
        group.get("tokens", use: list)
        group.post("tokens", use: make)
        group.post("tokens/{name}/rotate", use: rotate)
        group.post("tokens/{name}/revoke", use: revoke)
    }

    /// `GET /api/v1/tokens` → `{"tokens": [{"name", "created_at", "created_by", "revoked_at", "metrics_only",
    /// "ingest_only", "last_used_at"}]}`.
    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        try Self.requireOperator(context)
        return try await Self.answer { try await PersonalTokens.list(in: store) }
    }

    /// `POST /api/v1/tokens` with `{"name": "alice"}` → 201 with the token, shown this once;
    /// `{"name": "prometheus", "metrics_only": true}` for a token that scrapes `/metrics` alone;
    /// `{"name": "splunk", "ingest_only": "splunk"}` for one that posts alerts to
    /// `/api/v1/ingest/splunk` alone.
    @Sendable func make(_ request: Request, context: APIRequestContext) async throws -> Response {
        try Self.requireOperator(context)
        let body = try await request.smallBody(example: #"{"name": "alice"}"#)
        guard let object = (try? JSONSerialization.jsonObject(with: Data(String(buffer: body).utf8))) as? [String: Any],
              let name = object["name"] as? String, let metricsOnly = object["metrics_only"].map({ $0 as? Bool }) ?? false,
              object["ingest_only"].map({ $0 is String }) ?? true,
              Set(object.keys).isSubset(of: ["name", "metrics_only", "ingest_only"])
        else {
            throw APIError.badRequest(#"send {"name": "alice"}: the person or integration the token is for (and "#
                + #""metrics_only": true for a token that scrapes /metrics alone, or "ingest_only": "SOURCE" for one "#
                + #"that posts alerts to /api/v1/ingest/SOURCE alone)"#)
        }
        let ingestOnly = object["ingest_only"] as? String
        let creator = try RequestActor.of(request, context)
        return try await Self.answer(status: .created) {
            try await PersonalTokens.add(name, by: creator, metricsOnly: metricsOnly, ingestOnly: ingestOnly, in: store)
        }
    }

    /// `POST /api/v1/tokens/{name}/rotate` → the new token, shown this once, as `POST /api/v1/tokens`
    /// answers; the old one is refused from the next request. 404 when the name has no live token.
    @Sendable func rotate(_ request: Request, context: APIRequestContext) async throws -> Response {
        try Self.requireOperator(context)
        let name = context.parameters.get("name") ?? ""
        let creator = try RequestActor.of(request, context)
        return try await Self.answer { try await PersonalTokens.rotate(name, by: creator, in: store) }
    }

    /// `POST /api/v1/tokens/{name}/revoke` → `{"name", "revoked_at"}`; 404 when it has no live token.
    @Sendable func revoke(_ request: Request, context: APIRequestContext) async throws -> Response {
        try Self.requireOperator(context)
        let name = context.parameters.get("name") ?? ""
        return try await Self.answer { try await PersonalTokens.revoke(name, in: store) }
    }

    private static func requireOperator(_ context: APIRequestContext) throws(APIError) {
        guard let person = context.authenticated.person else { return }
        throw APIError(status: .forbidden, message: "a personal token (this one is \(person)'s) cannot manage tokens: "
            + "that takes the server's shared token, from AUTOMATOR_API_TOKEN or the api-token file in its data folder")
    }

    private static func answer(status: HTTPResponse.Status = .ok, _ work: () async throws -> String) async throws
        -> Response
    {
        do {
            return .json(try await work(), status: status)
        } catch let refusal as PersonalTokens.Refusal {
            let status: HTTPResponse.Status = switch refusal.kind {
            case .invalid: .badRequest
            case .conflict: .conflict
            case .notFound: .notFound
            }
            throw APIError(status: status, message: refusal.description)
        } catch let error as StoreError {
            throw APIError.store(error)
        }
    }
}
