// Figures of the scheduler (docs/BENCHMARKS.md, "The scheduler"):
//   1. host-call round trip: yield, Swift work that completes at once, resume (goal ≤ 2 µs median)
//   2. 100,000 runs waiting on host timers: resident memory per waiting run (goal ≤ 3 KiB)
import ArgumentParser
import AutomatorRuntime
import BenchSupport
import Dispatch
import Foundation
import Logging
import Synchronization

/// No options: the figures are measured at the sizes their goals name.
struct Options: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "SchedulerBenchmarks",
        abstract: "The scheduler: the host-call round trip, and the memory of a run waiting on a host timer.",
        discussion: """
            1. host-call round trip: a run yields to Swift work that completes at once and resumes, \
            200,000 times; the median of 6 batches after a warm-up. Goal: at most 2 µs.
            2. 100,000 runs waiting on host timers: resident memory per waiting run. Goal: at most 3 KiB.
            Takes about 15 s.

            Example:
              swift build -c release --package-path Benchmarks \\
                  --product SchedulerBenchmarks
              Benchmarks/.build/release/SchedulerBenchmarks
            """
    )
}

_ = Options.fromCommandLine()

/// `bench.echo(x)` waits for work that completes before it returns; `bench.arrived()` counts
/// runs that reached their wait.
struct SchedulerBenchModule: HostModule {
    let name = "bench"
    let arrivals: Arrivals

    final class Arrivals: Sendable {
        let count = Atomic<Int>(0)
    }

    func register(in table: inout ModuleTable) {
        table.waitingFunction("echo") { call in
            let value = try call.integer(1)
            return .callback { complete in complete(.success([.integer(value)])) }
        }
        let arrivals = self.arrivals
        table.function("arrived") { _ in
            arrivals.count.add(1, ordering: .relaxed)
            return 0
        }
    }
}

func makeExecutor(_ arrivals: SchedulerBenchModule.Arrivals) throws -> Executor {
    let logger = Logger(label: "bench") { _ in SwiftLogNoOpLogHandler() }
    return try Executor(modules: StandardModules.all(logger: logger) + [SchedulerBenchModule(arrivals: arrivals)],
                        limits: Limits(memory: 8 << 30, timeout: .seconds(60)))
}

/// A run's outcome, handed from the executor's thread.
final class OutcomeBox: Sendable {
    private let value = Mutex<RunOutcome?>(nil)

    func set(_ outcome: RunOutcome) { value.withLock { $0 = outcome } }

    func wait() -> RunOutcome {
        while true {
            if let outcome = value.withLock({ $0 }) { return outcome }
            usleep(1000)
        }
    }
}

/// Resident set size of this process, from /proc/self/statm.
func residentBytes() -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let fields = text.split(separator: " ")
    return (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted[sorted.count / 2]
}

func report(_ name: String, _ value: String, goal: String, pass: Bool) {
    print("\(name.padding(toLength: 58, withPad: " ", startingAt: 0)) \(value.padding(toLength: 16, withPad: " ", startingAt: 0)) goal \(goal.padding(toLength: 10, withPad: " ", startingAt: 0)) \(pass ? "PASS" : "MISS")")
}

// 1. Host-call round trip.
do {
    let executor = try makeExecutor(.init())
    let calls = 200_000
    var perCall: [Double] = []
    for _ in 0..<7 {
        let outcome = OutcomeBox()
        let started = DispatchTime.now().uptimeNanoseconds
        executor.start(RunRequest(source: Array("for i = 1, \(calls) do bench.echo(i) end".utf8), chunkName: "=round-trip")) { result in
            outcome.set(result)
        }
        if case .failed(let error) = outcome.wait() { fatalError("\(error)") }
        perCall.append(Double(DispatchTime.now().uptimeNanoseconds - started) / Double(calls))
    }
    let nanoseconds = median(Array(perCall.dropFirst()))  // the first batch warms up
    report("host-call round trip (yield, work done at once, resume)", String(format: "%.0f ns", nanoseconds),
           goal: "≤ 2000 ns", pass: nanoseconds <= 2000)
    executor.shutdown()
}

// 2. Memory per run waiting on a host timer.
do {
    let arrivals = SchedulerBenchModule.Arrivals()
    let executor = try makeExecutor(arrivals)
    let runs = 100_000
    // Warm up: the executor's thread, the module copies, the allocator's arenas.
    executor.start(RunRequest(source: Array("bench.arrived() time.sleep(0)".utf8), chunkName: "=warm-up")) { _ in }
    while arrivals.count.load(ordering: .relaxed) < 1 { usleep(1000) }
    usleep(100_000)
    let before = residentBytes()
    let script = Array("""
        local alert = ...
        bench.arrived()
        time.sleep(3600)
        return alert
        """.utf8)
    for index in 0..<runs {
        executor.start(RunRequest(source: script, chunkName: "=sleeper", arguments: Array("[\(index)]".utf8))) { _ in }
    }
    while arrivals.count.load(ordering: .relaxed) < runs + 1 { usleep(10_000) }
    usleep(200_000)
    let after = residentBytes()
    let perRun = Double(after - before) / Double(runs)
    report("resident memory per run waiting on a host timer (100,000)", String(format: "%.0f B", perRun),
           goal: "≤ 3072 B", pass: perRun <= 3072)
    let started = DispatchTime.now().uptimeNanoseconds
    executor.shutdown()
    print("(stopping the executor with the 100,000 waiting runs took \(String(format: "%.2f", Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)) s)")
}
