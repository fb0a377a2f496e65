import AutomatorRuntime
import Foundation
import Hummingbird

/// Lets a request through only with `Authorization: Bearer TOKEN` and a token the server knows,
/// naming its caller in the context; otherwise 401 with `WWW-Authenticate: Bearer`, before any
/// route runs.
///
/// The server's shared token is the operator's (`Caller.operator`), compared in constant time. Any
/// other token is looked up in the store by its SHA-256 (`PersonalTokenStore`), at every request
/// and without a cache: a revocation holds at the next request, on every worker sharing the store.
/// The lookup's timing says nothing of the token: it compares the hash of a guess, not the guess.
/// A token made for `/metrics` alone is refused (403) on the API. A personal token's use is noted
/// for `automator token list` when the last note is a minute old, not at every request: a write
/// a minute for a busy integration, and a dead token still stands out. A refusal is logged, a
/// line a minute at most (`RefusedRequests`).
struct BearerAuthentication: RouterMiddleware {
    typealias Context = APIRequestContext

    /// What the middleware guards: the API, or `/metrics`, which metrics-only tokens may scrape.
    enum Guarded { case api, metrics }

    private let token: [UInt8]
    private let personal: any PersonalTokenStore
    private let guarded: Guarded
    private let refusals: RefusedRequests

    init(token: String, personal: any PersonalTokenStore, guarding guarded: Guarded, refusals: RefusedRequests) {
        self.token = Array(token.utf8)
        self.personal = personal
        self.guarded = guarded
        self.refusals = refusals
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        let peer = context.peer
        func unauthorized() -> APIError {
            refusals.note("no valid API token", request: "\(request.method) \(request.uri.path)", from: peer)
            return Self.unauthorized
        }
        guard let header = request.headers[.authorization], header.count > 7, header.prefix(7).lowercased() == "bearer "
        else { throw unauthorized() }
        let given = String(header.dropFirst(7))
        var authenticated = context
        if Self.equalInConstantTime(Array(given.utf8), token) {
            authenticated.caller = .operator
        } else {
            let found: PersonalToken?
            do throws(StoreError) {
                found = try await personal.livePersonalToken(sha256: PersonalToken.digest(of: given))
            } catch {
                throw APIError.store(error)
            }
            guard let found else { throw unauthorized() }
            let now = Date()
            // The request goes on without the note: a store that refuses writes (a full disk)
            // still serves reads, and a minute's precision is all the note promises.
            if found.useIsStale(at: now) { try? await personal.notePersonalTokenUse(sha256: found.sha256, at: now) }
            if found.metricsOnly, guarded == .api {
                throw APIError(status: .forbidden, message: "this token is \(found.name)'s, made for GET /metrics alone "
                    + "(automator token add \(found.name) --metrics-only): give the API a personal token (automator "
                    + "token add NAME)")
            }
            authenticated.caller = .person(found.name)
        }
        return try await next(request, authenticated)
    }

    private static let unauthorized = APIError(
        status: .unauthorized,
        message: "this needs an API token: send Authorization: Bearer TOKEN, with your personal token (automator token "
            + "add NAME makes one) or the server's, from AUTOMATOR_API_TOKEN or the api-token file in its data folder",
        headers: [.wwwAuthenticate: #"Bearer realm="automator""#])

    /// Compares every byte whatever the first difference, so the time taken does not say how
    /// much of a guess was right (only whether its length was).
    static func equalInConstantTime(_ given: [UInt8], _ expected: [UInt8]) -> Bool {
        guard given.count == expected.count else { return false }
        var difference: UInt8 = 0
        for index in expected.indices { difference |= given[index] ^ expected[index] }
        return difference == 0
    }
}
