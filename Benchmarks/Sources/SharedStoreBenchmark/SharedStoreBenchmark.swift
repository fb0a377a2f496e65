// Several workers on one PostgreSQL, against the embedded SQLite store, in one process.
//
//   URL=$(Benchmarks/postgres-server.sh start)
//   swift run -c release --package-path Benchmarks SharedStoreBenchmark --store "$URL" [--runs N] [--in-flight N]
//       [--repetitions N] [--lease SECONDS] [--failover-runs N] [--folder DIR]
//   Benchmarks/postgres-server.sh stop
//
// (a) durable runs per second with 1, 2 and 3 workers (each a RunService with its own
//     PostgresStore, pool and executors; runs submitted to them in turn, --in-flight at once), and
//     the same on SQLite (one worker, FULL): each run is created, makes 5 recorded host calls,
//     each durable before the script goes on, and ends; the CPU per run of this process and of
//     the whole machine (the server's included: PostgreSQL runs beside it).
// (b) failover: 3 workers with leases of --lease seconds; the first holds --failover-runs runs in
//     a host call that never answers and stops renewing its leases, as a dead worker; the time
//     until the two others have finished every one of them by replay.

import ArgumentParser
@_spi(Benchmarks) import AutomatorRuntime
import BenchSupport
import Foundation
import Logging

@main
struct SharedStoreBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "SharedStoreBenchmark",
        abstract: "Several workers on one PostgreSQL, against the embedded SQLite store, in one process: "
            + "durable runs per second, and the failover time.",
        discussion: """
            (a) durable runs per second with 1, 2 and 3 workers (each a RunService with its own \
            PostgresStore), and with one on SQLite (FULL): each run makes 5 recorded host calls; the \
            CPU per run of this process and of the whole machine. (b) failover: the first of 3 workers \
            holds --failover-runs runs and stops renewing its leases; the time until the two others \
            have finished them all by replay.
            Goal: failover within the lease plus 1 s.

            Example:
              URL=$(Benchmarks/postgres-server.sh start)
              Benchmarks/.build/release/SharedStoreBenchmark --store "$URL"
              Benchmarks/postgres-server.sh stop
            """
    )

    @Option(help: "The PostgreSQL database (Benchmarks/postgres-server.sh start prints one).") var store: String
    @Option(help: "Runs per measurement.") var runs = 10_000
    @Option(help: "Runs in flight.") var inFlight = 512
    @Option(help: "Measurements; the median is shown.") var repetitions = 3
    @Option(help: "The lease time in the failover, seconds.") var lease = 2.0
    @Option(help: "Runs the dying worker holds.") var failoverRuns = 300
    @Option(help: "Where the SQLite store goes.") var folder = FileManager.default.temporaryDirectory.path

    static func main() async { await runFromCommandLine() }

    func validate() throws {
        try requirePositive(["--runs": runs, "--in-flight": inFlight, "--repetitions": repetitions,
                             "--failover-runs": failoverRuns])
        try requirePositive(["--lease": lease])
    }

    func run() async throws {
        let options = self
        print("Shared store: \(runs) runs of \(callsPerRun) recorded calls, \(inFlight) in flight, median of "
            + "\(repetitions); \(ProcessInfo.processInfo.activeProcessorCount) cores")
        var sqliteRuns: [Measurement] = []
        var postgresRuns: [Int: [Measurement]] = [:]
        for repetition in 1...repetitions {
            sqliteRuns.append(try await sqlite(options))
            for workers in 1...3 {
                try await clear(options)
                let services = try await postgresWorkers(workers, options)
                postgresRuns[workers, default: []].append(try await measure(services, options))
                for service in services { await service.shutdown() }
            }
            print("  #\(repetition) done")
        }
        show("SQLite, 1 worker:       ", sqliteRuns)
        for workers in 1...3 { show("PostgreSQL, \(workers) worker\(workers == 1 ? ": " : "s:")", postgresRuns[workers]!) }
        var failovers: [Double] = []
        for _ in 1...repetitions { failovers.append(try await failover(options)) }
        print(String(format: "failover (lease %.1f s, %d runs): %.2f s median, %.2f to %.2f s (goal: <= lease + 1 s)",
                     lease, failoverRuns, median(failovers), failovers.min()!, failovers.max()!))
    }
}

/// `bench.lookup(x)` answers at once; `bench.hold()` too, except on a worker that is to die, where
/// it never answers.
struct BenchModule: HostModule {
    let name = "bench"
    let dying: Bool

    func register(in table: inout ModuleTable) {
        table.waitingFunction("lookup") { call in
            let value = try call.value(1)
            return .callback { complete in complete(.success([value])) }
        }
        let dying = self.dying
        table.waitingFunction("hold") { _ in .event { complete in if !dying { complete(.success([])) } } }
    }
}

let callsPerRun = 5
let source = Array("local total = 0 for i = 1, \(callsPerRun) do total = total + bench.lookup(i) end return total".utf8)
let quiet = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }

func processCPU() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}

struct Measurement {
    var perSecond: Double
    var processMicroseconds: Double
    var machineMicroseconds: Double
}

/// Runs `options.runs` runs through `services` in turn, `options.inFlight` at once.
func measure(_ services: [RunService], _ options: SharedStoreBenchmark) async throws -> Measurement {
    let started = ContinuousClock.now, process = processCPU(), machine = machineCPU()
    let lanes = min(options.inFlight, options.runs)
    try await withThrowingTaskGroup(of: Void.self) { group in
        for lane in 0..<lanes {
            group.addTask {
                for index in stride(from: lane, to: options.runs, by: lanes) {
                    let service = services[index % services.count]
                    let run = try await service.submit(script: "bench.lua", source: source)
                    await service.waitForEnd(run.id)
                }
            }
        }
        try await group.waitForAll()
    }
    let elapsed = seconds(ContinuousClock.now - started)
    let done = try await services[0].runs(status: .completed, limit: options.runs + 1).count
    guard done == options.runs else { fatalError("\(done) of \(options.runs) runs completed") }
    return Measurement(perSecond: Double(options.runs) / elapsed,
                       processMicroseconds: (processCPU() - process) * 1e6 / Double(options.runs),
                       machineMicroseconds: (machineCPU() - machine) * 1e6 / Double(options.runs))
}

func postgresWorkers(_ count: Int, _ options: SharedStoreBenchmark, lease: Duration = .seconds(30), dying: Int? = nil)
    async throws -> [RunService]
{
    let location = try PostgresLocation(url: options.store)
    var services: [RunService] = []
    for index in 0..<count {
        let store = try await PostgresStore(location: location, lease: RunLease(worker: "bench-\(index)", duration: lease))
        services.append(try RunService(store: store, modules: [BenchModule(dying: index == dying)]))
    }
    return services
}

/// Empties the database between measurements.
func clear(_ options: SharedStoreBenchmark) async throws {
    let store = try await PostgresStore(location: try PostgresLocation(url: options.store))
    _ = try await store.deleteFinishedRuns(finishedBefore: Date().addingTimeInterval(3600))
    await store.close()
}

func sqlite(_ options: SharedStoreBenchmark) async throws -> Measurement {
    let folder = options.folder + "/automator-shared-bench-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: folder) }
    let service = try RunService(store: try SQLiteStore(folder: folder), modules: [BenchModule(dying: false)])
    let measurement = try await measure([service], options)
    await service.shutdown()
    return measurement
}

func failover(_ options: SharedStoreBenchmark) async throws -> Double {
    try await clear(options)
    let lease = Duration.milliseconds(Int(options.lease * 1000))
    let services = try await postgresWorkers(3, options, lease: lease, dying: 0)
    let keepers = services.map { service in Task { await RunLeaseKeeper(runs: service, logger: quiet)!.run() } }
    let held = Array("bench.hold() return bench.lookup(1)".utf8)
    for _ in 0..<options.failoverRuns { _ = try await services[0].submit(script: "held.lua", source: held) }
    try await Task.sleep(for: lease)  // a few renewals: the dying worker's leases are fresh when it dies
    keepers[0].cancel()
    let died = ContinuousClock.now
    while try await services[1].runs(status: .completed, limit: options.failoverRuns + 1).count < options.failoverRuns {
        try await Task.sleep(for: .milliseconds(10))
    }
    let elapsed = seconds(ContinuousClock.now - died)
    for keeper in keepers { keeper.cancel() }
    for service in services { await service.shutdown() }
    return elapsed
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

func show(_ label: String, _ measurements: [Measurement]) {
    print(String(format: "%@ %7.0f runs/s   CPU per run: this process %4.0f µs, machine %4.0f µs", label,
                 median(measurements.map(\.perSecond)), median(measurements.map(\.processMicroseconds)),
                 median(measurements.map(\.machineMicroseconds))))
}
