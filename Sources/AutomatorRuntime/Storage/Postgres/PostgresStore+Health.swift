public import Foundation
import PostgresNIO
public import Logging

/// What `automator store check` reports of a shared store.
public struct StoreHealth: Sendable {
    /// The server's `version()`.
    public var server: String
    /// The schema versions applied, and whether they are all this automator's.
    public var schema: [String]
    public var isSchemaCurrent: Bool
    /// The unfinished runs each live worker holds.
    public var leases: [(worker: String, runs: Int)]
    /// Unfinished runs that no worker holds: a dead worker's, whose lease expired, and a stopped
    /// worker's, which it released. A live worker adopts them within a second; old ones mean that
    /// no worker runs, or that the workers do not adopt them.
    public var expired: Int
    /// How long the oldest of them has waited: since its lease ended (expired or released), or,
    /// never leased, since it last changed.
    public var oldestExpiry: TimeInterval? = nil
    /// The workers connected to the database, by the name each gives its connections.
    public var workers: [String] = []
    /// The worker that leads (`LeasingStore.lead`); nil when none does: no worker runs, or those
    /// that run fail to take the lead.
    public var leader: String? = nil
}

extension PostgresStore {
    /// Connects to `location` and brings its schema up to date; returns the versions applied now
    /// (none when it was current).
    public static func migrate(_ location: PostgresLocation, logger: Logger) async throws(StoreError) -> [String] {
        try await withConnection(to: location, password: try PostgresPassword.find(for: location), logger: logger) {
            session in try await migrate(session, location: location)
        }
    }

    /// The server, the schema, and the leases of the unfinished runs at `location`, on a
    /// connection of its own: nothing is changed, not even the schema.
    public static func health(of location: PostgresLocation, logger: Logger) async throws(StoreError) -> StoreHealth {
        try await withConnection(to: location, password: try PostgresPassword.find(for: location), logger: logger) {
            session in
            let server = try await session.rows("SELECT version()")[0][0].decode(String.self)
            guard try await session.rows("SELECT to_regclass('automator_schema')")[0][0].decode(String?.self) != nil
            else {
                return StoreHealth(server: server, schema: [], isSchemaCurrent: false, leases: [], expired: 0)
            }
            // In the order applied: as text, v10 would sort before v2.
            let schema = try await session.rows("""
                SELECT version FROM automator_schema ORDER BY length(version), version
                """).map { try $0[0].decode(String.self) }
            let leases = try await session.rows("""
                SELECT lease_owner, count(*) FROM run
                WHERE \(unescaped: RunLease.unfinished) AND lease_expires_at > \(unescaped: RunLease.now)
                GROUP BY lease_owner ORDER BY lease_owner
                """).map { (try $0[0].decode(String.self), try $0[1].decode(Int.self)) }
            // A run no worker ever held (one `automator store copy` brought) has waited since its
            // last change.
            let expired = try await session.rows("""
                SELECT count(*), (\(unescaped: RunLease.now) - min(coalesce(lease_expires_at, updated_at))) / 1000.0 FROM run
                WHERE \(unescaped: RunLease.unfinished)
                  AND (lease_expires_at IS NULL OR lease_expires_at <= \(unescaped: RunLease.now))
                """)[0]
            let workers = try await session.rows("""
                SELECT DISTINCT application_name FROM pg_stat_activity
                WHERE datname = current_database() AND application_name LIKE \(RunLease.applicationPrefix + "%")
                ORDER BY application_name
                """).map { String(try $0[0].decode(String.self).dropFirst(RunLease.applicationPrefix.count)) }
            // The session holding the leader's lock, by the name its worker gave it.
            let leader = try await session.rows("""
                SELECT activity.application_name FROM pg_locks AS lock JOIN pg_stat_activity AS activity USING (pid)
                WHERE lock.locktype = 'advisory' AND lock.granted AND lock.objsubid = 1
                  AND lock.classid = \(Int64(Self.leaderLock >> 32)) AND lock.objid = \(Int64(Self.leaderLock & 0xFFFF_FFFF))
                  AND lock.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                """).first.map { String(try $0[0].decode(String.self).dropFirst(RunLease.applicationPrefix.count)) }
            return StoreHealth(server: server, schema: schema,
                               isSchemaCurrent: schema == Self.migrations.map(\.version), leases: leases,
                               expired: try expired[0].decode(Int.self),
                               oldestExpiry: try expired[1].decode(Decimal?.self).map { ($0 as NSDecimalNumber).doubleValue },
                               workers: workers, leader: leader)
        }
    }
}
