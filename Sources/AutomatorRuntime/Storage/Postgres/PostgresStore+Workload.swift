public import Foundation
import PostgresNIO

extension PostgresStore: WorkloadStore {
    /// The same reads as SQLite's, on one connection (not one snapshot: each count is current when read).
    public func workload(at now: Date) async throws(StoreError) -> Workload {
        let now = now.millisecondsSince1970
        return try await read { session in
            var workload = Workload()
            for row in try await session.rows("""
                SELECT status, severity, type, created_at, sla_due_at, sla_breached_at FROM incident
                WHERE status IN (\(unescaped: Workload.openStatuses))
                """) {
                try workload.addOpen(status: row[0].decode(String.self), severity: row[1].decode(String.self),
                                     type: row[2].decode(String.self), created: row[3].decode(Int64.self),
                                     due: row[4].decode(Int64?.self), breached: row[5].decode(Int64?.self), now: now)
            }
            workload.closedIncidents = try await session.rows("SELECT count(*) FROM incident WHERE status = 'closed'")[0][0]
                .decode(Int.self)
            for row in try await session.rows("""
                SELECT owner, count(*), count(CASE WHEN due_at < \(now) THEN 1 END) FROM task WHERE status = 'open'
                GROUP BY owner
                """) {
                workload.addTasks(owner: try row[0].decode(String?.self), open: try row[1].decode(Int.self),
                                  overdue: try row[2].decode(Int.self))
            }
            for row in try await session.rows("""
                SELECT \(unescaped: ShownRunStatus.column(asleep: Self.asleep)), count(*) FROM run
                WHERE status IN (\(unescaped: Workload.storedRunStatuses)) GROUP BY 1
                """) {
                try workload.addRuns(status: row[0].decode(String.self), count: row[1].decode(Int.self))
            }
            workload.openQuestions = try await session.rows("SELECT count(*) FROM chat_question WHERE answer IS NULL")[0][0]
                .decode(Int.self)
            return workload
        }
    }
}
