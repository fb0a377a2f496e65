// Recovery after SIGKILL: how long until every run in flight is running again.
//
//   swift run -c release --package-path Benchmarks RecoveryBenchmark [--runs N] [--folder DIR]
//
// A child process (this program with --load) starts N durable runs on a fresh data folder;
// each makes two recorded lookups, reads the clock, then waits in `bench.hold()`, which never
// answers. Once all N wait, the parent SIGKILLs the child, then times, in its own process:
// opening the store (SQLite replays the WAL), `RunService.recover()`, and the replays, until
// every run waits in `bench.hold()` again. Goal: at most 2 s for 10,000 runs.

import ArgumentParser
import AutomatorRuntime
import BenchSupport
import Dispatch
import Foundation
import Synchronization

/// `bench.lookup(x)` answers at once; `bench.hold()` counts the runs that reach it, and never answers.
struct BenchModule: HostModule {
    final class Arrivals: Sendable {
        let count = Atomic<Int>(0)
    }

    let name = "bench"
    let arrivals: Arrivals

    func register(in table: inout ModuleTable) {
        let arrivals = self.arrivals
        table.waitingFunction("lookup") { call in
            let value = try call.value(1)
            return .callback { complete in complete(.success([value])) }
        }
        table.waitingFunction("hold") { _ in
            .callback { _ in arrivals.count.add(1, ordering: .relaxed) }
        }
    }
}

let script = Array("""
    local a = bench.lookup(1)
    local t = time.now()
    local b = bench.lookup(a + 1)
    bench.hold()
    """.utf8)

func waitFor(_ arrivals: BenchModule.Arrivals, count: Int) async {
    while arrivals.count.load(ordering: .relaxed) < count { try? await Task.sleep(for: .milliseconds(1)) }
}

func milliseconds(since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15
}

/// The child: starts `runs` runs, says "ready" when all hold, then waits to be killed.
func load(folder: String, runs: Int) async throws -> Never {
    let arrivals = BenchModule.Arrivals()
    let service = try RunService(store: try SQLiteStore(folder: folder), modules: [TimeModule(), BenchModule(arrivals: arrivals)])
    try await withThrowingTaskGroup(of: Void.self) { group in
        for lane in 0..<64 {
            group.addTask {
                for _ in stride(from: lane, to: runs, by: 64) { _ = try await service.submit(script: "recovery.lua", source: script) }
            }
        }
        try await group.waitForAll()
    }
    await waitFor(arrivals, count: runs)
    FileHandle.standardOutput.write(Data("ready\n".utf8))
    while true { sleep(60) }
}

/// The parent: kills the loaded child, then measures the recovery.
func measure(folder: String, runs: Int) async throws {
    try? FileManager.default.removeItem(atPath: folder)
    let child = Process()
    child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
    child.arguments = ["--load", folder, "--runs", String(runs)]
    let output = Pipe()
    child.standardOutput = output
    let loading = ContinuousClock.now
    try child.run()
    let line = output.fileHandleForReading.availableDataUntilNewline()
    guard line == "ready" else { fatalError("the child did not load: \(line)") }
    let loaded = milliseconds(since: loading)
    kill(child.processIdentifier, SIGKILL)
    child.waitUntilExit()

    let arrivals = BenchModule.Arrivals()
    let start = ContinuousClock.now
    let store = try SQLiteStore(folder: folder)
    let opened = milliseconds(since: start)
    let service = try RunService(store: store, modules: [TimeModule(), BenchModule(arrivals: arrivals)])
    let resumed = try await service.recover()
    let recovered = milliseconds(since: start)
    await waitFor(arrivals, count: runs)
    let total = milliseconds(since: start)
    print(String(format: """
        recovery after SIGKILL, %d runs in flight (loaded in %.0f ms, %d cores):
          %.0f ms until every run waits again [goal <= 2000 ms: %@]
          (open the store %.0f ms, recover() %.0f ms, replays %.0f ms; %d runs resumed)
        """, runs, loaded, ProcessInfo.processInfo.activeProcessorCount, total, total <= 2000 ? "PASS" : "MISS",
        opened, recovered - opened, total - recovered, resumed))
    await service.shutdown()
    try? FileManager.default.removeItem(atPath: folder)
}

extension FileHandle {
    /// Reads up to the first newline (or the end), without it.
    func availableDataUntilNewline() -> String {
        var bytes: [UInt8] = []
        while true {
            let data = readData(ofLength: 1)
            guard let byte = data.first, byte != UInt8(ascii: "\n") else { break }
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

struct Options: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "RecoveryBenchmark",
        abstract: "Recovery after SIGKILL: how long until every run in flight is running again.",
        discussion: """
            A child process starts --runs durable runs on a fresh data folder, each waiting in a \
            host call that never answers; the parent SIGKILLs it, then times opening the store, \
            RunService.recover() and the replays, until every run waits again.
            Goal: at most 2 s for 10,000 runs.

            Example:
              swift build -c release --package-path Benchmarks --product RecoveryBenchmark
              Benchmarks/.build/release/RecoveryBenchmark --runs 10000
            """
    )

    @Option(help: "Runs in flight when the child is killed.") var runs = 10_000
    @Option(help: ArgumentHelp("Where the data folder goes (recovery-benchmark-PID inside it, removed at the end).",
                               valueName: "folder"))
    var folder = FileManager.default.temporaryDirectory.path
    /// The child's side: load the runs into this data folder, say "ready", wait to be killed.
    @Option(help: .hidden) var load: String?

    func validate() throws {
        try requirePositive(["--runs": runs])
    }
}

let options = Options.fromCommandLine()
if let loadFolder = options.load { try await load(folder: loadFolder, runs: options.runs) }
try await measure(folder: options.folder + "/recovery-benchmark-\(ProcessInfo.processInfo.processIdentifier)", runs: options.runs)
