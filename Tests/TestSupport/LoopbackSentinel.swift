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
///   entities published with the incident.
///
/// `{workspace}` is `/subscriptions/{subscription}/resourceGroups/{resourceGroup}/providers/
/// Microsoft.OperationalInsights/workspaces/{workspace}/providers/Microsoft.SecurityInsights`.
/// A call without `Bearer {token}` gets 401 `AuthenticationFailed`; while `forbidden` is set, the
/// incidents answer 403 `AuthorizationFailed`, as for an application without a role on the
/// workspace. Every request is in `received`.
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
        server = try await LoopbackServer(router)
        published.url.withLock { $0 = server.url }
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

    private static func refused(_ request: ReceivedRequests.Request, _ published: Published) -> Response? {
        guard request.headers["authorization"] == "Bearer \(token)" else {
            return json(#"{"error": {"code": "AuthenticationFailed", "message": "Authentication failed. The 'Authorization' header is missing."}}"#,
                        .unauthorized)
        }
        guard !published.forbidden.withLock({ $0 }) else {
            return json(#"{"error": {"code": "AuthorizationFailed", "message": "The client 'app-1' does not have authorization to perform action 'Microsoft.SecurityInsights/incidents/read'."}}"#,
                        .forbidden)
        }
        return nil
    }

    private static func json(_ text: String, _ status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
