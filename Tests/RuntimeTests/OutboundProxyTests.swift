@testable import AutomatorRuntime
import AsyncHTTPClient
import Crypto
import Foundation
import Hummingbird
import NIOCore
import NIOPosix
import NIOSSL
import Testing
import TestSupport

@Suite("Outbound HTTP through the environment's proxy: HTTPS_PROXY, HTTP_PROXY, NO_PROXY", .timeLimit(.minutes(1)))
struct OutboundProxyTests {
    @Test("The variables are read as curl reads them; loopback and NO_PROXY's hosts are reached directly")
    func reading() {
        let proxy = OutboundProxy(environment: [
            "HTTPS_PROXY": "http://alice:s%40cret@proxy.corp:3128", "http_proxy": "plain.corp",
            "HTTP_PROXY": "ignored.corp:1", "NO_PROXY": " .internal.corp, vault.example ,10.1.2.3",
        ])
        let secure = OutboundProxy.Server(host: "proxy.corp", port: 3128, username: "alice", password: "s@cret")
        #expect(proxy.server(scheme: "https", host: "www.virustotal.com") == secure)
        #expect(proxy.server(scheme: "wss", host: "wss-primary.slack.com") == secure)
        #expect(proxy.server(scheme: "http", host: "urlhaus.example") == OutboundProxy.Server(host: "plain.corp", port: 1080))
        for direct in ["misp.internal.corp", "internal.corp", "vault.example", "api.vault.example", "10.1.2.3",
                       "127.0.0.1", "localhost", "[::1]"] {
            #expect(proxy.server(scheme: "https", host: direct) == nil, "\(direct)")
        }
        #expect(proxy.server(scheme: "https", host: "notvault.example") == secure, "a suffix of a name is not its domain")
        #expect("\(secure)" == "proxy.corp:3128", "no password in logs")
        #expect(OutboundProxy.authorization(secure) == "Basic " + Data("alice:s@cret".utf8).base64EncodedString())
        #expect(OutboundProxy(environment: ["HTTPS_PROXY": "socks5://proxy:1080"]).https == nil)
        #expect(OutboundProxy(environment: ["HTTPS_PROXY": "http://p:1", "NO_PROXY": "*"]).server(scheme: "https", host: "x") == nil)
        #expect(OutboundProxy(environment: [:]).server(scheme: "https", host: "x") == nil)
    }

    @Test("HTTP goes through the proxy, which alone can reach a host that does not resolve")
    func http() async throws {
        let router = Router()
        router.get("/api/v3/ip_addresses/{ip}") { _, context in "asked about \(context.parameters.get("ip") ?? "")" }
        let api = try await LoopbackServer(router)
        defer { api.stop() }
        let proxy = try await LoopbackProxy()
        let clients = HTTPClients(configuration: HTTPClient.Configuration(),
                                  proxy: OutboundProxy(environment: ["HTTP_PROXY": proxy.url]))
        let url = "http://virustotal.test:\(api.port)/api/v3/ip_addresses/198.51.100.7"
        let response = try await clients.client(for: url).execute(HTTPClientRequest(url: url), timeout: .seconds(10))
        #expect(String(buffer: try await response.body.collect(upTo: 1024)) == "asked about 198.51.100.7")
        #expect(proxy.requests == ["CONNECT virustotal.test:\(api.port) HTTP/1.1"], "a tunnel, as for https")
        // Loopback is reached directly.
        let local = "http://127.0.0.1:\(api.port)/api/v3/ip_addresses/192.0.2.1"
        _ = try await clients.client(for: local).execute(HTTPClientRequest(url: local), timeout: .seconds(10))
        #expect(proxy.requests.count == 1)
        try await clients.shutdown()
    }

    @Test("Socket Mode's WebSocket is a CONNECT tunnel; a proxy that wants credentials gets them, or says so")
    func socketMode() async throws {
        let socket = try await FakeSlackSocket()
        let proxy = try await LoopbackProxy(credentials: "soc:hunter2")
        let url = try #require(URL(string: "ws://wss-primary.slack.test:\(socket.port)/link/?ticket=1"))
        let through = OutboundProxy(environment: ["HTTP_PROXY": "http://soc:hunter2@127.0.0.1:\(proxy.port)"])
        let connection = try await SlackWebSocket.connect(to: url, proxy: through)
        let greeting = Task { try await connection.session { text, _ in !text.contains("hello") } }
        let watchdog = Task { try await Task.sleep(for: .seconds(10)); greeting.cancel() }
        #expect(try await greeting.value, "the hello arrived through the tunnel")
        watchdog.cancel()
        #expect(proxy.requests == ["CONNECT wss-primary.slack.test:\(socket.port) HTTP/1.1"])

        let refused = OutboundProxy(environment: ["HTTP_PROXY": proxy.url])
        do {
            _ = try await SlackWebSocket.connect(to: url, proxy: refused)
            Issue.record("the proxy let a request without credentials through")
        } catch {
            #expect(error.description.contains("through the proxy 127.0.0.1:\(proxy.port)"), "\(error)")
        }
        withExtendedLifetime(socket) {}  // its server closes when it goes
    }
}

@Suite("The WebSocket client: TLS, and what the server sends in the read that brings its 101", .timeLimit(.minutes(1)))
struct WebSocketOpeningTests {
    /// The first message of a session on `connection`, or "" if none came within 10 s.
    static func firstMessage(_ connection: SlackWebSocket) async throws -> String {
        let first = Task { () -> String in
            var seen = ""
            _ = try await connection.session { text, _ in seen = text; return false }
            return seen
        }
        let watchdog = Task { try await Task.sleep(for: .seconds(10)); first.cancel() }
        defer { watchdog.cancel() }
        return try await first.value
    }

    @Test("wss:// as Slack's is: the certificate checked, directly and through the proxy's tunnel (SNI inside it)")
    func tls() async throws {
        let socket = try await FakeSlackSocket(tls: true)
        var trusting = TLSConfiguration.makeClientConfiguration()
        trusting.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(TestCertificate.certificate.utf8), format: .pem)])
        let direct = try #require(URL(string: "wss://localhost:\(socket.port)/link/?ticket=1"))
        let none = OutboundProxy(environment: [:])
        #expect(try await Self.firstMessage(try await SlackWebSocket.connect(to: direct, proxy: none, tls: trusting))
            .contains(#""type":"hello""#))

        let proxy = try await LoopbackProxy()
        let tunnelled = try #require(URL(string: "wss://wss-primary.slack.test:\(socket.port)/link/?ticket=2"))
        let through = OutboundProxy(environment: ["HTTPS_PROXY": proxy.url])
        #expect(try await Self.firstMessage(try await SlackWebSocket.connect(to: tunnelled, proxy: through, tls: trusting))
            .contains(#""type":"hello""#))
        #expect(proxy.requests == ["CONNECT wss-primary.slack.test:\(socket.port) HTTP/1.1"])

        // A certificate the system does not trust is refused: the bot speaks to Slack or to no one.
        do {
            _ = try await SlackWebSocket.connect(to: direct, proxy: none)
            Issue.record("an untrusted certificate was accepted")
        } catch {
            #expect(error.description.contains("cannot open the WebSocket to localhost"), "\(error)")
        }
        withExtendedLifetime(socket) {}
    }

    @Test("A silent connection is pinged; one that answers lives on, one that does not is closed")
    func idle() async throws {
        let url = { (socket: FakeSlackSocket) in URL(string: "ws://127.0.0.1:\(socket.port)/link")! }
        let none = OutboundProxy(environment: [:])
        let alive = try await FakeSlackSocket()
        let kept = try await SlackWebSocket.connect(to: url(alive), proxy: none)
        let session = Task { try await kept.session(idle: .milliseconds(200)) { text, _ in !text.contains("still here") } }
        try await Task.sleep(for: .seconds(1))  // five times the silence that is pinged
        try await alive.send(#"{"type":"still here"}"#)
        #expect(try await session.value, "the message after the silence arrived: the pongs kept it")

        let dead = try await FakeSlackSocket(answersPings: false)
        let lost = try await SlackWebSocket.connect(to: url(dead), proxy: none)
        let started = ContinuousClock.now
        let ended = Task { try? await lost.session(idle: .milliseconds(200)) { text, _ in true } }
        let watchdog = Task { try await Task.sleep(for: .seconds(60)); ended.cancel() }
        _ = await ended.value
        watchdog.cancel()
        // Twice the silence is 400 ms; a session that does not close ends at the watchdog's 60 s.
        #expect(ContinuousClock.now - started < .seconds(20), "closed after twice the silence, not at the watchdog")
    }

    /// A server that answers the upgrade and sends its first message in one write: the client
    /// reads them together, and the message must not go with the HTTP decoder.
    @Test("A first message in the same write as the 101 arrives")
    func firstMessageWithTheUpgrade() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(EagerServer()) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { server.close(promise: nil) }
        let url = try #require(URL(string: "ws://127.0.0.1:\(server.localAddress?.port ?? 0)/link"))
        let connection = try await SlackWebSocket.connect(to: url, proxy: OutboundProxy(environment: [:]))
        #expect(try await Self.firstMessage(connection) == #"{"type":"hello"}"#)
    }

    private final class EagerServer: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        var request = ""

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            request += String(buffer: unwrapInboundIn(data))
            guard request.contains("\r\n\r\n"), let line = request.components(separatedBy: "\r\n")
                .first(where: { $0.lowercased().hasPrefix("sec-websocket-key:") })
            else { return }
            let key = line.dropFirst("sec-websocket-key:".count).trimmingCharacters(in: .whitespaces)
            let accept = Data(Insecure.SHA1.hash(data: Data((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8)))
                .base64EncodedString()
            let hello = Array(#"{"type":"hello"}"#.utf8)
            var out = ByteBuffer(string: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Accept: \(accept)\r\n\r\n")
            out.writeBytes([0x81, UInt8(hello.count)] + hello)
            context.writeAndFlush(wrapOutboundOut(out), promise: nil)
            request = ""
        }
    }
}
