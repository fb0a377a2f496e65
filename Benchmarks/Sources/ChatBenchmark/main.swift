// The chat bot end to end: messages per second it classifies and answers, and the latency from
// the event sent to the reply posted, through a real `automator serve`.
//
//   swift build -c release --package-path Benchmarks --product ChatBenchmark
//   Benchmarks/.build/release/ChatBenchmark --automator .build/release/automator [--messages N]
//       [--concurrency N] [--repetitions N] [--incidents N] [--executors N] [--scripts DIR] [--rate N]
//       [--soak MINUTES [--sample-every SECONDS]]
//
// Starts Slack's Web API on loopback in this process, and `automator serve` on a fresh data
// folder with a local feed (so every verdict comes from memory) and `chat.slack` pointing at the
// loopback API. Seeds --incidents incidents mentioning some of the indicators (the bot says
// "seen in INC-…"), sets the bot up as people do (`join #soc`, `verbose on #soc` in a direct
// message: every finding is answered), warms up, then sends signed `message` events to
// `/slack/events`, each with one indicator (IPv4, domain, MD5, SHA-256; half in the feed), over
// --concurrency keep-alive connections, one message in flight on each: a connection sends its
// next message when the reply to its last one has arrived at the loopback API. Figures per repetition: replies per second over the
// repetition (first event sent to last reply posted), and the latency of each message from its
// event sent to its reply's arrival (p50, p99, max); the medians of --repetitions are the result.
// Goal: at least 5,000 messages/s and a p99 of at most 10 ms.
//
// With 32 messages in flight at saturation the latency is mostly the queue (32 / the rate), so
// --rate N adds a second figure after the first: the same repetitions sent at N messages a
// second whatever the server does (an open loop, over 128 connections), each
// message's latency counted from when it was due, so a stall of the server shows in every
// message due meanwhile. That is the p99 at a stated rate; the goal's is --rate 5000.
//
// --soak MINUTES replaces the repetitions: after the warm-up, messages at --rate for that long,
// with serve's resident memory (VmRSS, VmHWM) read every --sample-every seconds (`Soak`).
//
// The sender and the loopback API share the machine's cores with the server: the CPU time of
// each is printed beside the figure. Both run on one SwiftNIO event loop, callbacks without a
// task per message, so that they take as little of the machine as they can.

import ArgumentParser
import BenchSupport
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

struct BenchmarkError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

struct Options: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ChatBenchmark",
        abstract: "The chat bot end to end through a real `automator serve`: messages answered per second, "
            + "and the latency from the event sent to the reply posted.",
        discussion: """
            Starts Slack's Web API on loopback and `automator serve` on a fresh data folder, sends \
            signed message events (one indicator each, half of them in a local feed) over \
            --concurrency keep-alive connections, one message in flight on each, and prints per \
            repetition the replies per second and the latency's p50, p99 and max, then their medians. \
            With --rate, the same repetitions again at that rate whatever the server does (an open \
            loop over 128 connections), each latency counted from when the message was due. \
            With --soak, instead of the repetitions, messages at --rate for that many minutes, with \
            serve's resident memory read as it goes: a line a minute, then the growth.
            Goal: at least 5,000 messages/s, and a p99 of at most 10 ms at --rate 5000.

            Example:
              swift build -c release --static-swift-stdlib
              swift build -c release --package-path Benchmarks --product ChatBenchmark
              Benchmarks/.build/release/ChatBenchmark \\
                  --automator .build/release/automator --rate 5000
              Benchmarks/.build/release/ChatBenchmark \\
                  --automator .build/release/automator --soak 40 --rate 300
            """
    )

    @Option(help: ArgumentHelp("The automator binary (a release build).", valueName: "path"))
    var automator = ".build/release/automator"
    @Option(help: ArgumentHelp("The folder of the chat scripts the server loads.", valueName: "folder"))
    var scripts = "scripts"
    @Option(help: "Messages per repetition.") var messages = 20_000
    @Option(help: "Messages sent before the first repetition, not counted.") var warmUp = 4_000
    @Option(help: "Keep-alive connections, one message in flight on each.") var concurrency = 32
    @Option(help: "Repetitions; the medians are the result.") var repetitions = 5
    @Option(help: "Incidents seeded that mention some of the indicators.") var incidents = 1_000
    @Option(help: "The server's --executors (default: the server's own).") var executors: Int?
    @Option(help: "Measure again at this many messages a second, in an open loop (default: not measured).")
    var rate: Int?
    @Option(help: ArgumentHelp("Instead of the repetitions, send at --rate for this many minutes after the warm-up, "
                               + "reading serve's resident memory as it goes (default: no soak).", valueName: "minutes"))
    var soak: Int?
    @Option(help: ArgumentHelp("With --soak, read serve's memory this often.", valueName: "seconds"))
    var sampleEvery = 5

    func validate() throws {
        try requirePositive(["--messages": messages, "--concurrency": concurrency, "--repetitions": repetitions,
                             "--executors": executors, "--rate": rate, "--soak": soak,
                             "--sample-every": sampleEvery])
        if soak != nil, rate == nil {
            throw ValidationError("--soak sends at a stated rate: add --rate, as in --soak 30 --rate 300")
        }
        if warmUp < 0 { throw ValidationError("--warm-up must be at least 0, not \(warmUp)") }
        if incidents < 0 { throw ValidationError("--incidents must be at least 0, not \(incidents)") }
    }
}

/// One repetition's figures.
struct Measurement {
    var perSecond: Double
    var p50: Double
    var p99: Double
    var max: Double
    /// CPU milliseconds per message: the server's, and this process's (the sender and the API).
    var serverCPU: Double
    var harnessCPU: Double
}

let options = Options.fromCommandLine()
let indicators = Indicators()
/// The sender and the loopback API share one thread: a reply frees its sender's connection
/// without a hop.
let loop = MultiThreadedEventLoopGroup(numberOfThreads: 1).next()

/// Prints a line at once, also into a file (`print` buffers there): a repetition takes a while.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3)
        .joined(separator: " ") ?? "?"
}

/// Sends a request on `connection` (set-up, not the load); fails unless the server takes it (`accepted`).
func send(_ request: Request, on connection: Connection, accepted: Range<Int> = 200..<201) async throws {
    let answer = try await loop.flatSubmit { connection.send(request) }.get()
    guard accepted.contains(Int(answer.status.code)) else {
        throw BenchmarkError("\(request.head.uri) answered \(answer.status.code): \(String(buffer: answer.body))")
    }
}

/// Messages `first..<first + count`, signed now: before the clock starts, as fresh as the 5
/// minutes Slack's signature allows. Their ts repeat after a million: the bot keeps the last
/// thousand, so no repeat is refused.
func messages(from first: Int, count: Int, serve: ServeProcess) -> [Load.Message] {
    let tag = UUID().uuidString.prefix(8)
    return (first..<first + count).map { number in
        let event = Events.message(indicators.text(number), ts: String(format: "1700000000.%06d", number % 1_000_000),
                                   channel: LoopbackSlack.channel, event: "Ev\(tag)\(number)")
        return Load.Message(ts: event.ts, request: event.request(to: serve.port))
    }
}

/// Sends messages `first..<first + count` with one in flight on each connection; returns the
/// latencies (ms) and the time from the first event sent to the last reply posted.
func measure(from first: Int, count: Int, over connections: [Connection], serve: ServeProcess, slack: LoopbackSlack)
    async throws -> (latencies: [Double], elapsed: TimeAmount)
{
    let load = try await Load.run(messages(from: first, count: count, serve: serve), over: connections, slack: slack,
                                  timeout: .seconds(Int64(60 + count / 100)), serveLog: serve.log.path)
    return (load.latencies, load.ended - load.started)
}

/// Sends messages `first..<first + count` at `rate` a second (`OpenLoad`); returns the latencies
/// (ms, each from when its message was due) and the time from the first due to the last reply.
func measure(from first: Int, count: Int, rate: Int, over connections: [Connection], serve: ServeProcess,
             slack: LoopbackSlack) async throws -> (latencies: [Double], elapsed: TimeAmount)
{
    let load = try await OpenLoad.run(messages(from: first, count: count, serve: serve), rate: rate,
                                      over: connections, slack: slack,
                                      timeout: .seconds(Int64(60 + count / max(1, rate / 10))), serveLog: serve.log.path)
    return (load.latencies, load.ended - load.started)
}

/// Connections of the open loop: enough that a message due rarely waits for one (each is busy
/// from its event sent to serve's 200, a millisecond or two).
let openLoopConnections = 128

extension ServeProcess {
    var port: Int { URL(string: url)!.port! }
}

func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
    sorted[min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)]
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

/// The folder: the feed, the configuration; the server's data goes in `data/`.
func prepare(_ folder: URL, slack: LoopbackSlack) throws {
    try FileManager.default.createDirectory(at: folder.appendingPathComponent("feeds"), withIntermediateDirectories: true)
    try Data(indicators.feed.utf8).write(to: folder.appendingPathComponent("feeds/bad.txt"))
    try Data("""
        feeds:
          - { name: bench-bad, path: feeds/bad.txt, verdict: malicious }
        chat:
          slack:
            signing_secret: \(Events.signingSecret)
            bot_token: \(LoopbackSlack.token)
            api_url: \(slack.url)
          roles:
            analyst: [\(LoopbackSlack.user)]

        """.utf8).write(to: folder.appendingPathComponent("automator.yml"))
}

/// Incidents through the API, each mentioning one listed indicator: what `findings.seen` finds.
func seedIncidents(_ count: Int, on connection: Connection, serve: ServeProcess) async throws {
    for number in 0..<count {
        let value = indicators.listed[number % 4][number / 4 % Indicators.perKind]
        try await send(.post("/api/v1/incidents", to: serve.port, headers: [
            ("Authorization", "Bearer \(serve.token)"), ("Content-Type", "application/json"),
        ], body: #"{"title":"bench incident \#(number)","type":"bench","#
            + #""severity":"low","details":"seen talking to \#(value) from the finance VLAN"}"#),
        on: connection, accepted: 200..<300)
    }
}

/// `join #soc` and `verbose on #soc` in a direct message, as a person sets the bot up.
func setUpBot(on connection: Connection, serve: ServeProcess, slack: LoopbackSlack) async throws {
    let expected = ["Watching #soc.", "Verbose on in #soc."]
    for (number, text) in ["join #soc", "verbose on #soc"].enumerated() {
        try await send(Events.message(text, ts: "1600000000.00000\(number)", channel: LoopbackSlack.direct,
                                      event: "EvSetUp\(number)").request(to: serve.port), on: connection)
        let deadline = ContinuousClock.now + .seconds(30)
        var answers = [String]()
        while answers.count <= number {
            guard ContinuousClock.now < deadline else {
                throw BenchmarkError("the bot did not answer \"\(text)\" in the direct conversation within 30 s; "
                    + "the server's log is \(serve.log.path)")
            }
            try await Task.sleep(for: .milliseconds(10))
            answers = try await loop.submit { slack.plain }.get()
        }
        guard answers[number] == expected[number] else {
            throw BenchmarkError("the bot answered \"\(text)\" with \"\(answers[number])\", expected \"\(expected[number])\"")
        }
    }
}

func main() async throws {
    guard FileManager.default.isExecutableFile(atPath: options.automator) else {
        throw BenchmarkError("no automator at \(options.automator): build it (swift build -c release) and pass --automator")
    }
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("chat-bench-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    let slack = try await LoopbackSlack.start(on: loop)
    try prepare(folder, slack: slack)
    let serve = try await ServeProcess(automator: options.automator, folder: folder, arguments: [
        "--scripts", options.scripts, "--config", folder.appendingPathComponent("automator.yml").path,
    ] + (options.executors.map { ["--executors", String($0)] } ?? []))
    defer { serve.stop() }

    let shape = options.soak.map { "a soak of \($0) minutes" }
        ?? "\(options.messages) messages a repetition, \(options.concurrency) in flight, median of \(options.repetitions)"
    say("""
        chat bot end to end: \(shape) after \(options.warmUp) to warm up; \(options.incidents) incidents in the store
        \(ProcessInfo.processInfo.activeProcessorCount) cores shared by automator serve, the sender and the loopback \
        Slack API; load average \(loadAverage())
        """)
    var connections = [Connection]()
    for _ in 0..<options.concurrency { connections.append(try await Connection.open(to: serve.port, on: loop)) }
    try await seedIncidents(options.incidents, on: connections[0], serve: serve)
    try await setUpBot(on: connections[0], serve: serve, slack: slack)
    _ = try await measure(from: 0, count: options.warmUp, over: connections, serve: serve, slack: slack)
    if let minutes = options.soak, let rate = options.rate {
        let sent = try await Soak.run(minutes: minutes, rate: rate, sampleEvery: options.sampleEvery,
                                      from: options.warmUp, over: try await openConnections(to: serve),
                                      serve: serve, slack: slack)
        try await checkReplies(options.warmUp + sent, slack: slack)
        return
    }

    var measurements = [Measurement]()
    for repetition in 0..<options.repetitions {
        let first = options.warmUp + repetition * options.messages
        let measurement = try await measured(repetition, serve: serve) {
            try await measure(from: first, count: options.messages, over: connections, serve: serve, slack: slack)
        }
        measurements.append(measurement)
    }
    var sent = options.warmUp + options.repetitions * options.messages
    var offered = [Measurement]()
    if let rate = options.rate {
        say("open loop: \(options.messages) messages a repetition sent at \(rate)/s whatever the server does, over "
            + "\(openLoopConnections) connections; each latency from when its message was due")
        let open = try await openConnections(to: serve)
        for repetition in 0..<options.repetitions {
            let first = sent + repetition * options.messages
            offered.append(try await measured(repetition, serve: serve) {
                try await measure(from: first, count: options.messages, rate: rate, over: open, serve: serve,
                                  slack: slack)
            })
        }
        sent += options.repetitions * options.messages
    }
    try await checkReplies(sent, slack: slack)

    let rate = median(measurements.map(\.perSecond))
    let p99 = median(measurements.map(\.p99))
    say("saturation, \(options.concurrency) in flight:")
    say(String(format: "messages answered per second: %6.0f   goal >= 5000    %@", rate, rate >= 5_000 ? "PASS" : "MISS"))
    say(String(format: "p99 event to reply:           %6.2f ms goal <= 10 ms   %@", p99, p99 <= 10 ? "PASS" : "MISS"))
    say(summary(of: measurements))
    if let offeredRate = options.rate {
        let p99 = median(offered.map(\.p99))
        let kept = median(offered.map(\.perSecond))
        say("open loop, \(offeredRate) messages/s offered (\(String(format: "%.0f", kept))/s answered):")
        say(String(format: "p99 due to reply:             %6.2f ms goal <= 10 ms   %@", p99,
                   p99 <= 10 && offeredRate >= 5_000 ? "PASS" : offeredRate >= 5_000 ? "MISS" : "(below the goal's rate)"))
        say(summary(of: offered))
    }
}

/// The open loop's connections.
func openConnections(to serve: ServeProcess) async throws -> [Connection] {
    var open = [Connection]()
    for _ in 0..<openLoopConnections { open.append(try await Connection.open(to: serve.port, on: loop)) }
    return open
}

/// Fails unless every one of the `sent` messages got exactly one reply (and the set-up its two).
func checkReplies(_ sent: Int, slack: LoopbackSlack) async throws {
    let posted = try await loop.submit { slack.posts }.get()
    guard posted == sent + 2 else {
        throw BenchmarkError("the loopback API got \(posted) posts, expected \(sent + 2): some message had no reply or two")
    }
}

/// One repetition of `run`, with the CPU each process spent on it, printed as it ends.
func measured(_ repetition: Int, serve: ServeProcess,
              _ run: () async throws -> (latencies: [Double], elapsed: TimeAmount)) async throws -> Measurement
{
    let (serverBefore, harnessBefore) = (serve.cpuSeconds, processCPU())
    let (latencies, elapsed) = try await run()
    let sorted = latencies.sorted()
    let measurement = Measurement(
        perSecond: Double(latencies.count) / (Double(elapsed.nanoseconds) / 1e9),
        p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.last ?? 0,
        serverCPU: (serve.cpuSeconds - serverBefore) * 1e3 / Double(latencies.count),
        harnessCPU: (processCPU() - harnessBefore) * 1e3 / Double(latencies.count))
    say(String(format: "  #%d  %6.0f messages/s   p50 %6.2f ms   p99 %6.2f ms   max %7.2f ms   "
            + "CPU per message: serve %.3f ms, sender and API %.3f ms   load %@",
        repetition + 1, measurement.perSecond, measurement.p50, measurement.p99, measurement.max,
        measurement.serverCPU, measurement.harnessCPU, loadAverage()))
    return measurement
}

func summary(of measurements: [Measurement]) -> String {
    String(format: "(p50 %.2f ms, max %.2f ms; CPU per message: serve %.3f ms, sender and API %.3f ms; "
            + "load average now %@)",
        median(measurements.map(\.p50)), median(measurements.map(\.max)), median(measurements.map(\.serverCPU)),
        median(measurements.map(\.harnessCPU)), loadAverage())
}

do {
    try await main()
} catch {
    say("error: \(error)")
    exit(1)
}
