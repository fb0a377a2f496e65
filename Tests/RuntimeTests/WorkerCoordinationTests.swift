@testable import AutomatorRuntime
import Foundation
import Logging
import Synchronization
import TestSupport
import Testing

/// What workers on one PostgreSQL coordinate besides the runs' leases: one leader among them,
/// and the changes made through one that runs on another wait for.
@Suite("Several workers on one PostgreSQL: the leader, and changes told to the others", .timeLimit(.minutes(2)))
struct WorkerCoordinationTests {
    static let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    static func stores(_ names: String...) async throws -> (PostgresServer, String, [PostgresStore]) {
        let server = try await PostgresServer.shared()
        let database = try server.makeDatabase()
        let location = try PostgresLocation(url: database)
        var stores: [PostgresStore] = []
        for name in names { stores.append(try await PostgresStore(location: location, lease: RunLease(worker: name))) }
        return (server, location.database, stores)
    }

    /// Who leads now, and every worker that ever started leading, in order.
    final class Leaders: Sendable {
        let state = Mutex<(now: Set<String>, started: [String])>(([], []))

        func duties(of worker: String) -> @Sendable () async -> Void {
            { [self] in
                state.withLock {
                    $0.now.insert(worker)
                    $0.started.append(worker)
                }
                while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(10)) }
                state.withLock { _ = $0.now.remove(worker) }
            }
        }

        var now: Set<String> { state.withLock { $0.now } }
    }

    /// Waits until each of `workers` was refused the leader's lock at least once since this was
    /// called: its session shows a newer `pg_try_advisory_lock` than the first look found. Then
    /// it had its chance to lead, and a check that it does not means something.
    static func waitUntilRefused(_ workers: Set<String>, on server: PostgresServer, database: String) async throws {
        func tries() throws -> [String: Double] {
            let rows = try server.psql("""
                SELECT application_name, extract(epoch FROM query_start) FROM pg_stat_activity
                WHERE datname = '\(database)' AND query LIKE 'SELECT pg_try_advisory_lock%'
                """, database: database)
            var latest: [String: Double] = [:]
            for row in rows.split(separator: "\n") {
                let fields = row.split(separator: "|").map(String.init)
                guard fields.count == 2, let worker = workers.first(where: { fields[0].contains($0) }),
                      let started = Double(fields[1]) else { continue }
                latest[worker] = max(latest[worker] ?? 0, started)
            }
            return latest
        }
        let first = try tries()
        #expect(try await eventually {
            let now = try tries()
            return workers.allSatisfy { worker in now[worker].map { $0 > (first[worker] ?? 0) } ?? false }
        }, "each of \(workers.sorted()) tries the leader's lock again")
    }

    @Test("One worker leads at a time; when it stops, or the database drops its session, another takes over")
    func leader() async throws {
        let (server, database, stores) = try await Self.stores("first", "second", "third")
        let leaders = Leaders()
        var tasks: [String: Task<Void, Never>] = [:]
        tasks["first"] = Task { await stores[0].lead(leaders.duties(of: "first")) }
        #expect(try await eventually { leaders.now == ["first"] })
        #expect(try await PostgresStore.health(of: stores[0].location, logger: Self.logger).leader == "first",
                "automator store check names it")
        tasks["second"] = Task { await stores[1].lead(leaders.duties(of: "second")) }
        tasks["third"] = Task { await stores[2].lead(leaders.duties(of: "third")) }
        try await Self.waitUntilRefused(["second", "third"], on: server, database: database)
        #expect(leaders.now == ["first"], "the others wait")

        // A graceful stop: the lock goes with the session, and one of the others leads.
        tasks["first"]!.cancel()
        await tasks["first"]!.value
        #expect(try await eventually { leaders.now.count == 1 && !leaders.now.contains("first") })
        let second = try #require(leaders.now.first)

        // The database drops the leader's session (a network cut, an administrator): the leader
        // stops its duties, and the last worker leads.
        _ = try server.psql("""
            SELECT pg_terminate_backend(pid) FROM pg_locks
            WHERE locktype = 'advisory' AND objid = 3 AND objsubid = 1 AND database =
                (SELECT oid FROM pg_database WHERE datname = '\(database)')
            """)
        #expect(try await eventually { leaders.now.count == 1 && !leaders.now.contains(second) },
                "\(leaders.state.withLock { $0 })")
        // The cut-off worker connects again and waits its turn.
        try await Self.waitUntilRefused([second], on: server, database: database)
        #expect(leaders.now.count == 1, "and nobody else: \(leaders.state.withLock { $0 })")
        let started = leaders.state.withLock { $0.started }
        #expect(started.count == 3 && Set(started) == ["first", "second", "third"], "\(started)")

        for task in tasks.values { task.cancel() }
        for task in tasks.values { await task.value }
        #expect(leaders.now.isEmpty)
        #expect(try await PostgresStore.health(of: stores[0].location, logger: Self.logger).leader == nil)
        for store in stores { await store.close() }
    }

    @Test("A worker is told of the tasks completed, questions answered, channels set and kills asked through another, once committed")
    func changes() async throws {
        let (_, _, stores) = try await Self.stores("first", "second")
        let (listener, writer) = (stores[0], stores[1])
        let heard = Mutex<[SharedChange]>([])
        let following = Task { await listener.followChanges { change in heard.withLock { $0.append(change) } } }
        #expect(try await eventually { heard.withLock { $0 } == [.unknown] }, "first: look at everything")

        try await writer.write(.createIncident(IncidentStoreConformance.incident(1)))
        for number in 1...2 {
            try await writer.write(.createTask(IncidentTask(id: TaskID(number), incident: IncidentID(1), runID: nil, title: "t")))
        }
        try await writer.write(.completeTask(TaskID(1), answer: "yes", by: "ann", at: Date()))
        // Refused with the write before it: nothing is told.
        await #expect(throws: StoreError.self) {
            try await writer.write(.all([.completeTask(TaskID(2), answer: "no", by: "ann", at: Date()),
                                         .completeTask(TaskID(1), answer: "again", by: "bob", at: Date())]))
        }
        try await writer.write(.askQuestion(ChatQuestionRecord(id: "Q1", runID: nil, network: "slack", channel: "C1",
                                                               message: nil, text: "Block?", choices: ["yes", "no"], roles: [])))
        try await writer.write(.answerQuestion(id: "Q1", choice: "yes", by: "ann", at: Date()))
        try await writer.write(.setChatChannel(ChatChannelSettings(network: "slack", channel: ChatChannel(id: "C1", name: "soc"),
                                                                   watched: true, changedBy: "ann")))
        // A kill is kept with the run until it ends, with the first reason asked; a closed incident's
        // runs are asked, but the one that closed it.
        for id in ["run-a", "run-b"] {
            try await writer.write(.createRun(RunRecord(id: RunID(id), script: "a.lua", source: Array("return 1".utf8),
                                                        incident: IncidentID(1))))
        }
        try await writer.write(.askToKill(.run(RunID("run-a")), reason: "killed on request"))
        try await writer.write(.askToKill(.incident(IncidentID(1), except: RunID("run-b")), reason: "INC-1 was closed"))
        await #expect(throws: StoreError.self) { try await writer.write(.askToKill(.run(RunID("run-z")), reason: "no such run")) }
        #expect(try await listener.killsAsked(of: [RunID("run-a"), RunID("run-b")]) == [RunID("run-a"): "killed on request"])
        let expected: [SharedChange] = [.unknown, .taskEnded(TaskID(1)), .questionAnswered("Q1"), .chatChannels(network: "slack"),
                                        .killAsked(RunID("run-a")), .killAsked(RunID("run-a"))]
        #expect(try await eventually { heard.withLock { $0 } == expected }, "\(heard.withLock { $0 })")
        following.cancel()
        await following.value
        for store in stores { await store.close() }
    }

    @Test("A run waiting here on a task, or on a question, goes on when another worker's API answers it; the bot's settings follow")
    func waitsAcrossWorkers() async throws {
        let (_, _, stores) = try await Self.stores("first", "second")
        let here = IncidentLedger(store: stores[0]), there = IncidentLedger(store: stores[1])
        let adapter = ConsoleAdapter(user: "ann", lines: AsyncStream { _ in }, write: { _ in })
        let chatHere = ChatService(store: stores[0], adapters: [adapter], scripts: "/nonexistent")
        let chatThere = ChatService(store: stores[1], adapters: [adapter], scripts: "/nonexistent")
        let runs = try RunService(store: stores[0], modules: [], executors: 1)
        let follower = try #require(SharedChangeFollower(runs: runs, ledger: here, chat: chatHere, logger: Self.logger))
        let following = Task { await follower.run() }

        try await stores[1].write(.createIncident(IncidentStoreConformance.incident(1)))
        try await stores[1].write(.createTask(IncidentTask(id: TaskID(1), incident: IncidentID(1), runID: nil, title: "Call the user")))
        try await stores[1].write(.askQuestion(ChatQuestionRecord(id: "Q1", runID: nil, network: "console", channel: "ann",
                                                                  message: nil, text: "Block?", choices: ["yes", "no"], roles: [])))
        let answers = Mutex<[String: LuaValue]>([:])
        here.waitForTask(TaskID(1)) { result in answers.withLock { $0["task"] = (try? result.get())?.first } }
        chatHere.waitForAnswer("Q1", run: nil) { result in answers.withLock { $0["question"] = (try? result.get())?.first } }
        try await Task.sleep(for: .milliseconds(300))
        #expect(answers.withLock { $0 }.isEmpty, "nobody answered yet")

        _ = try await there.complete(TaskID(1), answer: "reached", by: "ann")
        try await chatThere.answer("Q1", choice: "no", by: "bob")
        #expect(try await eventually { answers.withLock { $0 } == ["task": "reached", "question": "no"] },
                "\(answers.withLock { $0 })")

        try await stores[1].write(.setChatChannel(ChatChannelSettings(network: "console", channel: ChatChannel(id: "soc", name: "soc"),
                                                                      watched: true, verbose: true, changedBy: "ann")))
        #expect(try await eventually {
            chatHere.settings.withLock { $0[ChatService.key("console", "soc")]?.verbose } == true
        })
        following.cancel()
        await following.value
        await runs.shutdown()
        for store in stores { await store.close() }
    }
}
