@testable import AutomatorRuntime
import Foundation
import TestSupport
import Testing

/// The texts of edited messages that chat_state kept before v16, with no time the sweep could
/// read, are deleted by the migration; the adapters' own state stays.
@Suite("The edited texts kept without a time before v16 are deleted, the adapters' state kept", .timeLimit(.minutes(1)))
struct EditedTextMigrationTests {
    private static let state = """
        INSERT INTO chat_state (key, value)
        VALUES ('edited.matrix.!r:example.org.$e1', 'the proxy saw 198.51.100.9'),
               ('matrix.@bot:example.org.next_batch', 's9');
        """

    static func expectMigrated(_ store: some ChatStore) async throws {
        #expect(try await store.chatState("edited.matrix.!r:example.org.$e1") == nil)
        #expect(try await store.chatState("matrix.@bot:example.org.next_batch") == "s9")
        #expect(try await store.editedText(network: "matrix", channel: "!r:example.org", message: "$e1") == nil)
    }

    @Test("SQLite: a store at v15 migrates")
    func sqlite() async throws {
        let scratch = try ScratchFolder()
        try SQLiteStore.makeDatabase(at: scratch.path + "/" + SQLiteStore.fileName, version: "v15", sql: Self.state)
        let store = try SQLiteStore(folder: scratch.path)
        try await Self.expectMigrated(store)
        await store.close()
    }

    @Test("PostgreSQL: a store at v15 migrates")
    func postgres() async throws {
        let (location, _) = try await PostgresServer.shared().databaseAtOlderSchema(
            "DROP TABLE chat_edit; DELETE FROM automator_schema WHERE version = 'v16';" + Self.state)
        let store = try await PostgresStore(location: location)
        try await Self.expectMigrated(store)
        await store.close()
    }
}
