import AutomatorRuntime

/// Figure 3: what one more run costs when it does nothing: the time to make a fresh run
/// environment, load an empty chunk into it and run it; and the memory an idle environment
/// holds (alone, and with its loaded chunk).
struct EnvironmentBenchmark {
    let batchSize: Int
    let batches: Int
    let retained: Int

    func run() throws -> [Figure] {
        let withLimits = try timeEmptyRuns(limits: Limits())
        let withoutLimits = try timeEmptyRuns(limits: Limits(memory: nil, timeout: nil))
        let environmentBytes = try bytesPerEnvironment(withChunk: false)
        let chunkBytes = try bytesPerEnvironment(withChunk: true)
        return [
            Figure(
                name: "fresh environment + load \"\" + run (default limits)", value: withLimits, unit: "µs",
                goal: .valueAtMost(20)),
            Figure(name: "fresh environment + load \"\" + run (no limits, context)", value: withoutLimits, unit: "µs"),
            Figure(name: "idle run environment", value: environmentBytes, unit: "B", goal: .valueAtMost(4096)),
            Figure(
                name: "idle run environment + its loaded empty chunk", value: chunkBytes, unit: "B",
                goal: .valueAtMost(4096)),
        ]
    }

    /// Microseconds per empty run: the median over `batches` batches (after one not counted).
    private func timeEmptyRuns(limits: Limits) throws -> Double {
        let sandbox = try Sandbox()
        let empty: [UInt8] = []
        let clock = ContinuousClock()
        var perRun: [Double] = []
        for batch in 0...batches {
            let start = clock.now
            for _ in 0..<batchSize {
                let environment = try sandbox.makeEnvironment()
                let chunk = try sandbox.load(empty, chunkName: "=empty", in: environment)
                _ = try sandbox.run(chunk, limits: limits)
            }
            let elapsed = clock.now - start
            if batch > 0 { perRun.append(elapsed.seconds / Double(batchSize) * 1e6) }
        }
        let label = limits.timeout == nil ? "no limits" : "default limits"
        let samples = perRun.map(Figure.format).joined(separator: " ")
        note("empty runs, \(label): \(samples) µs per run, batches of \(batchSize)")
        return Statistics.median(perRun)
    }

    /// Lua bytes per environment kept alive, measured after full collections.
    private func bytesPerEnvironment(withChunk: Bool) throws -> Double {
        let sandbox = try Sandbox()
        let empty: [UInt8] = []
        sandbox.state.collectGarbage()
        let before = sandbox.state.memoryUsed
        var environments: [Environment] = []
        var chunks: [Chunk] = []
        environments.reserveCapacity(retained)
        chunks.reserveCapacity(withChunk ? retained : 0)
        for _ in 0..<retained {
            let environment = try sandbox.makeEnvironment()
            if withChunk { chunks.append(try sandbox.load(empty, chunkName: "=empty", in: environment)) }
            environments.append(environment)
        }
        sandbox.state.collectGarbage()
        let after = sandbox.state.memoryUsed
        withExtendedLifetime((environments, chunks)) {}
        let perEnvironment = Double(after - before) / Double(retained)
        note(
            "\(retained) environments\(withChunk ? " with chunks" : ""): \(before) B -> \(after) B, "
                + "\(Figure.format(perEnvironment)) B each")
        return perEnvironment
    }
}
