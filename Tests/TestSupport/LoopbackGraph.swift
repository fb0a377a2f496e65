import Hummingbird

/// Microsoft Entra ID's token endpoint and Microsoft Graph's user calls on loopback, as
/// Microsoft documents them, for `scripts/integrations/entra.lua`:
///
/// - `POST /{tenant}/oauth2/v2.0/token`, a client-credentials form for `tenant`, `clientID`,
///   `clientSecret` and the Graph scope: `{ access_token, expires_in }`, else 401 `invalid_client`;
/// - `PATCH /v1.0/users/{id}` with `accountEnabled`: 204, or 404 `Request_ResourceNotFound` for an
///   id holding "ghost";
/// - `POST /v1.0/users/{id}/revokeSignInSessions`: `{ value: true }`.
///
/// A Graph call without `Bearer {token}` gets 401 `InvalidAuthenticationToken`. Every request is
/// in `received`.
public final class LoopbackGraph: Sendable {
    public static let tenant = "tenant-1"
    public static let clientID = "app-1"
    public static let clientSecret = "graph-secret"
    public static let token = "graph-token"

    public let received = ReceivedRequests()
    private let server: LoopbackServer

    public init() async throws {
        let router = Router()
        received.route(router, .post, "/\(Self.tenant)/oauth2/v2.0/token") { request in
            let form = request.form
            guard form["client_id"] == Self.clientID, form["client_secret"] == Self.clientSecret,
                  form["grant_type"] == "client_credentials", form["scope"] == "https://graph.microsoft.com/.default"
            else {
                return Self.json(#"{"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}"#,
                                 .unauthorized)
            }
            return Self.json(#"{"token_type": "Bearer", "expires_in": 3599, "access_token": "\#(Self.token)"}"#)
        }
        received.route(router, .patch, "/v1.0/users/{user}") { request in
            if let refused = Self.unauthenticated(request) { return refused }
            if request.line.contains("ghost") {
                return Self.json(#"{"error": {"code": "Request_ResourceNotFound", "message": "Resource 'ghost@example.com' does not exist."}}"#,
                                 .notFound)
            }
            return Response(status: .noContent)
        }
        received.route(router, .post, "/v1.0/users/{user}/revokeSignInSessions") { request in
            if let refused = Self.unauthenticated(request) { return refused }
            return Self.json(#"{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Edm.Boolean", "value": true}"#)
        }
        server = try await LoopbackServer(router)
    }

    public var url: String { server.url }

    /// The settings that point `entra.lua` here: login_url, graph_url, tenant, client_id, client_secret.
    public var settings: [String: String] {
        ["login_url": url, "graph_url": url, "tenant": Self.tenant, "client_id": Self.clientID,
         "client_secret": Self.clientSecret]
    }

    public func stop() { server.stop() }

    private static func unauthenticated(_ request: ReceivedRequests.Request) -> Response? {
        guard request.headers["authorization"] != "Bearer \(token)" else { return nil }
        return json(#"{"error": {"code": "InvalidAuthenticationToken", "message": "Access token is empty."}}"#, .unauthorized)
    }

    private static func json(_ text: String, _ status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
