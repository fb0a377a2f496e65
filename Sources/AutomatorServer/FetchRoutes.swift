import AutomatorRuntime
import Hummingbird

/// `/api/v1/fetches`: the integrations' fetches, where each is, and one run now.
struct FetchRoutes: Sendable {
    let fetches: Fetches
    let integrations: Integrations
    let store: any FetchStore
    let roles: PersonalRoles

    func add(to group: RouterGroup<APIRequestContext>) {
        group.get("fetches", use: list)
        group.post("fetches/{name}/run", use: run)
    }

    /// `GET /api/v1/fetches` → `FetchJSON.list`.
    @Sendable func list(_ request: Request, context: APIRequestContext) async throws -> Response {
        do { return .json(FetchJSON.list(try await store.fetchStates(), declared: integrations.fetches)) } catch {
            throw APIError.store(error)
        }
    }

    /// `POST /api/v1/fetches/{name}/run` → 200 `FetchJSON.page`: one page now, its alerts ingested
    /// and its cursor kept, as the scheduled runs do; with `?dry_run=true` → 200 `FetchJSON.dryRun`:
    /// what each alert of the page would become, nothing stored and the cursor kept. 404 for no such
    /// fetch, 409 while it runs or (not a dry run) on a worker that does not lead, 502 when it failed
    /// (its cursor unchanged).
    @Sendable func run(_ request: Request, context: APIRequestContext) async throws -> Response {
        let name = context.parameters.get("name") ?? ""
        let parameters = request.uri.queryParameters
        try parameters.allowOnly(["dry_run"])
        let dryRun = try parameters.dryRun()
        try await roles.require(PersonalRoles.responder, to: "running a fetch", context)
        do throws(FetchError) {
            if dryRun { return .json(FetchJSON.dryRun(try await fetches.dryRun(name), of: name)) }
            return .json(FetchJSON.page(try await fetches.runNow(name), of: name))
        } catch {
            switch error.kind {
            case .notDeclared: throw APIError.notFound(error.message)
            case .running, .notLeading: throw APIError(status: .conflict, message: error.message)
            case .failed: throw APIError(status: .badGateway, message: "the fetch \(name) failed: \(error.message)")
            }
        }
    }
}
