@testable import AutomatorRuntime
import Dispatch
import Foundation
import Synchronization
import Testing

/// What every `Store` must do for the scheduler, written against the protocol alone, so the
/// same checks run unchanged against each implementation (SQLite and PostgreSQL: `StoreUnderTest`):
///
/// ```swift
/// @Test(arguments: StoreConformance.Check.allCases)
/// func conformance(_ check: StoreConformance.Check) async throws {
///     let storage = try makeEmptyStorage()
///     try await StoreConformance { try MyStore(storage) }.run(check)
/// }
/// ```
///
/// `open` opens the store under test on the same, initially empty, storage every time it is
/// called: the checks that close the store and open it again see what survived.
struct StoreConformance {
    enum Check: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case runLifecycle, listing, waitingRuns, lastRunOfIncident, unfinishedRuns, hostCallsInOrder, refusedWrites,
             refusedWriteFailsAlone, housekeeping, reopening, concurrentAppends, closing, sharedSources

        var testDescription: String { rawValue }
    }

    let open: @Sendable () async throws -> any Store

    func run(_ check: Check) async throws {
        let store = try await open()
        switch check {
        case .runLifecycle: try await runLifecycle(store)
        case .listing: try await listing(store)
        case .waitingRuns: try await waitingRuns(store)
        case .lastRunOfIncident: try await lastRunOfIncident(store)
        case .unfinishedRuns: try await unfinishedRuns(store)
        case .hostCallsInOrder: try await hostCallsInOrder(store)
        case .refusedWrites: try await refusedWrites(store)
        case .refusedWriteFailsAlone: try await refusedWriteFailsAlone(store)
        case .housekeeping: try await housekeeping(store)
        case .reopening: try await reopening(store)
        case .concurrentAppends: try await concurrentAppends(store)
        case .closing: try await closing(store)
        case .sharedSources: try await sharedSources(store)
        }
        await store.close()
    }

    // MARK: Checks

    /// A run is read back as written, and each status change sets what `RunUpdate` says.
    private func runLifecycle(_ store: any Store) async throws {
        let created = Self.run(0, source: [0x2d, 0x2d, 0x00, 0xff, 0x0a], arguments: #"{"sender":"a@b.c"}"#)
        try await store.write(.createRun(created))
        #expect(try await store.loadRun(created.id) == created)

        var expected = created
        for (offset, status) in RunRecord.Status.allCases.enumerated() {
            let update = RunUpdate(created.id, status: status, result: status == .completed ? "[42]" : nil,
                                   error: status == .failed ? "phishing.lua:3: boom" : nil,
                                   at: Self.time(offset + 1))
            try await store.write(.updateRun(update))
            expected = expected.applying(update)
            let stored = try #require(try await store.loadRun(created.id))
            #expect(stored == expected)
            #expect((stored.finishedAt != nil) == status.isFinished, "finishedAt for \(status)")
        }
        // Back to an unfinished status (a retry): finishedAt is cleared.
        let retried = RunUpdate(created.id, status: .pending, at: Self.time(20))
        try await store.write(.updateRun(retried))
        #expect(try await store.loadRun(created.id) == expected.applying(retried))
        #expect(try await store.loadRun(created.id)?.finishedAt == nil)

        #expect(try await store.loadRun(RunID("run-none")) == nil)
        #expect(try await store.hostCalls(of: RunID("run-none")) == [])
    }

    /// Runs of one script share its source in the store (`ScriptSource`): each reads back its
    /// own, one restarted with a new source reads that, and the others keep theirs.
    private func sharedSources(_ store: any Store) async throws {
        let watcher = Array(String(repeating: "-- the watcher\n", count: 120).utf8) + [0x00, 0xff]
        let runs = (0..<3).map { Self.run($0, source: watcher) } + [Self.run(3, source: []), Self.run(4)]
        try await store.write(.all(runs.map(StoreWrite.createRun)))
        for run in runs { #expect(try await store.loadRun(run.id)?.source == run.source) }

        let fixed = watcher + Array("-- fixed".utf8)
        try await store.write(.restartRun(runs[1].id, source: fixed, keepingCalls: 0, at: Self.time(10)))
        #expect(try await store.loadRun(runs[1].id)?.source == fixed)
        #expect(try await store.loadRun(runs[0].id)?.source == watcher)
        #expect(try await store.loadRun(runs[2].id)?.source == watcher)
        #expect(try await store.unfinishedRuns().map(\.run.source) == [watcher, fixed, watcher, [], Array("return 1".utf8)])
    }

    /// Newest first, filtered by status, cut at the limit.
    private func listing(_ store: any Store) async throws {
        let statuses: [RunRecord.Status] = [.completed, .failed, .running, .failed, .waiting, .failed, .pending]
        var runs: [RunRecord] = []
        for (index, status) in statuses.enumerated() {
            let run = Self.run(index)
            try await store.write(.createRun(run))
            let update = RunUpdate(run.id, status: status, at: Self.time(index + 100))
            try await store.write(.updateRun(update))
            runs.append(run.applying(update))
        }
        let newestFirst = Array(runs.reversed())
        #expect(try await store.listRuns(status: nil, limit: 100) == newestFirst)
        #expect(try await store.listRuns(status: nil, limit: 3) == Array(newestFirst.prefix(3)))
        #expect(try await store.listRuns(status: .failed, limit: 100) == newestFirst.filter { $0.status == .failed })
        #expect(try await store.listRuns(status: .failed, limit: 2).map(\.id) == [runs[5].id, runs[3].id])
        #expect(try await store.listRuns(status: .killed, limit: 100) == [])
    }

    /// A run stored `running` reads as `waiting` while what is stored says it waits on a person or a
    /// timer (`ShownRunStatus`), in a listing, its filters and a load; recovery sees it as stored.
    private func waitingRuns(_ store: any Store) async throws {
        try await store.write(.createIncident(IncidentStoreConformance.incident(1)))
        let runs = (0..<8).map { Self.run($0) }
        for run in runs {
            try await store.write(.createRun(run))
            try await store.write(.updateRun(RunUpdate(run.id, status: run == runs[7] ? .completed : .running)))
        }
        func task(_ number: Int, of run: Int) -> IncidentTask {
            IncidentTask(id: TaskID(number), incident: IncidentID(1), runID: runs[run].id, title: "Task \(number)")
        }
        func question(_ id: String, of run: Int) -> ChatQuestionRecord {
            ChatQuestionRecord(id: id, runID: runs[run].id, network: "slack", channel: "C1", message: nil,
                               text: "Block it?", choices: ["approve", "deny"], roles: [])
        }
        func sleep(_ run: Int, _ sequence: Int, until deadline: Date) -> HostCallRecord {
            HostCallRecord(runID: runs[run].id, sequence: sequence, name: "time.sleep", argumentsDigest: Self.digest,
                           result: RecordCoding.encode(.success([.integer(deadline.millisecondsSince1970)])))
        }
        let ahead = Date().addingTimeInterval(3600), passed = Date().addingTimeInterval(-1)
        try await store.write(.all([
            .createTask(task(1, of: 1)),                                 // 1 waits on a person
            .askQuestion(question("Q-2", of: 2)),                        // 2 waits for an answer
            .appendHostCalls([Self.record(runs[3].id, 1), sleep(3, 2, until: ahead)]),  // 3 sleeps
            .appendHostCalls([sleep(4, 1, until: passed)]),              // 4 woke, computes
            .appendHostCalls([sleep(5, 1, until: ahead), Self.record(runs[5].id, 2)]),  // 5's is no sleep
            .createTask(task(6, of: 6)), .completeTask(TaskID(6), answer: "done", by: "alice", at: Date()),
            .askQuestion(question("Q-6", of: 6)), .answerQuestion(id: "Q-6", choice: "deny", by: "bob", at: Date()),
            .createTask(task(7, of: 7)),                                 // 7 has ended
        ]))
        let shown: [RunRecord.Status] = [.running, .waiting, .waiting, .waiting, .running, .running, .running, .completed]
        #expect(try await store.listRuns(status: nil, limit: 100).map(\.status) == shown.reversed())
        #expect(try await store.listRuns(status: .waiting, limit: 100).map(\.id) == [runs[3].id, runs[2].id, runs[1].id])
        #expect(try await store.listRuns(status: .waiting, limit: 2).map(\.id) == [runs[3].id, runs[2].id])
        #expect(try await store.listRuns(status: .running, limit: 100).map(\.id)
            == [runs[6].id, runs[5].id, runs[4].id, runs[0].id])
        #expect(try await store.loadRun(runs[1].id)?.status == .waiting)
        #expect(try await store.unfinishedRuns().map(\.run.status) == Array(repeating: .running, count: 7))

        // The person answers: the run goes on.
        try await store.write(.completeTask(TaskID(1), answer: "done", by: "alice", at: Date()))
        #expect(try await store.loadRun(runs[1].id)?.status == .running)
    }

    /// An incident's newest run that calls one of the entries asked for (an SLA breach's hook).
    private func lastRunOfIncident(_ store: any Store) async throws {
        let entries: [(RunEntry, IncidentID?)] = [(.playbook("on_sla_breach"), IncidentID(1)), (.hook, IncidentID(1)),
                                                  (.playbook("run"), IncidentID(1)), (.hook, IncidentID(2)), (.hook, nil)]
        var runs: [RunRecord] = []
        for (index, (entry, incident)) in entries.enumerated() {
            let run = RunRecord(id: Self.run(index).id, script: "hooks/sla_breach.lua", source: Array("return 1".utf8),
                                entry: entry.stored, incident: incident, createdAt: Self.time(index))
            try await store.write(.createRun(run))
            runs.append(run)
        }
        let hooks: [RunEntry] = [.playbook("on_sla_breach"), .hook]
        #expect(try await store.lastRun(of: IncidentID(1), calling: hooks) == runs[1])
        #expect(try await store.lastRun(of: IncidentID(1), calling: [.playbook("on_sla_breach")]) == runs[0])
        #expect(try await store.lastRun(of: IncidentID(2), calling: hooks) == runs[3])
        #expect(try await store.lastRun(of: IncidentID(3), calling: hooks) == nil)
    }

    /// Recovery sees pending, running and waiting runs, oldest first, with their source.
    private func unfinishedRuns(_ store: any Store) async throws {
        var expected: [RunRecord] = []
        for (index, status) in RunRecord.Status.allCases.reversed().enumerated() {
            let run = Self.run(index, source: Array("return \(index)".utf8))
            try await store.write(.createRun(run))
            let update = RunUpdate(run.id, status: status, at: Self.time(50))
            try await store.write(.updateRun(update))
            if !status.isFinished { expected.append(run.applying(update)) }
        }
        #expect(expected.count == 3)
        #expect(try await store.unfinishedRuns().map(\.run) == expected)
    }

    /// Records come back by sequence, whatever the order they were written in, bytes intact.
    private func hostCallsInOrder(_ store: any Store) async throws {
        let first = Self.run(0), second = Self.run(1)
        try await store.write(.createRun(first))
        try await store.write(.createRun(second))
        let records = (1...5).map { Self.record(first.id, $0) }
        let empty = HostCallRecord(runID: second.id, sequence: 1, name: "time.now", argumentsDigest: Self.digest,
                                   result: [], recordedAt: Self.time(9))
        try await store.write(.appendHostCalls([records[2]]))
        try await store.write(.appendHostCalls([empty]))
        try await store.write(.appendHostCalls([records[0], records[1]]))
        try await store.write(.appendHostCalls([records[4], records[3]]))
        #expect(try await store.hostCalls(of: first.id) == records)
        #expect(try await store.hostCalls(of: second.id) == [empty])
    }

    /// Duplicates and unknown runs are refused with the kind of error that says so, and a
    /// refused write of several records saves none of them.
    private func refusedWrites(_ store: any Store) async throws {
        let run = Self.run(0)
        try await store.write(.createRun(run))
        try await store.write(.appendHostCalls([Self.record(run.id, 1), Self.record(run.id, 2)]))

        try await expectRefusal(.conflict, store, .createRun(run))
        try await expectRefusal(.notFound, store, .updateRun(RunUpdate(RunID("run-none"), status: .running)))
        try await expectRefusal(.notFound, store, .appendHostCalls([Self.record(RunID("run-none"), 1)]))
        try await expectRefusal(.conflict, store, .appendHostCalls([Self.record(run.id, 2)]))
        try await expectRefusal(.conflict, store, .appendHostCalls([Self.record(run.id, 0)]))
        try await expectRefusal(.conflict, store, .appendHostCalls([Self.record(run.id, 3), Self.record(run.id, 1)]))

        #expect(try await store.hostCalls(of: run.id).map(\.sequence) == [1, 2])
        #expect(try await store.loadRun(run.id) == run)
    }

    /// Writes submitted together (so likely in one batch) succeed around a refused one.
    private func refusedWriteFailsAlone(_ store: any Store) async throws {
        let run = Self.run(0)
        try await store.write(.createRun(run))
        var writes = (1...200).map { StoreWrite.appendHostCalls([Self.record(run.id, $0)]) }
        writes.insert(.appendHostCalls([Self.record(run.id, 50)]), at: 100)
        writes.insert(.updateRun(RunUpdate(RunID("run-none"), status: .failed)), at: 150)
        let results = await Self.submitAll(writes, to: store)
        let refused = results.indices.filter { (try? results[$0].get()) == nil }
        #expect(refused == [100, 150])
        #expect(try await store.hostCalls(of: run.id).map(\.sequence) == Array(1...200))
    }

    /// The chat's finished runs older than the cutoff go, with their host calls; the rest stays:
    /// unfinished runs, newer ones, playbooks' and scripts' (reports count them, retries replay
    /// them), and a chat run that asked a question (reports time its answer by its run).
    private func housekeeping(_ store: any Store) async throws {
        var writes: [StoreWrite] = []
        var old: [RunRecord] = [], kept: [RunRecord] = []
        func add(_ index: Int, entry: String?, status: RunRecord.Status, at: Date) -> RunRecord {
            var run = Self.run(index)
            run.entry = entry
            writes.append(.createRun(run))
            writes.append(.appendHostCalls([Self.record(run.id, 1)]))
            writes.append(.updateRun(RunUpdate(run.id, status: status, at: at)))
            return run.applying(RunUpdate(run.id, status: status, at: at))
        }
        for index in 0..<1_200 {
            let status: RunRecord.Status = [.completed, .failed, .killed, .diverged][index % 4]
            old.append(add(index, entry: "chat:alice", status: status, at: Self.time(10_000)))
        }
        for (index, status) in [RunRecord.Status.pending, .running, .waiting, .completed].enumerated() {
            // The unfinished ones were updated long ago; the completed one finished after the cutoff.
            kept.append(add(2_000 + index, entry: "chat:alice", status: status,
                            at: Self.time(status.isFinished ? 30_000 : 1)))
        }
        for (index, entry) in ["playbook:run", "hook", nil].enumerated() {
            kept.append(add(3_000 + index, entry: entry, status: .completed, at: Self.time(10_000)))
        }
        let asking = add(4_000, entry: "chat:alice", status: .completed, at: Self.time(10_000))
        kept.append(asking)
        writes.append(.askQuestion(ChatQuestionRecord(id: "Q-kept", runID: asking.id, network: "slack", channel: "C1",
                                                      message: nil, text: "Block?", choices: ["yes", "no"], roles: [])))
        for result in await Self.submitAll(writes, to: store) { try result.get() }

        #expect(try await store.deleteFinishedChatRuns(finishedBefore: Self.time(20_000)) == old.count)
        for run in old.prefix(10) + old.suffix(10) {
            #expect(try await store.loadRun(run.id) == nil)
            #expect(try await store.hostCalls(of: run.id) == [])
        }
        for run in kept {
            #expect(try await store.loadRun(run.id) == run)
            #expect(try await store.hostCalls(of: run.id) == [Self.record(run.id, 1)])
        }
        #expect(try await store.deleteFinishedChatRuns(finishedBefore: Self.time(20_000)) == 0)
    }

    /// Close, open again: runs, statuses and records are all there.
    private func reopening(_ store: any Store) async throws {
        var runs: [RunRecord] = []
        for index in 0..<20 {
            var run = Self.run(index, source: Array("return \(index)".utf8))
            try await store.write(.createRun(run))
            try await store.write(.appendHostCalls((1...3).map { Self.record(run.id, $0) }))
            if index.isMultiple(of: 2) {
                let update = RunUpdate(run.id, status: .completed, result: "[\(index)]", at: Self.time(500))
                try await store.write(.updateRun(update))
                run = run.applying(update)
            }
            runs.append(run)
        }
        await store.close()

        let reopened = try await open()
        #expect(try await reopened.listRuns(status: nil, limit: 100) == runs.reversed())
        #expect(try await reopened.unfinishedRuns() == runs.filter { !$0.status.isFinished }.map { run in
            UnfinishedRun(run: run, records: (1...3).map { Self.record(run.id, $0) })
        })
        for run in runs { #expect(try await reopened.hostCalls(of: run.id) == (1...3).map { Self.record(run.id, $0) }) }
        await reopened.close()
    }

    /// 10,000 records from 8 threads at once: every completion is called, with success, and
    /// every record is there after the store is closed and opened again.
    private func concurrentAppends(_ store: any Store) async throws {
        let producers = 8, runsPerProducer = 25, recordsPerRun = 50
        let runs = (0..<producers).map { producer in
            (0..<runsPerProducer).map { Self.run(producer * runsPerProducer + $0) }
        }
        for result in await Self.submitAll(runs.joined().map { .createRun($0) }, to: store) { try result.get() }

        let completions = Completions(expecting: producers * runsPerProducer * recordsPerRun)
        await Self.onThreads(producers) { producer in
            for sequence in 1...recordsPerRun {
                for run in runs[producer] {
                    store.append(Self.record(run.id, sequence)) { completions.record($0) }
                }
            }
        }
        let results = await completions.all()
        #expect(results.count == 10_000)
        #expect(results.allSatisfy { (try? $0.get()) != nil })
        await store.close()

        let reopened = try await open()
        var total = 0
        for run in runs.joined() {
            let records = try await reopened.hostCalls(of: run.id)
            #expect(records == (1...recordsPerRun).map { Self.record(run.id, $0) })
            total += records.count
        }
        #expect(total == 10_000)
        await reopened.close()
    }

    /// Writes submitted before `close()` are saved; after it, everything is refused.
    private func closing(_ store: any Store) async throws {
        let run = Self.run(0)
        try await store.write(.createRun(run))
        let completions = Completions(expecting: 300)
        for sequence in 1...300 { store.append(Self.record(run.id, sequence)) { completions.record($0) } }
        await store.close()
        #expect(await completions.all().allSatisfy { (try? $0.get()) != nil })

        try await expectRefusal(.closed, store, .createRun(Self.run(1)))
        await #expect { try await store.loadRun(run.id) } throws: { ($0 as? StoreError)?.kind == .closed }
        await #expect { try await store.unfinishedRuns() } throws: { ($0 as? StoreError)?.kind == .closed }

        let reopened = try await open()
        #expect(try await reopened.hostCalls(of: run.id).count == 300)
        await reopened.close()
    }

    // MARK: Helpers

    private func expectRefusal(_ kind: StoreError.Kind, _ store: any Store, _ write: StoreWrite,
                               sourceLocation: SourceLocation = #_sourceLocation) async throws
    {
        let error = await #expect(throws: StoreError.self, sourceLocation: sourceLocation) {
            try await store.write(write)
        }
        #expect(error?.kind == kind, "\(error.map(String.init(describing:)) ?? "no error")",
                sourceLocation: sourceLocation)
    }

    static let digest = String(repeating: "ab", count: 32)

    /// A fixed instant plus `milliseconds`.
    static func time(_ milliseconds: Int) -> Date {
        Date(timeIntervalSince1970: 1_767_225_600 + Double(milliseconds) / 1000)
    }

    /// Run `index`: ids sort by index, as `RunID`s sort by creation time.
    static func run(_ index: Int, source: [UInt8] = Array("return 1".utf8), arguments: String = "[]") -> RunRecord {
        let id = RunID("run-test-" + String(repeating: "0", count: 8 - String(index).count) + String(index))
        return RunRecord(id: id, script: "playbooks/test-\(index).lua", source: source, arguments: arguments,
                         createdAt: time(index))
    }

    static func record(_ run: RunID, _ sequence: Int) -> HostCallRecord {
        HostCallRecord(runID: run, sequence: sequence,
                       name: sequence.isMultiple(of: 2) ? "time.now" : "intel.reputation", argumentsDigest: digest,
                       result: Array(#"[{"verdict":"clean","n":\#(sequence)}]"#.utf8) + [0, 255],
                       recordedAt: time(1_000 + sequence))
    }

    /// Submits every write at once, without waiting between them; returns their outcomes in order.
    static func submitAll(_ writes: [StoreWrite], to store: any Store) async -> [Result<Void, StoreError>] {
        let completions = Completions(expecting: writes.count)
        for (index, write) in writes.enumerated() { store.write(write) { completions.record($0, at: index) } }
        return await completions.all()
    }

    /// Runs `body` on `count` threads at once; returns when all are done.
    static func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) async {
        await withCheckedContinuation { continuation in
            let group = DispatchGroup()
            for index in 0..<count {
                group.enter()
                Thread {
                    body(index)
                    group.leave()
                }.start()
            }
            group.notify(queue: .global()) { continuation.resume() }
        }
    }

    /// Collects the outcomes of write completions, called on any thread.
    final class Completions: Sendable {
        private struct State {
            var results: [Result<Void, StoreError>?]
            var count = 0
            var waiting: CheckedContinuation<[Result<Void, StoreError>], Never>?
        }

        private let state: Mutex<State>

        init(expecting count: Int) { state = Mutex(State(results: Array(repeating: nil, count: count))) }

        /// Records an outcome: at `index`, or in arrival order.
        func record(_ result: Result<Void, StoreError>, at index: Int? = nil) {
            let done: (CheckedContinuation<[Result<Void, StoreError>], Never>, [Result<Void, StoreError>])? =
                state.withLock { state in
                    state.results[index ?? state.count] = result
                    state.count += 1
                    guard state.count == state.results.count, let waiting = state.waiting else { return nil }
                    state.waiting = nil
                    return (waiting, state.results.map { $0! })
                }
            if let (continuation, results) = done { continuation.resume(returning: results) }
        }

        /// Every outcome, once all have arrived.
        func all() async -> [Result<Void, StoreError>] {
            await withCheckedContinuation { continuation in
                let results: [Result<Void, StoreError>]? = state.withLock { state in
                    guard state.count == state.results.count else {
                        state.waiting = continuation
                        return nil
                    }
                    return state.results.map { $0! }
                }
                if let results { continuation.resume(returning: results) }
            }
        }
    }
}
