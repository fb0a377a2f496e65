import Hummingbird

/// CrowdStrike Falcon's API on loopback, as CrowdStrike documents it, for
/// `scripts/integrations/crowdstrike.lua`:
///
/// - `POST /oauth2/token`, a client-credentials form with `clientSecret`: 201 `{ access_token,
///   expires_in }`, else 403 `access denied, invalid client credentials`;
/// - `POST /devices/entities/devices-actions/v2?action_name=contain` (or `lift_containment`) with
///   `{"ids": [one device]}`: 202 with the device in `resources`; 400 `invalid ids` otherwise, or
///   without `Bearer {token}`.
///
/// Every request is in `received`; `actions` has the device actions alone.
public final class LoopbackFalcon: Sendable {
    public static let clientID = "falcon-client"
    public static let clientSecret = "falcon-secret"
    public static let token = "falcon-token"

    public let received = ReceivedRequests()
    private let server: LoopbackServer

    public init() async throws {
        let router = Router()
        received.route(router, .post, "/oauth2/token") { request in
            request.form["client_secret"] == Self.clientSecret
                ? Self.json(#"{"access_token": "\#(Self.token)", "token_type": "bearer", "expires_in": 1799}"#, .created)
                : Self.json(#"{"meta": {}, "errors": [{"code": 403, "message": "access denied, invalid client credentials"}]}"#,
                            .forbidden)
        }
        received.route(router, .post, "/devices/entities/devices-actions/v2") { request in
            guard request.headers["authorization"] == "Bearer \(Self.token)",
                  let ids = request.json["ids"] as? [String], ids.count == 1
            else { return Self.json(#"{"errors": [{"code": 400, "message": "invalid ids"}]}"#, .badRequest) }
            return Self.json(#"{"meta": {"query_time": 0.1}, "resources": [{"id": "\#(ids[0])", "path": ""}], "errors": []}"#,
                             .accepted)
        }
        server = try await LoopbackServer(router)
    }

    public var url: String { server.url }

    /// Each device action received, as `contain {"ids":["…"]}`: its name, then its body.
    public var actions: [String] {
        received.all.compactMap { request in
            request.line.firstRange(of: "?action_name=").map { "\(request.line[$0.upperBound...]) \(request.body)" }
        }
    }

    public func stop() { server.stop() }

    private static func json(_ text: String, _ status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
