import Foundation
import Hummingbird
import Synchronization

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
/// - `GET /alerts/queries/alerts/v2?filter=updated_timestamp:>'TIME'&sort=updated_timestamp|asc&limit=N&offset=M`:
///   the composite ids of the alerts `publish`ed, updated after `TIME`, oldest update first, with
///   `meta.pagination` (`offset`, `limit`, `total`); 400 for another filter or sort. `fail` makes it
///   answer 401 `access denied, authorization failed`, or 429 `API rate limit exceeded.` with
///   `X-RateLimit-RetryAfter` (the epoch second it takes requests again), once or until told.
/// - `POST /alerts/entities/alerts/v2` with `{"composite_ids": [...]}`: those alerts, in
///   `resources`, newest first (not the query's order, which the entities do not promise).
/// - `PATCH /alerts/entities/alerts/v3` (FalconPy's `update_alerts_v3`) with `{"composite_ids": [...],
///   "action_parameters": [{"name", "value"}...]}`: `update_status` (`new`, `in_progress`,
///   `reopened`, `closed`), `add_tag`, `remove_tag` and `append_comment` applied to each alert, its
///   `updated_timestamp` now, as Falcon's is; 200 `{ meta, errors: [] }`. 400 for another action or
///   status, 404 for an id no alert has; 403 `access denied, authorization failed` while
///   `alertsWritable` is false, as to an API client without the Alerts: write scope.
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

    /// How the alerts query fails, as Falcon answers (`{ errors: [{ code, message }] }`).
    public enum Fault: Sendable {
        case unauthorized
        /// 429 for the next request and those until the second it names, 4 s on (a client that asks
        /// again on its own shorter backoff meets 429s until then), then answers again.
        case throttledOnce
        case throttled
    }

    public let received = ReceivedRequests()
    private let server: LoopbackServer
    /// The alerts as JSON text, and the fault the alerts query answers with while one is set.
    private final class Published: Sendable {
        let alerts = Mutex<[String]>([])
        let fault = Mutex<Fault?>(nil)
        let writable = Mutex(true)
        /// The epoch second `throttledOnce`'s window resets.
        let reset = Mutex<Int?>(nil)
    }
    private let published: Published

    public init(devices: [Device] = []) async throws {
        let router = Router()
        let published = Published()
        self.published = published
        received.route(router, .post, "/oauth2/token") { request in
            request.form["client_secret"] == Self.clientSecret
                ? Loopback.json(#"{"access_token": "\#(Self.token)", "token_type": "bearer", "expires_in": 1799}"#, .created)
                : Loopback.json(#"{"meta": {}, "errors": [{"code": 403, "message": "access denied, invalid client credentials"}]}"#,
                            .forbidden)
        }
        received.route(router, .post, "/devices/entities/devices-actions/v2") { request in
            guard request.headers["authorization"] == "Bearer \(Self.token)",
                  let ids = request.json["ids"] as? [String], ids.count == 1
            else { return Loopback.json(#"{"errors": [{"code": 400, "message": "invalid ids"}]}"#, .badRequest) }
            return Loopback.json(#"{"meta": {"query_time": 0.1}, "resources": [{"id": "\#(ids[0])", "path": ""}], "errors": []}"#,
                             .accepted)
        }
        received.route(router, .get, "/devices/combined/devices/v1") { request in
            guard request.headers["authorization"] == "Bearer \(Self.token)" else {
                return Loopback.json(#"{"errors": [{"code": 401, "message": "access denied"}]}"#, .unauthorized)
            }
            let filter = Self.filter(request.line)
            let found = devices.filter { filter == "local_ip:'\($0.localIP)'" }.map {
                #"{"device_id": "\#($0.id)", "hostname": "\#($0.hostname)", "local_ip": "\#($0.localIP)", "#
                    + #""last_seen": "\#($0.lastSeen)", "platform_name": "Windows", "status": "normal"}"#
            }
            return Loopback.json(#"{"meta": {}, "resources": [\#(found.joined(separator: ","))], "errors": []}"#)
        }
        received.route(router, .get, "/alerts/queries/alerts/v2") { request in
            guard request.headers["authorization"] == "Bearer \(Self.token)" else {
                return Loopback.json(#"{"errors": [{"code": 401, "message": "access denied, authorization failed"}]}"#, .unauthorized)
            }
            let now = Int(Date().timeIntervalSince1970)
            if let reset = published.reset.withLock({ $0 }), now < reset { return Self.throttled(until: reset) }
            switch published.fault.withLock({ fault in defer { if fault == .throttledOnce { fault = nil } }; return fault }) {
            case .unauthorized?:
                return Loopback.json(#"{"meta": {}, "errors": [{"code": 401, "message": "access denied, authorization failed"}]}"#,
                                 .unauthorized)
            case .throttledOnce?:
                published.reset.withLock { $0 = now + 4 }
                return Self.throttled(until: now + 4)
            case .throttled?:
                return Self.throttled(until: now + 1)
            case nil:
                break
            }
            let query = Loopback.query(request.line)
            guard let since = query["filter"]?.firstMatch(of: /^updated_timestamp:>'([^']+)'$/).map({ String($0.output.1) }),
                  query["sort"] == "updated_timestamp|asc"
            else {
                return Loopback.json(#"{"errors": [{"code": 400, "message": "Invalid filter or sort"}]}"#, .badRequest)
            }
            let limit = query["limit"].flatMap(Int.init) ?? 100
            let offset = query["offset"].flatMap(Int.init) ?? 0
            let updated = Loopback.objects(published.alerts.withLock { $0 }).filter { Self.updated($0) > since }
                .sorted { Self.updated($0) < Self.updated($1) }
            let ids = updated.dropFirst(offset).prefix(limit).map { "\"\($0["composite_id"] as? String ?? "")\"" }
            return Loopback.json(#"{"meta": {"query_time": 0.01, "pagination": {"offset": \#(offset), "limit": \#(limit), "#
                + #""total": \#(updated.count)}}, "resources": [\#(ids.joined(separator: ","))], "errors": []}"#)
        }
        received.route(router, .post, "/alerts/entities/alerts/v2") { request in
            guard request.headers["authorization"] == "Bearer \(Self.token)" else {
                return Loopback.json(#"{"errors": [{"code": 401, "message": "access denied, authorization failed"}]}"#, .unauthorized)
            }
            guard let ids = request.json["composite_ids"] as? [String], !ids.isEmpty else {
                return Loopback.json(#"{"errors": [{"code": 400, "message": "composite_ids is required"}]}"#, .badRequest)
            }
            let texts = published.alerts.withLock { $0 }
            let found = zip(texts, Loopback.objects(texts)).filter { ids.contains($0.1["composite_id"] as? String ?? "") }
                .sorted { Self.updated($0.1) > Self.updated($1.1) }.map(\.0)
            return Loopback.json(#"{"meta": {"query_time": 0.01}, "resources": [\#(found.joined(separator: ","))], "errors": []}"#)
        }
        received.route(router, .patch, "/alerts/entities/alerts/v3") { request in
            guard request.headers["authorization"] == "Bearer \(Self.token)" else {
                return Loopback.json(#"{"errors": [{"code": 401, "message": "access denied, authorization failed"}]}"#, .unauthorized)
            }
            guard published.writable.withLock({ $0 }) else {
                return Loopback.json(#"{"meta": {}, "errors": [{"code": 403, "message": "access denied, authorization failed"}]}"#,
                                     .forbidden)
            }
            guard let ids = request.json["composite_ids"] as? [String], !ids.isEmpty,
                  let changes = request.json["action_parameters"] as? [[String: String]],
                  let change = Self.change(changes)
            else {
                return Loopback.json(#"{"errors": [{"code": 400, "message": "invalid action_parameters"}]}"#, .badRequest)
            }
            return published.alerts.withLock { alerts in
                var objects = Loopback.objects(alerts)
                let known = Set(objects.compactMap { $0["composite_id"] as? String })
                if let unknown = ids.first(where: { !known.contains($0) }) {
                    return Loopback.json(#"{"errors": [{"code": 404, "message": "alert \#(unknown) not found"}]}"#, .notFound)
                }
                for index in objects.indices where ids.contains(objects[index]["composite_id"] as? String ?? "") {
                    change(&objects[index])
                }
                alerts = objects.map { String(decoding: try! JSONSerialization.data(withJSONObject: $0), as: UTF8.self) }
                return Loopback.json(#"{"meta": {"query_time": 0.02}, "errors": []}"#)
            }
        }
        server = try await LoopbackServer(router)
    }

    /// What `action_parameters` do to an alert, or nil for one this API does not take.
    private static func change(_ parameters: [[String: String]]) -> ((inout [String: Any]) -> Void)? {
        let statuses: Set = ["new", "in_progress", "reopened", "closed"]
        var steps: [(inout [String: Any]) -> Void] = []
        for parameter in parameters {
            guard let value = parameter["value"] else { return nil }
            switch parameter["name"] {
            case "update_status" where statuses.contains(value): steps.append { $0["status"] = value }
            case "add_tag": steps.append { $0["tags"] = ($0["tags"] as? [String] ?? []).filter { $0 != value } + [value] }
            case "remove_tag": steps.append { $0["tags"] = ($0["tags"] as? [String] ?? []).filter { $0 != value } }
            case "append_comment": steps.append { $0["comments"] = ($0["comments"] as? [String] ?? []) + [value] }
            default: return nil
            }
        }
        let now = Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        return { alert in
            for step in steps { step(&alert) }
            alert["updated_timestamp"] = now
        }
    }

    /// The alert `id` as it is now, as JSON.
    public func alert(_ id: String) -> [String: Any]? {
        Loopback.objects(published.alerts.withLock { $0 }).first { $0["composite_id"] as? String == id }
    }

    /// Whether the API client may change alerts (the Alerts: write scope); it may by default.
    public func alertsWritable(_ writable: Bool) { published.writable.withLock { $0 = writable } }

    /// Adds `texts` (Falcon alerts as JSON text); one with the composite id of an alert already
    /// there replaces it, as an update of that alert.
    public func publish(_ texts: [String]) {
        let ids = Set(Loopback.objects(texts).compactMap { $0["composite_id"] as? String })
        published.alerts.withLock { alerts in
            alerts = zip(alerts, Loopback.objects(alerts)).filter { !ids.contains($0.1["composite_id"] as? String ?? "") }.map(\.0)
                + texts
        }
    }

    /// Makes the alerts query fail as `fault` says from the next request, or answer again when nil.
    public func fail(_ fault: Fault?) { published.fault.withLock { $0 = fault } }

    /// The settings that point `crowdstrike.lua` here: base_url, client_id, client_secret.
    public var settings: [String: String] {
        ["base_url": url, "client_id": Self.clientID, "client_secret": Self.clientSecret]
    }

    /// Each alerts query's filter, in order, as `updated_timestamp:>'2026-11-30T02:14:09Z'`.
    public var alertFilters: [String] {
        received.all.filter { $0.line.hasPrefix("GET /alerts/") }.map { Loopback.query($0.line)["filter"] ?? "" }
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

    /// Falcon's 429, saying in `X-RateLimit-RetryAfter` the epoch second it takes requests again.
    private static func throttled(until reset: Int) -> Response {
        var response = Loopback.json(#"{"meta": {}, "errors": [{"code": 429, "message": "API rate limit exceeded."}]}"#,
                                     .tooManyRequests)
        response.headers[Loopback.header("X-RateLimit-Limit")] = "6000"
        response.headers[Loopback.header("X-RateLimit-Remaining")] = "0"
        response.headers[Loopback.header("X-RateLimit-RetryAfter")] = "\(reset)"
        return response
    }

    private static func filter(_ line: String) -> String { Loopback.query(line)["filter"] ?? "" }

    /// An alert's `updated_timestamp`; the tests' are of one length, so they sort as text.
    private static func updated(_ alert: [String: Any]) -> String { alert["updated_timestamp"] as? String ?? "" }
}
