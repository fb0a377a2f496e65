import Foundation

/// Who holds the runs a worker writes, and for how long (`LeasingStore`).
public struct RunLease: Sendable, Hashable {
    /// The worker's name: unique among the workers on a database.
    public var worker: String
    public var duration: Duration

    /// - Parameter worker: nil for this machine's name, the process id and a random suffix.
    public init(worker: String? = nil, duration: Duration = .seconds(10)) {
        self.worker = worker ?? "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(UUID().uuidString.prefix(8))"
        self.duration = duration
    }

    /// The worker's connections' `application_name`, which `pg_stat_activity` shows (PostgreSQL
    /// keeps 63 bytes of it): `store check` finds the workers by it.
    var application: String { Self.applicationPrefix + worker }
    static let applicationPrefix = "automator "
    /// A command's connections (`migrate`, `store check`, `journal verify --store`...): not a
    /// worker's, so that `store check` does not count it as one.
    static let commandApplication = "automator"

    var milliseconds: Int64 { duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000 }

    /// The server's clock in milliseconds, in SQL: every worker's leases are timed by the one clock.
    /// A lease is held while `lease_expires_at` is after it; from that time on (a release sets it
    /// to the time of the release) the run waits for a worker to claim it.
    static let now = "(extract(epoch from clock_timestamp()) * 1000)::bigint"

    /// Unfinished statuses, in SQL: the runs that are leased.
    static let unfinished = "status IN ('pending', 'running', 'waiting')"
}
