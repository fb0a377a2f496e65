import Foundation

/// Figure 2: what the sandbox costs CPU-bound Lua, seen from outside: the wall time of the
/// whole `automator run FILE` process against `lua5.4 FILE`, same file, runs alternating
/// A/B; the figure is the median of the per-pair ratios. Both must print the same output.
/// `empty.lua` shows, for context, how much of that is starting the process.
struct SandboxOverheadBenchmark {
    let workspace: Workspace
    let runs: Int

    func run() throws -> [Figure] {
        [
            try measure("fib.lua", goal: .ratioAtMost(1.10)),
            try measure("strings_tables.lua", goal: .ratioAtMost(1.10)),
            try measure("empty.lua", goal: nil),
        ]
    }

    private func measure(_ file: String, goal: Figure.Goal?) throws -> Figure {
        let path = workspace.workload(file).path
        let sandboxed = [workspace.automator, "run", path]
        let stock = [workspace.lua, path]

        // A first run of each, not counted: warms the page cache, and checks that both agree.
        let expected = try workspace.subprocess.check(stock).standardOutput
        let actual = try workspace.subprocess.check(sandboxed).standardOutput
        guard expected == actual else {
            throw BenchmarkError("\(file): automator printed\n\(actual)\nbut lua5.4 printed\n\(expected)")
        }

        var automator = Samples()
        var lua = Samples()
        for run in 0..<runs {
            // Alternate which goes first, so that neither always follows the other.
            let sandboxedFirst = run % 2 == 0
            for command in sandboxedFirst ? [sandboxed, stock] : [stock, sandboxed] {
                let result = try workspace.subprocess.check(command)
                guard result.standardOutput == expected else {
                    throw BenchmarkError("\(file): \(command[0]) printed something else on run \(run + 1)")
                }
                if command == sandboxed { automator.add(result) } else { lua.add(result) }
            }
        }
        let ratio = Statistics.median(zip(automator.wall, lua.wall).map { $0 / $1 })
        let cpuRatio = Statistics.median(zip(automator.cpu, lua.cpu).map { $0 / $1 })
        note("\(file): automator run \(automator.milliseconds) ms")
        note("\(file): lua5.4        \(lua.milliseconds) ms")
        note(
            "\(file): medians \(Figure.format(Statistics.median(automator.wall) * 1000)) ms vs "
                + "\(Figure.format(Statistics.median(lua.wall) * 1000)) ms; "
                + "median wall ratio \(String(format: "%.2fx", ratio)); median CPU time ratio "
                + "\(String(format: "%.2fx", cpuRatio)) (user + system, less disturbed by a busy machine); "
                + "output: \(expected.split(separator: "\n").first ?? "(none)")")
        return Figure(
            name: "\(file): automator run vs lua5.4 (whole process)", value: Statistics.median(automator.wall) * 1000,
            unit: "ms", goal: goal, ratio: ratio)
    }

    private struct Samples {
        var wall: [Double] = []
        var cpu: [Double] = []

        mutating func add(_ result: ProcessResult) {
            wall.append(result.wall.seconds)
            cpu.append(result.cpu)
        }

        var milliseconds: String { wall.map { Figure.format($0 * 1000) }.joined(separator: " ") }
    }
}
