import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// The client-server API of one homeserver, as the bot: JSON requests with its access token,
/// the homeserver's rate limits waited out, its refusals turned into `ChatError`s.
final class MatrixClient: Sendable {
    let homeserver: String
    private let http: HTTPClients
    private let accessToken: Mutex<String?>
    /// Where an unreadable `Retry-After` is said.
    private let logger: Logger

    /// How often a request the homeserver rate-limits is sent, and the longest wait between two.
    static let rateLimitAttempts = 5
    static let longestRateLimitWait = Duration.seconds(60)
    /// The largest JSON answer read (a first `/sync` of a busy account is a few MiB).
    static let maximumAnswer = 64 << 20
    /// How long a request waits for the password login to give a token: at a start, runs resumed
    /// from the store post while the adapter is still logging in, and failed without a token.
    static let loginWait = Duration.seconds(30)
    /// The clients of the long poll (`/sync`), whose failure is what `/healthz` shows: a connection
    /// not made within 5 s fails the request, and is not tried again (the adapter's loop does, with
    /// its growing pause). AsyncHTTPClient otherwise tries a refused connection again until its
    /// connect deadline, and a homeserver gone showed as connected all that time. The other
    /// requests keep those retries: an answer posted during a homeserver's restart still goes out.
    static let pollingClients: HTTPClients = {
        var configuration = HTTPClient.Configuration(timeout: .init(connect: .seconds(5)))
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClients(configuration: configuration)
    }()

    init(homeserver: String, http: HTTPClients, accessToken: String?, logger: Logger) {
        self.homeserver = homeserver
        self.http = http
        self.accessToken = Mutex(accessToken)
        self.logger = logger
    }

    func use(accessToken token: String) { accessToken.withLock { $0 = token } }

    /// Sends `body` as JSON and decodes the answer; `anonymous` for the login, which needs no token;
    /// `polling` for the long poll, through `pollingClients`.
    func call<Answer: Decodable>(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [],
                                 body: (any Encodable)? = nil, timeout: TimeAmount = .seconds(30), anonymous: Bool = false,
                                 polling: Bool = false)
        async throws(ChatError) -> Answer
    {
        let payload = try body.map { body throws(ChatError) in try Self.json(body, method, path) }
        let response = try await send(method, path, query: query, body: payload,
                                      contentType: payload == nil ? nil : "application/json", timeout: timeout,
                                      anonymous: anonymous, polling: polling)
        return try await decode(response, method, path)
    }

    /// Sends `body` as JSON for its effect, the answer unread. A refusal whose `errcode` is in
    /// `harmless` says the effect is there already, and is no error.
    func call(_ method: HTTPMethod, _ path: String, body: any Encodable, harmless: Set<String>)
        async throws(ChatError)
    {
        _ = try await send(method, path, body: try Self.json(body, method, path), contentType: "application/json",
                           harmless: harmless)
    }

    private static func json(_ body: any Encodable, _ method: HTTPMethod, _ path: String)
        throws(ChatError) -> ByteBuffer
    {
        do { return ByteBuffer(bytes: try JSONEncoder().encode(body)) } catch {
            throw ChatError(.unavailable, "\(method) \(path): cannot encode the request (\(error))")
        }
    }

    /// Sends `raw` bytes (an upload) and decodes the answer.
    func call<Answer: Decodable>(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [],
                                 raw: [UInt8], contentType: String, timeout: TimeAmount)
        async throws(ChatError) -> Answer
    {
        let response = try await send(method, path, query: query, body: ByteBuffer(bytes: raw),
                                      contentType: contentType, timeout: timeout)
        return try await decode(response, method, path)
    }

    private func decode<Answer: Decodable>(_ response: HTTPClientResponse, _ method: HTTPMethod, _ path: String)
        async throws(ChatError) -> Answer
    {
        let data: Data
        do { data = Data(Array(buffer: try await response.body.collect(upTo: Self.maximumAnswer))) } catch {
            throw unreachable(method, path, error)
        }
        do { return try JSONDecoder().decode(Answer.self, from: data) } catch {
            throw ChatError(.unavailable, "the Matrix homeserver \(homeserver) answered \(method) \(path) with "
                + "something unexpected (\(error)): check that the URL is the client-server API's")
        }
    }

    /// Sends a request and returns its successful (2xx) response, or one with a status in
    /// `passing`, body unread, or a refusal whose `errcode` is in `harmless`, body read. A 429 is
    /// sent again after the wait it asks for (`retry_after_ms`); other refusals throw. Before the
    /// login, a request waits for it (`loginWait`), but the login's own (`anonymous`).
    func send(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: ByteBuffer? = nil,
              contentType: String? = nil, timeout: TimeAmount = .seconds(30), passing: Set<UInt> = [],
              harmless: Set<String> = [], anonymous: Bool = false, polling: Bool = false)
        async throws(ChatError) -> HTTPClientResponse
    {
        let clients = polling ? Self.pollingClients : http
        var request = HTTPClientRequest(url: homeserver + path + Self.queryString(query))
        request.method = method
        if !anonymous, let token = await token() { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
        if let body { request.body = .bytes(body) }
        var attempt = 1
        while true {
            let response: HTTPClientResponse
            do { response = try await clients.client(for: request.url).execute(request, timeout: timeout) } catch {
                throw unreachable(method, path, error)
            }
            if (200..<300).contains(response.status.code) || passing.contains(response.status.code) { return response }
            let refusal = (try? await response.body.collect(upTo: 64 << 10)).flatMap {
                try? JSONDecoder().decode(MatrixRefusal.self, from: Data(Array(buffer: $0)))
            }
            if let code = refusal?.errcode, harmless.contains(code) { return response }
            if response.status == .tooManyRequests, attempt < Self.rateLimitAttempts {
                let wait = refusal?.retryAfterMilliseconds.map { Duration.milliseconds($0) }
                    ?? RetryAfter.wait(response.headers.first(name: "retry-after"), logger: logger) ?? .seconds(attempt)
                do { try await Task.sleep(for: min(wait, Self.longestRateLimitWait)) } catch {
                    throw ChatError(.unavailable, "\(method) \(path): cancelled while rate-limited")
                }
                attempt += 1
                continue
            }
            throw refused(method, path, status: response.status, refusal)
        }
    }

    /// The access token, once there is one (`loginWait` at most); nil if the login has not given
    /// one by then, or the task is cancelled.
    private func token() async -> String? {
        let deadline = ContinuousClock.now + Self.loginWait
        while true {
            if let token = accessToken.withLock({ $0 }) { return token }
            guard ContinuousClock.now < deadline else { return nil }
            do { try await Task.sleep(for: .milliseconds(50)) } catch { return nil }
        }
    }

    func refused(_ method: HTTPMethod, _ path: String, status: HTTPResponseStatus, _ refusal: MatrixRefusal?)
        -> ChatError
    {
        let reason = refusal.map { "\($0.errcode ?? "") \($0.error ?? "")".trimmingCharacters(in: .whitespaces) }
            ?? "\(status.code) \(status.reasonPhrase)"
        let what = "the Matrix homeserver \(homeserver) refused \(method) \(path): \(reason)"
        switch status.code {
        case 401 where refusal?.errcode == "M_MISSING_TOKEN":
            return ChatError(.unauthorized, what + " (not logged in yet: the adapter logs in when it starts running)")
        case 401: return ChatError(.unauthorized, what + " (the access token is not valid: configure a current "
            + "token, or a password)")
        case 403, 404: return ChatError(.notFound, what)
        case 429: return ChatError(.unavailable, what + " (still rate-limited after \(Self.rateLimitAttempts) tries: "
            + "exempt the bot's user from rate limits on the homeserver)")
        default: return ChatError(.unavailable, what)
        }
    }

    private func unreachable(_ method: HTTPMethod, _ path: String, _ error: any Error) -> ChatError {
        ChatError(.unavailable, "cannot reach the Matrix homeserver \(homeserver) (\(method) \(path): "
            + "\(HTTPFailure.describe(error, timeout: nil))): "
            + "check its URL and that it is running")
    }

    private static func queryString(_ query: [(String, String)]) -> String {
        guard !query.isEmpty else { return "" }
        return "?" + query.map { name, value in
            "\(name)=\(value.addingPercentEncoding(withAllowedCharacters: MatrixID.unreserved) ?? value)"
        }.joined(separator: "&")
    }
}

/// A homeserver's error answer: `{"errcode": "M_FORBIDDEN", "error": "..."}`.
struct MatrixRefusal: Decodable {
    var errcode: String?
    var error: String?
    var retryAfterMilliseconds: Int64?

    enum CodingKeys: String, CodingKey {
        case errcode, error
        case retryAfterMilliseconds = "retry_after_ms"
    }
}
