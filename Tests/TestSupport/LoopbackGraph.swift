import Foundation
import Hummingbird
import Synchronization

/// Microsoft Entra ID's token endpoint and Microsoft Graph's user calls on loopback, as
/// Microsoft documents them, for `scripts/integrations/entra.lua`:
///
/// - `POST /{tenant}/oauth2/v2.0/token`, a client-credentials form for `tenant`, `clientID`,
///   `clientSecret` and the Graph scope: `{ access_token, expires_in }`, else 401 `invalid_client`;
/// - `PATCH /v1.0/users/{id}` with `accountEnabled`: 204, or 404 `Request_ResourceNotFound` for an
///   id holding "ghost";
/// - `POST /v1.0/users/{id}/revokeSignInSessions`: `{ value: true }`;
/// - `GET /v1.0/security/alerts_v2?$filter=lastUpdateDateTime gt {time}&$top={n}`: the alerts
///   `publish`ed, updated after `time`, newest first, `n` a page (`$top`, 100 by default), each page
///   but the last with an `@odata.nextLink` carrying a `$skiptoken` (an offset). The filter may end
///   the window too (`... and lastUpdateDateTime le {time}`); the times compare as times, whatever
///   their decimals (up to 7), and a filter of another shape is 400 `BadRequest`. `fault` makes it answer 401
///   `InvalidAuthenticationToken`, 429 `TooManyRequests` with `Retry-After: 1` (once), 503, or a
///   body that is not JSON;
/// - `GET /v1.0/security/alerts_v2/{id}`: the alert `publish`ed, with its `comments`;
/// - `PATCH /v1.0/security/alerts_v2/{id}` (Update alert): sets `status`, `classification`,
///   `determination` and `assignedTo` as given, 400 `BadRequest` for a value that is none of the
///   documented ones; 200 and the alert;
/// - `POST /v1.0/security/alerts_v2/{id}/comments` `{ "@odata.type", comment }` (Create comment
///   for alert): adds it, 200 and `{ value }`, the alert's comments.
///
/// An alert that is not published is 404 `NotFound`. While `readOnly` is set, the changes answer
/// 403 `Forbidden`, as to an application granted SecurityAlert.Read.All alone. A Graph call without
/// `Bearer {token}` gets 401 `InvalidAuthenticationToken`. Every request is in `received`.
public final class LoopbackGraph: Sendable {
    public static let tenant = "tenant-1"
    public static let clientID = "app-1"
    public static let clientSecret = "graph-secret"
    public static let token = "graph-token"

    /// How alerts_v2 fails, as Graph documents its errors (`{ error: { code, message } }`).
    public enum Fault: Sendable {
        case unauthorized
        /// 429 with `Retry-After: 1` for the next request, then answers again.
        case throttledOnce
        case unavailable
        case notJSON
    }

    public let received = ReceivedRequests()
    private let server: LoopbackServer
    /// The alerts as JSON text, and the fault alerts_v2 answers with while one is set.
    private final class Published: Sendable {
        let alerts = Mutex<[String]>([])
        let fault = Mutex<Fault?>(nil)
        let readOnly = Mutex(false)
        /// The server's URL, for the next pages' links: known once it listens.
        let url = Mutex("")
    }
    private let published: Published

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
        let published = Published()
        self.published = published
        received.route(router, .get, "/v1.0/security/alerts_v2") { request in
            if let refused = Self.unauthenticated(request) { return refused }
            switch published.fault.withLock({ fault in defer { if fault == .throttledOnce { fault = nil } }; return fault }) {
            case .unauthorized?:
                return Self.json(#"{"error": {"code": "InvalidAuthenticationToken", "message": "Lifetime validation failed, the token is expired."}}"#,
                                 .unauthorized)
            case .throttledOnce?:
                var response = Self.json(#"{"error": {"code": "TooManyRequests", "message": "Too many requests."}}"#,
                                         .tooManyRequests)
                response.headers[.retryAfter] = "1"
                return response
            case .unavailable?:
                return Self.json(#"{"error": {"code": "ServiceNotAvailable", "message": "The service is unavailable."}}"#,
                                 .serviceUnavailable)
            case .notJSON?:
                return Self.json("<html><body>Gateway hiccup</body></html>")
            case nil:
                break
            }
            let query = URLComponents(string: request.line.dropFirst("GET ".count).description)?.queryItems ?? []
            func parameter(_ name: String) -> String? { query.first { $0.name == name }?.value }
            guard let window = Self.window(parameter("$filter")) else {
                return Self.json(#"{"error": {"code": "BadRequest", "message": "Invalid filter clause: \#(parameter("$filter") ?? "")"}}"#,
                                 .badRequest)
            }
            let top = parameter("$top").flatMap(Int.init) ?? 100
            let skip = parameter("$skiptoken").flatMap(Int.init) ?? 0
            let updated = Self.objects(published.alerts.withLock { $0 })
                .map { ($0, Self.ticks($0["lastUpdateDateTime"] as? String ?? "") ?? 0) }
                .filter { window($0.1) }.sorted { $0.1 > $1.1 }.map(\.0)
            var page: [String: Any] = ["value": Array(updated.dropFirst(skip).prefix(top))]
            if skip + top < updated.count {
                var next = URLComponents(string: request.line.dropFirst("GET ".count).description)!
                next.queryItems = query.filter { $0.name != "$skiptoken" } + [URLQueryItem(name: "$skiptoken", value: "\(skip + top)")]
                page["@odata.nextLink"] = published.url.withLock { $0 } + next.string!
            }
            return Self.json(String(decoding: try! JSONSerialization.data(withJSONObject: page), as: UTF8.self))
        }
        received.route(router, .get, "/v1.0/security/alerts_v2/{id}") { request in
            if let refused = Self.unauthenticated(request) { return refused }
            let id = Self.alertID(in: request)
            guard let alert = Self.alert(id, published) else { return Self.notFound(id) }
            return Self.json(Self.text(alert))
        }
        received.route(router, .patch, "/v1.0/security/alerts_v2/{id}") { request in
            if let refused = Self.unauthenticated(request) ?? Self.readOnly(request, published) { return refused }
            let id = Self.alertID(in: request)
            guard var alert = Self.alert(id, published) else { return Self.notFound(id) }
            for (key, value) in request.json {
                guard let allowed = Self.updatable[key], allowed.isEmpty || allowed.contains(value as? String ?? "") else {
                    return Self.json(#"{"error": {"code": "BadRequest", "message": "Invalid value for '\#(key)': \#(value)."}}"#,
                                     .badRequest)
                }
                alert[key] = value
            }
            Self.store(alert, published)
            return Self.json(Self.text(alert))
        }
        received.route(router, .post, "/v1.0/security/alerts_v2/{id}/comments") { request in
            if let refused = Self.unauthenticated(request) ?? Self.readOnly(request, published) { return refused }
            let id = Self.alertID(in: request)
            guard var alert = Self.alert(id, published) else { return Self.notFound(id) }
            guard request.json["@odata.type"] as? String == "microsoft.graph.security.alertComment",
                  let comment = request.json["comment"] as? String
            else {
                return Self.json(#"{"error": {"code": "BadRequest", "message": "An alertComment with a comment is expected."}}"#,
                                 .badRequest)
            }
            let comments = (alert["comments"] as? [[String: Any]] ?? []) + [[
                "comment": comment, "createdByDisplayName": "Automator", "createdDateTime": "2026-12-01T10:00:00Z",
            ]]
            alert["comments"] = comments
            Self.store(alert, published)
            return Self.json(String(decoding: try! JSONSerialization.data(withJSONObject: ["value": comments]), as: UTF8.self))
        }
        server = try await LoopbackServer(router)
        published.url.withLock { $0 = server.url }
    }

    /// Whether a time, in ticks, is one `filter` asks for (`lastUpdateDateTime gt {time}`, with
    /// `and lastUpdateDateTime le {time}` or not); every time is without a filter; nil for another filter.
    private static func window(_ filter: String?) -> ((Int) -> Bool)? {
        guard let filter else { return { _ in true } }
        guard let match = filter.wholeMatch(of: /lastUpdateDateTime gt (\S+)(?: and lastUpdateDateTime le (\S+))?/),
              let after = ticks(String(match.output.1))
        else { return nil }
        guard let end = match.output.2 else { return { $0 > after } }
        guard let upper = ticks(String(end)) else { return nil }
        return { $0 > after && $0 <= upper }
    }

    /// `text`, a time as Graph writes it (`2026-11-30T02:15:03.1266667Z`), in ticks of 100
    /// nanoseconds since 1970; nil for another text.
    static func ticks(_ text: String) -> Int? {
        guard let match = text.wholeMatch(of: /(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?Z/) else {
            return nil
        }
        let (_, year, month, day, hour, minute, second, fraction) = match.output
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = .gmt
        guard let date = calendar.date(from: DateComponents(year: Int(year), month: Int(month), day: Int(day), hour: Int(hour),
                                                            minute: Int(minute), second: Int(second)))
        else { return nil }
        return Int(date.timeIntervalSince1970) * 10_000_000 + Int(((fraction ?? "") + "0000000").prefix(7))!
    }

    /// What Update alert sets, and the values each takes (none listed: any text).
    private static let updatable: [String: Set<String>] = [
        "status": ["new", "inProgress", "resolved"],
        "classification": ["unknown", "falsePositive", "truePositive", "informationalExpectedActivity"],
        "determination": ["unknown", "apt", "malware", "securityPersonnel", "securityTesting", "unwantedSoftware", "other",
                          "multiStagedAttack", "compromisedUser", "phishing", "maliciousUserActivity", "clean",
                          "insufficientData", "confirmedUserActivity", "lineOfBusinessApplication"],
        "assignedTo": [],
    ]

    private static func alertID(in request: ReceivedRequests.Request) -> String {
        request.line.firstMatch(of: /alerts_v2\/([^\/?]+)/).map { String($0.output.1) }?.removingPercentEncoding ?? ""
    }

    private static func alert(_ id: String, _ published: Published) -> [String: Any]? {
        objects(published.alerts.withLock { $0 }).first { $0["id"] as? String == id }
    }

    private static func store(_ alert: [String: Any], _ published: Published) {
        let text = text(alert)
        published.alerts.withLock { alerts in
            alerts = alerts.map { objects([$0])[0]["id"] as? String == alert["id"] as? String ? text : $0 }
        }
    }

    private static func text(_ alert: [String: Any]) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: alert), as: UTF8.self)
    }

    private static func notFound(_ id: String) -> Response {
        json(#"{"error": {"code": "NotFound", "message": "Alert \#(id) was not found."}}"#, .notFound)
    }

    private static func readOnly(_ request: ReceivedRequests.Request, _ published: Published) -> Response? {
        guard published.readOnly.withLock({ $0 }) else { return nil }
        return json(#"{"error": {"code": "Forbidden", "message": "Missing application roles. API required roles: SecurityAlert.ReadWrite.All."}}"#,
                    .forbidden)
    }

    /// Adds `alerts` (alerts_v2 objects as JSON text); one with the id of an alert already there
    /// replaces it, as an update of that alert.
    public func publish(_ texts: [String]) {
        let ids = Set(Self.objects(texts).compactMap { $0["id"] as? String })
        published.alerts.withLock { alerts in
            alerts = zip(alerts, Self.objects(alerts)).filter { !ids.contains($0.1["id"] as? String ?? "") }.map(\.0) + texts
        }
    }

    private static func objects(_ texts: [String]) -> [[String: Any]] {
        texts.map { (try! JSONSerialization.jsonObject(with: Data($0.utf8))) as! [String: Any] }
    }

    /// The alert `id` as it is now.
    public func alert(_ id: String) -> [String: Any]? { Self.alert(id, published) }

    /// Makes the alerts' changes answer 403 from the next request, as to an application granted
    /// SecurityAlert.Read.All alone, or answer again when false.
    public func readOnly(_ readOnly: Bool) { published.readOnly.withLock { $0 = readOnly } }

    /// Makes alerts_v2 fail as `fault` says from the next request, or answer again when nil.
    public func fail(_ fault: Fault?) { published.fault.withLock { $0 = fault } }

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
