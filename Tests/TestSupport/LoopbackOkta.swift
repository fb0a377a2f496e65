import Foundation
import Hummingbird
import Synchronization

/// Okta's management API on loopback, as Okta documents it, for `scripts/integrations/okta.lua`.
/// Every call wants `Authorization: SSWS {token}`, else 401 `E0000011 Invalid token provided`;
/// errors are `{ errorCode, errorSummary, errorLink, errorId, errorCauses }`.
///
/// - `POST /api/v1/users/{user}/lifecycle/suspend`, `unsuspend`: 200 `{}`;
///   `expire_password`: 200, the user with status `PASSWORD_EXPIRED`;
/// - `DELETE /api/v1/users/{user}/sessions?oauthTokens=true`: 204;
///
///   a user holding "ghost" is 404 `E0000007 Not found: Resource not found: {user} (User)`.
/// - `GET /api/v1/logs?filter=eventType eq "a" or ...&sortOrder=ASCENDING&limit=N` with `since`
///   (the first request) or `after` (the cursor of the last answer's `Link: <...>; rel="next"`): the
///   events `publish`ed of those types, in the order they were published, from `since` or just
///   past the cursor, N at most; every answer has the next link, as Okta's polling answers do. 400
///   `E0000031` for another sortOrder, or a filter that is not `eventType eq` terms.
///
/// `fail` makes every call answer 401, 403 `E0000006` (a token whose admin role may not), or 429
/// `E0000047` with `X-Rate-Limit-Reset` and no `Retry-After`, until that reset or until told.
/// Every request is in `received`.
public final class LoopbackOkta: Sendable {
    public static let token = "okta-token"

    /// How every call fails, as Okta answers.
    public enum Fault: Sendable {
        case unauthorized
        case forbidden
        /// 429 from the next request until the second its `X-Rate-Limit-Reset` names, two ahead,
        /// then answers again: a client that asks again before the reset meets another 429.
        case throttledOnce
        case throttled
    }

    public let received = ReceivedRequests()
    private let server: LoopbackServer
    /// The events as JSON text, in the order they were published, and the fault calls answer with.
    private final class Published: Sendable {
        let events = Mutex<[String]>([])
        let fault = Mutex<Fault?>(nil)
        /// The epoch second `throttledOnce`'s window resets.
        let reset = Mutex<Int?>(nil)
        /// The server's URL, for the next links: known once it listens.
        let url = Mutex("")
    }
    private let published: Published

    public init() async throws {
        let router = Router()
        let published = Published()
        self.published = published
        for operation in ["suspend", "unsuspend", "expire_password"] {
            received.route(router, .post, "/api/v1/users/{user}/lifecycle/\(operation)") { request in
                if let refused = Self.refusal(request, published) { return refused }
                let user = Self.user(request.line)
                if operation == "expire_password" {
                    return Loopback.json(#"{"id": "00u1x7q9zkAbCdEf5d7", "status": "PASSWORD_EXPIRED", "#
                        + #""profile": {"login": "\#(user)"}}"#)
                }
                return Loopback.json("{}")
            }
        }
        received.route(router, .delete, "/api/v1/users/{user}/sessions") { request in
            Self.refusal(request, published) ?? Response(status: .noContent)
        }
        received.route(router, .get, "/api/v1/logs") { request in
            if let refused = Self.refusal(request, published) { return refused }
            let query = Loopback.query(request.line)
            let terms = (query["filter"] ?? "").components(separatedBy: " or ")
            let types = Set(terms.compactMap { $0.firstMatch(of: /^eventType eq "([a-z_.]+)"$/).map { String($0.output.1) } })
            guard query["sortOrder"] == "ASCENDING", !types.isEmpty, types.count == terms.count else {
                return Self.error(400, "E0000031", "Invalid search criteria.")
            }
            let events = Loopback.objects(published.events.withLock { $0 })
            // The cursor is the position past the last event returned; `since` starts at the first published then.
            var position = query["after"].flatMap { Int($0.dropFirst("position-".count)) }
                ?? events.firstIndex { ($0["published"] as? String ?? "") >= (query["since"] ?? "") } ?? events.count
            var page: [[String: Any]] = []
            let limit = query["limit"].flatMap(Int.init) ?? 100
            while position < events.count, page.count < limit {
                if types.contains(events[position]["eventType"] as? String ?? "") { page.append(events[position]) }
                position += 1
            }
            var next = URLComponents(string: String(request.line.dropFirst("GET ".count)))!
            next.queryItems = (next.queryItems ?? []).filter { $0.name != "since" && $0.name != "after" }
                + [URLQueryItem(name: "after", value: "position-\(position)")]
            var response = Loopback.json(String(decoding: try! JSONSerialization.data(withJSONObject: page), as: UTF8.self))
            response.headers[Loopback.header("Link")] = #"<\#(published.url.withLock { $0 })\#(next.string!)>; rel="next""#
            return response
        }
        server = try await LoopbackServer(router)
        published.url.withLock { $0 = server.url }
    }

    /// Adds `texts` (System Log events as JSON text), published after those there.
    public func publish(_ texts: [String]) { published.events.withLock { $0 += texts } }

    /// Makes every call fail as `fault` says from the next request, or answer again when nil.
    public func fail(_ fault: Fault?) { published.fault.withLock { $0 = fault } }

    /// The settings that point `okta.lua` here: api_url, api_token.
    public var settings: [String: String] { ["api_url": url, "api_token": Self.token] }

    /// Each System Log request's query, decoded.
    public var logQueries: [[String: String]] {
        received.all.filter { $0.line.hasPrefix("GET /api/v1/logs") }.map { Loopback.query($0.line) }
    }

    public var url: String { server.url }

    public func stop() { server.stop() }

    /// The answer for a request without the token, for one that meets the fault set, or for a
    /// user who does not exist; nil when the call goes on.
    private static func refusal(_ request: ReceivedRequests.Request, _ published: Published) -> Response? {
        guard request.headers["authorization"] == "SSWS \(token)" else { return error(401, "E0000011", "Invalid token provided") }
        let now = Int(Date().timeIntervalSince1970)
        if let reset = published.reset.withLock({ $0 }), now < reset { return throttled(until: reset) }
        switch published.fault.withLock({ fault in defer { if fault == .throttledOnce { fault = nil } }; return fault }) {
        case .unauthorized?:
            return error(401, "E0000011", "Invalid token provided")
        case .forbidden?:
            return error(403, "E0000006", "You do not have permission to perform the requested action")
        case .throttledOnce?:
            published.reset.withLock { $0 = now + 2 }
            return throttled(until: now + 2)
        case .throttled?:
            return throttled(until: now + 1)
        case nil:
            break
        }
        let user = Self.user(request.line)
        if user.contains("ghost") { return error(404, "E0000007", "Not found: Resource not found: \(user) (User)") }
        return nil
    }

    /// Okta's 429, its window resetting at the epoch second `reset`; no Retry-After.
    private static func throttled(until reset: Int) -> Response {
        var response = error(429, "E0000047", "API call exceeded rate limit due to too many requests.")
        response.headers[Loopback.header("X-Rate-Limit-Limit")] = "600"
        response.headers[Loopback.header("X-Rate-Limit-Remaining")] = "0"
        response.headers[Loopback.header("X-Rate-Limit-Reset")] = "\(reset)"
        return response
    }

    /// The user of a `/api/v1/users/{user}/...` request line, decoded; "" for another path.
    private static func user(_ line: String) -> String {
        (line.firstMatch(of: #//api/v1/users/([^/?]+)/#).map { String($0.output.1) } ?? "").removingPercentEncoding ?? ""
    }

    /// Okta's error object, as its API answers every refusal.
    private static func error(_ status: Int, _ code: String, _ summary: String) -> Response {
        Loopback.json(#"{"errorCode": "\#(code)", "errorSummary": "\#(summary)", "errorLink": "\#(code)", "#
            + #""errorId": "oae3lOdFa8wRpu0XmSBZpP0Xw", "errorCauses": []}"#, HTTPResponse.Status(code: status))
    }
}
