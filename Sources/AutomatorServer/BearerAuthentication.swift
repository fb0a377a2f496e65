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
/// A token made for `/metrics` alone is refused (403) on the API, and one made for a webhook's
/// alerts (`ingestOnly`) everywhere but `POST /api/v1/ingest/SOURCE`. Only such a token may come
/// in the URL (`?token=`), for a sender that cannot set a header (Splunk's webhook alert action):
/// proxies log a URL and the sender's configuration keeps it, so the token found there posts one
/// source's alerts and nothing else. A personal token's use is noted
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
        func unauthorized(inURL: Bool = false) -> APIError {
            refusals.note("no valid API token", request: "\(request.method) \(request.uri.path)", from: peer)
            return inURL ? Self.unknownInURL : Self.unauthorized
        }
        guard let (given, inURL) = try Self.credential(of: request) else { throw unauthorized() }
        var authenticated = context
        if Self.equalInConstantTime(Array(given.utf8), token) {
            if inURL {
                refusals.note("the shared token in a URL", request: "\(request.method) \(request.uri.path)", from: peer)
                throw APIError(status: .forbidden, message: "the server's shared token may not travel in a URL, which "
                    + "proxies log and the sender's configuration keeps: send it as Authorization: Bearer TOKEN. Give a "
                    + "webhook that cannot set that header a token of its own: automator token add NAME --ingest-only "
                    + "SOURCE. This one may be in a log now: change it (delete the api-token file in the data folder "
                    + "and restart automator serve, or set AUTOMATOR_API_TOKEN)")
            }
            authenticated.caller = .operator
        } else {
            let found: PersonalToken?
            do throws(StoreError) {
                found = try await personal.livePersonalToken(sha256: PersonalToken.digest(of: given))
            } catch {
                throw APIError.store(error)
            }
            guard let found else { throw unauthorized(inURL: inURL) }
            let now = Date()
            // The request goes on without the note: a store that refuses writes (a full disk)
            // still serves reads, and a minute's precision is all the note promises.
            if found.useIsStale(at: now) { try? await personal.notePersonalTokenUse(sha256: found.sha256, at: now) }
            if found.metricsOnly, guarded == .api {
                throw APIError(status: .forbidden, message: "this token is \(found.name)'s, made for GET /metrics alone "
                    + "(automator token add \(found.name) --metrics-only): give the API a personal token (automator "
                    + "token add NAME)")
            }
            if let source = found.ingestOnly {
                guard guarded == .api, request.method == .post, request.uri.path == "/api/v1/ingest/" + source else {
                    throw APIError(status: .forbidden, message: "this token is \(found.name)'s, made to post alerts to "
                        + "POST /api/v1/ingest/\(source) alone (automator token add \(found.name) --ingest-only \(source)): "
                        + "give anything else a personal token (automator token add NAME)")
                }
            } else if inURL {
                refusals.note("a token in a URL, not ingest-only", request: "\(request.method) \(request.uri.path)",
                              from: peer)
                throw APIError(status: .forbidden, message: "this token is \(found.name)'s, which may not travel in a URL: "
                    + "proxies log it and the sender's configuration keeps it. Send it as Authorization: Bearer TOKEN; "
                    + "for a webhook that cannot, make a token that posts one source's alerts alone (automator token "
                    + "add NAME --ingest-only SOURCE) and put that one in the URL. This one may be in a log now: "
                    + "automator token rotate \(found.name)")
            }
            authenticated.caller = .person(found.name)
        }
        return try await next(request, authenticated)
    }

    /// The token a request carries, and whether in its URL (`?token=`) rather than its
    /// `Authorization: Bearer` header; nil when it carries none.
    ///
    /// - Throws: `APIError` (400) when it carries one in each: which one counts would be a guess.
    private static func credential(of request: Request) throws(APIError) -> (token: String, inURL: Bool)? {
        let header = request.headers[.authorization].flatMap { header in
            header.count > 7 && header.prefix(7).lowercased() == "bearer " ? String(header.dropFirst(7)) : nil
        }
        // Only a request with a query string pays for parsing it.
        let query = request.uri.query == nil ? nil : request.uri.queryParameters.get("token")
        switch (header, query) {
        case (let header?, nil): return (header, false)
        case (nil, let query?): return (query, true)
        case (nil, nil): return nil
        case (_?, _?):
            throw .badRequest("the request has a token both in its Authorization header and in its URL (?token=): "
                + "send one, in the header unless the sender cannot set it")
        }
    }

    private static let unauthorized = APIError(
        status: .unauthorized,
        message: "this needs an API token: send Authorization: Bearer TOKEN, with your personal token (automator token "
            + "add NAME makes one) or the server's, from AUTOMATOR_API_TOKEN or the api-token file in its data folder",
        headers: [.wwwAuthenticate: #"Bearer realm="automator""#])

    /// A webhook's URL with a token revoked, rotated or mistyped: the sender cannot set a header,
    /// so the answer names what to put in the URL instead.
    private static let unknownInURL = APIError(
        status: .unauthorized,
        message: "the token in this URL (?token=) is not one this server knows: revoked, rotated or mistyped. "
            + "automator token list shows the ingest-only tokens (FOR ingest:SOURCE); automator token rotate NAME "
            + "makes a new one to put in the sender's URL",
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
