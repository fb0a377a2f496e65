// What an outbound HTTP call costs the process: the CPU time a request of AsyncHTTPClient, as
// Automator's clients make it (`HTTPClients`: 64 connections a host) and with AsyncHTTPClient's
// default of 8, against a plain SwiftNIO client (`Connection`, the chat benchmark's sender), from
// 32 callers at once to one loopback server.
//
//   swift build -c release --package-path Benchmarks --product HTTPClientBenchmark
//   Benchmarks/.build/release/HTTPClientBenchmark [--requests N] [--callers N]
//
// Each request is a bot's answer as the chat bot posts it (`chat.postMessage` with a JSON body
// of a hundred bytes, the answer's body read whole and decoded). The server, plain SwiftNIO on
// its own thread, costs the same in every line: the differences are the clients'.

import ArgumentParser
import AsyncHTTPClient
import AutomatorRuntime
import BenchSupport
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

struct Options: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "HTTPClientBenchmark",
        abstract: "What an outbound HTTP call costs the process: AsyncHTTPClient as Automator's clients make it, "
            + "and with its default pool, against a plain SwiftNIO client.",
        discussion: """
            Each request is a bot's answer as the chat bot posts it (chat.postMessage, a JSON body \
            of a hundred bytes, the answer read whole and decoded), from --callers at once to one \
            loopback server. Prints each client's CPU and wall time per request. No goal of its own: \
            it tells how much of the chat goal's CPU a message the HTTP client takes.

            Example:
              swift build -c release --package-path Benchmarks \\
                  --product HTTPClientBenchmark
              Benchmarks/.build/release/HTTPClientBenchmark --requests 40000 --callers 32
            """
    )

    @Option(help: "Requests per client.") var requests = 40_000
    @Option(help: "Callers at once.") var callers = 32

    func validate() throws {
        try requirePositive(["--requests": requests, "--callers": callers])
    }
}

/// Answers every request as Slack answers a post, on one event loop.
final class Answering: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        let answer = ByteBuffer(string: #"{"ok":true,"channel":"C0SOC","ts":"1700000000.000100"}"#)
        let head = HTTPResponseHead(version: .http1_1, status: .ok, headers: [
            "Content-Type": "application/json; charset=utf-8", "Content-Length": String(answer.readableBytes),
        ])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(answer))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}

struct Posted: Decodable {
    var ok: Bool
    var ts: String
}

let options = Options.fromCommandLine()
let body = #"{"channel":"C0SOC","thread_ts":"1700000000.000001","text":"203.0.113.7: malicious (bad-ips), seen in INC-12"}"#
let serverLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let server = try await ServerBootstrap(group: serverLoop)
    .serverChannelOption(.backlog, value: 256)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline()
            try channel.pipeline.syncOperations.addHandler(Answering())
        }
    }
    .bind(host: "127.0.0.1", port: 0).get()
let port = server.localAddress?.port ?? 0
let url = "http://127.0.0.1:\(port)/api/chat.postMessage"

/// A post through an AsyncHTTPClient, as `SlackWebAPI` makes it.
func post(with client: HTTPClient) async throws {
    var request = HTTPClientRequest(url: url)
    request.method = .POST
    request.headers.add(name: "Authorization", value: "Bearer xoxb-bench")
    request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
    request.body = .bytes(ByteBuffer(string: body))
    let response = try await client.execute(request, timeout: .seconds(30))
    let answer = Data(Array(buffer: try await response.body.collect(upTo: 1 << 20)))
    _ = try JSONDecoder().decode(Posted.self, from: answer)
}

/// The same post on a plain SwiftNIO connection of the caller's own.
func post(on connection: Connection) async throws {
    let request = Request.post("/api/chat.postMessage", to: port, headers: [
        ("Authorization", "Bearer xoxb-bench"), ("Content-Type", "application/json; charset=utf-8"),
    ], body: body)
    let answer = try await connection.loop.flatSubmit { connection.send(request) }.get()
    _ = try JSONDecoder().decode(Posted.self, from: Data(answer.body.readableBytesView))
}

/// CPU microseconds a request and requests a second, `options.requests` from `options.callers`
/// at once, after a tenth as many to warm up.
func measure(_ call: @escaping @Sendable (_ caller: Int) async throws -> Void) async throws -> (cpu: Double, rate: Double) {
    func round(_ requests: Int) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for caller in 0..<options.callers {
                group.addTask { for _ in 0..<(requests / options.callers) { try await call(caller) } }
            }
            try await group.waitForAll()
        }
    }
    try await round(options.requests / 10)
    let cpu = processCPU()
    let start = ContinuousClock.now
    try await round(options.requests)
    let wall = seconds(ContinuousClock.now - start)
    let done = Double(options.requests / options.callers * options.callers)
    return ((processCPU() - cpu) / done * 1e6, done / wall)
}

func show(_ name: String, _ figures: (cpu: Double, rate: Double)) {
    print(name.padding(toLength: 46, withPad: " ", startingAt: 0)
        + String(format: "%6.1f µs CPU a request  %7.0f requests/s", figures.cpu, figures.rate))
}

print("\(options.requests) posts from \(options.callers) callers at once to a loopback server, "
    + "\(ProcessInfo.processInfo.activeProcessorCount) cores; CPU of the whole process (the server's included)")
let clientLoops = MultiThreadedEventLoopGroup(numberOfThreads: 2)
var opened = [Connection]()
for _ in 0..<options.callers { opened.append(try await Connection.open(to: port, on: clientLoops.next())) }
let connections = opened
show("plain SwiftNIO, a connection a caller", try await measure { try await post(on: connections[$0]) })
let automator = HTTPClients(configuration: HTTPClient.Configuration()).client(for: url)
show("AsyncHTTPClient as HTTPClients makes it (64)", try await measure { _ in try await post(with: automator) })
let defaults = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup)
show("AsyncHTTPClient's default pool (8 a host)", try await measure { _ in try await post(with: defaults) })
try await defaults.shutdown()
