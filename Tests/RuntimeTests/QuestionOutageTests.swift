@testable import AutomatorRuntime
import Foundation
import Logging
import Synchronization
import TestSupport
import Testing

/// A question read while its store is away: a PostgreSQL of the test's own, stopped under it.
@Suite("A question read while PostgreSQL is away", .serialized, .timeLimit(.minutes(3)))
struct QuestionOutageTests {
    /// A chat service on a store of its own PostgreSQL, its log captured.
    struct Service {
        let postgres: PostgresServer
        let store: PostgresStore
        let chat: ChatService
        let log = CapturedLog.Records()

        init() async throws {
            postgres = try PostgresServer.own()
            store = try await PostgresStore(location: try PostgresLocation(url: try postgres.makeDatabase()))
            chat = ChatService(store: store, adapters: [], scripts: "scripts",
                               logger: Logger(label: "test") { [log] _ in CapturedLog(records: log) })
        }

        /// A question asked, then the database stopped, then its answer waited for: its id, and
        /// what the wait handed back, once said that the question could not be read.
        func askedWhileAway(timeout: TimeInterval? = nil) async throws -> (String, Outcome) {
            let id = try await chat.ask("Which host?", choices: ["web-1", "web-2"], roles: [], in: "#soc", on: nil, run: nil)
            try postgres.stop()
            let outcome = Outcome()
            chat.waitForAnswer(id, run: nil, timeout: timeout) { result in outcome.result.withLock { $0 = result } }
            #expect(try await eventually { !lines(containing: "could not be read").isEmpty }, "the failure is said")
            return (id, outcome)
        }

        func lines(containing text: String) -> [(level: Logger.Level, message: String)] {
            log.lines.withLock { $0.filter { $0.message.contains(text) }.map { ($0.level, $0.message) } }
        }
    }

    /// What `waitForAnswer` handed back, if it did.
    final class Outcome: Sendable {
        let result = Mutex<Result<[LuaValue], HostError>?>(nil)
        var answer: [String]? {
            result.withLock { result in
                guard case .success(let values)? = result else { return nil }
                return values.map { value in
                    guard case .string(let text) = value else { return "\(value.typeName)" }
                    return text.description
                }
            }
        }
    }

    @Test("Its first read failing delays the question, said once: read when the database is back, it takes its answer")
    func readWhileAway() async throws {
        let service = try await Service()
        let (id, outcome) = try await service.askedWhileAway()
        let said = service.lines(containing: "could not be read")
        #expect(said.map(\.level) == [.error] && said.first?.message.hasPrefix("chat: question \(id) could not be read: ")
            == true && said.first?.message.contains("its run waits until it is") == true, "\(said)")
        #expect(outcome.result.withLock { $0 == nil }, "the run goes on waiting")

        try service.postgres.start()
        #expect(try await eventually { !service.lines(containing: "is read, the store answers again").isEmpty })
        #expect(outcome.result.withLock { $0 == nil }, "unanswered yet")
        try await service.chat.answer(id, choice: "web-2", by: "api:alice")
        #expect(try await eventually { outcome.answer != nil })
        #expect(outcome.answer == ["web-2", "api:alice"])
        #expect(service.lines(containing: "could not be read").count == 1, "said once, not at every try")
        await service.chat.shutdown()
        await service.store.close()
    }

    @Test("A stop while the database is away ends the reading, and the run is not failed")
    func stopWhileAway() async throws {
        let service = try await Service()
        let (_, outcome) = try await service.askedWhileAway(timeout: 1)
        await service.chat.shutdown()
        #expect(try await eventually { service.chat.questionTimers.withLock { $0.isEmpty } }, "the reading ended")
        #expect(outcome.result.withLock { $0 == nil }, "a stop is no answer: the run's replay waits again")
        try service.postgres.start()
        await service.store.close()
    }
}
