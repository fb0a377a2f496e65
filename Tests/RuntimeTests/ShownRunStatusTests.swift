@testable import AutomatorRuntime
import Foundation
import GRDB
import TestSupport
import Testing

/// A run reads as `waiting` while it has an open task or an unanswered question: looked up by
/// index, so that reading a run costs the same with ten open tasks or a hundred thousand.
@Suite("Shown run status: the waits are looked up by index", .timeLimit(.minutes(1)))
struct ShownRunStatusTests {
    /// A running run with an open task, written by the schema before the indexes.
    private static let waitingRun = """
        INSERT INTO incident (number, title, type, severity, status, labels, fields, details, created_at, updated_at,
                              alert_count)
        VALUES (1, 'Phish', 'phishing', 'low', 'active', '[]', '{}', '', 0, 0, 1);
        INSERT INTO run (id, script, source, arguments, status, created_at, updated_at)
        VALUES ('run-a', 'a.lua', x'', '[]', 'running', 1, 1);
        INSERT INTO task (number, incident, run_id, title, description, choices, status, created_at)
        VALUES (1, 1, 'run-a', 'Confirm', '', '[]', 'open', 1);
        """

    @Test("SQLite: a store at v10 migrates, its waiting run still reads as waiting, and the plans search the indexes")
    func sqlite() async throws {
        let scratch = try ScratchFolder()
        let path = scratch.path + "/" + SQLiteStore.fileName
        try SQLiteStore.makeDatabase(at: path, version: "v10", sql: Self.waitingRun)
        let store = try SQLiteStore(folder: scratch.path)
        #expect(try await store.loadRun(RunID("run-a"))?.status == .waiting)
        #expect(try await store.listRuns(status: .waiting, limit: 10).map(\.id) == [RunID("run-a")])

        let waiting = ShownRunStatus.condition(.waiting, asleep: SQLiteStore.asleepCall)
        for filter in ["id = 'run-a'", waiting] {
            let sql = SQLiteStore.selectShownRun + " WHERE " + filter
            let plan = try await store.read { db in
                try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + sql).map { $0["detail"] as String }
            }
            #expect(plan.contains("SEARCH task USING INDEX task_open_by_run (run_id=?)"), "\(plan)")
            #expect(plan.contains("SEARCH chat_question USING INDEX chat_question_unanswered_by_run (run_id=?)"),
                    "\(plan)")
        }
        await store.close()
    }

    @Test("PostgreSQL: a store at v9 migrates, and a run is read through the indexes")
    func postgres() async throws {
        let server = try await PostgresServer.shared()
        // Back to v9 as it shipped: v10 only adds the indexes.
        let (location, database) = try await server.databaseAtOlderSchema("""
            DROP INDEX task_open_by_run; DROP INDEX chat_question_unanswered_by_run;
            DELETE FROM automator_schema WHERE version = 'v10';
            """ + Self.waitingRun.replacingOccurrences(of: "x''", with: "''"))

        let store = try await PostgresStore(location: location)
        #expect(try await store.loadRun(RunID("run-a"))?.status == .waiting)
        // An empty table is read whole whatever its indexes: sequential scans off, an index must serve.
        let plan = try server.psql("""
            SET enable_seqscan = off;
            EXPLAIN \(PostgresStore.selectShownRun) WHERE id = 'run-a'
            """, database: database)
        #expect(plan.contains("task_open_by_run"), "\(plan)")
        #expect(plan.contains("chat_question_unanswered_by_run"), "\(plan)")
        await store.close()
    }
}
