@testable import AutomatorRuntime
import Dispatch
import Foundation
import Logging
import Synchronization
import TestSupport
import Testing

/// Host functions with effects, counted across the lives of a service, for replay tests.
struct EffectModule: HostModule {
    final class World: Sendable {
        /// Every effect performed, in order.
        let performed = Mutex<[String]>([])
        /// Which life of the service this is (an unrecorded value: scripts must not rely on it).
        let life = Atomic<Int>(1)
        /// The runs waiting in `effect.gate()`.
        let gate = Mutex<[@Sendable (Result<[LuaValue], HostError>) -> Void]>([])

        /// Lets the runs waiting in `effect.gate()` go on; returns how many there were.
        @discardableResult
        func openGate() -> Int {
            let waiting = gate.withLock { waiting in
                defer { waiting.removeAll() }
                return waiting
            }
            for complete in waiting { complete(.success([])) }
            return waiting.count
        }
    }

    let name = "effect"
    let world: World

    func register(in table: inout ModuleTable) {
        let world = self.world
        table.waitingFunction("perform") { call in
            let what = try call.string(1).description
            return .callback { complete in
                let count = world.performed.withLock { performed in
                    performed.append(what)
                    return performed.count
                }
                complete(.success([.integer(Int64(count))]))
            }
        }
        table.function("life") { call in call.push(integer: Int64(world.life.load(ordering: .relaxed))) }
        table.waitingFunction("gate") { _ in
            .callback { complete in world.gate.withLock { $0.append(complete) } }
        }
    }
}

/// A store whose writes, while it holds, wait until `release`: to act between a write's
/// submission and its commit. Those it is told to refuse fail as on a full disk.
final class HeldStore: Store {
    let store: SQLiteStore
    private let held = Mutex<(holding: Bool, writes: [(StoreWrite, @Sendable (Result<Void, StoreError>) -> Void)])>((false, []))
    private let refusing = Mutex<Callback<@Sendable (StoreWrite) -> Bool>?>(nil)

    init(_ store: SQLiteStore) { self.store = store }

    func hold() { held.withLock { $0.holding = true } }

    var heldCount: Int { held.withLock { $0.writes.count } }

    func release() {
        let writes = held.withLock { held in
            defer { held = (false, []) }
            return held.writes
        }
        for (write, completion) in writes { store.write(write, completion: completion) }
    }

    /// Fails the writes `writes` picks from now on (none: nil) with a full disk's error.
    func refuse(_ writes: (@Sendable (StoreWrite) -> Bool)?) { refusing.withLock { $0 = writes.map(Callback.init) } }

    func write(_ write: StoreWrite, completion: @escaping @Sendable (Result<Void, StoreError>) -> Void) {
        if refusing.withLock({ $0?.call(write) }) == true {
            return completion(.failure(.diskFull(store.path, reason: "database or disk is full")))
        }
        let kept = held.withLock { held in
            if held.holding { held.writes.append((write, completion)) }
            return held.holding
        }
        if !kept { store.write(write, completion: completion) }
    }

    func loadRun(_ id: RunID) async throws(StoreError) -> RunRecord? { try await store.loadRun(id) }
    func listRuns(status: RunRecord.Status?, limit: Int) async throws(StoreError) -> [RunRecord] {
        try await store.listRuns(status: status, limit: limit)
    }
    func lastRun(of incident: IncidentID, calling entries: [RunEntry]) async throws(StoreError) -> RunRecord? {
        try await store.lastRun(of: incident, calling: entries)
    }
    func unfinishedRuns() async throws(StoreError) -> [UnfinishedRun] { try await store.unfinishedRuns() }
    func hostCalls(of run: RunID) async throws(StoreError) -> [HostCallRecord] { try await store.hostCalls(of: run) }
    func deleteFinishedChatRuns(finishedBefore cutoff: Date) async throws(StoreError) -> Int {
        try await store.deleteFinishedChatRuns(finishedBefore: cutoff)
    }
    func close() async { await store.close() }
}

/// `act.send()`: an effect (`HostWait.act`) that counts how often it was started.
struct ActModule: HostModule {
    final class Sends: Sendable {
        let count = Atomic<Int>(0)
    }

    let name = "act"
    let store: any Store
    let sends: Sends

    func register(in table: inout ModuleTable) {
        let (store, sends) = (self.store, self.sends)
        table.waitingFunction("send") { _ in
            .act(in: store, before: .together([])) { complete in
                let count = sends.count.add(1, ordering: .relaxed).newValue
                complete(Acted(change: .together([]), outcome: .success([.integer(Int64(count))])))
            }
        }
    }
}

/// Log records, kept: level, message and metadata.
struct CapturedLog: LogHandler {
    final class Records: Sendable {
        let lines = Mutex<[(level: Logger.Level, message: String, metadata: Logger.Metadata)]>([])
    }

    let records: Records
    var metadata = Logger.Metadata()
    var logLevel = Logger.Level.info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        records.lines.withLock { $0.append((event.level, event.message.description, event.metadata ?? [:])) }
    }
}

@Suite("Durable replay: runs survive a restart, each effect once", .timeLimit(.minutes(2)))
struct ReplayTests {
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    static func service(folder: String, world: EffectModule.World, logger: Logger = logger) throws -> RunService {
        try RunService(store: try SQLiteStore(folder: folder),
                       modules: StandardModules.all(logger: logger) + [EffectModule(world: world)], executors: 2)
    }

    /// Waits until `condition` holds (at most 30 s: the disk is shared with the other suites).
    static func eventually(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while !condition() {
            guard ContinuousClock.now < deadline else { throw Timeout() }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// Waits until `count` host calls of `run` are in the store (at most 30 s).
    static func waitForRecords(_ count: Int, of run: RunID, in service: RunService) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while try await service.store.hostCalls(of: run).count < count {
            guard ContinuousClock.now < deadline else { throw Timeout() }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    struct Timeout: Error {}

    @Test("A run stopped mid-way resumes: recorded calls replay, the clock and random numbers come back, effects happen once")
    func resume() async throws {
        let folder = try ScratchFolder()
        let world = EffectModule.World()
        let first = try Self.service(folder: folder.path, world: world)
        let run = try await first.submit(script: "resume.lua", source: Array("""
            local t, stamp, r = time.now(), os.time(), math.random(1, 1000000)
            effect.perform(("first %.3f %d %d"):format(t, stamp, r))
            time.sleep(0.4)
            effect.gate()    -- the first life stops here, however long the stop takes
            effect.perform("second")
            return ("%.3f %d %d"):format(t, stamp, r), math.random(1, 1000000) == math.random(1, 1000000)
            """.utf8))
        try await Self.eventually { world.gate.withLock { $0.count } == 1 }
        await first.shutdown()
        world.gate.withLock { $0.removeAll() }  // the first life's wait ended with it
        let stored = try #require(try await SQLiteStore(folder: folder.path).loadRun(run.id))
        #expect(!stored.status.isFinished, "waiting at its gate: \(stored.status)")

        world.life.store(2, ordering: .relaxed)
        let second = try Self.service(folder: folder.path, world: world)
        #expect(try await second.recover() == 1)
        try await Self.eventually { world.gate.withLock { $0.count } == 1 }  // never recorded: waits again
        world.openGate()
        await second.waitForEnd(run.id)
        let ended = try #require(try await second.run(run.id))
        #expect(ended.status == .completed, "\(ended.error ?? "")")
        let performed = world.performed.withLock { $0 }
        #expect(performed.count == 2)
        #expect(performed.last == "second")
        let values = try JSONSerialization.jsonObject(with: Data((ended.result ?? "[]").utf8)) as? [Any]
        #expect(performed.first == "first " + ((values?.first as? String) ?? "?"))
        #expect(try await second.store.hostCalls(of: run.id).map(\.name)
            == ["time.now", "time.now", "math.randomseed", "effect.perform", "time.sleep", "effect.gate", "effect.perform"])
        await second.shutdown()
    }

    @Test("A script's log lines name their run, and those a replay logs again say replay=true")
    func logLines() async throws {
        let folder = try ScratchFolder()
        let world = EffectModule.World()
        let records = CapturedLog.Records()
        let logger = Logger(label: "test") { _ in CapturedLog(records: records) }
        let first = try Self.service(folder: folder.path, world: world, logger: logger)
        let run = try await first.submit(script: "logs.lua", source: Array("""
            log.info("looked up", { ip = "203.0.113.7" })
            effect.perform("lookup")
            time.sleep(3600)
            """.utf8))
        try await Self.waitForRecords(2, of: run.id, in: first)
        await first.shutdown()
        let second = try Self.service(folder: folder.path, world: world, logger: logger)
        _ = try await second.recover()
        try await Self.eventually { records.lines.withLock { $0.count } == 2 }
        let lines = records.lines.withLock { $0 }
        #expect(lines.map(\.message) == ["looked up", "looked up"])
        #expect(lines.map { $0.metadata["run"] } == [.string(run.id.rawValue), .string(run.id.rawValue)])
        #expect(lines.map { $0.metadata["replay"] } == [nil, "true"])
        #expect(lines.first?.metadata["ip"] == "203.0.113.7")
        await second.shutdown()
    }

    @Test("A sleep resumed after a restart sleeps only what is left of it")
    func sleepDeadline() async throws {
        let folder = try ScratchFolder()
        let world = EffectModule.World()
        let first = try Self.service(folder: folder.path, world: world)
        let run = try await first.submit(script: "sleep.lua", source: Array("effect.perform('asleep') time.sleep(2)".utf8))
        try await Self.waitForRecords(2, of: run.id, in: first)
        await first.shutdown()
        try await Task.sleep(for: .seconds(1))

        let second = try Self.service(folder: folder.path, world: world)
        let resumed = Date()
        #expect(try await second.recover() == 1)
        await second.waitForEnd(run.id)
        let ended = try #require(try await second.run(run.id))
        #expect(ended.status == .completed)
        // Its end as stored, not when this test got to look: a loaded machine delays the look.
        #expect(try #require(ended.finishedAt) < resumed.addingTimeInterval(2), "a full sleep again would end 2 s after the restart")
        #expect(world.performed.withLock { $0 } == ["asleep"])
        await second.shutdown()
    }

    @Test("A run that makes other calls than its record is marked diverged, naming the call")
    func divergence() async throws {
        let folder = try ScratchFolder()
        let world = EffectModule.World()
        let first = try Self.service(folder: folder.path, world: world)
        // effect.life() is not recorded: the resumed run asks for something else.
        let run = try await first.submit(script: "diverge.lua", source: Array("""
            local ok = pcall(effect.perform, "life " .. effect.life())
            time.sleep(3600)
            """.utf8))
        try await Self.eventually { world.performed.withLock { $0.count } == 1 }
        await first.shutdown()

        world.life.store(2, ordering: .relaxed)
        let second = try Self.service(folder: folder.path, world: world)
        _ = try await second.recover()
        await second.waitForEnd(run.id)
        let ended = try #require(try await second.run(run.id))
        #expect(ended.status == .diverged)
        #expect(ended.error?.contains("call 1 (effect.perform) has other arguments than when it was recorded") == true,
                "\(ended.error ?? "")")
        #expect(world.performed.withLock { $0 } == ["life 1"], "a diverged call must not act")
        await second.shutdown()
    }

    @Test("A run that ends before its recorded calls are used up diverges too")
    func endsEarly() async throws {
        let world = EffectModule.World()
        let folder = try ScratchFolder()
        let service = try Self.service(folder: folder.path, world: world)
        let store = service.store
        var record = RunRecord(script: "early.lua", source: Array("return 1".utf8))
        record.status = .running
        try await store.write(.createRun(record))
        try await store.write(.appendHostCalls([HostCallRecord(runID: record.id, sequence: 1, name: "effect.perform",
                                                              argumentsDigest: "x", result: RecordCoding.encode(.success([])))]))
        #expect(try await service.recover() == 1)
        await service.waitForEnd(record.id)
        let ended = try #require(try await service.run(record.id))
        #expect(ended.status == .diverged)
        #expect(ended.error?.contains("the run ended after 0 calls, where the record has 1 (the next one is effect.perform)") == true)
        await service.shutdown()
    }

    @Test("Killed, failed and completed runs end so in the store; JSON arguments and results keep null and []")
    func endings() async throws {
        let folder = try ScratchFolder()
        let service = try Self.service(folder: folder.path, world: EffectModule.World())
        let sleeper = try await service.submit(script: "sleeper", source: Array("time.sleep(3600)".utf8))
        let failing = try await service.submit(script: "failing.lua", source: Array("\nerror('no such host')".utf8))
        let echo = try await service.submit(script: "echo", source: Array("return ...".utf8),
                                            arguments: #"[null, [], {"a": [1, 2.5]}, "x"]"#)
        let killed = try await service.kill(sleeper.id)
        #expect(killed.status == .killed)
        await service.waitForEnd(failing.id)
        await service.waitForEnd(echo.id)
        let failed = try #require(try await service.run(failing.id))
        #expect(failed.status == .failed)
        #expect(failed.error?.hasPrefix("failing.lua:2: no such host") == true, "\(failed.error ?? "")")
        #expect(try await service.run(echo.id)?.result == #"[null,[],{"a":[1,2.5]},"x"]"#)
        await #expect(throws: RunServiceError.self) { _ = try await service.kill(sleeper.id) }
        await service.shutdown()
    }

    @Test("waitForEnd says how the run ended, with no read of the store while it executes; read back once ended")
    func endOutcome() async throws {
        let folder = try ScratchFolder()
        let service = try Self.service(folder: folder.path, world: EffectModule.World())
        let failing = try await service.submit(script: "failing.lua",
                                               source: Array("time.sleep(0.5)\nerror('no such host')".utf8))
        let echo = try await service.submit(script: "echo", source: Array("time.sleep(0.5) return ...".utf8),
                                            arguments: "[1]")
        // Both waits begin while both runs sleep: a run that has ended is no longer executing here.
        async let failedEnd = service.waitForEnd(failing.id)
        async let completedEnd = service.waitForEnd(echo.id)
        let (failed, completed) = await (failedEnd, completedEnd)
        #expect(failed?.status == .failed)
        #expect(failed?.error?.hasPrefix("failing.lua:2: no such host") == true, "\(failed?.error ?? "")")
        #expect(completed?.status == .completed && completed?.result == "[1]")
        let again = await service.waitForEnd(echo.id)
        #expect(again?.status == .completed && again?.result == "[1]", "ended before this wait began: read back")
        await service.shutdown()
    }

    @Test("Bad submissions are refused before anything is stored")
    func badSubmissions() async throws {
        let folder = try ScratchFolder()
        let service = try Self.service(folder: folder.path, world: EffectModule.World())
        let syntax = await #expect(throws: RunServiceError.self) {
            _ = try await service.submit(script: "broken.lua", source: Array("return (".utf8))
        }
        #expect(syntax?.description.hasPrefix("the script does not compile: broken.lua:1:") == true)
        await #expect(throws: RunServiceError.self) {
            _ = try await service.submit(script: "x", source: Array("return 1".utf8), arguments: #"{"a": 1}"#)
        }
        await #expect(throws: RunServiceError.self) {
            _ = try await service.submit(script: "x", source: Array("return 1".utf8), arguments: "[1,")
        }
        #expect(try await service.runs().isEmpty)
        await service.shutdown()
    }

    @Test("A full disk suspends runs instead of losing them; the service goes on, and resumes them once there is room, each once",
          .enabled(if: Tmpfs.isAvailable))
    func fullDisk() async throws {
        let tmpfs = try Tmpfs(size: "4m")
        let world = EffectModule.World()
        let service = try Self.service(folder: tmpfs.path, world: world)
        #expect(try await service.recover() == 0, "a server's service, which resumes the store's runs")
        let run = try await service.submit(script: "full.lua", source: Array("""
            effect.perform("before")
            effect.gate()        -- the disk fills up meanwhile: this call's record is refused
            for step = 1, 20 do effect.perform("step " .. step) end
            return "done"
            """.utf8))
        try await Self.eventually { world.gate.withLock { $0.count } == 1 }
        tmpfs.fill(tmpfs.path + "/filler")
        world.openGate()

        try await Self.eventually { service.liveCount == 0 }
        #expect(world.performed.withLock { $0 } == ["before"], "a suspended run acts no more")
        let refused = await #expect(throws: RunServiceError.self) {
            _ = try await service.submit(script: "new.lua", source: Array("return 1".utf8))
        }
        #expect(refused?.description.contains("full") == true, "\(String(describing: refused))")
        #expect(try await service.run(run.id)?.status == .running, "the run stays unfinished")
        // The disk is still full: tried (a write first), the run is not resumed, and does not act again.
        try await Task.sleep(for: .seconds(2))
        #expect(service.liveCount == 0 && world.gate.withLock { $0.count } == 0)

        try FileManager.default.removeItem(atPath: tmpfs.path + "/filler")
        // Resumed without a restart, at a try of the store's backoff (every 5 s at most): the wait's
        // own 30 s bound it, which a resumption left to a restart never meets.
        try await Self.eventually { world.gate.withLock { $0.count } == 1 }  // never recorded: waits again
        #expect(service.liveCount == 1, "resumed once")
        world.openGate()
        #expect(await service.waitForEnd(run.id)?.result == #"["done"]"#)
        #expect(try await service.run(run.id)?.status == .completed)
        #expect(world.performed.withLock { $0 } == ["before"] + (1...20).map { "step \($0)" }, "each effect once")
        await service.shutdown()
    }

    @Test("A run whose end could not be stored is resumed once the store takes writes again, and ends once")
    func endNotStored() async throws {
        let folder = try ScratchFolder()
        let store = HeldStore(try SQLiteStore(folder: folder.path))
        let world = EffectModule.World()
        let service = try RunService(store: store, modules: StandardModules.all(logger: Self.logger)
                                         + [EffectModule(world: world)], executors: 2)
        _ = try await service.recover()
        let run = try await service.submit(script: "end.lua", source: Array("""
            effect.perform("once")
            effect.gate()
            return "done"
            """.utf8))
        try await Self.eventually { world.gate.withLock { $0.count } == 1 }
        let refusedEnds = Mutex(0)
        store.refuse { write in
            guard case .updateRun(let update) = write, update.status.isFinished else { return false }
            refusedEnds.withLock { $0 += 1 }
            return true
        }
        world.openGate()
        try await Self.eventually { service.liveCount == 0 }
        #expect(try await service.run(run.id)?.status == .running, "its end is not stored")
        // Tried again meanwhile: replayed to its end, not stored again.
        try await Self.eventually { refusedEnds.withLock { $0 } >= 2 }
        #expect(try await service.run(run.id)?.status == .running)

        store.refuse(nil)
        let deadline = ContinuousClock.now + .seconds(30)
        while try await service.run(run.id)?.status != .completed {
            guard ContinuousClock.now < deadline else { throw Timeout() }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try await service.run(run.id)?.result == #"["done"]"#)
        #expect(world.performed.withLock { $0 } == ["once"], "replayed, not done again")
        #expect(world.gate.withLock { $0.count } == 0, "the recorded gate is replayed")
        await service.shutdown()
    }

    @Test("A run killed while its effect's first record commits never starts the effect; one not killed starts it once")
    func killedBeforeActing() async throws {
        let folder = try ScratchFolder()
        let store = HeldStore(try SQLiteStore(folder: folder.path))
        let sends = ActModule.Sends()
        let executor = try Executor(modules: StandardModules.all(logger: Self.logger) + [ActModule(store: store, sends: sends)],
                                    store: store)
        defer { executor.shutdown() }
        let outcomes = Outcomes()
        let (killed, kept) = (RunID.make(), RunID.make())
        store.hold()
        executor.start(RunRequest(id: killed, source: Array("return act.send()".utf8), chunkName: "=act"),
                       completion: outcomes.record(killed))
        for _ in 0..<1000 where store.heldCount == 0 { try await Task.sleep(for: .milliseconds(5)) }
        #expect(store.heldCount == 1, "the effect's record is on its way")
        executor.kill(killed, reason: "killed by analyst")
        store.release()
        executor.start(RunRequest(id: kept, source: Array("return act.send()".utf8), chunkName: "=act"),
                       completion: outcomes.record(kept))
        let results = await outcomes.wait(for: 2)
        guard case .failed(let error) = results[killed] else { Issue.record("\(String(describing: results[killed]))"); return }
        #expect(error.kind == .killed)
        guard case .completed(let values) = results[kept] else { Issue.record("\(String(describing: results[kept]))"); return }
        #expect(values == "[1]")
        #expect(sends.count.load(ordering: .relaxed) == 1, "only the run that was not killed acted")
    }

    @Test("Recorded outcomes and argument digests encode exactly, tables in a canonical order")
    func coding() throws {
        let values: [LuaValue] = [.nil, true, 42, 2.5, "bytes \u{0}\u{ff}",
                                  .table(LuaTable(array: [1, "two"], fields: ["k": ["nested": -0.0], 7: false]))]
        #expect(try RecordCoding.decode(RecordCoding.encode(.success(values))).get() == values)
        let failure = try RecordCoding.decode(RecordCoding.encode(.failure(HostError("timed out"))))
        #expect(throws: HostError.self) { try failure.get() }
        #expect(throws: RecordCodingError.self) { try RecordCoding.decode([0x76, 0x05, 0x03]) }
        let one = LuaValue.table(LuaTable(fields: ["a": 1, "b": 2, "c": 3]))
        let other = LuaValue.table(LuaTable(fields: ["c": 3, "b": 2, "a": 1]))
        #expect(RecordCoding.encodeArguments([one], typeNames: ["table"])
            == RecordCoding.encodeArguments([other], typeNames: ["table"]))
        #expect(RecordCoding.encodeArguments([.integer(1)], typeNames: ["number"])
            != RecordCoding.encodeArguments([.number(1)], typeNames: ["number"]))
    }
}
