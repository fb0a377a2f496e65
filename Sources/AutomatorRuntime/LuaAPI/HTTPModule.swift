import AsyncHTTPClient
import Crypto
import Foundation
public import Logging
import NIOCore
import NIOHTTP1

/// `http`: requests from scripts to the hosts the operator allows, and to no others.
///
/// ```lua
/// local response = http.request{ method = "POST", url = "https://ticketing.example/api/tickets",
///                                headers = { ["content-type"] = "application/json" },
///                                body = json.encode{ title = "Phishing" }, timeout = 10 }
/// if response.status == 201 then log.info("ticket " .. json.decode(response.body).id) end
/// local page = http.get("http://127.0.0.1:8081/health")
/// ```
///
/// - `http.request{ url, method, headers, body, timeout }`: `method` defaults to GET,
///   `timeout` to 30 seconds; `body` is a string. Returns `{ status, headers, body }` with
///   header names in lower case. Any status is a response (redirects are not followed); a
///   failure to connect, a timeout or a host that is not allowed is an error raised at the call.
/// - `http.get(url [, options])`, `http.post(url, body [, options])`: the same, shorter.
/// - `http.hmac_sha256(key, message)`: the HMAC-SHA256 of `message`, in hexadecimal, for APIs and
///   webhooks that sign requests; in an integration the key may be a secret's placeholder. Given a
///   list of messages, each MAC is the key of the next (AWS Signature Version 4's signing key).
/// - `http.sha256(text)`: its SHA-256, in hexadecimal, placeholders filled in.
///
/// Every call suspends the run while it waits, and is recorded in a durable run: a replay gets
/// the response back without sending the request again. A request that may change something
/// (any method but GET, HEAD and OPTIONS) from a durable run carries an `Idempotency-Key`
/// header (the run's id and the call's number) unless the script sets one: the one request a
/// crash can make twice (sent, its record not yet committed) carries the same key both times,
/// so a receiver that keeps keys acts once.
///
/// An integration's `http` (see `Integrations`) also has secrets and retries: a secret's
/// placeholder (`IntegrationSecrets`) in a URL, a header or a body is replaced by the secret when
/// the request is sent, and every
/// secret is blanked out of what comes back (a server that echoes a key gives `[secret]`, in the
/// forms `SecretConcealer` finds), so a script can use a key without ever reading it; and 429
/// (after its `Retry-After`, or until its `X-Rate-Limit-Reset`), 5xx, timeouts and refused
/// connections are tried again with backoff.
/// A lookup's last failure pauses the integration's lookups (`IntegrationPause`), and a lookup
/// does not wait out a `Retry-After` longer than what is left of its call's `timeout`.
public struct HTTPModule: HostModule {
    public let name = "http"
    /// Hosts scripts may reach: `host` (any port) or `host:port`, lower case.
    let allowedHosts: Set<String>
    let secrets: IntegrationSecrets
    let concealer: SecretConcealer
    let retry: RetryPolicy
    /// An integration's rest after its service failed: told of each request's last outcome.
    let pause: IntegrationPause?
    /// Where an unreadable `Retry-After` is said.
    let logger: Logger
    /// The largest response body taken, in bytes.
    static let maximumBody = 16 << 20
    static let defaultTimeout = 30.0

    /// One client for the process, never shut down. It keeps no cookies, so runs see nothing
    /// of each other's sessions. It follows no redirect: a redirect could lead to a host that is
    /// not allowed, so the script sees the 3xx and decides.
    /// Through the environment's proxy (`OutboundProxy`) where it names one.
    /// A connection refused fails the request at once: AsyncHTTPClient's own retries would go
    /// on for its 10-second connect timeout, so a service that is down took 10 s to say so to a
    /// script, and 33 s over an integration's three attempts, whose `RetryPolicy` decides instead.
    static let clients: HTTPClients = {
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClients(configuration: configuration)
    }()

    public init(allowedHosts: [String], secrets: IntegrationSecrets = IntegrationSecrets(), retry: RetryPolicy = .none,
                logger: Logger)
    {
        self.init(allowedHosts: allowedHosts, secrets: secrets, retry: retry, pause: nil, logger: logger)
    }

    init(allowedHosts: [String], secrets: IntegrationSecrets, retry: RetryPolicy, pause: IntegrationPause?,
         logger: Logger)
    {
        self.allowedHosts = Set(allowedHosts.map { $0.lowercased() })
        self.secrets = secrets
        concealer = SecretConcealer(secrets.secrets)
        self.retry = retry
        self.pause = pause
        self.logger = logger
    }

    public func register(in table: inout ModuleTable) {
        let module = self
        let state = table.state
        // hmac_sha256(key, message) -> hex: signs with a secret the script cannot read (the key
        // may be a secret's placeholder); the signature does not give the secret away. A list of
        // messages is a chain, each MAC the key of the next, as AWS Signature Version 4 derives its
        // signing key: the derived keys, as good as the secret for a day, stay in the host.
        table.function("hmac_sha256") { call in
            var key = Array(module.secrets.reveal(try call.string(1).description).utf8)
            var messages: [[UInt8]] = []
            switch try call.value(2) {
            case .string(let message): messages = [message.bytes]
            case .table(let list) where !list.array.isEmpty && list.fields.isEmpty:
                for item in list.array {
                    guard case .string(let message) = item else {
                        throw HostError.argument(2, "a list of messages holds strings, got \(item.typeName)")
                    }
                    messages.append(message.bytes)
                }
            case let other: throw HostError.argument(2, "a message or a list of messages expected, got \(other.typeName)")
            }
            for message in messages {
                key = Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
            }
            return call.push(FileHashes.hex(key))
        }
        // sha256(text) -> hex, for request signatures that hash the payload (AWS Signature Version
        // 4). Placeholders are filled in first, as `request` sends them: a signed header may be a
        // secret (AWS's session token). The digest does not give the secret away.
        table.function("sha256") { call in
            let text = module.secrets.reveal(try call.string(1).bytes)
            return call.push(FileHashes.hex(SHA256.hash(data: text)))
        }
        table.waitingFunction("request") { [unowned(unsafe) state] call in
            try module.wait(for: try HTTPRequestOptions(call.value(1), position: 1), in: state.activeRun)
        }
        table.waitingFunction("get") { [unowned(unsafe) state] call in
            var options = try HTTPRequestOptions(call.isNoneOrNil(2) ? .table(LuaTable()) : call.value(2), position: 2)
            options.url = try call.string(1).description
            return try module.wait(for: options, in: state.activeRun)
        }
        table.waitingFunction("post") { [unowned(unsafe) state] call in
            var options = try HTTPRequestOptions(call.isNoneOrNil(3) ? .table(LuaTable()) : call.value(3), position: 3)
            options.url = try call.string(1).description
            options.method = "POST"
            options.body = try call.string(2).bytes
            return try module.wait(for: options, in: state.activeRun)
        }
    }

    /// `run` gives the idempotency key for this call, sent with a request that may change
    /// something, and says whether it is a lookup: only a lookup's requests tell the integration's
    /// pause, since an action reaches another endpoint (a firewall's API, not the reputation
    /// service), and its failure says nothing of the lookups'.
    private func wait(for options: HTTPRequestOptions, in run: LuaRun?) throws(HostError) -> HostWait {
        let key = run?.idempotencyKey
        let pause = run?.entry == .reputation ? self.pause : nil
        var options = options
        if let key, !["GET", "HEAD", "OPTIONS"].contains(options.method),
           !options.headers.contains(where: { $0.0.lowercased() == "idempotency-key" })
        {
            options.headers.append(("Idempotency-Key", key))
        }
        let request = try options.revealing(secrets).clientRequest(allowed: allowedHosts)
        let timeout = TimeAmount.nanoseconds(Int64(options.timeout * 1e9))
        let (concealer, retry, logger) = (self.concealer, self.retry, self.logger)
        // What the script wrote, placeholders and all: the secrets stay out of errors.
        let what = "\(options.method) \(options.url)"
        let budget = Duration.milliseconds(Int64(options.timeout * 1000))
        return .task {
            let started = ContinuousClock.now
            var attempt = 1
            while true {
                let response: HTTPClientResponse
                let body: ByteBuffer
                do {
                    response = try await Self.clients.client(for: request.url).execute(request, timeout: timeout)
                    body = try await response.body.collect(upTo: Self.maximumBody)
                } catch let error as NIOTooManyBytesError {
                    _ = error
                    throw HostError("\(what): the response is over \(Self.maximumBody >> 20) MiB")
                } catch {
                    guard let delay = retry.delay(after: attempt, status: nil, retryAfter: nil) else {
                        let attempts = retry.attempts > 1 ? " (attempt \(attempt) of \(retry.attempts))" : ""
                        let why = HTTPFailure.describe(error, timeout: timeout)
                        pause?.failed(why.hasPrefix("timed out") ? why : "could not be reached (\(why))")
                        throw HostError(concealer.conceal("\(what): \(why)\(attempts)"))
                    }
                    try await Task.sleep(for: delay)
                    attempt += 1
                    continue
                }
                let status = response.status.code
                // A 429 without Retry-After may say when its window resets instead (Okta's, Falcon's).
                let retryAfter = RetryAfter.wait(response.headers.first(name: "retry-after"), logger: logger)
                    ?? (status == 429 ? RetryAfter.reset(response.headers.first(name: "x-rate-limit-reset")
                        ?? response.headers.first(name: "x-ratelimit-retryafter")) : nil)
                // A lookup does not sleep out a 429's Retry-After past its call's timeout: its
                // integration pauses for that long instead, and the lookup answers now (a
                // Retry-After of a minute held the chat message that met it two minutes, over its
                // retries).
                if let delay = retry.delay(after: attempt, status: status, retryAfter: retryAfter),
                   pause == nil || status != 429 || ContinuousClock.now - started + delay <= budget
                {
                    try await Task.sleep(for: delay)
                    attempt += 1
                    continue
                }
                if status == 429 || status >= 500 {
                    pause?.failed("answered \(status)", retryAfter: retryAfter)
                } else {
                    pause?.answered()
                }
                var headers = LuaTable()
                for (name, value) in response.headers {
                    let key = LuaValue.string(LuaString(name.lowercased()))
                    let value = concealer.conceal(value)
                    let joined = if case .string(let earlier) = headers.fields[key] { "\(earlier), \(value)" } else { value }
                    headers.fields[key] = .string(LuaString(joined))
                }
                let text = concealer.conceal(Array(buffer: body))
                return [.table(LuaTable(fields: [
                    "status": .integer(Int64(response.status.code)),
                    "headers": .table(headers),
                    "body": .string(LuaString(bytes: text)),
                ]))]
            }
        }
    }
}

/// When an integration's request is tried again: after a 429 (waiting what its `Retry-After`
/// says, up to `longestWait`), a 5xx, a timeout or a refused connection, at most `attempts`
/// times in all, waiting `firstDelay`, then twice as long each time.
public struct RetryPolicy: Sendable {
    public var attempts: Int
    public var firstDelay: Duration
    public var longestWait: Duration

    public init(attempts: Int, firstDelay: Duration, longestWait: Duration) {
        self.attempts = attempts
        self.firstDelay = firstDelay
        self.longestWait = longestWait
    }

    /// One attempt, as scripts' own `http` has: the script decides.
    public static let none = RetryPolicy(attempts: 1, firstDelay: .zero, longestWait: .zero)

    /// How long to wait before attempt `attempt + 1`, or nil to give the answer as it is.
    /// `retryAfter` is the wait a 429's `Retry-After` asks for (`RetryAfter`).
    func delay(after attempt: Int, status: UInt?, retryAfter: Duration?) -> Duration? {
        guard attempt < attempts else { return nil }
        if let status, status != 429, status < 500 { return nil }
        if status == 429, let retryAfter { return min(retryAfter, longestWait) }
        return firstDelay * (1 << (attempt - 1))
    }
}

/// The options table of an `http` call, checked.
struct HTTPRequestOptions {
    var url = ""
    var method = "GET"
    var headers: [(String, String)] = []
    var body: [UInt8]?
    var timeout = HTTPModule.defaultTimeout

    static let known: Set<String> = ["url", "method", "headers", "body", "timeout"]

    static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "a")...UInt8(ascii: "z"): true
        default: Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    init(_ value: LuaValue, position: Int32) throws(HostError) {
        guard case .table(let table) = value else { throw .argument(position, "options table expected, got \(value.typeName)") }
        for key in table.fields.keys {
            guard case .string(let name) = key, Self.known.contains(name.description) else {
                let shown = if case .string(let name) = key { "'\(name)'" } else { "of type \(key.typeName)" }
                throw .argument(position, "unknown option \(shown); known: \(Self.known.sorted().joined(separator: ", "))")
            }
        }
        func string(_ name: String) throws(HostError) -> String? {
            switch table[.string(LuaString(name))] {
            case .nil: return nil
            case .string(let text): return text.description
            case let other: throw .argument(position, "\(name) must be a string, got \(other.typeName)")
            }
        }
        url = try string("url") ?? ""
        method = try string("method")?.uppercased() ?? method
        // A method is a token (RFC 9110): a space or CR LF in one would write a request of the
        // script's own framing to the allowed host, without the run's Idempotency-Key.
        guard !method.isEmpty, method.utf8.allSatisfy(Self.isTokenCharacter) else {
            throw .argument(position, "method must be a word such as GET or POST, got '\(method)'")
        }
        body = try string("body").map { Array($0.utf8) }
        switch table["timeout"] {
        case .nil: break
        case .integer(let seconds) where seconds > 0: timeout = Double(seconds)
        case .number(let seconds) where seconds > 0 && seconds.isFinite: timeout = seconds
        default: throw .argument(position, "timeout must be a positive number of seconds")
        }
        switch table["headers"] {
        case .nil: break
        case .table(let given):
            for (name, value) in given.fields {
                guard case .string(let name) = name, case .string(let value) = value else {
                    throw .argument(position, "headers must map names to strings")
                }
                headers.append((name.description, value.description))
            }
        case let other: throw .argument(position, "headers must be a table, got \(other.typeName)")
        }
    }

    /// The options with the secrets' placeholders replaced by the secrets.
    func revealing(_ secrets: IntegrationSecrets) -> HTTPRequestOptions {
        guard !secrets.isEmpty else { return self }
        var revealed = self
        revealed.url = secrets.reveal(url)
        revealed.headers = headers.map { name, value in (name, secrets.reveal(value)) }
        revealed.body = body.map(secrets.reveal)
        return revealed
    }

    func clientRequest(allowed: Set<String>) throws(HostError) -> HTTPClientRequest {
        guard let parsed = URLComponents(string: url), let scheme = parsed.scheme?.lowercased(),
              scheme == "http" || scheme == "https", let host = parsed.host?.lowercased(), !host.isEmpty
        else {
            throw HostError("'\(url)' is not an http or https URL")
        }
        let port = parsed.port ?? (scheme == "https" ? 443 : 80)
        guard allowed.contains(host) || allowed.contains("\(host):\(port)") else {
            throw HostError("\(host):\(port) is not an allowed host: the operator allows hosts with --allow-http HOST[:PORT]")
        }
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = .bytes(ByteBuffer(bytes: body)) }
        return request
    }
}
