@testable import AutomatorRuntime
import Foundation
import Hummingbird
import Logging
import Synchronization
import TestSupport
import Testing

@Suite("http: requests to allowed hosts only", .timeLimit(.minutes(1)))
struct HTTPModuleTests {
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    /// Runs `source` in a sandbox whose http module allows `hosts`.
    static func run(_ source: String, allowing hosts: [String]) async throws -> [LuaValue] {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                do {
                    let sandbox = try Sandbox(modules: StandardModules.all(logger: logger, allowedHTTPHosts: hosts))
                    let environment = try sandbox.makeEnvironment()
                    let chunk = try sandbox.load(Array(source.utf8), chunkName: "=http", in: environment)
                    continuation.resume(returning: try sandbox.run(chunk, limits: Limits(timeout: .seconds(20))))
                } catch {
                    continuation.resume(throwing: error)
                }
            }.start()
        }
    }

    /// What the loopback server received.
    final class Received: Sendable {
        let requests = Mutex<[String]>([])
    }

    static func server(received: Received) async throws -> LoopbackServer {
        let router = Router()
        router.get("/hello") { _, _ in "hello" }
        router.get("/moved") { _, _ in
            Response(status: .found, headers: [.location: "http://198.51.100.1/elsewhere"])
        }
        router.post("/tickets") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 20)
            let header = request.headers[.contentType] ?? ""
            received.requests.withLock { $0.append("\(header) \(String(buffer: body))") }
            return Response(status: .created, headers: [.init("X-Ticket")!: "T-1"], body: .init(byteBuffer: ByteBuffer(string: "{\"id\":1}")))
        }
        return try await LoopbackServer(router)
    }

    @Test("GET and POST reach an allowed host; statuses, headers and bodies come back; redirects are not followed")
    func allowed() async throws {
        let received = Received()
        let server = try await Self.server(received: received)
        defer { server.stop() }
        let values = try await Self.run("""
            local page = http.get("\(server.url)/hello")
            local created = http.request{ method = "post", url = "\(server.url)/tickets",
                                          headers = { ["Content-Type"] = "application/json" }, body = '{"a":1}' }
            local missing = http.get("\(server.url)/nowhere")
            local moved = http.get("\(server.url)/moved")   -- not followed: the script decides
            return page.status, page.body, created.status, created.headers["x-ticket"], created.body, missing.status,
                   moved.status, moved.headers.location
            """, allowing: ["127.0.0.1:\(server.port)"])
        #expect(values == [200, "hello", 201, "T-1", "{\"id\":1}", 404, 302, "http://198.51.100.1/elsewhere"])
        #expect(received.requests.withLock { $0 } == [#"application/json {"a":1}"#])
    }

    @Test("In a durable run, a request that may change something carries the run's idempotency key; the script's own wins")
    func idempotencyKeys() async throws {
        let keys = Mutex<[String]>([])
        let router = Router()
        for (path, method) in [("/read", HTTPRequest.Method.get), ("/tickets", .post), ("/tickets", .put)] {
            router.on(RouterPath(path), method: method) { request, _ -> HTTPResponse.Status in
                keys.withLock { $0.append("\(request.method) \(request.headers[.init("Idempotency-Key")!] ?? "none")") }
                return .ok
            }
        }
        let server = try await LoopbackServer(router)
        defer { server.stop() }
        let folder = try ScratchFolder()
        let service = try RunService(store: try SQLiteStore(folder: folder.path),
                                     modules: StandardModules.all(logger: Self.logger,
                                                                  allowedHTTPHosts: ["127.0.0.1:\(server.port)"]))
        let run = try await service.submit(script: "keys", source: Array("""
            http.get("\(server.url)/read")
            http.post("\(server.url)/tickets", "a")
            http.request{ method = "PUT", url = "\(server.url)/tickets", body = "b" }
            http.post("\(server.url)/tickets", "c", { headers = { ["idempotency-key"] = "mine" } })
            """.utf8))
        #expect(await service.waitForEnd(run.id)?.status == .completed)
        await service.shutdown()
        #expect(keys.withLock { $0 } == ["GET none", "POST \(run.id)/2", "PUT \(run.id)/3", "POST mine"])

        // Outside a durable run (a REPL) there is no run to name: no key.
        keys.withLock { $0.removeAll() }
        _ = try await Self.run(#"http.post("\#(server.url)/tickets", "x")"#, allowing: ["127.0.0.1:\(server.port)"])
        #expect(keys.withLock { $0 } == ["POST none"])
    }

    @Test("hmac_sha256 chains a list of messages, each MAC the next key (SigV4's signing key); sha256 is hex; bad lists are refused")
    func signing() async throws {
        let values = try await Self.run("""
            local secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
            local ok, wrong = pcall(http.hmac_sha256, "k", { "a", 2 })
            local empty_ok, empty = pcall(http.hmac_sha256, "k", {})
            return http.hmac_sha256("AWS4" .. secret, { "20150830", "us-east-1", "iam", "aws4_request" }),
                   http.hmac_sha256("key", { "The quick brown fox jumps over the lazy dog" }), http.sha256(""), wrong, empty
            """, allowing: [])
        // The IAM User Guide's example signing key for this secret, date, region and service.
        #expect(values.first == .string("c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"))
        #expect(values[1] == .string("f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"), "one message, as a string")
        #expect(values[2] == .string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))
        func text(_ value: LuaValue) -> String { if case .string(let text) = value { text.description } else { "" } }
        #expect(text(values[3]).contains("a list of messages holds strings, got number"), "\(values[3])")
        #expect(text(values[4]).contains("a message or a list of messages expected, got table"), "\(values[4])")
    }

    @Test("A host that is not allowed, a bad URL or a bad option is an error at the call, and nothing is sent",
          arguments: [
              ("http.get('http://127.0.0.1:PORT/hello')", [] as [String], "is not an allowed host: the operator allows hosts with --allow-http"),
              ("http.get('http://127.0.0.1:PORT/hello')", ["127.0.0.1:1"], "127.0.0.1:PORT is not an allowed host"),
              ("http.get('file:///etc/passwd')", ["127.0.0.1"], "'file:///etc/passwd' is not an http or https URL"),
              ("http.request{ url = 'http://127.0.0.1:PORT/', verb = 'GET' }", ["127.0.0.1"], "unknown option 'verb'; known: body, headers, method, timeout, url"),
              ("http.request{ url = 'http://127.0.0.1:PORT/', timeout = -1 }", ["127.0.0.1"], "timeout must be a positive number"),
              (#"http.request{ url = 'http://127.0.0.1:PORT/hello', method = 'GET /admin HTTP/1.1\r\nHost: internal\r\n\r\nGET' }"#,
               ["127.0.0.1"], "method must be a word such as GET or POST, got 'GET /ADMIN HTTP/1.1"),
          ])
    func refused(_ call: String, hosts: [String], message: String) async throws {
        let received = Received()
        let server = try await Self.server(received: received)
        defer { server.stop() }
        let port = String(server.port)
        let values = try await Self.run("return pcall(function() return \(call.replacingOccurrences(of: "PORT", with: port)) end)",
                                        allowing: hosts)
        #expect(values.first == false)
        guard case .string(let error) = values.last else { Issue.record("an error message expected"); return }
        #expect(error.description.contains(message.replacingOccurrences(of: "PORT", with: port)), "\(error)")
        #expect(received.requests.withLock { $0 }.isEmpty)
    }

    @Test("A host that does not answer is an error the script can catch, at once, not after the connect timeout")
    func unreachable() async throws {
        let server = try await Self.server(received: Received())
        let port = server.port
        server.stop()
        try await Task.sleep(for: .milliseconds(200))
        let started = ContinuousClock.now
        let values = try await Self.run("return pcall(http.get, 'http://127.0.0.1:\(port)/hello')", allowing: ["127.0.0.1"])
        // AsyncHTTPClient's own retries took its 10-second connect timeout to give up: half that
        // tells the two apart and holds on a loaded machine (a refused connection takes milliseconds).
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(values.first == false)
        guard case .string(let error) = values.last else { Issue.record("an error message expected"); return }
        #expect(error.description.hasSuffix("http.get: GET http://127.0.0.1:\(port)/hello: the connection was refused: "
            + "is the service running, and are the host and port right?"), "\(error)")
    }

    @Test("A server that answers too late is a timeout that says how long it waited")
    func lateAnswer() async throws {
        let router = Router()
        router.get("/late") { _, _ -> String in
            try await Task.sleep(for: .seconds(2))
            return "late"
        }
        let server = try await LoopbackServer(router)
        defer { server.stop() }
        let values = try await Self.run("return pcall(http.get, '\(server.url)/late', { timeout = 0.3 })",
                                        allowing: ["127.0.0.1"])
        #expect(values.first == false)
        guard case .string(let error) = values.last else { Issue.record("an error message expected"); return }
        #expect(error.description.hasSuffix("http.get: GET \(server.url)/late: timed out after 0.3 s"), "\(error)")
    }
}
