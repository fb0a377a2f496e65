@testable import AutomatorRuntime
import Foundation
import TestSupport
import Testing

/// Approvals asked before they had a role were stored with none; read now, they need `approver`,
/// while a question asked for no role with other choices still takes anyone's answer.
@Suite("Approvals stored with no role, as before approvals had one", .serialized, .timeLimit(.minutes(1)))
struct LegacyApprovalTests {
    /// As an older build wrote them, both posted in #soc and waiting: `chat.approve`'s and a `chat.ask`'s.
    private static let questions = """
        INSERT INTO chat_question (id, run_id, network, channel, message, text, choices, roles, asked_at)
        VALUES ('Q-0approve', NULL, 'test', 'C1', 'p1', 'Block 203.0.113.45?', '["approve","deny"]', '[]', 100),
               ('Q-00ask', NULL, 'test', 'C1', 'p2', 'Which host?', '["web-1","web-2"]', '[]', 100);
        """

    static func roles(_ store: some ChatStore) async throws -> [[String]?] {
        [try await store.question("Q-0approve")?.roles, try await store.question("Q-00ask")?.roles]
    }

    @Test("SQLite: read with the role approver; a person without it is refused, in chat and through the API")
    func sqlite() async throws {
        let folder = try ScratchFolder()
        let data = folder.path + "/data"
        let made = try SQLiteStore(folder: data)  // the schema of now, then the rows of before
        await made.close()
        try SQLiteStore.makeDatabase(at: data + "/" + SQLiteStore.fileName, version: nil, sql: Self.questions)
        let bot = try await ChatBotTests.Bot(folder: folder, roles: ["approver": ["alice"]])
        #expect(try await Self.roles(bot.store) == [["approver"], []])

        await bot.chat.receive(ChatAnswer(question: "Q-0approve", choice: "approve", user: ChatBotTests.bob,
                                          channel: ChatBotTests.soc), from: bot.network)
        await bot.chat.settle()
        #expect(bot.network.takePosts().map(\.text) == ["bob, only people with the role approver may answer this."])
        await #expect(throws: ChatError.self) {
            try await bot.chat.answer("Q-0approve", choice: "approve", by: "api:bob", person: "bob")
        }
        #expect(try await bot.store.question("Q-0approve")?.answer == nil)
        #expect(try await bot.chat.answer("Q-0approve", choice: "deny", by: "api:alice", person: "alice") == "deny")

        // An ordinary question keeps taking anyone's answer.
        #expect(try await bot.chat.answer("Q-00ask", choice: "web-2", by: "api:bob", person: "bob") == "web-2")
        await bot.stop()
    }

    @Test("PostgreSQL: read with the role approver")
    func postgres() async throws {
        let server = try await PostgresServer.shared()
        let url = try server.makeDatabase()
        let store = try await PostgresStore(location: try PostgresLocation(url: url))
        try server.psql(Self.questions, database: String(url.split(separator: "/").last!.prefix { $0 != "?" }))
        #expect(try await Self.roles(store) == [["approver"], []])
        await store.close()
    }
}
