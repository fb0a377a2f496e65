@testable import AutomatorRuntime
import Foundation
import TestSupport
import Testing

/// The actions recorded before `action.question` get, once, the question the report guessed for
/// them until then: their run's approval answered last before them.
@Suite("The question that approved an action, filled in for the actions recorded before", .timeLimit(.minutes(1)))
struct ApprovalQuestionMigrationTests {
    /// Run `run-a` asked three approvals (answered at 0.5, 1.5 and 2.5 s) and a chat.ask answered
    /// `yes` at 1.8 s; ACT-1 was recorded at 2 s, approved in chat; ACT-2 by the playbook's standing
    /// approval; ACT-3 at a terminal.
    private static let approvals = """
        INSERT INTO chat_question (id, run_id, network, channel, text, choices, roles, asked_at, answer, answered_by,
                                   answered_at)
        VALUES ('Q-0', 'run-a', 'slack', 'C1', 'Approve?', '[]', '[]', 100, 'approve', 'slack:bob', 500),
               ('Q-1', 'run-a', 'slack', 'C1', 'Approve?', '[]', '[]', 1000, 'approve', 'slack:bob', 1500),
               ('Q-3', 'run-a', 'slack', 'C1', 'Ours?', '[]', '[]', 1600, 'yes', 'slack:bob', 1800),
               ('Q-2', 'run-a', 'slack', 'C1', 'Approve?', '[]', '[]', 2100, 'approve', 'slack:bob', 2500);
        INSERT INTO action (id, key, name, parameters, requested_by, approved_by, status, at)
        VALUES ('ACT-1', 'run-a/3', 'firewall.block_ip', '{}', 'playbook run-a', 'slack:bob', 'done', 2000),
               ('ACT-2', 'run-a/9', 'firewall.block_ip', '{}', 'playbook run-a', '\(ActionRecord.standingApproval)',
                'done', 3000),
               ('ACT-3', 'cli-3', 'firewall.block_ip', '{}', 'cli:alice', 'cli:alice', 'done', 3000);
        """

    static func questions(_ store: some ActionStore) async throws -> [String?] {
        var questions: [String?] = []
        for id in ["ACT-1", "ACT-2", "ACT-3"] { questions.append(try await store.action(id)?.question) }
        return questions
    }

    @Test("SQLite: a store from before v14 migrates")
    func sqlite() async throws {
        let scratch = try ScratchFolder()
        try SQLiteStore.makeDatabase(at: scratch.path + "/" + SQLiteStore.fileName, version: "v12", sql: Self.approvals)
        let store = try SQLiteStore(folder: scratch.path)
        #expect(try await Self.questions(store) == ["Q-1", nil, nil])
        await store.close()
    }

    @Test("PostgreSQL: a store at v13 migrates")
    func postgres() async throws {
        let (location, _) = try await PostgresServer.shared().databaseAtOlderSchema("""
            ALTER TABLE action DROP COLUMN question;
            CREATE INDEX chat_question_by_run ON chat_question (run_id, answered_at);
            DELETE FROM automator_schema WHERE version = 'v14';
            """ + Self.approvals)
        let store = try await PostgresStore(location: location)
        #expect(try await Self.questions(store) == ["Q-1", nil, nil])
        await store.close()
    }
}
