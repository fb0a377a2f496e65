import Foundation
import Hummingbird

/// CrowdStrike Falcon's API on loopback, as CrowdStrike documents it, for
/// `scripts/integrations/crowdstrike.lua`:
///
/// - `POST /oauth2/token`, a client-credentials form with `clientSecret`: 201 `{ access_token,
///   expires_in }`, else 403 `access denied, invalid client credentials`;
/// - `POST /devices/entities/devices-actions/v2?action_name=contain` (or `lift_containment`) with
///   `{"ids": [one device]}`: 202 with the device in `resources`; 400 `invalid ids` otherwise, or
///   without `Bearer {token}`;
/// - `GET /devices/combined/devices/v1?filter=local_ip:'ADDRESS'`: the `devices` that report the
///   address, in `resources`; 401 without `Bearer {token}`.
///
/// Every request is in `received`; `actions` has the device actions alone, `searches` the filters.
public final class LoopbackFalcon: Sendable {
    public static let clientID = "falcon-client"
    public static let clientSecret = "falcon-secret"
    public static let token = "falcon-token"

    /// A host as Falcon knows it.
    public struct Device: Sendable {
        public var id: String
        public var hostname: String
        public var localIP: String
        public var lastSeen: String

        public init(id: String, hostname: String, localIP: String, lastSeen: String = "2026-11-30T02:14:02Z") {
            (self.id, self.hostname, self.localIP, self.lastSeen) = (id, hostname, localIP, lastSeen)
        }
    }

    public let received = ReceivedRequests()
    private let server: LoopbackServer

    public init(devices: [Device] = []) async throws {
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
        received.route(router, .get, "/devices/combined/devices/v1") { request in
            guard request.headers["authorization"] == "Bearer \(Self.token)" else {
                return Self.json(#"{"errors": [{"code": 401, "message": "access denied"}]}"#, .unauthorized)
            }
            let filter = Self.filter(request.line)
            let found = devices.filter { filter == "local_ip:'\($0.localIP)'" }.map {
                #"{"device_id": "\#($0.id)", "hostname": "\#($0.hostname)", "local_ip": "\#($0.localIP)", "#
                    + #""last_seen": "\#($0.lastSeen)", "platform_name": "Windows", "status": "normal"}"#
            }
            return Self.json(#"{"meta": {}, "resources": [\#(found.joined(separator: ","))], "errors": []}"#)
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

    /// Each devices search's filter, as `local_ip:'10.20.4.31'`.
    public var searches: [String] {
        received.all.filter { $0.line.hasPrefix("GET /devices/") }.map { Self.filter($0.line) }
    }

    public func stop() { server.stop() }

    private static func filter(_ line: String) -> String {
        let target = line.split(separator: " ").dropFirst().first.map(String.init) ?? ""
        return URLComponents(string: target)?.queryItems?.first { $0.name == "filter" }?.value ?? ""
    }

    private static func json(_ text: String, _ status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
