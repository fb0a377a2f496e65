import Foundation
import NIOCore
import PostgresNIO

/// What the workers on one database coordinate besides the runs' leases: one leader among them
/// (a session's advisory lock), and the changes another worker may be waiting on (`NOTIFY`, sent
/// by the transaction that makes the change, so only when it commits).
///
/// Both hold a connection of their own, outside the pool: the leader's lock lives as long as its
/// session, so the leadership ends with the worker (PostgreSQL drops a dead client's session and
/// its locks), and a `LISTEN` must stay on one session to hear anything.
extension PostgresStore {
    /// The leader's lock (`pg_try_advisory_lock`), beside the migration's and the journal's.
    static let leaderLock: Int64 = 0x4155_544F_0000_0003
    /// Where the transactions tell of `SharedChange`s.
    static let changesChannel = "automator_changes"

    public func lead(_ duties: @escaping @Sendable () async -> Void) async {
        // A third of a lease at most: a live leader must look often enough never to be silent
        // for the lease that ends its session (`holdLeadership`).
        let retry = min(lease.duration / 3, .milliseconds(500))
        // Whether the last try reached the database: tries that do not are said once, not twice a
        // second while it is away.
        var reached = true
        while !Task.isCancelled {
            do {
                try await onOwnConnection { session in
                    reached = true
                    try await holdLeadership(on: session, retry: retry, duties)
                }
            } catch {
                if Task.isCancelled { return }
                if reached {
                    logger.warning("worker \(worker) stopped leading or could not try: \(error); trying again every \(retry)")
                }
                reached = false
            }
            try? await Task.sleep(for: retry)
        }
    }

    /// Waits for the lock, then runs `duties` until the task is cancelled or the session ends: a
    /// leader cut off from the database stops leading, since the database gives the lock to
    /// another worker. A connection closed by either side ends it at once; one that stopped
    /// answering, when a look (every `retry`) gets no answer within `retry`.
    ///
    /// And a leader that dies without closing its connection (its machine lost power, a frozen
    /// VM) must not keep the lock until the server's TCP keepalive notices, two hours by default:
    /// the server ends its session once silent for a lease (`idle_session_timeout`, PostgreSQL
    /// 14 and later; before, TCP keepalives of a few seconds). A live leader looks every `retry`,
    /// so it is never silent that long, and it stops leading before the server could end it.
    private func holdLeadership(on session: PostgresSession, retry: Duration,
                                _ duties: @escaping @Sendable () async -> Void) async throws
    {
        let seconds = max(1, lease.milliseconds / 1000)
        for setting in ["idle_session_timeout = \(lease.milliseconds)", "tcp_keepalives_idle = \(seconds)",
                        "tcp_keepalives_interval = 1", "tcp_keepalives_count = \(seconds)"] {
            // An older server without the setting, or a Unix socket without keepalives: the others still hold.
            _ = try? await session.changes(PostgresQuery(unsafeSQL: "SET " + setting))
        }
        while try await !session.rows("SELECT pg_try_advisory_lock(\(Self.leaderLock))")[0][0].decode(Bool.self) {
            try await Task.sleep(for: retry)
        }
        logger.info("worker \(worker) leads the workers")
        let connection = session.connection
        try await withThrowingTaskGroup { [logger] group in
            group.addTask { await duties() }
            group.addTask {
                // Closed at once when leaving (the lock goes with it): the close is what ends this wait.
                try await withTaskCancellationHandler {
                    try await connection.closeFuture.get()
                } onCancel: {
                    let closing: EventLoopFuture<Void> = connection.close()
                    _ = closing
                }
                throw StoreError.serverUnreachable("the leader's session", reason: "the connection closed")
            }
            group.addTask {
                while true {
                    try await Task.sleep(for: retry)
                    try await Self.ping(connection, within: retry, logger: logger)
                }
            }
            // Duties that end leave the lock held; a watcher's error cancels the duties.
            defer { group.cancelAll() }
            while try await group.next() != nil {}
        }
    }

    /// `SELECT 1`, failing when the answer takes longer than `limit` (a query in flight cannot be
    /// cancelled: the wait for it ends instead).
    private static func ping(_ connection: PostgresConnection, within limit: Duration, logger: Logger) async throws {
        let answered: EventLoopFuture<PostgresQueryResult> = connection.query("SELECT 1", logger: logger)
        let outcome = connection.eventLoop.makePromise(of: Void.self)
        let late = connection.eventLoop.scheduleTask(in: .milliseconds(Int64(limit / .milliseconds(1)))) {
            outcome.fail(StoreError.serverUnreachable("the leader's session", reason: "no answer within \(limit)"))
        }
        // The first of the two completes it; the other changes nothing.
        answered.whenComplete { result in
            late.cancel()
            outcome.completeWith(result.map { _ in })
        }
        try await outcome.futureResult.get()
    }

    public func followChanges(_ changed: @escaping @Sendable (SharedChange) async -> Void) async {
        // As in `lead`: tries that do not reach the database are said once, or not at all.
        var reached = true
        while !Task.isCancelled {
            do {
                try await onOwnConnection { session in
                    reached = true
                    try await session.connection.listen(on: Self.changesChannel) { notifications in
                        // Listening from here on: whatever came before is looked at again.
                        await changed(.unknown)
                        for try await notification in notifications {
                            if let change = SharedChange(payload: notification.payload) { await changed(change) }
                        }
                    }
                }
            } catch {
                if Task.isCancelled { return }
                // The store says itself that its database is away.
                if reached, !error.isDatabaseAway {
                    logger.warning("the other workers' changes cannot be followed: \(error); trying again every 1 s")
                }
                reached = false
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Tells the workers of `change` when the transaction of `session` commits.
    static func notify(_ change: SharedChange, in session: PostgresSession) async throws {
        try await session.changes("SELECT pg_notify(\(changesChannel), \(change.payload))")
    }

    /// Runs `body` on a connection of its own; none is tried while the database is known to be
    /// away (the pool looks for everyone, once a second).
    private func onOwnConnection(_ body: (PostgresSession) async throws -> Void) async throws(StoreError) {
        try await pool.admit()
        let password = try PostgresPassword.find(for: location)
        do {
            try await Self.withConnection(to: location, password: password, application: application, logger: logger,
                                          body)
        } catch {
            throw Task.isCancelled ? error : await pool.cause(of: error)
        }
    }
}

extension SharedChange {
    /// As a notification's text: `task:7`, `kill:RUN`, `question:ID`, `channels:NETWORK`, `unknown`.
    var payload: String {
        switch self {
        case .taskEnded(let id): "task:\(id.number)"
        case .killAsked(let run): "kill:\(run)"
        case .questionAnswered(let id): "question:\(id)"
        case .chatChannels(let network): "channels:\(network)"
        case .unknown: "unknown"
        }
    }

    init?(payload: String) {
        let (kind, value) = payload.firstIndex(of: ":").map { (payload[..<$0], String(payload[payload.index(after: $0)...])) }
            ?? (Substring(payload), "")
        switch kind {
        case "task": guard let number = Int(value) else { return nil }; self = .taskEnded(TaskID(number))
        case "kill": self = .killAsked(RunID(value))
        case "question": self = .questionAnswered(value)
        case "channels": self = .chatChannels(network: value)
        case "unknown": self = .unknown
        default: return nil
        }
    }
}
