public import Foundation
public import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// The shared store: PostgreSQL, for several `automator serve` workers on one database.
///
/// The same `Store` as SQLite, passing the same conformance suites. Writes go through the same
/// `GroupCommitter`: one thread takes every write waiting and commits it as one transaction, so a
/// commit's round trips and its flush are shared by every run that wrote meanwhile. postgres-nio
/// is asynchronous and the committer is a thread of its own, so the committer waits for each
/// batch's transaction (it has nothing else to do meanwhile); reads go to the pool directly.
///
/// In PostgreSQL a failed statement aborts its transaction, where SQLite undoes only the
/// statement: so refusals (a duplicate, an unknown run) are found without failing a statement
/// (`ON CONFLICT DO NOTHING`, row counts, a look first). A write of several statements runs in a
/// savepoint, undone when one of them is refused; since that costs two round trips and writes are
/// seldom refused, a batch is applied without savepoints first, and again with them only if such
/// a write was refused. Any other error fails the batch.
///
/// A commit is durable when PostgreSQL says so (`synchronous_commit`, on by default): what a
/// script has seen survives a crash of this process, of the server, or a power loss of either.
public final class PostgresStore: Store {
    /// The most writes one transaction takes.
    static let maximumBatch = 1024

    public let location: PostgresLocation
    /// This worker's leases on the runs it executes (`LeasingStore`).
    public let lease: RunLease
    /// What its connections are named in `pg_stat_activity`: the worker's name, or a command's.
    let application: String
    /// The data folder beside the database: where the journal's signing key is (`JournalSignature`).
    public let dataFolder: String?
    /// The upgrade of an older schema that opening it made (all in one transaction); nil when it
    /// was current, or new.
    public let upgrade: SchemaUpgrade?
    /// The connections, and whether the database is there. Owned by the store and ended by
    /// `close()`: a store is usable once opened, as SQLite's is, by callers that have no service
    /// group (the CLI, tests).
    let pool: PostgresPool
    let logger: Logger
    private let committer: GroupCommitter<StoreWrite>
    private let isClosed = Atomic<Bool>(false)

    /// Connects to the database at `location` and brings its schema up to date.
    ///
    /// - Parameters:
    ///   - lease: this worker's name and lease time: the runs it creates or claims are its own. Nil
    ///     for a command (`journal verify --store`...), whose connections are not named as a
    ///     worker's (`automator store check` counts the workers by their connections).
    ///   - dataFolder: the folder of the journal's signing key, whose checkpoints
    ///     `verifyJournal` trusts; nil to check signatures only.
    ///
    /// - Throws: `StoreError` saying what is wrong and what to do: the server cannot be reached or
    ///   refuses the login (with PostgreSQL's reason), the schema is from a newer automator.
    public init(location: PostgresLocation, lease: RunLease? = nil, dataFolder: String? = nil,
                logger: Logger = Logger(label: "automator.store")) async throws(StoreError)
    {
        self.location = location
        self.lease = lease ?? RunLease()
        let application = lease?.application ?? RunLease.commandApplication
        self.application = application
        self.dataFolder = dataFolder
        self.logger = logger
        let password = try PostgresPassword.find(for: location)
        // A first, lone connection: its failure carries the server's reason (no such user, bad
        // password, refused), where the pool only says that it could not connect.
        let applied = try await Self.withConnection(to: location, password: password, application: application,
                                                    logger: logger) { session in
            try await Self.migrate(session, location: location)
        }
        upgrade = SchemaUpgrade(applied: applied, of: Self.migrations.map(\.version))
        let pool = try PostgresPool(location: location, password: password, application: application, logger: logger)
        self.pool = pool
        committer = GroupCommitter(label: "automator.store.commit", maximumBatch: Self.maximumBatch) {
            [pool, lease = self.lease, logger] batch throws(StoreError) in
            try waitBlocking { () async throws(StoreError) in
                try await pool.withConnection { connection in
                    func attempt(savepoints: Bool) async throws -> [Int: StoreError] {
                        try await connection.withTransaction(logger: logger) { connection in
                            try await Self.apply(batch, to: PostgresSession(connection, lease: lease, savepoints: savepoints,
                                                                            logger: logger))
                        }
                    }
                    // Without savepoints first (two round trips fewer a write of several statements),
                    // since writes are seldom refused; with them again if one was.
                    do { return try await attempt(savepoints: false) } catch let error as PostgresTransactionError
                        where error.closureError is RefusedWithoutSavepoint
                    {
                        return try await attempt(savepoints: true)
                    }
                }
            }
        }
    }

    /// Runs `body` on a connection of its own, closed after; `application` names it in
    /// `pg_stat_activity` (a worker's, or a command's).
    static func withConnection<T>(to location: PostgresLocation, password: String?,
                                  application: String = RunLease.commandApplication,
                                  logger: Logger, _ body: (PostgresSession) async throws -> T) async throws(StoreError) -> T
    {
        let configuration = try location.connectionConfiguration(password: password, application: application)
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        } catch {
            throw .serverUnreachable(location.description, reason: Self.reason(error))
        }
        do {
            let result = try await body(PostgresSession(connection, logger: logger))
            try? await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw storeError(error, location: location)
        }
    }

    // MARK: Store

    public func write(_ write: StoreWrite, completion: @escaping @Sendable (Result<Void, StoreError>) -> Void) {
        committer.submit(write, completion: completion)
    }

    public func loadRun(_ id: RunID) async throws(StoreError) -> RunRecord? {
        try await read { session in
            try await session.rows("\(unescaped: Self.selectShownRun) WHERE id = \(id.rawValue)").first.map(Self.run(from:))
        }
    }

    public func listRuns(status: RunRecord.Status?, limit: Int) async throws(StoreError) -> [RunRecord] {
        let filter = status.map { " WHERE " + ShownRunStatus.condition($0, asleep: Self.asleep) } ?? ""
        return try await read { session in
            try await session.rows("\(unescaped: Self.selectShownRun + filter) ORDER BY id DESC LIMIT \(limit)")
                .map(Self.run(from:))
        }
    }

    public func lastRun(of incident: IncidentID, calling entries: [RunEntry]) async throws(StoreError) -> RunRecord? {
        let stored = entries.compactMap(\.stored)
        return try await read { session in
            try await session.rows("""
                \(unescaped: Self.selectShownRun) WHERE incident = \(incident.number) AND entry = ANY(\(stored))
                ORDER BY id DESC LIMIT 1
                """).first.map(Self.run(from:))
        }
    }

    public func unfinishedRuns() async throws(StoreError) -> [UnfinishedRun] {
        try await read { session in try await Self.runsToResume("\(unescaped: RunLease.unfinished)", in: session) }
    }

    /// The runs `condition` selects, oldest first, with their recorded host calls.
    static func runsToResume(_ condition: PostgresQuery, in session: PostgresSession) async throws -> [UnfinishedRun] {
        let runs = try await session.rows(PostgresQuery(unsafeSQL: selectRun + " WHERE " + condition.sql + " ORDER BY id",
                                                        binds: condition.binds)).map(run(from:))
        var records: [RunID: [HostCallRecord]] = [:]
        for row in try await session.rows(PostgresQuery(unsafeSQL: """
            SELECT run.id, sequence, name, arguments_digest, host_call.result, recorded_at
            FROM host_call JOIN run ON run.key = host_call.run_key
            WHERE \(condition.sql) ORDER BY host_call.run_key, sequence
            """, binds: condition.binds))
        {
            let id = RunID(try row[0].decode(String.self))
            records[id, default: []].append(try hostCall(of: id, from: row, at: 1))
        }
        return runs.map { UnfinishedRun(run: $0, records: records[$0.id] ?? []) }
    }

    public func hostCalls(of run: RunID) async throws(StoreError) -> [HostCallRecord] {
        try await read { session in
            try await session.rows("""
                SELECT sequence, name, arguments_digest, result, recorded_at FROM host_call
                WHERE run_key = (SELECT key FROM run WHERE id = \(run.rawValue)) ORDER BY sequence
                """).map { row in try Self.hostCall(of: run, from: row, at: 0) }
        }
    }

    /// Deletes in slices of a few hundred runs, each its own transaction, so that the batches of
    /// the group committer (and of the other workers) go on between them.
    public func deleteFinishedChatRuns(finishedBefore cutoff: Date) async throws(StoreError) -> Int {
        try await deleteFinishedRuns(finishedBefore: cutoff, chatOnly: true)
    }

    /// All the finished runs, the chat's or not: for the benchmarks, which empty the database
    /// between measurements.
    @_spi(Benchmarks)
    public func deleteFinishedRuns(finishedBefore cutoff: Date, chatOnly: Bool = false) async throws(StoreError) -> Int {
        let cutoff = cutoff.millisecondsSince1970
        var deleted = 0
        while true {
            let slice = try await read { session in
                try await session.changes("""
                    DELETE FROM run WHERE key IN (SELECT key FROM run WHERE finished_at < \(cutoff)
                        AND (NOT \(chatOnly) OR entry LIKE 'chat:%')
                        AND NOT EXISTS (SELECT 1 FROM chat_question WHERE run_id = run.id)
                        LIMIT 500)
                    """)
            }
            deleted += slice
            if slice < 500 { break }
        }
        if deleted > 0 { try await deleteUnnamedSources() }
        return deleted
    }

    /// The lock of `script_source`'s deletions (`deleteUnnamedSources`), which a batch storing
    /// sources shares.
    static let sourceLock: Int64 = 0x4155_544F_0000_0005

    /// Deletes the sources no run names, once the batches storing runs meanwhile have committed
    /// (and holding back those that start): one of them may name a source no committed run does.
    private func deleteUnnamedSources() async throws(StoreError) {
        try await read { session in
            try await session.changes("BEGIN")
            do {
                try await session.changes("SELECT pg_advisory_xact_lock(\(Self.sourceLock))")
                try await session.changes("\(unescaped: ScriptSource.deleteUnnamed)")
                try await session.changes("COMMIT")
            } catch {
                _ = try? await session.changes("ROLLBACK")
                throw error
            }
        }
    }

    public func close() async {
        guard !isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        await committer.close()
        await pool.close()
    }

    // MARK: Reading

    /// The columns `run(from:)` reads, with `status` for the status.
    private static func selectRun(status: String) -> String {
        """
        SELECT id, script, \(ScriptSource.column), arguments, \(status), created_at, updated_at, finished_at, result,
               error, entry, incident, playbook FROM run
        """
    }

    /// As stored: what recovery resumes.
    static let selectRun = selectRun(status: "status")
    /// As people see it, `waiting` derived (`ShownRunStatus`).
    static let selectShownRun = selectRun(status: ShownRunStatus.column(asleep: asleep))

    /// Whether a `host_call` row is a sleep whose deadline is ahead: the deadline read out of the
    /// record's bytes (`RecordCoding.oneInteger`, then 8 bytes, least significant first).
    static let asleep: String = {
        let prefix = RecordCoding.oneInteger
        let deadline = (0..<8).map { "(get_byte(result, \(prefix.count + $0))::bigint << \(8 * $0))" }
            .joined(separator: " | ")
        return """
            CASE WHEN name = '\(ShownRunStatus.sleep)' AND length(result) = \(prefix.count + 8) \
            AND substring(result FROM 1 FOR \(prefix.count)) = '\\x\(prefix.map { String(format: "%02x", $0) }.joined())'::bytea \
            THEN (\(deadline)) > (extract(epoch FROM now()) * 1000)::bigint ELSE false END
            """
    }()

    static func run(from row: PostgresRandomAccessRow) throws -> RunRecord {
        let id = RunID(try row[0].decode(String.self))
        let status = try row[4].decode(String.self)
        guard let known = RunRecord.Status(rawValue: status) else { throw StoreError.unknownStatus(status, run: id) }
        return RunRecord(id: id, script: try row[1].decode(String.self), source: try row.bytes(2),
                         arguments: try row[3].decode(String.self), status: known, createdAt: try row.date(5)!,
                         updatedAt: try row.date(6)!, finishedAt: try row.date(7),
                         result: try row[8].decode(String?.self), error: try row[9].decode(String?.self),
                         entry: try row[10].decode(String?.self),
                         incident: try row[11].decode(Int?.self).map(IncidentID.init),
                         playbook: try row[12].decode(String?.self))
    }

    /// A host call from the columns sequence, name, arguments_digest, result, recorded_at,
    /// starting at `first`.
    private static func hostCall(of run: RunID, from row: PostgresRandomAccessRow, at first: Int) throws -> HostCallRecord {
        HostCallRecord(runID: run, sequence: try row[first].decode(Int.self), name: try row[first + 1].decode(String.self),
                       argumentsDigest: try row[first + 2].decode(String.self), result: try row.bytes(first + 3),
                       recordedAt: try row.date(first + 4)!)
    }

    /// Runs `body` on a connection of the pool, outside the committer's transactions.
    func read<T: Sendable>(_ body: (PostgresSession) async throws -> T) async throws(StoreError) -> T {
        guard !isClosed.load(ordering: .acquiring) else { throw .closed }
        return try await pool.withConnection { connection in try await body(PostgresSession(connection, logger: logger)) }
    }
}
