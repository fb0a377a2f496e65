import Foundation
import PostgresNIO

/// Work shared between the workers on one database: leases on unfinished runs, taken with
/// `FOR UPDATE SKIP LOCKED` (two workers claiming at once skip each other's rows instead of
/// waiting or taking the same run), timed by the server's clock, and a notification when a
/// worker gives its runs up.
extension PostgresStore: LeasingStore {
    /// Where a stopping worker says that its runs are free (`LISTEN`/`NOTIFY`).
    static let releasedChannel = "automator_released_runs"

    public var worker: String { lease.worker }
    public var leaseDuration: Duration { lease.duration }

    public func claimRuns(limit: Int) async throws(StoreError) -> [UnfinishedRun] {
        try await read { session in
            // The CTE keeps each run's owner before the claim, for the log.
            let claimed = try await session.rows("""
                WITH taken AS (
                    SELECT key, lease_owner FROM run
                    WHERE \(unescaped: RunLease.unfinished)
                      AND (lease_expires_at IS NULL OR lease_expires_at <= \(unescaped: RunLease.now))
                    ORDER BY id LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                UPDATE run SET lease_owner = \(lease.worker), lease_expires_at = \(unescaped: RunLease.now) + \(lease.milliseconds)
                FROM taken WHERE run.key = taken.key
                RETURNING run.id, taken.lease_owner
                """).map { (id: try $0[0].decode(String.self), owner: try $0[1].decode(String?.self)) }
            guard !claimed.isEmpty else { return [] }
            let owners = Dictionary(claimed.map { ($0.id, $0.owner) }, uniquingKeysWith: { first, _ in first })
            var runs = try await Self.runsToResume("id = ANY(\(claimed.map(\.id))) AND lease_owner = \(lease.worker)",
                                                   in: session)
            for index in runs.indices { runs[index].previousWorker = owners[runs[index].run.id.rawValue] ?? nil }
            return runs
        }
    }

    /// Rows that a batch of this worker's committer holds are skipped rather than waited for
    /// (`SKIP LOCKED`): a renewal locking many runs in one order, and a batch locking a few in
    /// another, deadlocked, and the failed renewal stopped every run here. A skipped run is still
    /// held (its lease runs on) and is renewed next time.
    public func renewLeases(of runs: Set<RunID>) async throws(StoreError) -> Set<RunID> {
        let ids = runs.map(\.rawValue)
        return try await read { session in
            try await session.changes("""
                UPDATE run SET lease_expires_at = \(unescaped: RunLease.now) + \(lease.milliseconds)
                WHERE key IN (SELECT key FROM run
                              WHERE id = ANY(\(ids)) AND lease_owner = \(lease.worker) AND \(unescaped: RunLease.unfinished)
                              FOR NO KEY UPDATE SKIP LOCKED)
                """)
            return Set(try await session.rows("""
                SELECT id FROM run WHERE id = ANY(\(ids)) AND lease_owner = \(lease.worker) AND \(unescaped: RunLease.unfinished)
                """).map { RunID(try $0[0].decode(String.self)) })
        }
    }

    /// A lease given up ends now: from then on the run waits for a worker, and `store check` says
    /// since when.
    public func releaseLeases() async throws(StoreError) {
        try await read { session in
            let released = try await session.changes("""
                UPDATE run SET lease_expires_at = \(unescaped: RunLease.now)
                WHERE lease_owner = \(lease.worker) AND \(unescaped: RunLease.unfinished)
                """)
            if released > 0 { try await session.changes("SELECT pg_notify(\(Self.releasedChannel), \(lease.worker))") }
        }
    }

    public func releaseLease(of run: RunID) async throws(StoreError) {
        _ = try await read { session in
            try await session.changes("""
                UPDATE run SET lease_expires_at = \(unescaped: RunLease.now)
                WHERE id = \(run.rawValue) AND lease_owner = \(lease.worker) AND \(unescaped: RunLease.unfinished)
                """)
        }
    }

    public func killsAsked(of runs: Set<RunID>) async throws(StoreError) -> [RunID: String] {
        guard !runs.isEmpty else { return [:] }
        return try await read { session in
            Dictionary(uniqueKeysWithValues: try await session.rows("""
                SELECT id, kill_reason FROM run
                WHERE id = ANY(\(runs.map(\.rawValue))) AND kill_reason IS NOT NULL AND \(unescaped: RunLease.unfinished)
                """).map { (RunID(try $0[0].decode(String.self)), try $0[1].decode(String.self)) })
        }
    }

    public func checkAvailability() async throws(StoreError) {
        if let away = await pool.check() { throw away }
    }

    public func waitForReleasedRuns(timeout: Duration) async {
        do {
            try await read { session in
                let connection = session.connection
                try await withThrowingTaskGroup { group in
                    group.addTask {
                        try await connection.listen(on: Self.releasedChannel) { notifications in
                            for try await _ in notifications { return }
                        }
                    }
                    group.addTask { try await Task.sleep(for: timeout) }
                    defer { group.cancelAll() }
                    _ = try await group.next()
                }
            }
        } catch {
            // Waited out all the same (the database away fails at once): the keeper's loop would spin.
            try? await Task.sleep(for: timeout)
        }
    }
}
