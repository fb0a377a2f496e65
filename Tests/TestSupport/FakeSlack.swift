import Crypto
public import Foundation
import Hummingbird
import Synchronization

/// Slack on loopback, for the adapter's and the server's tests: the Web API methods the adapter calls, answering
/// as Slack documents them (an HTTP 200 with `ok: false` and an error code for a refusal), the
/// upload URL of `files.getUploadURLExternal`, and file URLs that need the bot token. It checks
/// the bearer token and the arguments, and records every call.
public final class FakeSlack: Sendable {
    public static let token = "xoxb-1234-5678-fake"
    /// The app-level token, which opens Socket Mode connections and nothing else.
    public static let appToken = "xapp-1-A0APP-1234-fake"
    public static let signingSecret = "automator-test-secret"

    public struct Call: Sendable {
        public var method: String
        public var contentType: String
        /// The form's fields, or the JSON body's top-level strings.
        public var arguments: [String: String]
        public var body: String
    }

    public struct State {
        public var calls: [Call] = []
        /// How many 429s a method answers before it works, and the `Retry-After` it sends (seconds
        /// or an HTTP-date).
        public var rateLimits: [String: (count: Int, retryAfter: String)] = [:]
        public var uploads: [String: [UInt8]] = [:]
        /// The `Authorization` header of each upload (there should be none).
        public var uploadAuthorizations: [String?] = []
        public var downloads = 0
        /// What `apps.connections.open` answers with the app token: a `FakeSlackSocket`'s URL.
        public var socketURL: (@Sendable () -> String)?
        /// The answers to slash commands posted to their `response_url` (`responseURL(_:)`).
        public var commandAnswers: [CommandAnswer] = []
    }

    public struct CommandAnswer: Sendable {
        /// The command's id in its `response_url`.
        public var command: String
        /// The JSON body's top-level strings (`text`, `response_type`).
        public var fields: [String: String]
        /// The `Authorization` header (there should be none: the URL is its own).
        public var authorization: String?
    }

    nonisolated(unsafe) static let conversations: [String: [String: Any]] = [
        "C0SOC": ["id": "C0SOC", "name": "soc", "is_channel": true, "is_private": false],
        "G0OPS": ["id": "G0OPS", "name": "secret-ops", "is_channel": true, "is_private": true],
        "D0ALICE": ["id": "D0ALICE", "is_im": true, "user": "U0ALICE"],
        // Where the bot may not post: an announcement channel, and an archived one.
        "C0NEWS": ["id": "C0NEWS", "name": "news", "is_channel": true, "is_read_only": true],
        "C0OLD": ["id": "C0OLD", "name": "old-soc", "is_channel": true, "is_archived": true],
    ]
    public static let users: [String: String] = ["U0ALICE": "alice", "U0BOB": "bob", "UBOT": "automator"]
    /// A message in #soc that `conversations.replies` gives, with its file, and a reply to it.
    public static let history = "1700000050.000100"
    public static let report = Array("203.0.113.7,phishing\n".utf8)
    public static let large = [UInt8](repeating: 0x41, count: 64 << 10)

    /// What the fake has seen; tests also set its rate limits here.
    public final class Recorder: Sendable {
        private let state = Mutex(State())

        public func withLock<Result: Sendable>(_ body: (inout State) -> Result) -> Result { state.withLock { body(&$0) } }
    }

    public let state: Recorder
    private let server: LoopbackServer

    public init() async throws {
        let state = Recorder()
        self.state = state
        let router = Router()
        let box = URLBox()
        router.post("/api/{method}") { request, context -> Response in
            let method = context.parameters.get("method") ?? ""
            let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
            let contentType = request.headers[.contentType] ?? ""
            let arguments = contentType.hasPrefix("application/json") ? Self.strings(json: body) : Self.form(body)
            let limit = state.withLock { state -> String? in
                state.calls.append(Call(method: method, contentType: contentType, arguments: arguments, body: body))
                guard let limit = state.rateLimits[method], limit.count > 0 else { return nil }
                state.rateLimits[method]?.count -= 1
                return limit.retryAfter
            }
            if let limit {
                return Response(status: .tooManyRequests, headers: [.retryAfter: limit])
            }
            let answer: [String: Any]
            switch request.headers[.authorization] {
            case nil: answer = ["ok": false, "error": "not_authed"]
            case "Bearer \(Self.token)":
                answer = Self.answer(method, arguments, body: body, base: box.url, state: state)
            case "Bearer \(Self.appToken)":
                let socket = state.withLock { $0.socketURL }
                answer = method != "apps.connections.open" ? ["ok": false, "error": "not_allowed_token_type"]
                    : socket.map { ["ok": true, "url": $0()] } ?? ["ok": false, "error": "socket_mode_disabled"]
            default: answer = ["ok": false, "error": "invalid_auth"]
            }
            return Self.json(answer)
        }
        router.post("/upload/{id}") { request, context -> Response in
            let bytes = Array(buffer: try await request.body.collect(upTo: 1 << 20))
            state.withLock {
                $0.uploads[context.parameters.get("id") ?? ""] = bytes
                $0.uploadAuthorizations.append(request.headers[.authorization])
            }
            return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "OK - \(bytes.count)")))
        }
        router.post("/commands/{id}") { request, context -> Response in
            let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
            state.withLock {
                $0.commandAnswers.append(CommandAnswer(command: context.parameters.get("id") ?? "", fields: Self.strings(json: body),
                                                       authorization: request.headers[.authorization]))
            }
            return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(string: "ok")))
        }
        router.get("/files/{id}/{name}") { request, context -> Response in
            // Slack sends a request without the token to its sign-in page.
            guard request.headers[.authorization] == "Bearer \(Self.token)" else {
                return Response(status: .found, headers: [.location: "https://example.slack.com/?redir=%2Ffiles"])
            }
            state.withLock { $0.downloads += 1 }
            let bytes = context.parameters.get("id") == "F0LARGE" ? Self.large : Self.report
            return Response(status: .ok, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        server = try await LoopbackServer(router)
        box.url = server.url
    }

    deinit { server.stop() }

    public var url: String { server.url }

    /// Where the answers to the slash command `id` go, as Slack's `response_url` (`https://hooks.slack.com/commands/…`).
    public func responseURL(_ id: String) -> String { server.url + "/commands/" + id }

    public var commandAnswers: [CommandAnswer] { state.withLock { $0.commandAnswers } }
    public var apiURL: String { server.url + "/api" }

    public func calls(_ method: String) -> [Call] { state.withLock { $0.calls.filter { $0.method == method } } }

    /// A file of a message, as the Events API describes it.
    public func file(_ id: String, name: String, size: Int? = nil) -> [String: Any] {
        var file: [String: Any] = ["id": id, "name": name, "title": name, "mimetype": "text/csv",
                                   "url_private": "\(url)/files/\(id)/\(name)"]
        file["size"] = size
        return file
    }

    /// The headers Slack signs a request with: `X-Slack-Request-Timestamp` and `X-Slack-Signature`
    /// (`v0=` HMAC-SHA256 of `v0:TIMESTAMP:BODY` with the signing secret).
    public static func signatureHeaders(for body: String, secret: String = signingSecret,
                                        at timestamp: Date = Date()) -> [String: String]
    {
        let seconds = String(Int(timestamp.timeIntervalSince1970))
        let mac = HMAC<SHA256>.authenticationCode(for: Data("v0:\(seconds):\(body)".utf8),
                                                  using: SymmetricKey(data: Data(secret.utf8)))
        return ["X-Slack-Request-Timestamp": seconds,
                "X-Slack-Signature": "v0=" + mac.map { String(format: "%02x", $0) }.joined()]
    }

    private static func answer(_ method: String, _ arguments: [String: String], body: String, base: String,
                               state: Recorder) -> [String: Any]
    {
        let ok: [String: Any] = ["ok": true]
        func failure(_ code: String) -> [String: Any] { ["ok": false, "error": code] }
        func conversation(_ key: String) -> [String: Any]? { arguments[key].flatMap { conversations[$0] } }
        switch method {
        case "apps.connections.open":
            return failure("not_allowed_token_type")
        case "auth.test":
            return ["ok": true, "url": "https://example.slack.com/", "team": "Example", "user": "automator",
                    "team_id": "T0EXAMPLE", "user_id": "UBOT", "bot_id": "B0BOT"]
        case "conversations.list":
            guard arguments["types"] == "public_channel,private_channel" else { return failure("invalid_types") }
            if arguments["cursor"] == nil {
                return ["ok": true, "channels": [conversations["C0SOC"]!],
                        "response_metadata": ["next_cursor": "dGVhbTpDMDYxRkE1UEI="]]
            }
            guard arguments["cursor"] == "dGVhbTpDMDYxRkE1UEI=" else { return failure("invalid_cursor") }
            return ["ok": true, "channels": [conversations["G0OPS"]!], "response_metadata": ["next_cursor": ""]]
        case "conversations.info":
            guard let channel = conversation("channel") else { return failure("channel_not_found") }
            return ["ok": true, "channel": channel]
        case "conversations.join", "conversations.leave":
            guard let channel = conversation("channel") else { return failure("channel_not_found") }
            return ["ok": true, "channel": channel]
        case "conversations.replies":
            guard conversation("channel") != nil else { return failure("channel_not_found") }
            guard arguments["channel"] == "C0SOC", arguments["ts"] == history else { return failure("thread_not_found") }
            return ["ok": true, "has_more": false, "messages": [
                ["type": "message", "user": "U0BOB", "text": "found on web-1", "ts": history, "thread_ts": history,
                 "reply_count": 1, "files": [["id": "F0HIDDEN", "name": "hidden.csv", "mimetype": "text/csv", "size": 21,
                                              "url_private": "\(base)/files/F0HIDDEN/hidden.csv"]]],
                ["type": "message", "user": "U0ALICE", "text": "!evidence", "ts": "1700000060.000100", "thread_ts": history],
            ].prefix(Int(arguments["limit"] ?? "") ?? 2).map { $0 }]
        case "users.info":
            guard let id = arguments["user"], let name = users[id] else { return failure("user_not_found") }
            return ["ok": true, "user": ["id": id, "name": name, "real_name": name.capitalized,
                                         "profile": ["display_name": "Not \(name)"]]]
        case "chat.postMessage":
            guard let channel = arguments["channel"], conversations[channel] != nil else {
                return failure("channel_not_found")
            }
            guard arguments["text"] != nil else { return failure("no_text") }
            if channel == "C0NEWS" { return failure("restricted_action") }
            if channel == "C0OLD" { return failure("is_archived") }
            return ["ok": true, "channel": channel, "ts": "1700000100.000200",
                    "message": ["type": "message", "text": arguments["text"]!, "user": "UBOT", "bot_id": "B0BOT"]]
        case "reactions.add":
            guard let channel = conversation("channel"), arguments["timestamp"] != nil, let name = arguments["name"]
            else { return failure("channel_not_found") }
            if channel["id"] as? String == "G0OPS" {
                return ["ok": false, "error": "missing_scope", "needed": "reactions:write", "provided": "chat:write"]
            }
            return name == "white_check_mark" ? failure("already_reacted") : ok
        case "files.info":
            guard arguments["file"] == "F0HIDDEN" else { return failure("file_not_found") }
            return ["ok": true, "file": ["id": "F0HIDDEN", "name": "hidden.csv", "mimetype": "text/csv", "size": 21,
                                         "url_private": "\(base)/files/F0HIDDEN/hidden.csv"]]
        case "files.getUploadURLExternal":
            guard arguments["filename"] != nil, let length = arguments["length"].flatMap(Int.init) else {
                return failure("invalid_arguments")
            }
            return ["ok": true, "upload_url": "\(base)/upload/F0UP\(length)", "file_id": "F0UP\(length)"]
        case "files.completeUploadExternal":
            guard let files = arguments["files"],
                  let list = try? JSONSerialization.jsonObject(with: Data(files.utf8)) as? [[String: String]],
                  let id = list.first?["id"], state.withLock({ $0.uploads[id] }) != nil
            else { return failure("invalid_arguments") }
            return ["ok": true, "files": [["id": id, "title": list.first?["title"] ?? ""]]]
        default:
            return failure("unknown_method")
        }
    }

    private static func json(_ object: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        return Response(status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: Array(data))))
    }

    public static func form(_ body: String) -> [String: String] {
        var fields = [String: String]()
        for item in URLComponents(string: "?" + body)?.queryItems ?? [] { fields[item.name] = item.value ?? "" }
        return fields
    }

    private static func strings(json body: String) -> [String: String] {
        let object = (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
        return object.compactMapValues { $0 as? String }
    }

    /// The server's URL, known once it listens, for the URLs its answers contain.
    private final class URLBox: Sendable {
        private let value = Mutex("")
        var url: String {
            get { value.withLock { $0 } }
            set { value.withLock { $0 = newValue } }
        }
    }
}
