@testable import AutomatorRuntime
import Foundation
import Logging
import Synchronization
import TestSupport
import Testing

/// Host functions for several workers in one test: `work.perform(name)` counts an effect in a
/// tally shared by all of them; `work.hold()` returns at once, except on a worker that is stuck
/// (it never answers there, as on a worker that hangs or died).
struct SharedWorkModule: HostModule {
    final class Tally: Sendable {
        let performed = Mutex<[String: Int]>([:])
        /// How many runs reached `work.hold()` on a stuck worker, and wait there.
        let held = Mutex(0)
    }

    let name = "work"
    let tally: Tally
    let stuck: Bool

    func register(in table: inout ModuleTable) {
        let tally = self.tally, stuck = self.stuck
        table.waitingFunction("perform") { call in
            let what = try call.string(1).description
            return .callback { complete in
                tally.performed.withLock { $0[what, default: 0] += 1 }
                complete(.success([]))
            }
        }
        table.waitingFunction("hold") { _ in
            .event { complete in
                if stuck { tally.held.withLock { $0 += 1 } } else { complete(.success([])) }
            }
        }
    }
}

@Suite("Several workers on one PostgreSQL: leases, fencing, failover", .timeLimit(.minutes(2)))
struct SharedStoreTests {
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    static func store(_ location: PostgresLocation, worker: String, lease: Duration = .seconds(1)) async throws
        -> PostgresStore
    {
        try await PostgresStore(location: location, lease: RunLease(worker: worker, duration: lease))
    }

    @Test("A held run is not claimed; another worker's writes to it are refused; once its lease expires it moves, and the old holder is fenced off")
    func leases() async throws {
        let location = try PostgresLocation(url: try await PostgresServer.shared().makeDatabase())
        let first = try await Self.store(location, worker: "first"), second = try await Self.store(location, worker: "second")
        let runs = (0..<5).map { StoreConformance.run($0) }
        for run in runs { try await first.write(.createRun(run)) }
        try await first.write(.appendHostCalls([StoreConformance.record(runs[0].id, 1)]))

        #expect(try await second.claimRuns(limit: 100).isEmpty, "the first worker holds them")
        #expect(try await first.renewLeases(of: Set(runs.map(\.id))) == Set(runs.map(\.id)))
        let refused = await #expect(throws: StoreError.self) {
            try await second.write(.appendHostCalls([StoreConformance.record(runs[0].id, 2)]))
        }
        #expect(refused?.kind == .conflict && refused?.description.contains("leased to another worker") == true)

        try await Task.sleep(for: .milliseconds(1_200))
        let claimed = try await second.claimRuns(limit: 100)
        #expect(claimed.map(\.run.id) == runs.map(\.id))
        #expect(claimed.map(\.previousWorker) == Array(repeating: "first", count: 5), "whose they were, for the log")
        #expect(RunLeaseKeeper.adoptionLines(claimed) == [
            "resumed 5 runs of worker first, whose lease on them ended: it stopped, died or lost the database",
        ])
        #expect(claimed.first?.records == [StoreConformance.record(runs[0].id, 1)], "with their records, to replay")
        #expect(try await first.renewLeases(of: Set(runs.map(\.id))).isEmpty, "the first worker lost them")
        let fenced = await #expect(throws: StoreError.self) {
            try await first.write(.updateRun(RunUpdate(runs[1].id, status: .completed)))
        }
        #expect(fenced?.kind == .conflict)
        try await second.write(.appendHostCalls([StoreConformance.record(runs[0].id, 2)]))
        await first.close()
        await second.close()
    }

    @Test("Workers claiming at once get different runs, all of them between them")
    func concurrentClaims() async throws {
        let location = try PostgresLocation(url: try await PostgresServer.shared().makeDatabase())
        let creator = try await Self.store(location, worker: "creator")
        let runs = (0..<200).map { StoreConformance.run($0) }
        for result in await StoreConformance.submitAll(runs.map { .createRun($0) }, to: creator) { try result.get() }
        try await creator.releaseLeases()
        await creator.close()

        var workers: [PostgresStore] = []
        for index in 0..<3 { workers.append(try await Self.store(location, worker: "worker-\(index)", lease: .seconds(60))) }
        let claims = await withTaskGroup(of: [RunID].self) { group in
            for worker in workers {
                group.addTask {
                    var mine: [RunID] = []
                    while let claimed = try? await worker.claimRuns(limit: 7), !claimed.isEmpty {
                        mine += claimed.map(\.run.id)
                    }
                    return mine
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let all = claims.joined()
        #expect(all.count == runs.count, "no run twice")
        #expect(Set(all) == Set(runs.map(\.id)), "every run once")
        #expect(claims.filter { !$0.isEmpty }.count > 1, "the work was shared")
        for worker in workers { await worker.close() }
    }

    @Test("Runs a stopping worker released have waited since the release, and are claimed at once")
    func releasedRunsWaitSinceTheRelease() async throws {
        let location = try PostgresLocation(url: try await PostgresServer.shared().makeDatabase())
        let stopping = try await Self.store(location, worker: "stopping", lease: .seconds(60))
        let runs = (0..<3).map { StoreConformance.run($0) }
        for run in runs { try await stopping.write(.createRun(run)) }
        try await stopping.releaseLeases()
        await stopping.close()

        let health = try await PostgresStore.health(of: location, logger: Self.logger)
        #expect(health.expired == 3 && health.leases.isEmpty)
        let waited = try #require(health.oldestExpiry)
        #expect(waited >= 0 && waited < 30, "since the release, not since 1970: \(waited) s")
        let other = try await Self.store(location, worker: "other")
        #expect(try await other.claimRuns(limit: 10).count == 3)
        await other.close()
    }

    /// Three workers; the first holds every run in `work.hold()`, then stops renewing its leases, as
    /// a worker that died: the other two resume its runs by replay, each effect happens once. It
    /// dies when the test says, once all are held: a worker that never renewed would lose runs it
    /// had not reached yet whenever submitting 30 took longer than its lease.
    @Test("A dead worker's runs finish on the others, each effect once, within the lease time plus a renewal period")
    func failover() async throws {
        let location = try PostgresLocation(url: try await PostgresServer.shared().makeDatabase())
        let tally = SharedWorkModule.Tally()
        var services: [RunService] = []
        for index in 0..<3 {
            let store = try await Self.store(location, worker: "worker-\(index)")
            services.append(try RunService(store: store, modules: StandardModules.all(logger: Self.logger)
                + [SharedWorkModule(tally: tally, stuck: index == 0)], executors: 1))
        }
        let keepers = services.map { service in
            Task { await RunLeaseKeeper(runs: service, logger: Self.logger)!.run() }
        }
        let source = Array("local n = ...\nwork.perform('a' .. n)\nwork.hold()\nwork.perform('b' .. n)\nreturn n".utf8)
        var runs: [RunID] = []
        for index in 0..<30 { runs.append(try await services[0].submit(script: "job.lua", source: source, arguments: "[\(index)]").id) }
        try #require(try await eventually { tally.held.withLock { $0 } == 30 }, "every run waits in work.hold()")
        keepers[0].cancel()
        await keepers[0].value
        let died = ContinuousClock.now

        try await ReplayTests.eventually { tally.performed.withLock { $0.count } == 60 }
        let failover = ContinuousClock.now - died
        #expect(try await eventually { try await services[1].runs(status: .completed, limit: 100).count == runs.count })
        #expect(tally.performed.withLock { $0.values.allSatisfy { $0 == 1 } }, "each effect once")
        #expect(failover < .milliseconds(1_000 + 1_000), "within the lease (1 s) and 1 s: \(failover)")
        for keeper in keepers.dropFirst() { keeper.cancel() }
        for service in services { await service.shutdown() }
    }

    @Test("A worker that stops gracefully hands its runs over at once (NOTIFY), not when the leases expire")
    func handover() async throws {
        let location = try PostgresLocation(url: try await PostgresServer.shared().makeDatabase())
        let tally = SharedWorkModule.Tally()
        let stopping = try RunService(store: try await Self.store(location, worker: "stopping", lease: .seconds(30)),
                                      modules: [SharedWorkModule(tally: tally, stuck: true)], executors: 1)
        let taking = try RunService(store: try await Self.store(location, worker: "taking", lease: .seconds(30)),
                                    modules: [SharedWorkModule(tally: tally, stuck: false)], executors: 1)
        let keeper = Task { await RunLeaseKeeper(runs: taking, logger: Self.logger)!.run() }
        let source = Array("work.hold()\nwork.perform('done')".utf8)
        let run = try await stopping.submit(script: "job.lua", source: source)
        try #require(try await eventually { tally.held.withLock { $0 } == 1 }, "the run waits in work.hold()")
        let stopped = ContinuousClock.now
        await stopping.shutdown()
        try await ReplayTests.eventually { tally.performed.withLock { $0["done"] } == 1 }
        #expect(ContinuousClock.now - stopped < .seconds(15), "long before the 30 s lease")
        await taking.waitForEnd(run.id)
        #expect(try await taking.run(run.id)?.status == .completed)
        keeper.cancel()
        await taking.shutdown()
    }

    @Test("A run resumed on another worker that names a file of the evidence inbox not there: the error names both workers and the way out")
    func inboxOfAnotherWorker() async throws {
        let location = try PostgresLocation(url: try await PostgresServer.shared().makeDatabase())
        let tally = SharedWorkModule.Tally()
        func worker(_ name: String, stuck: Bool) async throws -> (RunService, ScratchFolder) {
            let store = try await Self.store(location, worker: name, lease: .seconds(30))
            let folder = try ScratchFolder()
            let evidence = EvidenceModule(service: EvidenceService(store: store, dataFolder: folder.path))
            return (try RunService(store: store, modules: StandardModules.all(logger: Self.logger)
                                       + [SharedWorkModule(tally: tally, stuck: stuck), evidence],
                                   executors: 1), folder)
        }
        let (stopping, first) = try await worker("stopping", stuck: true)
        let (taking, _) = try await worker("taking", stuck: false)
        // The collector dropped the file on the machine of the worker that started the run.
        try FileManager.default.createDirectory(atPath: first.path + "/evidence/inbox", withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: first.path + "/evidence/inbox/capture.pcap", contents: Data("pcap".utf8))
        let keeper = Task { await RunLeaseKeeper(runs: taking, logger: Self.logger)!.run() }
        let source = Array("""
            work.hold()
            local ok, err = pcall(evidence.add, "INC-1", { path = "capture.pcap" })
            return err
            """.utf8)
        let run = try await stopping.submit(script: "job.lua", source: source)
        try #require(try await eventually { tally.held.withLock { $0 } == 1 }, "the run waits in work.hold()")
        await stopping.shutdown()
        #expect(try await eventually { try await taking.run(run.id)?.status == .completed })
        let ended = try await taking.run(run.id)
        let said = try #require(ended?.result, "\(String(describing: ended))")
        #expect(said.contains("capture.pcap is not in the evidence inbox of worker taking"), "\(said)")
        #expect(said.contains("It moved here from worker stopping, whose machine may hold the file"), "\(said)")
        #expect(said.contains("mount one folder shared by every worker at DATA/evidence/inbox"), "\(said)")
        keeper.cancel()
        await taking.shutdown()
        withExtendedLifetime(first) {}
    }

    /// Each ledger counting on from the highest stored, as on SQLite, would give both workers the
    /// same numbers: the writes of the second would be refused as duplicates.
    @Test("Two workers creating incidents and tasks at once never give one number twice")
    func sharedNumbers() async throws {
        let location = try PostgresLocation(url: try await PostgresServer.shared().makeDatabase())
        let ledgers = [IncidentLedger(store: try await Self.store(location, worker: "first")),
                       IncidentLedger(store: try await Self.store(location, worker: "second"))]
        let perWorker = 100
        // Incidents as the API opens them (awaiting the number), tasks as a playbook makes them
        // (on a thread that cannot await), both workers at once.
        let incidents = try await withThrowingTaskGroup(of: [Int].self) { group in
            for ledger in ledgers {
                group.addTask {
                    var numbers: [Int] = []
                    for _ in 0..<perWorker {
                        let number = try await ledger.take(.incident)
                        try await ledger.store.write(.createIncident(IncidentStoreConformance.incident(number)))
                        numbers.append(number)
                    }
                    return numbers
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(Set(incidents).count == 2 * perWorker, "every incident number once")
        let tasks = Locked<[Int]>([])
        await StoreConformance.onThreads(2) { index in
            let ledger = ledgers[index]
            for _ in 0..<perWorker {
                guard let number = try? ledger.takeNow(.task) else {
                    Issue.record("no task number")
                    return
                }
                let task = IncidentTask(id: TaskID(number), incident: IncidentID(incidents[0]), runID: nil,
                                        title: "task \(number)", createdAt: Date())
                let written = Locked<Result<Void, StoreError>?>(nil)
                let done = DispatchSemaphore(value: 0)
                ledger.store.write(.createTask(task)) { result in
                    written.withLock { $0 = result }
                    done.signal()
                }
                done.wait()
                #expect((try? written.withLock { $0 }?.get()) != nil, "task \(number) stored")
                tasks.withLock { $0.append(number) }
            }
        }
        #expect(Set(tasks.withLock { $0 }).count == 2 * perWorker, "every task number once")
        #expect(try await ledgers[0].store.listIncidents(IncidentQuery(limit: 1000)).count == 2 * perWorker)
        #expect(try await ledgers[0].store.listTasks(TaskQuery(limit: 1000)).count == 2 * perWorker)
        for ledger in ledgers { await ledger.store.close() }
    }
}
