import AutomatorRuntime
import Foundation
import Hummingbird

/// `/api/v1/report` and `/api/v1/audit`: what `automator report` and `automator audit` read
/// when a server holds the data folder.
struct ReportRoutes: Sendable {
    let store: any ReportStore

    func add(to group: RouterGroup<APIRequestContext>) {
        group.get("report", use: report)
        group.get("audit", use: audit)
    }

    /// `GET /api/v1/report?since=30d`, `?from=2026-03-01&to=2026-03-31` or `?period=last-week`,
    /// with `&tz=Europe/Berlin` for that zone's days (default UTC) → the report as `ReportJSON`
    /// writes it.
    @Sendable func report(_ request: Request, context: APIRequestContext) async throws -> Response {
        let now = Date()  // one time for the window's end and the report's
        let window = try Self.window(request, fallback: "30d", now: now)
        do throws(StoreError) {
            return .json(ReportJSON.encode(try await store.report(window, at: now)))
        } catch {
            throw APIError.store(error)
        }
    }

    /// `GET /api/v1/audit?since=7d[&actor=cli:alice][&limit=1000][&after=NEXT]` → `{"more": true,
    /// "next": "…", "audit": [...]}`, newest first; `more` when the window holds entries past the
    /// limit, and `next` then, to pass back as `after` for the page after (the same window and actor).
    @Sendable func audit(_ request: Request, context: APIRequestContext) async throws -> Response {
        let parameters = request.uri.queryParameters
        let window = try Self.window(request, fallback: "7d")
        let limit = parameters.get("limit").map { Int($0) } ?? 1000
        guard let limit, (1...100_000).contains(limit) else {
            throw APIError.badRequest("limit is a number from 1 to 100000")
        }
        var after: AuditCursor?
        if let text = parameters.get("after") {
            guard let cursor = AuditCursor(text) else {
                throw APIError.badRequest("after takes the \"next\" of the page before, as it is")
            }
            after = cursor
        }
        let query = AuditQuery(window: window, actor: parameters.get("actor"), limit: limit, after: after)
        do throws(StoreError) {
            let (entries, next) = try await store.auditPage(query)
            return .json(ReportJSON.audit(entries, next: next))
        } catch {
            throw APIError.store(error)
        }
    }

    private static func window(_ request: Request, fallback: String, now: Date = Date()) throws(APIError) -> ReportWindow {
        let parameters = request.uri.queryParameters
        do {
            let zone = try parameters.get("tz").map { name throws(ReportWindow.Invalid) in
                try ReportWindow.timeZone(named: name, option: "tz")
            } ?? .gmt
            return try ReportWindow(since: parameters.get("since"), from: parameters.get("from"), to: parameters.get("to"),
                                    period: parameters.get("period"), timeZone: zone, fallback: fallback, now: now)
        } catch {
            throw APIError.badRequest(error.description)
        }
    }
}
