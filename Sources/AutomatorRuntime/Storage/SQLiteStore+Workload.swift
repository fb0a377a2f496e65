public import Foundation
import GRDB

extension SQLiteStore: WorkloadStore {
    /// Reads by the indexes on the incidents' and the runs' status and the open tasks' deadline.
    public func workload(at now: Date) async throws(StoreError) -> Workload {
        let now = now.millisecondsSince1970
        return try await read { db in
            var workload = Workload()
            let open = try Row.fetchCursor(db, sql: """
                SELECT status, severity, type, created_at, sla_due_at, sla_breached_at FROM incident
                WHERE status IN (\(Workload.openStatuses))
                """)
            while let row = try open.next() {
                try workload.addOpen(status: row[0], severity: row[1], type: row[2], created: row[3], due: row[4],
                                     breached: row[5], now: now)
            }
            workload.closedIncidents = try Int.fetchOne(db, sql: "SELECT count(*) FROM incident WHERE status = 'closed'") ?? 0
            for row in try Row.fetchAll(db, sql: """
                SELECT owner, count(*), count(CASE WHEN due_at < ? THEN 1 END) FROM task WHERE status = 'open' GROUP BY owner
                """, arguments: [now]) {
                workload.addTasks(owner: row[0], open: row[1], overdue: row[2])
            }
            for row in try Row.fetchAll(db, sql: """
                SELECT \(ShownRunStatus.column(asleep: Self.asleepCall)), count(*) FROM run
                WHERE status IN (\(Workload.storedRunStatuses)) GROUP BY 1
                """) {
                try workload.addRuns(status: row[0], count: row[1])
            }
            workload.openQuestions = try Int.fetchOne(db, sql: "SELECT count(*) FROM chat_question WHERE answer IS NULL") ?? 0
            return workload
        }
    }
}
