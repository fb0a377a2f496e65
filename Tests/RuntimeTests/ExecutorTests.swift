import AutomatorRuntime
import Dispatch
import Foundation
import Logging
import Synchronization
import TestSupport
import Testing

/// Host functions that wait, for scheduler tests, and `wait.mark(text)` to leave a trace.
struct WaitModule: HostModule {
    final class Marks: Sendable {
        let texts = Mutex<[String]>([])
    }

    let name = "wait"
    var marks = Marks()

    func register(in table: inout ModuleTable) {
        let marks = self.marks
        table.function("thread") { call in
            call.push(integer: Int64(bitPattern: UInt64(pthread_self())))
        }
        table.function("mark") { call in
            let text = try call.string(1).description
            marks.texts.withLock { $0.append(text) }
            return 0
        }
        // Completes on another thread, a little later.
        table.waitingFunction("double") { call in
            let value = try call.integer(1)
            return .callback { complete in
                DispatchQueue.global().async { complete(.success([.integer(value * 2)])) }
            }
        }
        // A Swift task.
        table.waitingFunction("task") { call in
            let value = try call.integer(1)
            return .task {
                try await Task.sleep(for: .milliseconds(1))
                return [.integer(value + 1)]
            }
        }
        // A task that suspends until another thread resumes it: the thread it resumed on.
        table.waitingFunction("resumedOn") { _ in
            .task {
                await withCheckedContinuation { continuation in Thread { continuation.resume() }.start() }
                return [.integer(Int64(bitPattern: UInt64(pthread_self())))]
            }
        }
        // Completes before `start` returns.
        table.waitingFunction("now") { call in
            let value = try call.value(1)
            return .callback { complete in complete(.success([value])) }
        }
        table.waitingFunction("fail") { _ in
            .callback { complete in complete(.failure(HostError("the lookup failed"))) }
        }
    }
}

/// `gated.wait()`: a task that waits until the test opens the gate, then notes that it finished.
struct GatedModule: HostModule {
    final class Gate: Sendable {
        let waiting = Mutex<CheckedContinuation<Void, Never>?>(nil)
        let finished = Mutex(false)
    }

    let name = "gated"
    let gate: Gate

    func register(in table: inout ModuleTable) {
        let gate = self.gate
        table.waitingFunction("wait") { _ in
            .task {
                await withCheckedContinuation { continuation in gate.waiting.withLock { $0 = continuation } }
                gate.finished.withLock { $0 = true }
                return []
            }
        }
    }
}

/// The integers of a run's results (a JSON array of integers).
func integers(_ json: String) -> [Int64] {
    (try? JSONDecoder().decode([Int64].self, from: Data(json.utf8))) ?? []
}

/// Collects run outcomes from the executor's thread.
///
/// Tests await them rather than block: a blocked test holds one of the few threads of Swift's
/// cooperative pool, which `.task` waits need.
final class Outcomes: Sendable {
    private let outcomes = Mutex<[RunID: RunOutcome]>([:])

    var record: @Sendable (RunID) -> @Sendable (RunOutcome) -> Void {
        { id in { outcome in self.outcomes.withLock { $0[id] = outcome } } }
    }

    /// Waits for `count` outcomes (at most `seconds`); returns them.
    func wait(for count: Int, seconds: Int = 60) async -> [RunID: RunOutcome] {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while outcomes.withLock({ $0.count }) < count, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        return outcomes.withLock { $0 }
    }
}

@Suite("Executor: many runs in flight on one state", .timeLimit(.minutes(2)))
struct ExecutorTests {
    static func makeExecutor(timeout: Duration? = .seconds(5), marks: WaitModule.Marks = .init()) throws -> Executor {
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        var module = WaitModule()
        module.marks = marks
        return try Executor(modules: StandardModules.all(logger: logger) + [module],
                            limits: Limits(memory: 1 << 30, timeout: timeout))
    }

    private func start(_ executor: Executor, _ source: String, _ outcomes: Outcomes, arguments: String = "[]") -> RunID {
        let id = RunID.make()
        executor.start(RunRequest(id: id, source: Array(source.utf8), chunkName: "=run", arguments: Array(arguments.utf8)),
                       completion: outcomes.record(id))
        return id
    }

    @Test("10,000 concurrent runs, each awaiting async host calls, all complete with the right results")
    func tenThousand() async throws {
        let executor = try Self.makeExecutor()
        defer { executor.shutdown() }
        let outcomes = Outcomes()
        let script = "local n = ... local a = wait.double(n) local b = wait.task(a) time.sleep(0.01) return wait.now(b) + n"
        var expected: [RunID: Int64] = [:]
        for n in 0..<10_000 {
            let id = start(executor, script, outcomes, arguments: "[\(n)]")
            expected[id] = Int64(n) * 2 + 1 + Int64(n)
        }
        let results = await outcomes.wait(for: 10_000)
        #expect(results.count == 10_000)
        var wrong = 0
        for (id, value) in expected {
            guard case .completed(let values) = results[id], values == "[\(value)]" else { wrong += 1; continue }
        }
        #expect(wrong == 0)
    }

    @Test("A host call's task resumes on the executor's thread after it suspends, not in Swift's pool")
    func tasksResumeOnTheExecutor() async throws {
        let executor = try Self.makeExecutor()
        defer { executor.shutdown() }
        let outcomes = Outcomes()
        let id = start(executor, "return wait.thread(), wait.resumedOn(), wait.thread()", outcomes)
        guard case .completed(let json) = await outcomes.wait(for: 1)[id] else {
            Issue.record("the run did not complete")
            return
        }
        let threads = integers(json)
        #expect(threads.count == 3 && Set(threads).count == 1, "\(threads)")
    }

    @Test("A host call's task still in flight when its executor stops finishes, in Swift's pool")
    func tasksFinishAfterTheExecutor() async throws {
        let gate = GatedModule.Gate()
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let executor = try Executor(modules: StandardModules.all(logger: logger) + [GatedModule(gate: gate)])
        let outcomes = Outcomes()
        let id = start(executor, "gated.wait()", outcomes)
        while gate.waiting.withLock({ $0 == nil }) { try await Task.sleep(for: .milliseconds(5)) }
        // The stop waits for the call (up to its grace), then suspends the run and ends the thread.
        await Self.stop(executor)
        guard case .suspended = await outcomes.wait(for: 1)[id] else {
            Issue.record("the run must be suspended by the stop")
            return
        }
        gate.waiting.withLock { $0.take() }?.resume()
        _ = try await RecordingInbox.eventually { gate.finished.withLock { $0 } ? true : nil }
    }

    /// Stops `executor` from a thread of its own: `shutdown` blocks until the executor's ends.
    private static func stop(_ executor: Executor) async {
        await withCheckedContinuation { (stopped: CheckedContinuation<Void, Never>) in
            Thread {
                executor.shutdown()
                stopped.resume()
            }.start()
        }
    }

    @Test("A stop interrupts a run that computes: suspended to resume by replay, not failed, and at once")
    func stopInterruptsComputing() async throws {
        let marks = WaitModule.Marks()
        let executor = try Self.makeExecutor(timeout: nil, marks: marks)
        let outcomes = Outcomes()
        let computing = start(executor, """
            wait.mark("computing")
            while true do pcall(function() while true do end end) end
            """, outcomes)
        try #require(try await eventually { marks.texts.withLock { $0 } == ["computing"] })
        // With no time limit, a stop that does not interrupt the run never returns: any bound
        // far below the test's own tells the two apart, however loaded the machine.
        let started = ContinuousClock.now
        await Self.stop(executor)
        #expect(ContinuousClock.now - started < .seconds(30), "the stop waited for the run to compute its fill")
        guard case .suspended = await outcomes.wait(for: 1)[computing] else {
            Issue.record("the run must be suspended by the stop, not ended")
            return
        }
    }

    @Test("A host wait inside the script's own coroutine suspends the run and comes back")
    func waitInCoroutine() async throws {
        let executor = try Self.makeExecutor()
        defer { executor.shutdown() }
        let outcomes = Outcomes()
        let id = start(executor, """
            local co = coroutine.wrap(function(x)
              local doubled = wait.double(x)          -- a host wait two coroutines deep
              local y = coroutine.yield(doubled)      -- the script's own yield still works
              local inner = coroutine.create(function() return wait.task(y) end)
              local ok, v = coroutine.resume(inner)
              return v * 10
            end)
            local first = co(21)
            local ok, err = pcall(function() return wait.fail() end)
            return first, co(first), ok, err
            """, outcomes)
        let result = await outcomes.wait(for: 1)[id]
        guard case .completed(let values) = result else { Issue.record("\(String(describing: result))"); return }
        #expect(values == #"[42,430,false,"run:9: wait.fail: the lookup failed"]"#)
    }

    @Test("A script cannot yield a fake value to the scheduler")
    func fakeYield() async throws {
        let executor = try Self.makeExecutor()
        defer { executor.shutdown() }
        let outcomes = Outcomes()
        let id = start(executor, "coroutine.yield('I am a host call')", outcomes)
        let other = start(executor, "return wait.double(2)", outcomes)
        let results = await outcomes.wait(for: 2)
        guard case .failed(let error) = results[id] else { Issue.record("the fake yield must fail"); return }
        #expect(error.message.contains("attempt to yield from outside a coroutine"))
        guard case .completed(let values) = results[other] else { Issue.record("the other run must finish"); return }
        #expect(values == "[4]")
    }

    @Test("Kill sleeping runs: their __close handlers run, the others go on")
    func killSleeping() async throws {
        let marks = WaitModule.Marks()
        let executor = try Self.makeExecutor(marks: marks)
        defer { executor.shutdown() }
        let outcomes = Outcomes()
        let guarded = start(executor, """
            local guard <close> = setmetatable({}, { __close = function() wait.mark('guarded released') end })
            local ok = pcall(time.sleep, 3600)   -- pcall cannot keep a killed run alive
            while true do end
            """, outcomes)
        let plain = start(executor, """
            local guard <close> = setmetatable({}, { __close = function() wait.mark('plain released') end })
            time.sleep(3600)
            """, outcomes)
        let neighbour = start(executor, "time.sleep(0.2) return 'still here'", outcomes)
        try await Task.sleep(for: .milliseconds(50))
        executor.kill(guarded, reason: "killed by analyst")
        executor.kill(plain, reason: "killed by analyst")
        let results = await outcomes.wait(for: 3)
        for id in [guarded, plain] {
            guard case .failed(let error) = results[id] else { Issue.record("the sleepers must be killed"); return }
            #expect(error.kind == .killed)
            #expect(error.message.contains("killed by analyst"))
        }
        #expect(marks.texts.withLock { $0 }.sorted() == ["guarded released", "plain released"])
        guard case .completed(let values) = results[neighbour] else { Issue.record("the neighbour must finish"); return }
        #expect(values == #"["still here"]"#)
    }

    @Test("Kill a runaway run, and one whose __close handler hangs; the executor goes on")
    func killRunaway() async throws {
        let executor = try Self.makeExecutor(timeout: nil)
        defer { executor.shutdown() }
        let outcomes = Outcomes()
        let runaway = start(executor, """
            local guard <close> = setmetatable({}, { __close = function() while true do end end })
            while true do pcall(function() while true do end end) end
            """, outcomes)
        try await Task.sleep(for: .milliseconds(100))
        executor.kill(runaway)
        let after = start(executor, "return 1 + 1", outcomes)
        let results = await outcomes.wait(for: 2, seconds: 10)
        guard case .failed(let error) = results[runaway] else { Issue.record("the runaway must be killed"); return }
        #expect(error.kind == .killed)
        guard case .completed(let values) = results[after] else { Issue.record("the next run must work"); return }
        #expect(values == "[2]")
    }

    @Test("The watchdog stops a run that computes too long without waiting")
    func watchdog() async throws {
        let executor = try Self.makeExecutor(timeout: .milliseconds(200))
        defer { executor.shutdown() }
        let outcomes = Outcomes()
        let runaway = start(executor, "time.sleep(0.01) while true do end", outcomes)
        let patient = start(executor, "for i = 1, 5 do time.sleep(0.1) end return 'done'", outcomes)
        let results = await outcomes.wait(for: 2, seconds: 10)
        guard case .failed(let error) = results[runaway] else { Issue.record("the runaway must be stopped"); return }
        #expect(error.kind == .killed)
        #expect(error.message.contains("computed for more than 0.2s without waiting"))
        guard case .completed(let values) = results[patient] else { Issue.record("waiting is not computing"); return }
        #expect(values == #"["done"]"#)
    }

    @Test("Sleeping runs wake in deadline order")
    func timers() async throws {
        let executor = try Self.makeExecutor()
        defer { executor.shutdown() }
        let order = Mutex<[Int64]>([])
        for delay in [5, 1, 4, 2, 3] as [Int64] {
            let request = RunRequest(source: Array("time.sleep(... / 20) return ...".utf8), chunkName: "=t",
                                     arguments: Array("[\(delay)]".utf8))
            executor.start(request) { outcome in
                if case .completed(let values) = outcome, let value = integers(values).first {
                    order.withLock { $0.append(value) }
                }
            }
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while order.withLock({ $0.count }) < 5, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(order.withLock { $0 } == [1, 2, 3, 4, 5])
    }

    @Test("Runs of one script share its compiled code, not their globals; lines and varargs are the script's")
    func sharedTemplate() async throws {
        let executor = try Self.makeExecutor()
        defer { executor.shutdown() }
        let outcomes = Outcomes()
        let script = """
            count = (count or 0) + 1
            local n = ...
            if n == 3 then error("third") end
            return count, n, select("#", ...)
            """
        let ids = (1...3).map { start(executor, script, outcomes, arguments: "[\($0), null]") }
        let noGlobals = start(executor, "local a, b = ... return a + b", outcomes, arguments: "[2, 3]")
        let results = await outcomes.wait(for: 4)
        guard case .completed(let first) = results[ids[0]], case .completed(let second) = results[ids[1]] else {
            Issue.record("\(results)")
            return
        }
        #expect(first == "[1,1,2]")
        #expect(second == "[1,2,2]")
        guard case .failed(let error) = results[ids[2]] else { Issue.record("the third must fail"); return }
        #expect(error.message == "run:3: third")
        guard case .completed(let sum) = results[noGlobals] else { Issue.record("\(results)"); return }
        #expect(sum == "[5]")
    }

    @Test("A script that does not compile fails its run with file:line, and nothing else")
    func syntaxError() async throws {
        let executor = try Self.makeExecutor()
        defer { executor.shutdown() }
        let outcomes = Outcomes()
        let broken = start(executor, "return (", outcomes)
        let fine = start(executor, "return 'ok'", outcomes)
        let results = await outcomes.wait(for: 2)
        guard case .failed(let error) = results[broken] else { Issue.record("must fail"); return }
        #expect(error.kind == .syntax)
        #expect(error.message.hasPrefix("run:1:"))
        guard case .completed(let values) = results[fine] else { Issue.record("must finish"); return }
        #expect(values == #"["ok"]"#)
    }
}

@Suite("Scheduler: runs spread over executors", .timeLimit(.minutes(2)))
struct SchedulerTests {
    static func makeScheduler(executors: Int) throws -> Scheduler {
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        return try Scheduler(executors: executors, modules: StandardModules.all(logger: logger) + [WaitModule()])
    }

    @Test("Runs spread over the executors' threads, all complete, and kills find their run")
    func spread() async throws {
        let scheduler = try Self.makeScheduler(executors: 3)
        defer { scheduler.shutdown() }
        let outcomes = Outcomes()
        var ids: [RunID] = []
        for n in 0..<600 {
            let id = RunID.make()
            ids.append(id)
            scheduler.start(RunRequest(id: id, source: Array("local n = ... time.sleep(0.01) return wait.thread(), wait.double(n)".utf8),
                                       chunkName: "=spread", arguments: Array("[\(n)]".utf8)),
                            completion: outcomes.record(id))
        }
        let sleeper = RunID.make()
        scheduler.start(RunRequest(id: sleeper, source: Array("time.sleep(3600)".utf8), chunkName: "=sleeper"),
                        completion: outcomes.record(sleeper))
        try await Task.sleep(for: .milliseconds(50))
        scheduler.kill(sleeper)
        let results = await outcomes.wait(for: 601)

        var threads = Set<Int64>()
        for (n, id) in ids.enumerated() {
            guard case .completed(let json) = results[id], case let values = integers(json), values.count == 2 else {
                Issue.record("run \(n) did not complete")
                continue
            }
            threads.insert(values[0])
            #expect(values[1] == Int64(n) * 2)
        }
        #expect(threads.count == 3)
        guard case .failed(let error) = results[sleeper] else { Issue.record("the sleeper must be killed"); return }
        #expect(error.kind == .killed)
    }

    @Test("Executors' threads carry their names, cut to the 15 bytes Linux keeps")
    func threadNames() async throws {
        let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let scheduler = try Scheduler(name: "probe", executors: 2, modules: StandardModules.all(logger: logger))
        defer { scheduler.shutdown() }
        let alone = try Scheduler(name: "an-integration-name", executors: 1, modules: StandardModules.all(logger: logger))
        defer { alone.shutdown() }
        let expected: Set = ["probe 1\n", "probe 2\n", "an-integration-\n"]
        var names: Set<String> = []
        // The threads name themselves as they start.
        for _ in 0..<100 where !names.isSuperset(of: expected) {
            try await Task.sleep(for: .milliseconds(10))
            let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")
            names = Set(tasks.compactMap { try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8) })
        }
        #expect(names.isSuperset(of: expected), "\(names.sorted())")
    }
}
