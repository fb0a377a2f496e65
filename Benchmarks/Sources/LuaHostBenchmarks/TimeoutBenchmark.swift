import Foundation

/// Figure 4: how soon `--timeout 1` stops `while true do end`, as the whole `automator run`
/// process: median wall time of a few runs, each of which must fail with a timeout.
struct TimeoutBenchmark {
    let workspace: Workspace
    let runs: Int

    func run() throws -> [Figure] {
        let command = [workspace.automator, "run", workspace.workload("busy_loop.lua").path, "--timeout", "1"]
        var times: [Double] = []
        for _ in 0..<runs {
            let result = try workspace.subprocess.check(command, expectedStatus: 1)
            guard result.standardError.contains("timeout") else {
                throw BenchmarkError("busy_loop.lua failed without a timeout:\n\(result.standardError)")
            }
            times.append(result.wall.seconds)
        }
        note("while true do end, --timeout 1: \(times.map(Figure.format).joined(separator: " ")) s")
        return [
            Figure(
                name: "while true do end, --timeout 1 (whole process)", value: Statistics.median(times), unit: "s",
                goal: .valueAtMost(1.2))
        ]
    }
}
