// Several `automator serve` processes on one PostgreSQL, against one on SQLite: incidents end to
// end through the API, and the issue's check with a SIGKILL.
//
//   swift build -c release --static-swift-stdlib
//   URL=$(Benchmarks/postgres-server.sh start)
//   swift run -c release --package-path Benchmarks SharedServeBenchmark --automator .build/release/automator \
//       --store "$URL" [--incidents N] [--checked N] [--in-flight N] [--repetitions N] [--lease SECONDS]
//   Benchmarks/postgres-server.sh stop
//
// Each incident's playbook notes, posts the incident's id to a loopback server in this process
// (the effect, counted per incident), and closes the incident: 5 host calls, 4 of them writes.
// (a) incidents per second, from the first POST /api/v1/incidents to the last incident closed,
//     --in-flight POSTs at once, sent to the workers in turn: one worker on SQLite, then 1, 2 and
//     3 workers on an emptied PostgreSQL database; CPU per incident of the workers and of the
//     whole machine (PostgreSQL, this harness).
// (b) failover: 3 workers, leases of --lease seconds; --failover incidents posted to the first,
//     each run held in an HTTP call the loopback server does not answer; the first is SIGKILLed
//     and the calls answered from then on: the time until the other two have closed them all.
// (c) the issue's check: --checked incidents through 3 workers, the first SIGKILLed when half
//     are posted; every incident closed once, its run completed, its effect counted at least
//     once and twice only for the killed worker's runs, and then with the same idempotency key;
//     the killed worker's runs finished by the others.

import ArgumentParser
import AsyncHTTPClient
import BenchSupport
import Foundation
import Glibc
import NIOCore
import NIOHTTP1

@main
struct SharedServeBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "SharedServeBenchmark",
        abstract: "Several `automator serve` processes on one PostgreSQL against one on SQLite: incidents end to end "
            + "through the API, failover after a SIGKILL, and the issue's exactly-once check.",
        discussion: """
            Each incident's playbook notes, posts to a loopback server here (the effect, counted) and \
            closes the incident. (a) incidents per second with one worker on SQLite, then 1, 2 and 3 on \
            PostgreSQL; (b) failover: the time until two workers have closed the incidents a SIGKILLed \
            third held; (c) --checked incidents through 3 workers, one SIGKILLed halfway: each closed \
            once, each effect counted once (twice only for the killed worker's, same idempotency key).
            Goal: failover within the lease plus 1 s; the check passes.

            Example:
              swift build -c release --static-swift-stdlib
              URL=$(Benchmarks/postgres-server.sh start)
              Benchmarks/.build/release/SharedServeBenchmark \\
                  --automator .build/release/automator --store "$URL"
              Benchmarks/postgres-server.sh stop
            """
    )

    @Option(help: "The automator binary (a release build).") var automator: String
    @Option(help: "The PostgreSQL database (Benchmarks/postgres-server.sh start prints one); emptied between runs.")
    var store: String
    @Option(help: "Incidents per throughput measurement.") var incidents = 2_000
    @Option(help: "Incidents of the check with a SIGKILL.") var checked = 10_000
    @Option(help: "POSTs in flight.") var inFlight = 48
    @Option(help: "Measurements; the median is shown.") var repetitions = 3
    @Option(help: "The workers' lease time, seconds.") var lease = 2.0
    @Option(help: "Incidents held by the worker that dies in the failover.") var failover = 300
    @Option(help: "Where the data folders go.") var folder = FileManager.default.temporaryDirectory.path

    static func main() async { await runFromCommandLine() }

    func validate() throws {
        try requirePositive(["--incidents": incidents, "--checked": checked, "--in-flight": inFlight,
                             "--repetitions": repetitions, "--failover": failover])
        try requirePositive(["--lease": lease])
    }

    func run() async throws {
        let bench = try await Bench(options: self)
        say("Shared serve: \(incidents) incidents per measurement, \(inFlight) POSTs in flight, median of "
            + "\(repetitions); \(ProcessInfo.processInfo.activeProcessorCount) cores, load \(loadAverage())")
        var sqlite: [Measurement] = [], postgres: [Int: [Measurement]] = [:]
        for repetition in 1...repetitions {
            sqlite.append(try await bench.throughput(workers: 1, onPostgres: false))
            for workers in 1...3 { postgres[workers, default: []].append(try await bench.throughput(workers: workers, onPostgres: true)) }
            say("  #\(repetition) done, load \(loadAverage())")
        }
        show("SQLite, 1 worker:       ", sqlite)
        for workers in 1...3 { show("PostgreSQL, \(workers) worker\(workers == 1 ? ": " : "s:")", postgres[workers]!) }
        let ratio = median(postgres[1]!.map(\.machineMicroseconds)) / median(sqlite.map(\.machineMicroseconds))
        say(String(format: "per-incident machine CPU, PostgreSQL (1 worker) / SQLite: %.1fx", ratio))
        var failovers: [Double] = []
        for _ in 1...repetitions { failovers.append(try await bench.failover()) }
        say(String(format: "failover (lease %.1f s, %d incidents): %.2f s median, %.2f to %.2f s (goal: <= lease + 1 s: %@)",
                   lease, failover, median(failovers), failovers.min()!, failovers.max()!,
                   median(failovers) <= lease + 1 ? "MET" : "MISS"))
        try await bench.check()
        try await bench.client.shutdown()
    }
}

struct Measurement {
    var perSecond: Double
    var workerMicroseconds: Double
    var machineMicroseconds: Double
}

final class Bench {
    let options: SharedServeBenchmark
    let effects: Effects
    let scripts: URL
    let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup,
                            configuration: HTTPClient.Configuration(connectionPool: .init(
                                idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)))

    init(options: SharedServeBenchmark) async throws {
        self.options = options
        effects = try await Effects()
        scripts = URL(fileURLWithPath: options.folder).appendingPathComponent("automator-serve-bench-scripts")
        try FileManager.default.createDirectory(at: scripts.appendingPathComponent("playbooks"),
                                                withIntermediateDirectories: true)
        for (name, type, call) in [("bench", "bench", ""), ("held", "held", "http.post(\"\(effects.url)/hold\", inc.id)\n")] {
            try Data("""
                return playbook {
                  name = "\(name)", match = { type = "\(type)" },
                  run = function(inc)
                    inc:note("checking")
                    \(call)local answer = http.post("\(effects.url)/effect", inc.id)
                    inc:close{ reason = "effect " .. answer.status }
                  end,
                }
                """.utf8).write(to: scripts.appendingPathComponent("playbooks/\(name).lua"))
        }
    }

    /// `count` workers on the emptied database (or one on a new SQLite folder).
    func start(_ count: Int, onPostgres: Bool) async throws -> [ServeProcess] {
        if onPostgres { try psql("DROP SCHEMA public CASCADE; CREATE SCHEMA public") }
        let base = URL(fileURLWithPath: options.folder).appendingPathComponent("automator-serve-bench-\(UUID().uuidString)")
        var workers: [ServeProcess] = []
        for index in 0..<count {
            let arguments = ["--scripts", scripts.path, "--allow-http", "127.0.0.1"]
                + (onPostgres ? ["--store", options.store, "--lease", "\(options.lease)s"] : [])
            workers.append(try await ServeProcess(automator: options.automator,
                                                  folder: base.appendingPathComponent("\(index)"), arguments: arguments))
        }
        return workers
    }

    func stop(_ workers: [ServeProcess]) {
        for worker in workers where worker.isRunning { worker.stop() }
        if let folder = workers.first?.log.deletingLastPathComponent().deletingLastPathComponent() {
            try? FileManager.default.removeItem(at: folder)
        }
    }

    func throughput(workers count: Int, onPostgres: Bool) async throws -> Measurement {
        let workers = try await start(count, onPostgres: onPostgres)
        defer { stop(workers) }
        _ = effects.take()
        let started = ContinuousClock.now, machine = machineCPU(), cpu = workers.map(\.cpuSeconds).reduce(0, +)
        try await post(options.incidents, type: "bench", to: workers.map(\.target))
        let deadline = ContinuousClock.now + .seconds(600)
        while true {
            if effects.distinct == options.incidents, try await noneOpen(on: workers[0]) { break }
            guard ContinuousClock.now < deadline else { throw BenchmarkError("the incidents did not close") }
            try await Task.sleep(for: .milliseconds(20))
        }
        let elapsed = seconds(ContinuousClock.now - started)
        let counted = effects.take()
        guard counted.count == options.incidents, counted.values.allSatisfy({ $0 == 1 }) else {
            throw BenchmarkError("effects: \(counted.count) incidents, some twice: \(counted.filter { $0.value > 1 })")
        }
        let n = Double(options.incidents)
        return Measurement(perSecond: n / elapsed,
                           workerMicroseconds: (workers.map(\.cpuSeconds).reduce(0, +) - cpu) * 1e6 / n,
                           machineMicroseconds: (machineCPU() - machine) * 1e6 / n)
    }

    /// Seconds from the SIGKILL of a worker holding `options.failover` runs until the others
    /// have closed all their incidents.
    func failover() async throws -> Double {
        let workers = try await start(3, onPostgres: true)
        defer { stop(workers) }
        effects.hold()
        try await post(options.failover, type: "held", to: [workers[0].target])
        // Every run waits in its HTTP call once its note is stored.
        while try psql("SELECT count(*) FROM journal WHERE kind = 'note'") != String(options.failover) {
            try await Task.sleep(for: .milliseconds(20))
        }
        try await Task.sleep(for: .milliseconds(200))  // the calls are sent
        workers[0].kill()
        let died = ContinuousClock.now
        effects.release()
        while try psql("SELECT count(*) FROM incident WHERE status = 'closed'") != String(options.failover) {
            guard ContinuousClock.now - died < .seconds(120) else { throw BenchmarkError("the failover did not end") }
            try await Task.sleep(for: .milliseconds(10))
        }
        _ = effects.take()
        return seconds(ContinuousClock.now - died)
    }

    /// The issue's check; prints what it found, throws if an incident was not completed exactly once.
    func check() async throws {
        let total = options.checked
        let workers = try await start(3, onPostgres: true)
        defer { stop(workers) }
        _ = effects.take()
        let started = ContinuousClock.now
        try await post(total / 2, type: "bench", to: workers.map(\.target))
        workers[0].kill()
        let orphans = try psql("""
            SELECT id FROM run WHERE status = 'running' AND lease_owner LIKE '%-\(workers[0].pid)-%'
            """).split(separator: "\n").map(String.init)
        let killed = ContinuousClock.now
        try await post(total - total / 2, type: "bench", to: workers.dropFirst().map(\.target))
        while try psql("SELECT count(*) FROM run WHERE status <> 'completed'") != "0" {
            guard ContinuousClock.now - killed < .seconds(600) else { throw BenchmarkError("runs did not end") }
            try await Task.sleep(for: .milliseconds(50))
        }
        let elapsed = seconds(ContinuousClock.now - started)
        let keys = effects.keys
        let counted = effects.take()
        let created = try psql("SELECT 'INC-' || number FROM incident").split(separator: "\n").map(String.init)
        let orphanList = orphans.map { "'\($0)'" }.joined(separator: ",")
        // The incidents of the runs under way on the killed worker: only theirs may be done twice.
        let victims = orphans.isEmpty ? [] : Set(try psql("""
            SELECT 'INC-' || incident FROM run WHERE id IN (\(orphanList))
            """).split(separator: "\n").map(String.init))
        let closedOnce = try psql("""
            SELECT count(*) FROM (SELECT incident FROM journal WHERE kind = 'closed' GROUP BY incident HAVING count(*) = 1) once
            """)
        let orphansDone = orphans.isEmpty ? "0" : try psql("""
            SELECT count(*) FROM run WHERE id IN (\(orphanList)) AND status = 'completed'
              AND lease_owner NOT LIKE '%-\(workers[0].pid)-%'
            """)
        let doubled = counted.filter { $0.value > 1 }.map(\.key).sorted()
        let missing = created.filter { counted[$0] == nil }
        say(String(format: "check: %d incidents through 3 workers, one SIGKILLed mid-run, in %.1f s (%.0f/s)",
                   created.count, elapsed, Double(created.count) / elapsed))
        say("  closed exactly once: \(closedOnce) of \(created.count); runs not completed: "
            + "\(try psql("SELECT count(*) FROM run WHERE status <> 'completed'"))")
        say("  the killed worker's \(orphans.count) runs under way finished on the others: \(orphansDone)")
        say("  effects: \(counted.count) incidents, none missing: \(missing.isEmpty); done twice: \(doubled.count) "
            + "\(doubled.prefix(10)), all of the killed worker's: \(doubled.allSatisfy(victims.contains))")
        // Sent again, an effect carries the key it carried the first time: a receiver that keeps
        // keys acts once for every incident.
        let oneKey = keys.values.allSatisfy { $0.count == 1 && !$0.contains("") }
        say("  each incident's effects under one idempotency key (a receiver that keeps keys acts once): \(oneKey)")
        guard closedOnce == String(created.count), missing.isEmpty, orphansDone == String(orphans.count),
              doubled.allSatisfy(victims.contains), oneKey
        else { throw BenchmarkError("the check failed (above)") }
    }

    /// POSTs `count` incidents of `type` to `targets` in turn, `options.inFlight` at once.
    func post(_ count: Int, type: String, to targets: [ServeProcess.Target]) async throws {
        let lanes = min(options.inFlight, count)
        let client = self.client
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<lanes {
                group.addTask {
                    for index in stride(from: lane, to: count, by: lanes) {
                        let target = targets[index % targets.count]
                        var request = HTTPClientRequest(url: target.url + "/api/v1/incidents")
                        request.method = .POST
                        request.headers.add(name: "Authorization", value: "Bearer \(target.token)")
                        request.body = .bytes(ByteBuffer(string: #"{"title":"\#(type) \#(index)","type":"\#(type)","severity":"low"}"#))
                        let response = try await client.execute(request, timeout: .seconds(60))
                        let body = try await response.body.collect(upTo: 1 << 20)
                        guard response.status.code == 201 else {
                            throw BenchmarkError("POST /api/v1/incidents: \(response.status.code) \(String(buffer: body))")
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    func noneOpen(on worker: ServeProcess) async throws -> Bool {
        var request = HTTPClientRequest(url: worker.url + "/api/v1/incidents?status=new,active,pending&limit=1")
        request.headers.add(name: "Authorization", value: "Bearer \(worker.token)")
        let response = try await client.execute(request, timeout: .seconds(60))
        return String(buffer: try await response.body.collect(upTo: 1 << 20)).contains(#""incidents":[]"#)
    }

    /// `sql`'s answer in the benchmark's database (psql, unaligned, tuples only).
    @discardableResult
    func psql(_ sql: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        process.arguments = ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", options.store,
                             "-c", "SET client_min_messages = warning", "-c", sql]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw BenchmarkError("psql failed: \(sql)") }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// Prints a line at once (`print` buffers when the output is a file).
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3)
        .joined(separator: " ") ?? "?"
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

func show(_ label: String, _ measurements: [Measurement]) {
    say(String(format: "%@ %6.0f incidents/s   CPU per incident: workers %5.0f µs, machine %5.0f µs", label,
               median(measurements.map(\.perSecond)), median(measurements.map(\.workerMicroseconds)),
               median(measurements.map(\.machineMicroseconds))))
}
