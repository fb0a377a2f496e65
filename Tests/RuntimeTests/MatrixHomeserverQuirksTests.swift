@testable import AutomatorRuntime
import Foundation
import Hummingbird
import Logging
import Synchronization
import TestSupport
import Testing

/// What the test Synapse never does (its rate limits are raised, it has authenticated media, its
/// stop cuts the long polls under way), from a loopback server that answers like a homeserver that does.
@Suite("Matrix adapter: rate limits, homeservers without authenticated media, a homeserver gone between polls", .timeLimit(.minutes(1)))
struct MatrixHomeserverQuirksTests {
    final class Requests: Sendable {
        let paths = Mutex<[String]>([])
        func record(_ request: Request) { paths.withLock { $0.append(request.uri.path) } }
        var all: [String] { paths.withLock { $0 } }
    }

    static func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func adapter(_ server: LoopbackServer) -> MatrixAdapter {
        MatrixAdapter(configuration: MatrixConfiguration(homeserver: server.url, userID: "@bot:localhost",
                                                         credential: .accessToken("token")),
                      state: MemoryChatState(), logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
                      longestRetryDelay: .milliseconds(500))
    }

    @Test("A 429 is sent again after its retry_after_ms, with the same transaction; one that lasts is unavailable")
    func rateLimited() async throws {
        let requests = Requests()
        let router = Router()
        router.put("/_matrix/client/v3/rooms/:room/send/:type/:txn") { request, context -> Response in
            // Reactions stay rate-limited; a message is taken the second time.
            guard context.parameters.get("type") == "m.room.message" else {
                return Self.json(.tooManyRequests, #"{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":10}"#)
            }
            requests.record(request)
            guard requests.all.count > 1 else {
                return Self.json(.tooManyRequests, #"{"errcode":"M_LIMIT_EXCEEDED","retry_after_ms":300}"#)
            }
            return Self.json(.ok, #"{"event_id":"$sent"}"#)
        }
        let server = try await LoopbackServer(router)
        defer { server.stop() }
        let adapter = Self.adapter(server)

        let clock = ContinuousClock()
        let started = clock.now
        let sent = try await adapter.post(ChatPost(channel: "!room:localhost", text: "hello"))
        #expect(sent == ChatMessageRef(channel: "!room:localhost", id: "$sent"))
        #expect(clock.now - started >= .milliseconds(300))
        let paths = requests.all
        #expect(paths.count == 2 && paths.first == paths.last, "the retry reuses the transaction id: \(paths)")

        let error = await #expect(throws: ChatError.self) {
            try await adapter.react(to: sent, with: "👀")
        }
        #expect(error?.kind == .unavailable)
        #expect(error?.description.contains("M_LIMIT_EXCEEDED") == true)
    }

    @Test("A 429 with no retry_after_ms but a Retry-After HTTP-date (a proxy's) is sent again no sooner than that date")
    func rateLimitedUntilDate() async throws {
        let arrivals = Mutex<[Date]>([])
        let until = Mutex<Date?>(nil)
        let router = Router()
        router.put("/_matrix/client/v3/rooms/:room/send/:type/:txn") { _, _ -> Response in
            let now = Date()
            guard arrivals.withLock({ $0.append(now); return $0.count }) > 1 else {
                // Whole seconds, as an HTTP-date has them; later than the 1 s waited without one.
                let date = Date(timeIntervalSince1970: (now.timeIntervalSince1970 + 3).rounded(.down))
                until.withLock { $0 = date }
                var response = Self.json(.tooManyRequests, #"{"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests"}"#)
                response.headers[.retryAfter] = IntegrationPauseTests.httpDate(date)
                return response
            }
            return Self.json(.ok, #"{"event_id":"$sent"}"#)
        }
        let server = try await LoopbackServer(router)
        defer { server.stop() }

        let sent = try await Self.adapter(server).post(ChatPost(channel: "!room:localhost", text: "hello"))
        #expect(sent.id == "$sent")
        let times = arrivals.withLock { $0 }
        let date = try #require(until.withLock { $0 })
        #expect(times.count == 2)
        #expect(times.last! >= date, "sent again at \(times.last!), before the Retry-After date \(date)")
    }

    @Test("A homeserver that stops answering shows as lost within seconds, not after the HTTP client's connection retries")
    func lostWithinSeconds() async throws {
        let syncs = Requests()
        let router = Router()
        router.get("/_matrix/client/v3/account/whoami") { _, _ in Self.json(.ok, #"{"user_id":"@bot:localhost"}"#) }
        router.get("/_matrix/client/v3/sync") { request, _ -> Response in
            syncs.record(request)
            // A short long poll, on a connection of its own: the next finds no one once the server
            // stops accepting.
            try await Task.sleep(for: .milliseconds(200))
            return Response(status: .ok, headers: [.contentType: "application/json", .connection: "close"],
                            body: .init(byteBuffer: ByteBuffer(string: #"{"next_batch":"s\#(syncs.all.count)"}"#)))
        }
        let server = try await LoopbackServer(router)
        let adapter = Self.adapter(server)
        let running = Task { try await adapter.run(delivering: RecordingInbox()) }
        defer { running.cancel() }
        let connection = try #require(adapter.connection)
        let clock = ContinuousClock()
        var deadline = clock.now + .seconds(10)
        while syncs.all.count < 2, clock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(connection.status.connected, "\(connection.status)")

        try await server.stopAccepting()
        defer { server.stop() }
        let stopped = clock.now
        deadline = stopped + .seconds(30)
        while connection.status.connected, clock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        let lag = clock.now - stopped
        #expect(!connection.status.connected && lag < .seconds(3), "still connected \(lag) after the homeserver stopped")
        #expect(connection.status.problem?.contains("cannot reach the Matrix homeserver") == true, "\(connection.status)")
    }

    @Test("A homeserver gone silent mid-poll (its host down, the connection never closed) shows as lost once the poll's time is out")
    func silentHomeserver() async throws {
        let router = Router()
        router.get("/_matrix/client/v3/account/whoami") { _, _ in Self.json(.ok, #"{"user_id":"@bot:localhost"}"#) }
        router.get("/_matrix/client/v3/sync") { request, _ -> Response in
            // The first start's sync is answered; the long polls after it, accepted, never are.
            guard request.uri.queryParameters.get("since") == nil else {
                try await Task.sleep(for: .seconds(3600))
                return Self.json(.ok, "{}")
            }
            return Self.json(.ok, #"{"next_batch":"s1"}"#)
        }
        let server = try await LoopbackServer(router)
        defer { server.stop() }
        let adapter = MatrixAdapter(configuration: MatrixConfiguration(homeserver: server.url, userID: "@bot:localhost",
                                                                       credential: .accessToken("token")),
                                    state: MemoryChatState(), logger: Logger(label: "test") { _ in SwiftLogNoOpLogHandler() },
                                    longestRetryDelay: .milliseconds(500), pollTimeout: .seconds(1))
        let running = Task { try await adapter.run(delivering: RecordingInbox()) }
        defer { running.cancel() }
        let connection = try #require(adapter.connection)
        let clock = ContinuousClock()
        let started = clock.now
        while !connection.status.connected, clock.now < started + .seconds(5) { try await Task.sleep(for: .milliseconds(20)) }
        #expect(connection.status.connected, "\(connection.status)")
        let polling = clock.now
        while connection.status.connected, clock.now < polling + .seconds(10) { try await Task.sleep(for: .milliseconds(20)) }
        let lag = clock.now - polling
        // The poll's 1 s and a third, not the 90 s a poll had before it was given up: 10 s tells
        // them apart and holds on a loaded machine.
        #expect(!connection.status.connected && lag < .seconds(10), "still connected \(lag) into a silent poll")
        #expect(connection.status.problem?.contains("cannot reach the Matrix homeserver") == true, "\(connection.status)")
    }

    @Test("A homeserver back after a failure shows as connected at its first answer, not after a long poll with nothing new")
    func backAtOnce() async throws {
        let failedAt = Mutex<Date?>(nil)
        let router = Router()
        router.get("/_matrix/client/v3/account/whoami") { _, _ in Self.json(.ok, #"{"user_id":"@bot:localhost"}"#) }
        router.get("/_matrix/client/v3/sync") { request, _ -> Response in
            // The first start's sync and any poll that does not wait are answered at once; the
            // first long poll fails (the homeserver restarting), the next ones hold, nothing new.
            let query = request.uri.queryParameters
            if query.get("since") == nil || query.get("timeout") == "0" { return Self.json(.ok, #"{"next_batch":"s1"}"#) }
            if failedAt.withLock({ failedAt in defer { failedAt = failedAt ?? Date() }; return failedAt == nil }) {
                return Self.json(.badGateway, #"{"errcode":"M_UNKNOWN","error":"restarting"}"#)
            }
            try await Task.sleep(for: .seconds(3600))
            return Self.json(.ok, "{}")
        }
        let server = try await LoopbackServer(router)
        defer { server.stop() }
        let adapter = Self.adapter(server)
        let running = Task { try await adapter.run(delivering: RecordingInbox()) }
        defer { running.cancel() }
        let connection = try #require(adapter.connection)
        let clock = ContinuousClock()
        // Connected again after the failure: a long poll would hold the 30 s of `pollTimeout`
        // first, longer than this wait.
        func back() -> Bool {
            let status = connection.status
            return failedAt.withLock { $0.map { status.connected && status.since > $0 } } ?? false
        }
        let deadline = clock.now + .seconds(20)
        while !back(), clock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(back(), "\(connection.status)")
    }

    @Test("Media comes from the unauthenticated endpoint when the homeserver does not know the authenticated one")
    func olderMediaEndpoint() async throws {
        let requests = Requests()
        let router = Router()
        router.get("/_matrix/client/v1/media/download/:server/:media") { request, _ -> Response in
            requests.record(request)
            return Self.json(.notFound, #"{"errcode":"M_UNRECOGNIZED","error":"Unrecognized request"}"#)
        }
        router.get("/_matrix/media/v3/download/:server/:media") { request, context -> Response in
            requests.record(request)
            guard context.parameters.get("media") == "abc" else {
                return Self.json(.notFound, #"{"errcode":"M_NOT_FOUND"}"#)
            }
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "file bytes")))
        }
        let server = try await LoopbackServer(router)
        defer { server.stop() }
        let adapter = Self.adapter(server)

        let file = ChatFile(id: "mxc://localhost/abc", name: "a.txt", url: "mxc://localhost/abc")
        #expect(try await adapter.download(file, limit: 100) == Array("file bytes".utf8))
        #expect(requests.all == ["/_matrix/client/v1/media/download/localhost/abc", "/_matrix/media/v3/download/localhost/abc"])
        let gone = ChatFile(id: "mxc://localhost/gone", name: "gone.txt", url: "mxc://localhost/gone")
        let error = await #expect(throws: ChatError.self) { try await adapter.download(gone, limit: 100) }
        #expect(error?.kind == .notFound)
    }
}
