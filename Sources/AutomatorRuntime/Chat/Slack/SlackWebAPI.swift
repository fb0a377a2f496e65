import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Calls to Slack's Web API (`POST {apiURL}/METHOD` with the bot token as a bearer token) and
/// to its file URLs. An answer with `ok: false` becomes a `ChatError`; a 429 is tried again after
/// its `Retry-After`, a few times.
struct SlackWebAPI: Sendable {
    /// The process's clients (through the environment's proxy where it names one). They follow
    /// no redirect, so the bot token cannot be carried to a host that is not Slack's.
    static let sharedClients = HTTPClients(configuration: HTTPClient.Configuration(redirectConfiguration: .disallow))

    /// Tries of one call when Slack keeps answering 429.
    static let attempts = 4
    /// The longest `Retry-After` waited for; a longer one fails the call at once.
    static let longestWait = Duration.seconds(30)
    static let timeout = TimeAmount.seconds(30)
    /// The largest Web API answer read (a page of `conversations.list` is far smaller).
    static let maximumAnswer = 8 << 20

    let configuration: SlackConfiguration
    let clients: HTTPClients
    /// Where an unreadable `Retry-After` is said.
    let logger: Logger
    /// How a `Retry-After` is waited out: tests pass one that records the waits, to tell the waits
    /// taken from those skipped without timing them on a machine that may be slow.
    var sleep: @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }

    /// Calls `method` with form-encoded `arguments`, the content type every method takes, with
    /// the bot token unless `token` is another; an error code in `harmless` counts as success.
    func call<Answer: Decodable>(_ method: String, _ arguments: [(String, String)], as answer: Answer.Type,
                                 harmless: Set<String> = [], token: String? = nil) async throws(ChatError) -> Answer
    {
        let body = arguments.map { Self.formEncoded($0) + "=" + Self.formEncoded($1) }.joined(separator: "&")
        return try await call(method, body: Array(body.utf8), contentType: "application/x-www-form-urlencoded",
                              as: answer, harmless: harmless, token: token ?? configuration.botToken)
    }

    /// Calls `method` with a JSON body, for the methods that take structured arguments (blocks).
    func call<Answer: Decodable>(_ method: String, json: some Encodable, as answer: Answer.Type)
        async throws(ChatError) -> Answer
    {
        let body: Data
        do { body = try JSONEncoder().encode(json) } catch { throw ChatError(.unavailable, "Slack \(method): \(error)") }
        return try await call(method, body: Array(body), contentType: "application/json; charset=utf-8", as: answer,
                              harmless: [], token: configuration.botToken)
    }

    private func call<Answer: Decodable>(_ method: String, body: [UInt8], contentType: String, as _: Answer.Type,
                                         harmless: Set<String>, token: String) async throws(ChatError) -> Answer
    {
        var request = HTTPClientRequest(url: configuration.apiURL + "/" + method)
        request.method = .POST
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "Content-Type", value: contentType)
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await send(request, what: method)
        let text: Data
        do { text = Data(Array(buffer: try await response.body.collect(upTo: Self.maximumAnswer))) } catch {
            throw ChatError(.unavailable, "Slack \(method): the answer could not be read (\(error))")
        }
        guard response.status == .ok else {
            throw ChatError(.unavailable, "Slack answered HTTP \(response.status.code) to \(method): try again later")
        }
        let reply: SlackReply<Answer>
        do { reply = try SlackAdapter.decoder.decode(SlackReply<Answer>.self, from: text) } catch {
            throw ChatError(.unavailable, "Slack answered \(method) with something that is not its JSON: \(error)")
        }
        guard reply.status.ok || harmless.contains(reply.status.error ?? "") else {
            throw Self.error(reply.status, method: method)
        }
        do { return try reply.answer.get() } catch {
            throw ChatError(.unavailable, "Slack answered \(method) in a form this adapter does not know: \(error)")
        }
    }

    /// Sends `request`, waiting out 429s; the response's body is left to the caller.
    func send(_ request: HTTPClientRequest, what: String) async throws(ChatError) -> HTTPClientResponse {
        var attempt = 1
        while true {
            let response: HTTPClientResponse
            do { response = try await clients.client(for: request.url).execute(request, timeout: Self.timeout) } catch {
                throw ChatError(.unavailable, "Slack \(what): \(HTTPFailure.describe(error, timeout: Self.timeout))")
            }
            guard response.status == .tooManyRequests else { return response }
            _ = try? await response.body.collect(upTo: Self.maximumAnswer)
            let wait = RetryAfter.wait(response.headers.first(name: "retry-after"), logger: logger) ?? .seconds(1)
            guard attempt < Self.attempts, wait <= Self.longestWait else {
                throw ChatError(.unavailable, "Slack rate-limits \(what) (asked to wait \(Int((wait / .seconds(1)).rounded(.up))) s, "
                    + "\(attempt) tries): try again later")
            }
            do { try await sleep(wait) } catch {
                throw ChatError(.unavailable, "Slack \(what): cancelled while waiting out a rate limit")
            }
            attempt += 1
        }
    }

    /// The `ChatError` of an `ok: false` answer, with Slack's code and what to do about it.
    static func error(_ status: SlackStatus, method: String) -> ChatError {
        let code = status.error ?? "unknown_error"
        switch code {
        case "invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired":
            return ChatError(.unauthorized, "Slack refused the bot token (\(code)) in \(method): check the bot token "
                + "(xoxb-…, OAuth & Permissions) and that the app is still installed in the workspace")
        case "channel_not_found", "user_not_found", "file_not_found":
            return ChatError(.notFound, "Slack: \(code) in \(method): it does not exist or the bot cannot see it "
                + "(invite the bot to a private channel)")
        case "missing_scope":
            return ChatError(.unavailable, "Slack: missing_scope in \(method): add \(status.needed ?? "the scope it needs") "
                + "to the app's bot token scopes (OAuth & Permissions) and reinstall the app")
        case "not_in_channel":
            return ChatError(.unavailable, "Slack: not_in_channel in \(method): invite the bot to the channel "
                + "(/invite @bot) or let it join")
        default:
            return ChatError(.unavailable, "Slack answered \(code) to \(method)")
        }
    }

    /// `application/x-www-form-urlencoded`: everything but unreserved characters escaped.
    static func formEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? text
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}

/// What every Web API answer has: `ok`, and when it is false, `error` (and for `missing_scope`,
/// `needed`).
struct SlackStatus: Decodable {
    var ok: Bool
    var error: String?
    var needed: String?
}

/// A Web API answer read in one pass of the decoder: its status, and the method's own fields
/// (or why they could not be read: an error answer has none). Read as two documents, every
/// answer's JSON was parsed twice.
struct SlackReply<Answer: Decodable>: Decodable {
    var status: SlackStatus
    var answer: Result<Answer, any Error>

    init(from decoder: any Decoder) throws {
        status = try SlackStatus(from: decoder)
        answer = Result { try Answer(from: decoder) }
    }
}
