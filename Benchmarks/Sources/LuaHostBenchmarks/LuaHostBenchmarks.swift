import ArgumentParser
import BenchSupport
import Foundation

/// Measures the Lua host against its goals and prints one table (see docs/BENCHMARKS.md).
@main
struct LuaHostBenchmarks: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "LuaHostBenchmarks",
        abstract: "Measure the Lua host: host calls, sandbox overhead, empty runs, timeouts.",
        discussion: """
            Prints details while it measures, then a table: each figure with its value, goal, \
            ratio to its baseline where it has one, and PASS or MISS. Takes about a minute; \
            keep the machine otherwise idle. Exit status 0 even when a figure misses its goal.
            Goals: a Lua-to-Swift host call at most 2x the stock Lua-to-C call; CPU-bound Lua at \
            most 1.10x the stock lua5.4; a fresh run environment with an empty chunk at most 20 µs \
            and 4 KiB; `while true do end` with --timeout 1 ended within 1.2 s.

            Example:
              swift build -c release --static-swift-stdlib
              Benchmarks/.build/release/LuaHostBenchmarks \\
                  --automator .build/release/automator --only host-call
            """
    )

    enum Part: String, CaseIterable, ExpressibleByArgument {
        case hostCall = "host-call"
        case sandboxOverhead = "sandbox-overhead"
        case environment
        case timeout
    }

    @Option(help: ArgumentHelp(
        "The automator binary to measure (default: .build/release/automator in the repository).", valueName: "path"))
    var automator: String?

    @Option(help: ArgumentHelp("The stock Lua 5.4 interpreter.", valueName: "path"))
    var lua = "lua5.4"

    @Option(help: ArgumentHelp("The C compiler for the baseline library.", valueName: "path"))
    var cc = "cc"

    @Option(help: ArgumentHelp("Measure only this part (repeatable; default: all).", valueName: "part"))
    var only: [Part] = []

    @Option(help: "Calls per repetition of the host-call loop.")
    var iterations = 10_000_000

    @Option(help: "Repetitions of the host-call loop in each interpreter.")
    var repetitions = 7

    @Option(help: "Process runs of each interpreter for each sandbox-overhead file.")
    var runs = 9

    static func main() async { await runFromCommandLine() }

    /// The parts asked for; all of them without --only.
    var parts: [Part] { only.isEmpty ? Part.allCases : only }

    var automatorPath: String {
        automator.map { URL(fileURLWithPath: $0).path }
            ?? Workspace.sourceBenchmarks.deletingLastPathComponent().appendingPathComponent(".build/release/automator").path
    }

    func validate() throws {
        try requirePositive(["--iterations": iterations, "--repetitions": repetitions, "--runs": runs])
        if parts.contains(where: { $0 == .sandboxOverhead || $0 == .timeout }),
            !FileManager.default.isExecutableFile(atPath: automatorPath)
        {
            throw ValidationError("no automator binary at \(automatorPath): build it, or pass --automator PATH")
        }
    }

    func run() throws {
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("lua-host-benchmarks-\(ProcessInfo.processInfo.processIdentifier)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let workspace = Workspace(
            benchmarks: Workspace.sourceBenchmarks, automator: automatorPath, lua: lua, compiler: cc, scratch: scratch)

        printHeader(workspace)
        var figures: [Figure] = []
        for part in parts {
            emit("\(part.rawValue):")
            switch part {
            case .hostCall:
                figures += try HostCallBenchmark(
                    workspace: workspace, iterations: iterations, repetitions: repetitions
                ).run()
            case .sandboxOverhead:
                figures += try SandboxOverheadBenchmark(workspace: workspace, runs: runs).run()
            case .environment:
                figures += try EnvironmentBenchmark(batchSize: 10_000, batches: 9, retained: 10_000).run()
            case .timeout:
                figures += try TimeoutBenchmark(workspace: workspace, runs: 3).run()
            }
        }
        emit()
        emit(FigureTable.render(figures))
        let misses = figures.filter { $0.verdict == "MISS" }.count
        let goals = figures.filter { $0.goal != nil }.count
        emit()
        let summary = misses == 0 ? "all \(goals) goals met" : "\(misses) of \(goals) goals missed"
        emit("\(summary); load average now \(Self.loadAverage)")
    }

    /// The 1, 5 and 15 minute load averages: figures taken on a busy machine are noise.
    private static var loadAverage: String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?
            .split(separator: " ").prefix(3).joined(separator: " ") ?? "unknown"
    }

    private func printHeader(_ workspace: Workspace) {
        let info = ProcessInfo.processInfo
        let version = (try? workspace.subprocess.run([workspace.lua, "-v"]))?.standardOutput
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
        emit("Lua host benchmarks, \(Date().formatted(.iso8601))")
        emit("  \(info.activeProcessorCount) cores, load average \(Self.loadAverage) (keep it near 0); \(version)")
        emit("  automator: \(workspace.automator)")
        emit()
    }
}
