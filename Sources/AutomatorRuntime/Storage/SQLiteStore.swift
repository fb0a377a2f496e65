public import Foundation
import GRDB
import GRDBSQLite
import Synchronization

/// The embedded store: one SQLite file, `automator.sqlite`, in the data folder.
///
/// It opens GRDB `DatabasePool`s, not a `DatabaseQueue`: the file is in WAL mode and reads have
/// connections of their own, so listing runs (the REST API, `automator serve`'s recovery) reads
/// the last committed state while the group committer writes, instead of waiting behind each
/// batch's flush. Reads go through a read-only pool, which writes nothing as it opens, and writes
/// through `SQLiteWriter`'s: a store whose schema is current opens and reads on a full disk.
/// Writes stay serial: SQLite has one writer, and every write goes through one `GroupCommitter`,
/// which batches the writes of all runs into one transaction per flush.
///
/// What survives what, given that the scheduler hands a host call's result to the script only
/// after the write's completion:
///
/// - **A crash of the process** (kill -9, a fatal error) loses nothing that a script has seen,
///   with either durability: a commit has written its pages to the WAL file (the kernel's page
///   cache) before the completion runs, and SQLite replays the WAL at the next open.
/// - **A power loss or an OS crash**: with `.full` (the default, `PRAGMA synchronous = FULL`)
///   each batch's commit is flushed (fsync) before its completions, so nothing a script has
///   seen is lost either. With `.normal` the WAL is flushed only at checkpoints: the last
///   commits before the power loss may be lost (never the database's consistency), so a
///   resumed run may act again for a call whose result its previous life had seen.
///
/// Group commit makes `.full` cheap: one flush serves a whole batch (see docs/ARCHITECTURE.md,
/// "Storage", for the measurements).
public final class SQLiteStore: Store {
    /// How far a commit goes before the writers are told it is durable.
    public enum Durability: Sendable {
        /// `PRAGMA synchronous = FULL`: each batch is flushed to the disk. Survives power loss.
        case full
        /// `PRAGMA synchronous = NORMAL`: the WAL is flushed at checkpoints only. Survives a
        /// crash of the process, not a power loss.
        case normal
    }

    /// The database's file name in the data folder.
    public static let fileName = "automator.sqlite"
    /// The most writes one transaction takes: bounds a batch's latency and its WAL growth.
    static let maximumBatch = 4096

    /// The database file.
    public let path: String
    /// Why the database cannot be written, when it was opened to be read only: a full disk, or a
    /// file this user may not write (a backup, a snapshot). Its writes fail with this error.
    public let unwritable: StoreError?
    /// The upgrade of an older schema that opening it made; nil when it was current, or new.
    public let upgrade: SchemaUpgrade?
    /// Why the last batch failed, while it was for want of room or permission (`writeProblem`).
    private let refusing: Locked<StoreError?>
    /// The readers: read-only connections.
    private let pool: DatabasePool
    private let writer: SQLiteWriter
    private let committer: GroupCommitter<StoreWrite>
    let numbers: NumberCounters
    let isClosed = Atomic<Bool>(false)

    /// Opens the database in `folder` (`--data`), creating the folder (mode 0700) and the
    /// database if they do not exist, and bringing an older database's schema up to date.
    ///
    /// - Throws: `StoreError` saying what is wrong and what to do: the folder is a file or
    ///   cannot be created, the file is not an Automator database or was written by a newer
    ///   version, the disk or folder is read-only or full.
    public convenience init(folder: String, durability: Durability = .full) throws(StoreError) {
        try self.init(folder: folder, durability: durability, journal: JournalTip())
    }

    /// With the journal's appends done by `journal`: JournalBenchmark measures the store's own
    /// appends with the chains against the same appends without them (`JournalTip(chained: false)`).
    ///
    /// - Parameters:
    ///   - evenIfMoved: opens a store that `automator store copy` moved to PostgreSQL
    ///     (`DataFolder.movedFile`), which is refused otherwise: for copying it again.
    ///   - evenIfUnfinished: opens the folder a copy is filling (`UnfinishedCopy`), which is
    ///     refused otherwise: for that copy.
    @_spi(Benchmarks)
    public init(folder: String, durability: Durability = .full, journal: JournalTip, evenIfMoved: Bool = false,
                evenIfUnfinished: Bool = false) throws(StoreError)
    {
        try DataFolder.prepare(folder)
        if !evenIfUnfinished { try UnfinishedCopy.refuse(folder) }
        if !evenIfMoved, let address = DataFolder.moved(folder) { throw .storeMoved(folder, to: address) }
        if let address = DataFolder.worker(folder) { throw .workerFolder(folder, of: address) }
        let path = URL(fileURLWithPath: folder).appendingPathComponent(Self.fileName).path
        self.path = path
        let backup = DataFolder.backup(folder).map { StoreError.backupFolder(folder, mark: $0) }
        // Until the schema is read or made: another process opening the database meanwhile waits.
        let schemaLock = backup == nil ? SchemaLock(beside: path) : nil
        defer { schemaLock?.release() }
        // A new database is its owner's alone, as the folder, the token and the key are: SQLite would
        // make it 0644 (with the umask), and its -wal and -shm files take its mode.
        let made = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        if made >= 0 { Glibc.close(made) }
        var configuration = Configuration()
        configuration.label = "automator.store"
        // Another process on the same file (a second automator on the same --data) waits this
        // long for the lock before `.unavailable`.
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            db.add(function: Self.asleep)
            // The WAL index (`-shm`) stays when the last connection closes (the WAL too, emptied):
            // made again, it takes 32 KB, which a full disk does not have, and no read could start.
            var persist: Int32 = 1
            sqlite3_file_control(db.sqliteConnection, "main", SQLITE_FCNTL_PERSIST_WAL, &persist)
        }
        let writer = SQLiteWriter(path: path, configuration: configuration, durability: durability, refusal: backup)
        self.writer = writer
        // The writer opens first: it makes a new database. A full disk, or a folder this user may
        // only read (a backup, a snapshot an auditor verifies), is no reason to refuse one whose
        // schema is current: it is read, and a write says why it cannot be made.
        var found: StoreError? = backup
        do {
            // Fails now, rather than at the first host call, if the file cannot be written.
            if backup == nil {
                try writer.pool().writeWithoutTransaction { db in try db.inTransaction(.immediate) { .rollback } }
            }
        } catch let error as DatabaseError where [.SQLITE_FULL, .SQLITE_READONLY].contains(error.resultCode)
            && FileManager.default.fileExists(atPath: path)
        {
            found = Self.storeError(error, path: path)
        } catch {
            throw Self.storeError(error, path: path)
        }
        unwritable = found
        do {
            var readOnly = configuration
            readOnly.readonly = true
            pool = try DatabasePool(path: path, configuration: readOnly)
            upgrade = try Self.migrate(reading: pool, path: path) {
                if let found { throw found }
                return try writer.pool()
            }
            let reader: DatabasePool = pool
            numbers = try NumberCounters(file: NumbersFile(beside: path)) { () throws(StoreError) in
                do { return try reader.read { try Self.highestNumbers(in: $0) } } catch {
                    throw Self.storeError(error, path: path)
                }
            }
        } catch {
            throw Self.storeError(error, path: path)
        }
        let refusing = Locked<StoreError?>(unwritable)
        self.refusing = refusing
        committer = GroupCommitter(label: "automator.store.commit", maximumBatch: Self.maximumBatch) {
            batch throws(StoreError) in
            do {
                let refused = try writer.pool().write { db in
                    journal.begin()
                    let refused = try Self.apply(batch, to: db, journal: journal)
                    try journal.link(db)
                    return refused
                }
                refusing.withLock { $0 = nil }
                return refused
            } catch {
                journal.forget()
                let failure = Self.storeError(error, path: path)
                if [.diskFull, .readOnly].contains(failure.kind) { refusing.withLock { $0 = failure } }
                throw failure
            }
        }
    }

    // MARK: Store

    public func write(_ write: StoreWrite, completion: @escaping @Sendable (Result<Void, StoreError>) -> Void) {
        let numbered = write.newNumbers
        guard !numbered.isEmpty else { return committer.submit(write, completion: completion) }
        committer.submit(write) { [numbers] result in
            // A conflict is a number stored already: not one to give again.
            if case .failure(let error) = result, error.kind != .conflict { numbers.giveBack(numbered) }
            completion(result)
        }
    }

    public func loadRun(_ id: RunID) async throws(StoreError) -> RunRecord? {
        try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: Self.selectShownRun + " WHERE id = ?"), arguments: [id.rawValue])
                .map(Self.run(from:))
        }
    }

    public func listRuns(status: RunRecord.Status?, limit: Int) async throws(StoreError) -> [RunRecord] {
        let filter = status.map { " WHERE " + ShownRunStatus.condition($0, asleep: Self.asleepCall) } ?? ""
        return try await read { db in
            try Row.fetchAll(db, sql: Self.selectShownRun + filter + " ORDER BY id DESC LIMIT ?", arguments: [limit])
                .map(Self.run(from:))
        }
    }

    public func lastRun(of incident: IncidentID, calling entries: [RunEntry]) async throws(StoreError) -> RunRecord? {
        let stored = entries.compactMap(\.stored)
        let placeholders = Array(repeating: "?", count: stored.count).joined(separator: ", ")
        return try await read { db in
            try Row.fetchOne(db, sql: Self.selectShownRun + """
                 WHERE incident = ? AND entry IN (\(placeholders)) ORDER BY id DESC LIMIT 1
                """, arguments: StatementArguments([incident.number] + stored)).map(Self.run(from:))
        }
    }

    public func unfinishedRuns() async throws(StoreError) -> [UnfinishedRun] {
        let unfinished = RunRecord.Status.allCases.filter { !$0.isFinished }.map(\.rawValue)
        return try await read { db in
            let placeholders = Array(repeating: "?", count: unfinished.count).joined(separator: ", ")
            let runs = try Row.fetchAll(db, sql: Self.selectRun + " WHERE status IN (\(placeholders)) ORDER BY id",
                                        arguments: StatementArguments(unfinished)).map(Self.run(from:))
            var records: [RunID: [HostCallRecord]] = [:]
            let rows = try Row.fetchCursor(db, sql: """
                SELECT run.id, sequence, name, arguments_digest, host_call.result, recorded_at
                FROM host_call JOIN run ON run.key = host_call.run_key
                WHERE run.status IN (\(placeholders)) ORDER BY host_call.run_key, sequence
                """, arguments: StatementArguments(unfinished))
            while let row = try rows.next() {
                let id = RunID(try row.decode(String.self, atIndex: 0))
                records[id, default: []].append(try Self.hostCall(of: id, from: row, at: 1))
            }
            return runs.map { UnfinishedRun(run: $0, records: records[$0.id] ?? []) }
        }
    }

    public func hostCalls(of run: RunID) async throws(StoreError) -> [HostCallRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT sequence, name, arguments_digest, result, recorded_at FROM host_call
                WHERE run_key = (SELECT key FROM run WHERE id = ?) ORDER BY sequence
                """, arguments: [run.rawValue]).map { row in try Self.hostCall(of: run, from: row, at: 0) }
        }
    }

    /// Deletes in slices of a few hundred runs, each its own transaction, so the group
    /// committer's batches go on between them.
    public func deleteFinishedChatRuns(finishedBefore cutoff: Date) async throws(StoreError) -> Int {
        let cutoff = cutoff.millisecondsSince1970
        var deleted = 0
        while true {
            let slice = try await writeAlone { db in
                try db.execute(sql: """
                    DELETE FROM run WHERE key IN (SELECT key FROM run WHERE finished_at < ?
                        AND entry LIKE 'chat:%' AND NOT EXISTS (SELECT 1 FROM chat_question WHERE run_id = run.id)
                        LIMIT 500)
                    """, arguments: [cutoff])
                return db.changesCount
            }
            deleted += slice
            if slice < 500 { break }
        }
        // One writer: no run naming a source can be stored between the two.
        if deleted > 0 { try await writeAlone { db in try db.execute(sql: ScriptSource.deleteUnnamed) } }
        return deleted
    }

    public func close() async {
        guard !isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        await committer.close()
        try? pool.close()
        await writer.close()
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
    private static let selectRun = selectRun(status: "status")
    /// As people see it, `waiting` derived (`ShownRunStatus`).
    static let selectShownRun = selectRun(status: ShownRunStatus.column(asleep: asleepCall))

    /// `automator_asleep(name, result)`: whether a host call's record is a sleep whose deadline is
    /// ahead. A function of the connection: SQL cannot read the deadline out of the record.
    private static let asleep = DatabaseFunction("automator_asleep", argumentCount: 2) { values in
        guard String.fromDatabaseValue(values[0]) == ShownRunStatus.sleep,
              let result = Data.fromDatabaseValue(values[1]),
              let deadline = RecordCoding.deadline(ofSleep: Array(result))
        else { return false }
        return deadline > Date().millisecondsSince1970
    }
    static let asleepCall = "automator_asleep(name, result)"

    private static func run(from row: Row) throws -> RunRecord {
        let id = RunID(try row.decode(String.self, atIndex: 0))
        let status: String = try row.decode(atIndex: 4)
        guard let known = RunRecord.Status(rawValue: status) else { throw StoreError.unknownStatus(status, run: id) }
        let finishedAt: Int64? = try row.decode(atIndex: 7)
        return RunRecord(id: id, script: try row.decode(atIndex: 1),
                         source: Array(try row.decode(Data.self, atIndex: 2)), arguments: try row.decode(atIndex: 3),
                         status: known,
                         createdAt: Date(millisecondsSince1970: try row.decode(atIndex: 5)),
                         updatedAt: Date(millisecondsSince1970: try row.decode(atIndex: 6)),
                         finishedAt: finishedAt.map(Date.init(millisecondsSince1970:)),
                         result: try row.decode(atIndex: 8), error: try row.decode(atIndex: 9),
                         entry: try row.decode(atIndex: 10),
                         incident: (try row.decode(Int?.self, atIndex: 11)).map(IncidentID.init),
                         playbook: try row.decode(atIndex: 12))
    }

    /// A host call from the columns sequence, name, arguments_digest, result, recorded_at,
    /// starting at `first`.
    private static func hostCall(of run: RunID, from row: Row, at first: Int) throws -> HostCallRecord {
        HostCallRecord(runID: run, sequence: try row.decode(atIndex: first), name: try row.decode(atIndex: first + 1),
                       argumentsDigest: try row.decode(atIndex: first + 2),
                       result: try row.decode(Data.self, atIndex: first + 3),
                       recordedAt: Date(millisecondsSince1970: try row.decode(atIndex: first + 4)))
    }

    /// The database as it is now, which later commits do not change: what `PostgresStore.copy`
    /// reads, in as many reads as it likes.
    func snapshot() throws(StoreError) -> DatabaseSnapshot {
        do { return try pool.makeSnapshot() } catch { throw Self.storeError(error, path: path) }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        guard !isClosed.load(ordering: .acquiring) else { throw .closed }
        do {
            return try await pool.read(body)
        } catch {
            throw Self.storeError(error, path: path)
        }
    }

    /// Runs `body` in a write transaction of its own, between the committer's batches: for a
    /// write that reads what it decides on (a quota), or that must not make a batch wait.
    func writeAlone<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws(StoreError) -> T {
        guard !isClosed.load(ordering: .acquiring) else { throw .closed }
        do {
            return try await writer.pool().write(body)
        } catch {
            throw Self.storeError(error, path: path)
        }
    }

    // MARK: Writing

    /// Applies a batch inside the committer's transaction. A write that a constraint refuses
    /// fails alone: SQLite undoes that statement (or, for several records, the savepoint) and
    /// the transaction goes on. Any other error ends the transaction, which GRDB rolls back.
    private static func apply(_ batch: [StoreWrite], to db: Database, journal: JournalTip) throws -> [Int: StoreError] {
        var refused: [Int: StoreError] = [:]
        for (index, write) in batch.enumerated() {
            if let error = try apply(write, to: db, journal: journal) { refused[index] = error }
        }
        return refused
    }

    /// Stores `source` in `script_source` unless it is there; returns its digest, for the run's row.
    private static func keep(_ source: [UInt8], in db: Database) throws -> Data {
        let digest = ScriptSource.digest(of: source)
        try db.cachedStatement(sql: "INSERT OR IGNORE INTO script_source (digest, source) VALUES (?, ifnull(?, x''))")
            .execute(arguments: [digest, Data(source)])
        return digest
    }

    static func apply(_ write: StoreWrite, to db: Database, journal: JournalTip) throws -> StoreError? {
        switch write {
        case .createRun(let run):
            do {
                let digest = try keep(run.source, in: db)
                try db.cachedStatement(sql: """
                    INSERT INTO run (id, script, source, source_digest, arguments, status, created_at, updated_at,
                                     finished_at, result, error, entry, incident, playbook)
                    VALUES (?, ?, x'', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """).execute(arguments: [
                        run.id.rawValue, run.script, digest, run.arguments, run.status.rawValue,
                        run.createdAt.millisecondsSince1970, run.updatedAt.millisecondsSince1970,
                        run.finishedAt?.millisecondsSince1970, run.result, run.error, run.entry, run.incident?.number,
                        run.playbook,
                    ])
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                return .duplicateRun(run.id)
            }
        case .updateRun(let update):
            try db.cachedStatement(sql: """
                UPDATE run SET status = ?, result = ?, error = ?, updated_at = ?, finished_at = ? WHERE id = ?
                """).execute(arguments: [
                    update.status.rawValue, update.result, update.error, update.at.millisecondsSince1970,
                    update.status.isFinished ? update.at.millisecondsSince1970 : nil, update.id.rawValue,
                ])
            if db.changesCount == 0 { return .runNotFound(update.id) }
        case .appendHostCalls(let records):
            var current: HostCallRecord?
            do {
                if records.count == 1 {
                    current = records[0]
                    try insert(records[0], into: db)
                } else {
                    try inSavepoint(db, journal: journal) {
                        for record in records {
                            current = record
                            try insert(record, into: db)
                        }
                        return true
                    }
                }
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                guard let current else { throw error }
                return switch error.extendedResultCode {
                // No run with that id: its key is NULL.
                case .SQLITE_CONSTRAINT_NOTNULL, .SQLITE_CONSTRAINT_FOREIGNKEY: .runNotFound(current.runID)
                case .SQLITE_CONSTRAINT_PRIMARYKEY: .duplicateHostCall(current.runID, sequence: current.sequence)
                default:
                    .rejected(current.runID, reason: "host call \(current.sequence): \(error.message ?? "constraint")")
                }
            }
        case .restartRun(let id, let source, let keepingCalls, let at):
            try db.cachedStatement(sql: """
                UPDATE run SET status = 'running', source = x'', source_digest = ?, result = NULL, error = NULL,
                               updated_at = ?, finished_at = NULL WHERE id = ?
                """).execute(arguments: [try keep(source, in: db), at.millisecondsSince1970, id.rawValue])
            if db.changesCount == 0 { return .runNotFound(id) }
            try db.cachedStatement(sql: """
                DELETE FROM host_call WHERE run_key = (SELECT key FROM run WHERE id = ?) AND sequence > ?
                """).execute(arguments: [id.rawValue, keepingCalls])
        case .askToKill:
            // One process executes every run: its service stops them itself (`RunService.stop(runsOf:)`).
            break
        case .all(let writes):
            var refusal: StoreError?
            try inSavepoint(db, journal: journal) {
                for write in writes {
                    refusal = try apply(write, to: db, journal: journal)
                    if refusal != nil { return false }
                }
                return true
            }
            return refusal
        case .createIncident, .importIncident, .updateIncident, .linkIncidents, .createTask, .completeTask,
             .assignTask, .cancelOpenTasks, .appendJournal:
            return try applyIncidentWrite(write, to: db, journal: journal)
        case .noteIndicator(let seen):
            try note(seen, in: db)
        case .setChatChannel, .setChatState, .keepEditedText, .openCommandConversation, .askQuestion, .questionPosted,
             .answerQuestion:
            return try applyChatWrite(write, to: db)
        case .addCheckpoint(let checkpoint):
            try add(checkpoint, to: db)
        case .addEvidence, .noteCustody:
            return try applyEvidenceWrite(write, to: db)
        case .recordAction, .finishAction, .undoAction:
            return try applyActionWrite(write, to: db)
        case .cacheVerdicts(let type, let value, let verdicts):
            for (verdict, expires) in verdicts {
                try db.cachedStatement(sql: """
                    INSERT OR REPLACE INTO intel_cache (type, value, source, score, reliability, reason, expires_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """).execute(arguments: [
                        type, value, verdict.source, verdict.score.rawValue, verdict.reliability.rawValue,
                        verdict.reason, expires.millisecondsSince1970,
                    ])
            }
        }
        return nil
    }

    /// Runs `body` in a savepoint (if `needed`: a single statement undoes itself), kept if it
    /// returns true and undone if it returns false or throws, and the journal's tip with it. The
    /// statements are cached: GRDB's `inSavepoint` compiles them anew each time, and a
    /// playbook's every change runs in one, where compiling cost a tenth of the store's CPU.
    static func inSavepoint(_ db: Database, journal: JournalTip, if needed: Bool = true,
                            _ body: () throws -> Bool) throws
    {
        guard needed else {
            _ = try body()
            return
        }
        try db.cachedStatement(sql: "SAVEPOINT automator").execute()
        let keep: Bool
        do { keep = try body() } catch {
            journal.forget()
            try? db.cachedStatement(sql: "ROLLBACK TO automator").execute()
            try? db.cachedStatement(sql: "RELEASE automator").execute()
            throw error
        }
        if !keep {
            journal.forget()
            try db.cachedStatement(sql: "ROLLBACK TO automator").execute()
        }
        try db.cachedStatement(sql: "RELEASE automator").execute()
    }

    private static func insert(_ record: HostCallRecord, into db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO host_call (run_key, sequence, name, arguments_digest, result, recorded_at)
            VALUES ((SELECT key FROM run WHERE id = ?), ?, ?, ?, ifnull(?, x''), ?)
            """).execute(arguments: [
                record.runID.rawValue, record.sequence, record.name, record.argumentsDigest, Data(record.result),
                record.recordedAt.millisecondsSince1970,
            ])
    }
}

extension SQLiteStore: WriteRefusingStore {
    /// The free space a full disk needs before a write is tried: a write that fits in the WAL's
    /// blocks left by the failed batch would commit on a disk still full, and the store would
    /// say it takes writes, then refuse the next batch again.
    static let roomToTryAgain: UInt64 = 1 << 20

    public var writeProblem: StoreError? { refusing.withLock { $0 } }

    public func probeWrites() {
        guard let problem = writeProblem else { return }
        if problem.kind == .diskFull, Self.freeSpace(around: path).map({ $0 < Self.roomToTryAgain }) ?? false {
            return
        }
        do {
            // Rewriting the header's user_version with its own value writes a page, and keeps nothing.
            try writer.pool().write { db in
                let version = try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0
                try db.execute(sql: "PRAGMA user_version = \(version)")
            }
            refusing.withLock { $0 = nil }
        } catch {
            let failure = Self.storeError(error, path: path)
            if [.diskFull, .readOnly].contains(failure.kind) { refusing.withLock { $0 = failure } }
        }
    }

    /// The bytes this user may still write on the file system holding `path`; nil when unknown.
    private static func freeSpace(around path: String) -> UInt64? {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else { return nil }
        return UInt64(stats.f_bavail) * UInt64(stats.f_frsize)
    }
}
