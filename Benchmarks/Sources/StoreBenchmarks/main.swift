// Durable throughput of the store, against plain batched SQLite inserts on the same disk.
//
//   swift run -c release --package-path Benchmarks StoreBenchmarks [--records N] [--folder DIR]
//
// For each durability (FULL, NORMAL), in a fresh folder each time, median of --repetitions:
//   (a) raw: plain GRDB, the store's own table, one transaction per 1,000 rows (rows/s);
//   (b) group commit: runs of 5 recorded host calls through `SQLiteStore`, many runs in flight on
//       several producer threads; a run submits its next call when the previous one is durable,
//       as the scheduler does (records/s, and b/a);
//   (c) whole runs, for context: create, 5 host calls, complete, each step durable (runs/s);
//   (d) a lone write's latency, for context: one run, each call waiting for the previous one.
//   (e) end to end: Lua runs through `RunService`, each making 5 recorded host calls (a waiting
//       function that answers at once), every record durable before the script sees it; runs/s,
//       and its rows (7 a run: created, 5 calls, ended) per second against (a).
// The goals: (b) >= 0.5 x (a), and >= 100,000 records/s (20,000 runs/s); (e) >= 0.5 x (a) in
// rows, and >= 20,000 runs/s.

import ArgumentParser
import AutomatorRuntime
import BenchSupport
import Dispatch
import Foundation
import GRDB
import Logging
import Synchronization

struct Options: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "StoreBenchmarks",
        abstract: "Durable throughput of the store, against plain batched SQLite inserts on the same disk.",
        discussion: """
            For each durability (FULL, NORMAL), in a fresh folder each time, medians of --repetitions: \
            (a) raw: plain GRDB, 1,000 rows a transaction; (a') the same rows interleaved as runs \
            write them; (b) group commit: runs of 5 recorded host calls through SQLiteStore, each call \
            submitted when the previous one is durable; (c) whole runs; (d) a lone write's latency; \
            (e) end to end: Lua runs through RunService, 5 recorded host calls each.
            Goals: (b) at least 0.5 x (a) and 100,000 records/s; (e) at least 0.5 x (a) in rows and \
            20,000 runs/s.

            Example:
              swift build -c release --package-path Benchmarks --product StoreBenchmarks
              Benchmarks/.build/release/StoreBenchmarks \\
                  --only raw,end-to-end --synchronous full
            """
    )

    enum Synchronous: String, ExpressibleByArgument, CaseIterable { case full, normal }

    static let parts = ["raw", "interleaved", "group", "runs", "lone", "end-to-end"]

    /// `--only raw,end-to-end`: the parts named, each one known.
    static func parseParts(_ argument: String) throws -> [String] {
        let names = argument.split(separator: ",").map(String.init)
        if let unknown = names.first(where: { !parts.contains($0) }) {
            throw ValidationError("no part '\(unknown)'; the parts are \(parts.joined(separator: ","))")
        }
        return names
    }

    @Option(help: "Records per measurement (5 a run).") var records = 200_000
    @Option(help: "Producer threads of (b).") var producers = 8
    @Option(help: "Runs in flight on each producer.") var inFlight = 128
    @Option(help: "Measurements; the medians are the result.") var repetitions = 3
    @Option(help: ArgumentHelp("Where the fresh stores go.", valueName: "folder"))
    var folder = FileManager.default.temporaryDirectory.path
    @Option(help: "Measure this durability alone (default: both).") var synchronous: Synchronous?
    @Option(help: ArgumentHelp("Measure only these parts, separated by commas, of \(Options.parts.joined(separator: ", ")) "
                                   + "(default: all).", valueName: "parts"), transform: parseParts)
    var only = Options.parts

    var durabilities: [SQLiteStore.Durability] {
        switch synchronous {
        case .full: [.full]
        case .normal: [.normal]
        case nil: [.full, .normal]
        }
    }

    func validate() throws {
        try requirePositive(["--producers": producers, "--in-flight": inFlight, "--repetitions": repetitions])
        if records < callsPerRun { throw ValidationError("--records must be at least \(callsPerRun), one run's, not \(records)") }
    }
}

let callsPerRun = 5
let digest = String(repeating: "5e", count: 32)
let result = Array(#"[{"verdict":"clean","score":0}]"#.utf8)

/// A producer thread: runs the steps of its share of the runs, one step per run at a time, each
/// submitted when the previous one of that run is durable.
final class Producer: Sendable {
    private let ready = Mutex<[Int]>([])
    private let wakeup = DispatchSemaphore(value: 0)

    /// Signals only when the list was empty: the producer takes the whole list at each wake-up.
    func wake(_ run: Int) {
        let wasEmpty = ready.withLock { ready in
            ready.append(run)
            return ready.count == 1
        }
        if wasEmpty { wakeup.signal() }
    }

    /// Drives `runs` through `steps` writes each, at most `inFlight` runs at a time.
    func drive(_ runs: Range<Int>, steps: Int, inFlight: Int, store: SQLiteStore,
               write: @escaping (_ run: Int, _ step: Int) -> StoreWrite) {
        var step = [Int](repeating: 0, count: runs.count)
        var next = runs.lowerBound
        var finished = 0
        let submit = { (run: Int) in
            store.write(write(run, step[run - runs.lowerBound])) { outcome in
                if case .failure(let error) = outcome { fatalError("\(error)") }
                self.wake(run)
            }
        }
        while next < runs.upperBound, next - runs.lowerBound < inFlight {
            submit(next)
            next += 1
        }
        while finished < runs.count {
            wakeup.wait()
            for run in ready.withLock({ ready in defer { ready.removeAll(keepingCapacity: true) }; return ready }) {
                step[run - runs.lowerBound] += 1
                if step[run - runs.lowerBound] < steps {
                    submit(run)
                } else {
                    finished += 1
                    if next < runs.upperBound {
                        submit(next)
                        next += 1
                    }
                }
            }
        }
    }
}

/// A rate, and the CPU time (all threads, user + system) per item: the load of other processes
/// changes the first much more than the second.
struct Measurement {
    var perSecond: Double
    var cpuMicroseconds: Double
}

func folder(_ options: Options, _ name: String) throws -> String {
    let path = options.folder + "/store-benchmark-\(ProcessInfo.processInfo.processIdentifier)-\(name)"
    try? FileManager.default.removeItem(atPath: path)
    return path
}

func runs(_ count: Int) -> [RunRecord] {
    (0..<count).map { _ in RunRecord(script: "bench.lua", source: Array("return 1".utf8)) }
}

/// (a) Inserting `records` host-call rows in transactions of 1,000 with GRDB: rows per second.
func raw(_ options: Options, _ durability: SQLiteStore.Durability, interleaved: Bool = false) async throws
    -> Measurement
{
    let path = try folder(options, "raw")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let runs = runs(options.records / callsPerRun)
    let store = try SQLiteStore(folder: path, durability: durability)
    for run in runs { store.write(.createRun(run)) { _ in } }
    await store.close()

    return try insertRows(into: store.path, runs: runs.map(\.id.rawValue), options, durability,
                          interleaved: interleaved)
}

/// The timed part of (a), synchronous like the committer's own transactions.
func insertRows(into path: String, runs: [String], _ options: Options, _ durability: SQLiteStore.Durability,
                interleaved: Bool) throws -> Measurement
{
    let pool = try DatabasePool(path: path)
    try pool.writeWithoutTransaction { db in
        try db.execute(sql: durability == .full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL")
    }
    let started = ContinuousClock.now, cpu = processCPU()
    for first in stride(from: 0, to: options.records, by: 1_000) {
        try pool.write { db in
            let insert = try db.cachedStatement(sql: """
                INSERT INTO host_call (run_key, sequence, name, arguments_digest, result, recorded_at)
                VALUES ((SELECT key FROM run WHERE id = ?), ?, ?, ?, ?, ?)
                """)
            for row in first..<min(first + 1_000, options.records) {
                // Interleaved: each batch of 1,000 rows holds one call of each of 1,000 runs.
                let (run, call) = interleaved
                    ? (row / (1_000 * callsPerRun) * 1_000 + row % 1_000, row / 1_000 % callsPerRun)
                    : (row / callsPerRun, row % callsPerRun)
                try insert.execute(arguments: [runs[run], call + 1, "time.now", digest,
                                               Data(result), Int64(Date().timeIntervalSince1970 * 1000)])
            }
        }
    }
    let measurement = Measurement(perSecond: Double(options.records) / seconds(ContinuousClock.now - started),
                                  cpuMicroseconds: (processCPU() - cpu) * 1e6 / Double(options.records))
    try pool.close()
    return measurement
}

/// Drives `runCount` runs of `steps` writes each through a store, on the producer threads;
/// measures writes per second. `prepare` creates the runs first, untimed.
func drive(_ options: Options, _ durability: SQLiteStore.Durability, name: String, runCount: Int, steps: Int,
           prepare: Bool, write: @escaping @Sendable (_ runs: [RunRecord], _ run: Int, _ step: Int) -> StoreWrite)
    async throws -> Measurement
{
    let path = try folder(options, name)
    defer { try? FileManager.default.removeItem(atPath: path) }
    let store = try SQLiteStore(folder: path, durability: durability)
    let runs = runs(runCount)
    if prepare {
        for run in runs { store.write(.createRun(run)) { _ in } }
        // Writes are applied in order: once this one is durable, so are the creations.
        try await store.write(.updateRun(RunUpdate(runs[0].id, status: .running)))
    }
    let share = (runCount + options.producers - 1) / options.producers
    let started = ContinuousClock.now, cpu = processCPU()
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        let group = DispatchGroup()
        for index in 0..<options.producers {
            let range = min(index * share, runCount)..<min((index + 1) * share, runCount)
            group.enter()
            Thread {
                Producer().drive(range, steps: steps, inFlight: options.inFlight, store: store) { write(runs, $0, $1) }
                group.leave()
            }.start()
        }
        group.notify(queue: .global()) { continuation.resume() }
    }
    let writes = Double(runCount * steps)
    let measurement = Measurement(perSecond: writes / seconds(ContinuousClock.now - started),
                                  cpuMicroseconds: (processCPU() - cpu) * 1e6 / writes)
    await store.close()
    return measurement
}

/// (b) Records per second through the group committer.
func groupCommit(_ options: Options, _ durability: SQLiteStore.Durability) async throws -> Measurement {
    try await drive(options, durability, name: "group", runCount: options.records / callsPerRun,
                    steps: callsPerRun, prepare: true) { runs, run, step in
        .appendHostCalls([HostCallRecord(runID: runs[run].id, sequence: step + 1, name: "time.now",
                                         argumentsDigest: digest, result: result)])
    }
}

/// (c) Whole runs per second: created, 5 host calls, completed.
func wholeRuns(_ options: Options, _ durability: SQLiteStore.Durability) async throws -> Measurement {
    let steps = callsPerRun + 2
    var measurement = try await drive(options, durability, name: "runs", runCount: options.records / callsPerRun,
                                      steps: steps, prepare: false) { runs, run, step in
        switch step {
        case 0: .createRun(runs[run])
        case callsPerRun + 1: .updateRun(RunUpdate(runs[run].id, status: .completed, result: "[0]"))
        default: .appendHostCalls([HostCallRecord(runID: runs[run].id, sequence: step, name: "time.now",
                                                  argumentsDigest: digest, result: result)])
        }
    }
    measurement.perSecond /= Double(steps)
    measurement.cpuMicroseconds *= Double(steps)
    return measurement
}

/// (d) Median and 99th percentile, in microseconds, of one write's latency with nothing else
/// in flight: what a lone host call waits for its record.
func loneWrite(_ options: Options, _ durability: SQLiteStore.Durability) async throws -> (Double, Double) {
    let path = try folder(options, "lone")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let store = try SQLiteStore(folder: path, durability: durability)
    let run = RunRecord(script: "bench.lua", source: Array("return 1".utf8))
    try await store.write(.createRun(run))
    let latencies = await Task.detached {
        let done = DispatchSemaphore(value: 0)
        var latencies: [Double] = []
        for sequence in 1...2_000 {
            let started = ContinuousClock.now
            store.append(HostCallRecord(runID: run.id, sequence: sequence, name: "time.now", argumentsDigest: digest,
                                        result: result)) { _ in done.signal() }
            done.wait()
            latencies.append(seconds(ContinuousClock.now - started) * 1e6)
        }
        return latencies.sorted()
    }.value
    await store.close()
    return (latencies[latencies.count / 2], latencies[latencies.count * 99 / 100])
}

/// `bench.lookup(x)`: a waiting host function that answers at once, as a cached lookup would.
struct BenchModule: HostModule {
    let name = "bench"

    func register(in table: inout ModuleTable) {
        table.waitingFunction("lookup") { call in
            let value = try call.value(1)
            return .callback { complete in complete(.success([value])) }
        }
    }
}

/// (e) Whole Lua runs through `RunService`, `options.producers x options.inFlight` in flight.
func endToEnd(_ options: Options, _ durability: SQLiteStore.Durability) async throws -> Measurement {
    let path = try folder(options, "end-to-end")
    defer { try? FileManager.default.removeItem(atPath: path) }
    let store = try SQLiteStore(folder: path, durability: durability)
    let service = try RunService(store: store, modules: [BenchModule()])
    let runCount = options.records / callsPerRun
    let source = Array("local total = 0 for i = 1, \(callsPerRun) do total = total + bench.lookup(i) end return total".utf8)
    let lanes = min(options.producers * options.inFlight, runCount)
    let started = ContinuousClock.now, cpu = processCPU()
    try await withThrowingTaskGroup(of: Void.self) { group in
        for lane in 0..<lanes {
            group.addTask {
                for _ in stride(from: lane, to: runCount, by: lanes) {
                    let run = try await service.submit(script: "bench.lua", source: source)
                    await service.waitForEnd(run.id)
                }
            }
        }
        try await group.waitForAll()
    }
    let elapsed = seconds(ContinuousClock.now - started)
    let measurement = Measurement(perSecond: Double(runCount) / elapsed,
                                  cpuMicroseconds: (processCPU() - cpu) * 1e6 / Double(runCount))
    let sample = try await store.listRuns(status: nil, limit: 1).first
    guard sample?.status == .completed, sample?.result == "[15]" else { fatalError("a run did not complete: \(String(describing: sample))") }
    await service.shutdown()
    return measurement
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3)
        .joined(separator: " ") ?? "?"
}

/// "rate unit (CPU µs per item)", medians of `measurements`.
func show(_ measurements: [Measurement], _ unit: String, per item: String) -> String {
    guard !measurements.isEmpty else { return "-" }
    return String(format: "%7.0f %@ (%.2f µs CPU per %@)", median(measurements.map(\.perSecond)), unit,
                  median(measurements.map(\.cpuMicroseconds)), item)
}

let options = Options.fromCommandLine()
print("""
    store benchmarks: \(options.records) records (\(options.records / callsPerRun) runs of \(callsPerRun) calls), \
    \(options.producers) producers x \(options.inFlight) runs in flight, median of \(options.repetitions), \
    in \(options.folder); \(ProcessInfo.processInfo.activeProcessorCount) cores, load \(loadAverage())
    """)
for durability in options.durabilities {
    var a: [Measurement] = [], interleaved: [Measurement] = [], b: [Measurement] = [], c: [Measurement] = [],
        e: [Measurement] = []
    for _ in 0..<options.repetitions {
        if options.only.contains("raw") { a.append(try await raw(options, durability)) }
        if options.only.contains("interleaved") {
            interleaved.append(try await raw(options, durability, interleaved: true))
        }
        if options.only.contains("group") { b.append(try await groupCommit(options, durability)) }
        if options.only.contains("runs") { c.append(try await wholeRuns(options, durability)) }
        if options.only.contains("end-to-end") { e.append(try await endToEnd(options, durability)) }
    }
    let lone = options.only.contains("lone") ? try await loneWrite(options, durability) : nil
    var lines = ["synchronous = \(durability == .full ? "FULL" : "NORMAL")",
                 "  (a)  raw batched inserts, 1,000 rows/transaction   " + show(a, "rows/s", per: "row"),
                 "  (a') the same, rows interleaved as runs write them " + show(interleaved, "rows/s", per: "row"),
                 "  (b)  group commit, runs of 5 recorded calls        " + show(b, "records/s", per: "record")]
    if !b.isEmpty {
        let records = median(b.map(\.perSecond))
        let ratio = a.isEmpty ? nil : records / median(a.map(\.perSecond))
        lines.append(String(format: "       = %.0f runs/s; b/a = %@ [goals: b/a >= 0.50 %@, >= 100000 records/s %@]",
                            records / Double(callsPerRun), ratio.map { String(format: "%.2f", $0) } ?? "-",
                            ratio.map { $0 >= 0.5 ? "PASS" : "MISS" } ?? "-", records >= 100_000 ? "PASS" : "MISS"))
    }
    lines.append("  (c)  whole runs: create + 5 calls + complete      " + show(c, "runs/s", per: "run"))
    lines.append("  (d)  a lone write, nothing else in flight         "
                 + (lone.map { String(format: "%.0f µs median, %.0f µs p99", $0.0, $0.1) } ?? "-"))
    lines.append("  (e)  end to end: Lua runs, 5 recorded calls each  " + show(e, "runs/s", per: "run"))
    if !e.isEmpty {
        let runs = median(e.map(\.perSecond))
        let rows = runs * Double(callsPerRun + 2)
        let ratio = a.isEmpty ? nil : rows / median(a.map(\.perSecond))
        lines.append(String(format: "       = %.0f rows/s; e/a = %@ [goals: e/a >= 0.50 %@, >= 20000 runs/s %@]",
                            rows, ratio.map { String(format: "%.2f", $0) } ?? "-",
                            ratio.map { $0 >= 0.5 ? "PASS" : "MISS" } ?? "-", runs >= 20_000 ? "PASS" : "MISS"))
    }
    print(lines.joined(separator: "\n"))
}
print("load at the end: \(loadAverage())")
