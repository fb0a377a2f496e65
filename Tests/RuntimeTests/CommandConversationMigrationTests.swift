@testable import AutomatorRuntime
import Foundation
import TestSupport
import Testing

/// A store from before `chat_command` (v21) migrates, keeping what it held, and keeps slash
/// commands' conversations after.
@Suite("Slash commands' conversations, kept from v21", .timeLimit(.minutes(1)))
struct CommandConversationMigrationTests {
    private static let state = "INSERT INTO chat_state (key, value) VALUES ('matrix.@bot:example.org.next_batch', 's9');"

    static func check(_ store: some ChatStore) async throws {
        #expect(try await store.chatState("matrix.@bot:example.org.next_batch") == "s9")
        let conversation = ChatCommandConversation(network: "slack", id: "slash:1", name: "soc",
                                                   responseURL: "https://hooks.slack.com/commands/T0/1/a")
        try await store.openCommandConversation(conversation)
        #expect(try await store.commandConversation(network: "slack", id: "slash:1", openedSince: .distantPast) == conversation)
    }

    @Test("SQLite: a store at v20 migrates")
    func sqlite() async throws {
        let scratch = try ScratchFolder()
        try SQLiteStore.makeDatabase(at: scratch.path + "/" + SQLiteStore.fileName, version: "v20", sql: Self.state)
        let store = try SQLiteStore(folder: scratch.path)
        try await Self.check(store)
        await store.close()
    }

    @Test("PostgreSQL: a store at v20 migrates")
    func postgres() async throws {
        let (location, _) = try await PostgresServer.shared().databaseAtOlderSchema(
            "DROP TABLE chat_command; DELETE FROM automator_schema WHERE version = 'v21';" + Self.state)
        let store = try await PostgresStore(location: location)
        try await Self.check(store)
        await store.close()
    }
}
