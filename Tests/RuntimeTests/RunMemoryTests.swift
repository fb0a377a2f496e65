import AutomatorRuntime
import Logging
import Synchronization
import Testing

/// Each run's memory cap on an executor whose runs share one Lua state: what one run holds,
/// frees or leaves behind never counts against another.
@Suite("Memory: each run's cap on an executor its runs share", .timeLimit(.minutes(2)))
struct RunMemoryTests {
    /// `hold(mib)`: a table of `mib` strings of 1 MiB. (One big `string.rep` would need twice its
    /// size: it builds the string in a buffer, then copies it.)
    static let hold = "local function hold(mib) local t = {} for i = 1, mib do t[i] = string.rep('x', 1 << 20) end return t end\n"

    let gate = GatedModule.Gate()
    let marks = WaitModule.Marks()
    let outcomes = Outcomes()

    private func makeExecutor(memory: Int = 64 << 20) throws -> Executor {
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        var wait = WaitModule()
        wait.marks = marks
        return try Executor(modules: StandardModules.all(logger: logger) + [wait, GatedModule(gate: gate)],
                            limits: Limits(memory: memory, timeout: .seconds(30)))
    }

    private func start(_ executor: Executor, _ source: String) -> RunID {
        let id = RunID.make()
        executor.start(RunRequest(id: id, source: Array((Self.hold + source).utf8), chunkName: "=run", arguments: Array("[]".utf8)),
                       completion: outcomes.record(id))
        return id
    }

    /// Waits (at most 30 s) until `condition` holds.
    private func until(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !condition(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        try #require(condition())
    }

    private func openGate() { gate.waiting.withLock { $0?.resume(); $0 = nil } }

    private func expectCompleted(_ outcome: RunOutcome?, _ results: String,
                                 sourceLocation: SourceLocation = #_sourceLocation) {
        guard case .completed(let values) = outcome else {
            Issue.record("the run must complete, not \(String(describing: outcome))", sourceLocation: sourceLocation)
            return
        }
        #expect(values == results, sourceLocation: sourceLocation)
    }

    @Test("A run holding 40 MiB while it waits leaves another run room for its own 40 MiB under a 64 MiB cap")
    func holdingWhileWaiting() async throws {
        let executor = try makeExecutor()
        defer { executor.shutdown() }
        let holder = start(executor, "local held = hold(40) gated.wait() return #held")
        try await until { gate.waiting.withLock { $0 != nil } }
        let other = start(executor, "return #hold(40)")
        expectCompleted(await outcomes.wait(for: 1)[other], "[40]")
        openGate()
        expectCompleted(await outcomes.wait(for: 2)[holder], "[40]")
    }

    @Test("A run over its own cap fails, saying which cap; the run waiting beside it goes on")
    func overItsOwnCap() async throws {
        let executor = try makeExecutor()
        defer { executor.shutdown() }
        let holder = start(executor, "local held = hold(8) gated.wait() return #held")
        try await until { gate.waiting.withLock { $0 != nil } }
        let hog = start(executor, "local t = {} for i = 1, 1e9 do t[i] = ('x'):rep(100) .. i end")
        guard case .failed(let error) = await outcomes.wait(for: 1)[hog] else {
            Issue.record("the hog must fail")
            return
        }
        #expect(error.kind == .memory)
        #expect(error.message.hasPrefix("run:2: memory limit of 64 MiB exceeded (this run's cap: --memory sets it)"),
                "\(error.message)")
        openGate()
        expectCompleted(await outcomes.wait(for: 2)[holder], "[8]")
    }

    @Test("Memory the collector frees while another run runs is credited back to the run that held it")
    func creditedToItsRun() async throws {
        let executor = try makeExecutor()
        defer { executor.shutdown() }
        // Each allocates and drops 1,000 MiB, 40 at a time, holding 40 while it sleeps: the other
        // run's allocations collect its garbage.
        let churn = "for i = 1, 25 do local held = hold(40) time.sleep(0.001) end return 'done'"
        let runs = [start(executor, churn), start(executor, churn)]
        let results = await outcomes.wait(for: 2)
        for id in runs { expectCompleted(results[id], #"["done"]"#) }
    }

    @Test("A run that ended and whose garbage is collected later leaves the account of the run after it alone")
    func garbageOfAnEndedRun() throws {
        // On a sandbox, whose host decides when a run's data becomes garbage: inside the next
        // run, which has taken the ended run's account slot.
        let sandbox = try SandboxHarness().sandbox
        sandbox.state.runMemoryLimit = 64 << 20
        let limits = Limits(memory: nil, timeout: .seconds(30))
        let next = try sandbox.load(Array((Self.hold + """
            local function overflow() local t = {} for i = 1, 1 << 30 do t[i] = i end end
            local collected = pcall(overflow)  -- refused: Lua collects everything, the ended run's 40 MiB among it
            local held = hold(40)
            local more = pcall(hold, 40)  -- 80 MiB in all: over this run's cap
            return collected, #held, more
            """).utf8), chunkName: "=next", in: try sandbox.makeEnvironment())
        do {
            let environment = try sandbox.makeEnvironment()
            let ended = try sandbox.load(Array((Self.hold + "kept = hold(40)").utf8), chunkName: "=ended", in: environment)
            _ = try sandbox.run(ended, limits: limits)
        }  // its 40 MiB, kept by its environment, are garbage now, to be collected while `next` runs
        #expect(try sandbox.run(next, limits: limits) == [.boolean(false), .integer(40), .boolean(false)])
    }

    @Test("When the runs of an executor fill its memory, the run that asks for more fails, saying so")
    func executorMemoryFull() async throws {
        let executor = try makeExecutor(memory: 256 << 20)  // the executor's: 1 GiB
        defer { executor.shutdown() }
        for _ in 1...4 { _ = start(executor, "local held = hold(200) wait.mark('holding') time.sleep(3600)") }
        try await until { marks.texts.withLock { $0.count } == 4 }
        let fifth = start(executor, "return #hold(240)")
        guard case .failed(let error) = await outcomes.wait(for: 1)[fifth] else {
            Issue.record("the fifth run must fail")
            return
        }
        #expect(error.kind == .memory)
        #expect(error.message.contains("memory limit of 1024 MiB exceeded: the executor's memory, shared by 5 runs, is "
            + "full (4 times --memory, at least 1 GiB)"), "\(error.message)")
    }
}
