import Foundation
import Hummingbird
import Synchronization

/// Microsoft Entra ID's token endpoint and Microsoft Sentinel's incidents API (Azure Resource
/// Manager) on loopback, as Microsoft documents them, for `scripts/integrations/sentinel.lua`:
///
/// - `POST /{tenant}/oauth2/v2.0/token`, a client-credentials form for `tenant`, `clientID`,
///   `clientSecret` and the Resource Manager scope: `{ access_token, expires_in }`, else 401
///   `invalid_client`;
/// - `GET {workspace}/incidents?api-version=...&$filter=properties/lastModifiedTimeUtc gt {time}
///   &$orderby=properties/lastModifiedTimeUtc asc&$top={n}`: the incidents `publish`ed, modified
///   after `time`, oldest first, `n` a page, each page but the last with a `nextLink` carrying a
///   `$skipToken`;
/// - `POST {workspace}/incidents/{name}/entities?api-version=...`: `{ entities, metaData }`, the
///   entities published with the incident;
/// - `GET {workspace}/incidents/{name}?api-version=...`: the incident, with its `etag`, which each
///   change replaces (Incidents - Get);
/// - `PUT {workspace}/incidents/{name}?api-version=...` `{ etag, properties }` (Incidents - Create Or
///   Update): replaces the incident's writable properties; 412 `PreconditionFailed` when the etag
///   is not the incident's (`editInSentinel` makes the next PUTs meet an edit made in between),
///   400 `BadRequest` without title, severity and status, or for a classification other than
///   Undetermined without a `classificationReason`, as Sentinel answers;
/// - `PUT {workspace}/incidents/{name}/comments/{id}?api-version=...` `{ properties: { message } }`
///   (Incident Comments - Create Or Update): 201 for a new id, 200 replacing the comment of one
///   written before; `comments(of:)` has them.
///
/// `{workspace}` is `/subscriptions/{subscription}/resourceGroups/{resourceGroup}/providers/
/// Microsoft.OperationalInsights/workspaces/{workspace}/providers/Microsoft.SecurityInsights`.
/// A call without `Bearer {token}` gets 401 `AuthenticationFailed`; while `forbidden` is set, the
/// incidents answer 403 `AuthorizationFailed`, as for an application without a role on the
/// workspace, and while `readOnly` is set, the changes do, as for one with the Reader role alone.
/// Every request is in `received`.
public final class LoopbackSentinel: Sendable {
    public static let tenant = "tenant-1"
    public static let clientID = "app-1"
    public static let clientSecret = "sentinel-secret"
    public static let token = "arm-token"
    public static let subscription = "d0cfe6b2-9ac0-4464-9919-dccaee2e48c0"
    public static let resourceGroup = "soc-rg"
    public static let workspace = "soc-workspace"
    public static let path = "/subscriptions/\(subscription)/resourceGroups/\(resourceGroup)/providers/"
        + "Microsoft.OperationalInsights/workspaces/\(workspace)/providers/Microsoft.SecurityInsights"

    public let received = ReceivedRequests()
    private let server: LoopbackServer
    private final class Published: Sendable {
        /// The incidents as JSON objects, with their entities under `entities`.
        let incidents = Mutex<[String]>([])
        let forbidden = Mutex(false)
        let readOnly = Mutex(false)
        /// Each incident's etag (`"{name}-{version}"`), by name: its version goes up at each change.
        let versions = Mutex<[String: Int]>([:])
        /// How many of the next PUTs meet an edit made in Sentinel since their read.
        let edits = Mutex(0)
        /// The comments by incident name, then by id.
        let comments = Mutex<[String: [String: String]]>([:])
        /// The server's URL, for the next pages' links: known once it listens.
        let url = Mutex("")
    }
    private let published = Published()

    public init() async throws {
        let router = Router()
        received.route(router, .post, "/\(Self.tenant)/oauth2/v2.0/token") { request in
            let form = request.form
            guard form["client_id"] == Self.clientID, form["client_secret"] == Self.clientSecret,
                  form["grant_type"] == "client_credentials", form["scope"] == "https://management.azure.com/.default"
            else {
                return Self.json(#"{"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}"#,
                                 .unauthorized)
            }
            return Self.json(#"{"token_type": "Bearer", "expires_in": 3599, "access_token": "\#(Self.token)"}"#)
        }
        let published = self.published
        received.route(router, .get, RouterPath(Self.path + "/incidents")) { request in
            if let refused = Self.refused(request, published) { return refused }
            let query = URLComponents(string: request.line.dropFirst("GET ".count).description)?.queryItems ?? []
            func parameter(_ name: String) -> String? { query.first { $0.name == name }?.value }
            guard parameter("api-version") != nil,
                  parameter("$orderby") == "properties/lastModifiedTimeUtc asc",
                  let since = parameter("$filter")?.firstMatch(of: /^properties\/lastModifiedTimeUtc gt (\S+)$/)?.output.1
            else {
                return Self.json(#"{"error": {"code": "BadRequest", "message": "Unexpected query: \#(request.line)"}}"#,
                                 .badRequest)
            }
            let top = parameter("$top").flatMap(Int.init) ?? 50
            let skip = parameter("$skipToken").flatMap(Int.init) ?? 0
            let modified = { (incident: [String: Any]) in
                (incident["properties"] as? [String: Any])?["lastModifiedTimeUtc"] as? String ?? ""
            }
            let listed = Self.objects(published.incidents.withLock { $0 }).filter { modified($0) > String(since) }
                .sorted { modified($0) < modified($1) }
                .map { $0.filter { $0.key != "entities" } }
            var page: [String: Any] = ["value": Array(listed.dropFirst(skip).prefix(top))]
            if skip + top < listed.count {
                var next = URLComponents(string: request.line.dropFirst("GET ".count).description)!
                next.queryItems = query.filter { $0.name != "$skipToken" } + [URLQueryItem(name: "$skipToken", value: "\(skip + top)")]
                page["nextLink"] = published.url.withLock { $0 } + next.string!
            }
            return Self.json(String(decoding: try! JSONSerialization.data(withJSONObject: page), as: UTF8.self))
        }
        received.route(router, .post, RouterPath(Self.path + "/incidents/{name}/entities")) { request in
            if let refused = Self.refused(request, published) { return refused }
            let name = request.line.firstMatch(of: /\/incidents\/([^\/]+)\/entities/).map { String($0.output.1) } ?? ""
            guard let incident = Self.objects(published.incidents.withLock { $0 }).first(where: { $0["name"] as? String == name })
            else {
                return Self.json(#"{"error": {"code": "NotFound", "message": "Incident \#(name) was not found."}}"#, .notFound)
            }
            let entities = incident["entities"] as? [[String: Any]] ?? []
            let kinds = Dictionary(grouping: entities, by: { $0["kind"] as? String ?? "" })
                .map { ["entityKind": $0.key, "count": $0.value.count] as [String: Any] }
            let answer: [String: Any] = ["entities": entities, "metaData": kinds]
            return Self.json(String(decoding: try! JSONSerialization.data(withJSONObject: answer), as: UTF8.self))
        }
        received.route(router, .get, RouterPath(Self.path + "/incidents/{name}")) { request in
            if let refused = Self.refused(request, published) { return refused }
            let name = Self.name(in: request)
            guard Self.incident(name, published) != nil else { return Self.notFound(name) }
            return Self.json(Self.answer(name, published))
        }
        received.route(router, .put, RouterPath(Self.path + "/incidents/{name}")) { request in
            if let refused = Self.refused(request, published, writing: true) { return refused }
            let name = Self.name(in: request)
            guard let incident = Self.incident(name, published) else { return Self.notFound(name) }
            if published.edits.withLock({ edits in defer { edits = max(0, edits - 1) }; return edits > 0 }) {
                published.versions.withLock { $0[name, default: 0] += 1 }
            }
            let body = request.json
            guard body["etag"] as? String == Self.etag(name, published) else {
                return Self.json(#"{"error": {"code": "PreconditionFailed", "message": "The incident was modified since it was read: its etag changed."}}"#,
                                 .preconditionFailed)
            }
            let properties = body["properties"] as? [String: Any] ?? [:]
            guard ["title", "severity", "status"].allSatisfy({ properties[$0] is String }) else {
                return Self.json(#"{"error": {"code": "BadRequest", "message": "title, severity and status are required."}}"#,
                                 .badRequest)
            }
            if let classification = properties["classification"] as? String, classification != "Undetermined",
               !(properties["classificationReason"] is String)
            {
                return Self.json(#"{"error": {"code": "BadRequest", "message": "classification '\#(classification)' must have classificationReason."}}"#,
                                 .badRequest)
            }
            var changed = incident
            var stored = incident["properties"] as? [String: Any] ?? [:]
            for key in Self.writable { stored[key] = properties[key] }
            // As Sentinel does: the fetch, asking for what changed since its cursor, reads it again.
            stored["lastModifiedTimeUtc"] = Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
            changed["properties"] = stored
            published.versions.withLock { $0[name, default: 0] += 1 }
            let text = String(decoding: try! JSONSerialization.data(withJSONObject: changed), as: UTF8.self)
            published.incidents.withLock { incidents in
                incidents = incidents.map { Self.objects([$0])[0]["name"] as? String == name ? text : $0 }
            }
            return Self.json(Self.answer(name, published))
        }
        received.route(router, .put, RouterPath(Self.path + "/incidents/{name}/comments/{comment}")) { request in
            if let refused = Self.refused(request, published, writing: true) { return refused }
            let name = Self.name(in: request)
            guard Self.incident(name, published) != nil else { return Self.notFound(name) }
            let id = request.line.firstMatch(of: /\/comments\/([^\/?]+)/).map { String($0.output.1) } ?? ""
            guard let message = (request.json["properties"] as? [String: Any])?["message"] as? String else {
                return Self.json(#"{"error": {"code": "BadRequest", "message": "properties.message is required."}}"#, .badRequest)
            }
            let new = published.comments.withLock { comments in
                defer { comments[name, default: [:]][id] = message }
                return comments[name]?[id] == nil
            }
            let answer: [String: Any] = ["id": "\(Self.path)/incidents/\(name)/comments/\(id)", "name": id,
                                         "properties": ["message": message]]
            return Self.json(String(decoding: try! JSONSerialization.data(withJSONObject: answer), as: UTF8.self),
                             new ? .created : .ok)
        }
        server = try await LoopbackServer(router)
        published.url.withLock { $0 = server.url }
    }

    /// The properties an incident's PUT sets (the others are read-only).
    private static let writable = ["title", "description", "severity", "status", "owner", "labels", "firstActivityTimeUtc",
                                   "lastActivityTimeUtc", "classification", "classificationReason", "classificationComment"]

    /// The published incident `name` as Sentinel keeps it (without its entities), or nil.
    private static func incident(_ name: String, _ published: Published) -> [String: Any]? {
        objects(published.incidents.withLock { $0 }).first { $0["name"] as? String == name }?.filter { $0.key != "entities" }
    }

    /// The incident `name` as Get answers it, with its etag.
    private static func answer(_ name: String, _ published: Published) -> String {
        var incident = incident(name, published) ?? [:]
        incident["etag"] = etag(name, published)
        return String(decoding: try! JSONSerialization.data(withJSONObject: incident), as: UTF8.self)
    }

    private static func etag(_ name: String, _ published: Published) -> String {
        "\"\(name)-\(published.versions.withLock { $0[name, default: 0] })\""
    }

    private static func name(in request: ReceivedRequests.Request) -> String {
        request.line.firstMatch(of: /\/incidents\/([^\/?]+)/).map { String($0.output.1) } ?? ""
    }

    private static func notFound(_ name: String) -> Response {
        json(#"{"error": {"code": "NotFound", "message": "Incident \#(name) was not found."}}"#, .notFound)
    }

    /// Adds `incidents` (incidents as the API gives them, their entities under `entities`); one
    /// with the name of an incident already there replaces it, as an update of that incident.
    public func publish(_ texts: [String]) {
        let names = Set(Self.objects(texts).compactMap { $0["name"] as? String })
        published.incidents.withLock { incidents in
            incidents = zip(incidents, Self.objects(incidents)).filter { !names.contains($0.1["name"] as? String ?? "") }
                .map(\.0) + texts
        }
    }

    /// Makes every Sentinel call answer 403 from the next request, or answer again when false.
    public func forbid(_ forbidden: Bool) { published.forbidden.withLock { $0 = forbidden } }

    /// Makes the changes (PUT) answer 403 from the next request, as to an application with the
    /// Microsoft Sentinel Reader role alone, or answer again when false.
    public func readOnly(_ readOnly: Bool) { published.readOnly.withLock { $0 = readOnly } }

    /// Makes each of the next `count` PUTs meet an edit made in Sentinel after its read: 412.
    public func editInSentinel(before count: Int) { published.edits.withLock { $0 = count } }

    /// The incident `name`'s properties as they are now.
    public func properties(of name: String) -> [String: Any] {
        Self.incident(name, published)?["properties"] as? [String: Any] ?? [:]
    }

    /// The comments written on the incident `name`, by id.
    public func comments(of name: String) -> [String: String] { published.comments.withLock { $0[name] ?? [:] } }

    public var url: String { server.url }

    /// The settings that point `sentinel.lua` here.
    public var settings: [String: String] {
        ["login_url": url, "management_url": url, "tenant": Self.tenant, "client_id": Self.clientID,
         "client_secret": Self.clientSecret, "subscription": Self.subscription, "resource_group": Self.resourceGroup,
         "workspace": Self.workspace]
    }

    public func stop() { server.stop() }

    private static func objects(_ texts: [String]) -> [[String: Any]] {
        texts.map { (try! JSONSerialization.jsonObject(with: Data($0.utf8))) as! [String: Any] }
    }

    private static func refused(_ request: ReceivedRequests.Request, _ published: Published, writing: Bool = false)
        -> Response?
    {
        guard request.headers["authorization"] == "Bearer \(token)" else {
            return json(#"{"error": {"code": "AuthenticationFailed", "message": "Authentication failed. The 'Authorization' header is missing."}}"#,
                        .unauthorized)
        }
        guard !published.forbidden.withLock({ $0 }) else {
            return json(#"{"error": {"code": "AuthorizationFailed", "message": "The client 'app-1' does not have authorization to perform action 'Microsoft.SecurityInsights/incidents/read'."}}"#,
                        .forbidden)
        }
        guard !writing || !published.readOnly.withLock({ $0 }) else {
            return json(#"{"error": {"code": "AuthorizationFailed", "message": "The client 'app-1' does not have authorization to perform action 'Microsoft.SecurityInsights/incidents/write'."}}"#,
                        .forbidden)
        }
        return nil
    }

    private static func json(_ text: String, _ status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
