public import Foundation
import GRDB
import GRDBSQLite
public import Logging
import NIOCore
import PostgresNIO

/// `automator store copy --to-folder`: a shared PostgreSQL store into a new data folder, the way
/// back from `copy(folder:to:)`: to step down from several workers to one machine, or to hand an
/// auditor or a lab a case history that needs no database.
///
/// Everything is read from one snapshot of the database (`SERIALIZABLE READ ONLY DEFERRABLE`),
/// while the workers go on: nothing is written there, not even a lock. The folder is made beside
/// the destination under a temporary name (`.NAME.copying`), marked as a copy not finished
/// (`UnfinishedCopy`, held for the copy's life) and as a backup of the database first, and renamed
/// to the destination once complete: a copy that fails is removed, and one that is killed leaves
/// only the temporary folder, which every command refuses and the next copy removes. Every column
/// keeps its value, as in the other direction; the evidence files are written under
/// `DATA/evidence/objects`, each checked against its SHA-256 (and each chunk against its own) as
/// it is read; the incident and task numbers go on after the last the database gave
/// (`NumbersFile`), gaps included.
///
/// The copy stays a backup of the database (`DataFolder.backupFile`): its runs that were waiting
/// are the workers' too, and a server on the folder would post and act for them a second time.
/// `automator store restore` makes it a data folder once every worker is stopped for good.
extension PostgresStore {
    /// What a copy into a folder holds.
    public struct FolderCopied: Sendable {
        /// Each table and its rows, in the order they were copied.
        public var tables: [(name: String, rows: Int)] = []
        public var evidenceFiles = 0
        public var evidenceBytes: Int64 = 0
        /// The journal verified in the database's snapshot, and in the folder after the copy.
        public var journalBefore = JournalVerification()
        public var journalAfter = JournalVerification()
        /// The keys that signed the journal's checkpoints, in the order of their last checkpoint.
        public var signers: [Signer] = []
        /// The runs not finished in the snapshot, and those of them a kill was asked of that no
        /// worker carried out yet (the folder has no such request: a server on it resumes them).
        public var unfinishedRuns = 0
        public var killsAsked = 0
        /// What a copy into the same place left when it was stopped before its end, removed first.
        public var leftoverRemoved: String?
    }

    /// A key that signed checkpoints: how many, and the last entry one covers.
    public struct Signer: Sendable {
        public var publicKey: Data
        public var checkpoints: Int
        public var through: Int64
    }

    /// The database's columns that a data folder has no place for: the workers' leases, a kill
    /// asked of a run that another worker executes, custody's key (SQLite's rowid, kept in its
    /// order). A column of the database missing here and in SQLite's table fails the copy.
    static let databaseOnlyColumns: [String: Set<String>] = [
        "run": ["lease_owner", "lease_expires_at", "kill_reason"],
        "custody": ["key"],
    ]

    /// The database's tables that are not rows of the folder's store: the schema's versions, and
    /// the evidence's content, which becomes files.
    static let databaseOnlyTables: Set<String> = ["automator_schema", "evidence_chunk", "evidence_object"]

    /// Copies the database at `location` into `destination`, a folder that does not exist yet or
    /// is empty. With `keyFrom` (a worker's data folder), its journal-signing key comes along, and
    /// every checkpoint must be signed by it (or a key it retired).
    ///
    /// What a copy stopped before its end left there (`.NAME.copying`, or `destination` itself,
    /// marked by `UnfinishedCopy`) is removed first and named in `leftoverRemoved`; a copy still
    /// writing there is left alone, and refuses this one.
    ///
    /// - Throws: `StoreError` (the destination is not empty, another copy writes it, the database
    ///   cannot be reached or is not this automator's schema, a value the folder's store cannot
    ///   take, a journal that verifies in the database but not in the folder, checkpoints another
    ///   key signed) or
    ///   `EvidenceError` (a file damaged or missing in the database's vault). Nothing is left at
    ///   `destination` then.
    public static func copy(from location: PostgresLocation, toFolder destination: String, keyFrom: String?,
                            logger: Logger, progress: @escaping CopyProgress = { _, _, _ in }) async throws
        -> FolderCopied
    {
        func refused(_ reason: String) -> StoreError { .copyRefused(destination, reason: reason) }
        let target = URL(fileURLWithPath: destination).standardizedFileURL
        let parent = target.deletingLastPathComponent().path
        let building = parent + "/." + target.lastPathComponent + ".copying"
        var copied = FolderCopied()
        // An empty one is what a copy killed before its mark left; the destination is a leftover
        // too when a copy was killed between its rename and the mark's removal.
        if rmdir(building) == 0 || UnfinishedCopy.removeLeftover(building) { copied.leftoverRemoved = building }
        if UnfinishedCopy.removeLeftover(target.path) { copied.leftoverRemoved = target.path }
        guard DataFolder.isNewOrEmpty(destination) else {
            if let state = UnfinishedCopy.state(of: destination) { throw StoreError.unfinishedCopy(destination, state: state) }
            throw refused("it is not an empty folder: a copy goes into a new one, so that nothing is mixed with it")
        }
        let trusted = try keyFrom.map { folder throws(StoreError) in
            guard let key = try JournalVerifier.trustedKey(kept: JournalKept(), folder: folder) else {
                throw refused("\(folder) has no journal-signing.key: give --key-from the data folder of the worker "
                    + "that signs the checkpoints, or leave --key-from out")
            }
            return key
        }
        try DataFolder.prepare(parent)
        guard mkdir(building, 0o700) == 0 else {
            let error = errno
            if error == EEXIST, let state = UnfinishedCopy.state(of: building) {
                throw StoreError.unfinishedCopy(building, state: state)
            }
            let reason = error == EEXIST
                ? "\(building) exists, and is not a copy's: move it aside, then copy again"
                : "\(building) cannot be made: \(String(cString: strerror(error)))"
            throw refused(reason)
        }
        // Held until the folder is in place, or removed: the next copy into the same place tells this
        // one from what a killed one left.
        let mark: UnfinishedCopy
        do { mark = try UnfinishedCopy(marking: building, source: location.description, destination: target.path) } catch {
            rmdir(building)
            throw error
        }
        defer { withExtendedLifetime(mark) {} }
        do {
            try await copy(location, into: building, keyFrom: keyFrom, trusted: trusted, logger: logger,
                           progress: progress, counting: &copied)
            // rename(2) takes the place of an empty folder, in one step.
            guard rename(building, target.path) == 0 else {
                throw refused("\(building) could not be renamed to it: \(String(cString: strerror(errno)))")
            }
            mark.finish(at: target.path)
            return copied
        } catch {
            try? FileManager.default.removeItem(atPath: building)
            throw error
        }
    }

    /// The copy into `folder`, marked as a backup of the database before its first row.
    private static func copy(_ location: PostgresLocation, into folder: String, keyFrom: String?,
                             trusted: JournalVerifier.TrustedKey?, logger: Logger,
                             progress: @escaping CopyProgress, counting copied: inout FolderCopied) async throws
    {
        // The schema, made empty: a server on it before the mark would have nothing to resume.
        await (try SQLiteStore(folder: folder, journal: JournalTip(), evenIfUnfinished: true)).close()
        try DataFolder.markBackup(folder, of: location.description, by: "store copy --to-folder")
        let database = folder + "/" + SQLiteStore.fileName
        let sqlite = try DatabaseQueue(path: database)
        let address = location.description
        let position = try await withConnection(to: location, password: try PostgresPassword.find(for: location),
                                                logger: logger) { session in
            // One snapshot, and no write or lock that could hold a worker up.
            try await session.changes("BEGIN ISOLATION LEVEL SERIALIZABLE, READ ONLY, DEFERRABLE")
            do {
                try await requireCurrentSchema(session, location: location)
                try await requireKnownTables(session, address: address)
                if let trusted, let foreign = try await checkpoints(session).first(where: { !trusted.signed($0) }) {
                    throw StoreError.copyRefused(address, reason: "the checkpoint at entry \(foreign.sequence) is signed "
                        + "by the key \(Data(foreign.publicKey).base64EncodedString()), not by the key of --key-from "
                        + "\(keyFrom ?? ""): give the data folder of the worker that signed it, or leave --key-from out "
                        + "(each checkpoint is then checked against the key it names)")
                }
                copied.journalBefore = try await verifyJournal(session, of: nil, expecting: JournalKept(), trusted: trusted)
                let vault = PostgresVault(transaction: session.connection, location: location, logger: logger)
                (copied.evidenceFiles, copied.evidenceBytes) = try await copyEvidence(session, from: vault,
                                                                                     into: folder, progress: progress)
                for table in copiedTables {
                    let rows = try await copy(table, from: session, to: sqlite, address: address, progress: progress)
                    copied.tables.append((table, rows))
                }
                let runs = try await session.rows("""
                    SELECT count(*), count(kill_reason) FROM run WHERE \(unescaped: RunLease.unfinished)
                    """)[0]
                (copied.unfinishedRuns, copied.killsAsked) = (try runs[0].decode(Int.self), try runs[1].decode(Int.self))
                let reached = try await Self.position(session)
                try await session.changes("COMMIT")
                return reached
            } catch {
                _ = try? await session.changes("ROLLBACK")
                throw error
            }
        }
        try sqlite.close()
        // Numbers a failed create took on the workers stay gaps here too, as they are there.
        let numbersFile = NumbersFile(beside: database)
        try numbersFile.update { $0 = (position.incident, position.task) }
        numbersFile.close()
        if let keyFrom {
            for path in [JournalSignature.path(in:), JournalRetiredKey.path(in:)]
            where FileManager.default.fileExists(atPath: path(keyFrom)) {
                do { try FileManager.default.copyItem(atPath: path(keyFrom), toPath: path(folder)) } catch {
                    throw StoreError.copyRefused(path(keyFrom), reason: "it could not be copied: \(error.localizedDescription)")
                }
            }
        }
        let store = try SQLiteStore(folder: folder, journal: JournalTip(), evenIfUnfinished: true)
        do {
            copied.journalAfter = try await store.verifyJournal(of: nil)
            copied.signers = signers(of: try await store.journalCheckpoints())
        } catch {
            await store.close()
            throw error
        }
        await store.close()
        if copied.journalBefore.problem == nil, let problem = copied.journalAfter.problem {
            throw StoreError.copyRefused(folder, reason: "the copied journal does not verify (\(problem)) although the "
                + "database's did: the folder's store changed a value it was given")
        }
        // For restore: the database, if the workers went on after the copy, is no longer this.
        try DataFolder.markBackup(folder, of: location.description, by: "store copy --to-folder", at: position)
    }

    /// How far the database at `location` has gone now: what `store restore` compares a copy's
    /// mark with.
    public static func position(of location: PostgresLocation, logger: Logger) async throws(StoreError) -> StorePosition {
        try await withConnection(to: location, password: try PostgresPassword.find(for: location), logger: logger) {
            session in try await position(session)
        }
    }

    private static func position(_ session: PostgresSession) async throws -> StorePosition {
        let counts = try await session.rows("""
            SELECT (SELECT coalesce(max(sequence), 0) FROM journal), (SELECT count(*) FROM run),
                   (SELECT count(*) FROM host_call), (SELECT count(*) FROM action)
            """)[0]
        return StorePosition(journal: try counts[0].decode(Int64.self),
                             incident: try await lastGiven("incident_number", in: session),
                             task: try await lastGiven("task_number", in: session), runs: try counts[1].decode(Int.self),
                             hostCalls: try counts[2].decode(Int.self), actions: try counts[3].decode(Int.self))
    }

    /// Refuses a database whose schema is not this automator's: its columns are what the folder's
    /// tables are checked against.
    private static func requireCurrentSchema(_ session: PostgresSession, location: PostgresLocation) async throws {
        guard try await session.rows("SELECT to_regclass('automator_schema')")[0][0].decode(String?.self) != nil else {
            throw StoreError.copyRefused(location.description, reason: "it holds no Automator store (no "
                + "automator_schema table): check the address")
        }
        let applied = Set(try await session.rows("SELECT version FROM automator_schema").map { try $0[0].decode(String.self) })
        let unknown = applied.subtracting(migrations.map(\.version)).sorted()
        guard unknown.isEmpty else { throw StoreError.newerSchema(location.description, unknown: unknown) }
        let missing = migrations.map(\.version).filter { !applied.contains($0) }
        guard missing.isEmpty else {
            throw StoreError.copyRefused(location.description, reason: "its schema is older than this automator's "
                + "(\(missing.joined(separator: ", ")) not applied): run automator migrate --store "
                + "\(location.description) first (the workers of this version do it at their start)")
        }
    }

    /// Refuses a table of the database that the copy would leave behind.
    private static func requireKnownTables(_ session: PostgresSession, address: String) async throws {
        let present = try await session.rows("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            .map { try $0[0].decode(String.self) }
        if let unknown = present.sorted().first(where: { !copiedTables.contains($0) && !databaseOnlyTables.contains($0) }) {
            throw StoreError.copyRefused(address, reason: "the table \(unknown) is not one this automator copies: copy "
                + "with the automator the workers run")
        }
    }

    /// The last number `sequence` gave (0 when none).
    private static func lastGiven(_ sequence: String, in session: PostgresSession) async throws -> Int {
        let row = try await session.rows(PostgresQuery(unsafeSQL: "SELECT last_value, is_called FROM \(sequence)"))[0]
        let last = try row[0].decode(Int.self)
        return try row[1].decode(Bool.self) ? last : last - 1
    }

    /// Each file the evidence names, from the database's vault into the folder's, checked as it is
    /// read (`EvidenceVault.copy`): a damaged one fails the copy.
    private static func copyEvidence(_ session: PostgresSession, from vault: PostgresVault, into folder: String,
                                     progress: @escaping CopyProgress) async throws -> (Int, Int64)
    {
        let files = try await session.rows("SELECT sha256, max(size) FROM evidence GROUP BY sha256 ORDER BY sha256")
            .map { (sha256: try $0[0].decode(String.self), size: try $0[1].decode(Int64.self)) }
        let total = files.reduce(0) { $0 + $1.size }
        let objects = FolderVault(dataFolder: folder)
        var done: Int64 = 0
        for file in files {
            let path = objects.path(of: file.sha256)
            do {
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } catch {
                throw EvidenceError(.unavailable, "cannot create the folder of \(path): \(error.localizedDescription)")
            }
            try await vault.copy(file.sha256, to: path)
            done += file.size
            progress(evidenceFiles, done, total)
        }
        return (files.count, done)
    }

    /// One table, streamed from the snapshot and inserted a page at a time. Custody in the order it
    /// was noted, which SQLite's rowid keeps.
    private static func copy(_ table: String, from session: PostgresSession, to sqlite: DatabaseQueue,
                             address: String, progress: @escaping CopyProgress) async throws -> Int
    {
        let columns = try await sqlite.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?)", arguments: [table])
        }
        let inDatabase = Set(try await session.rows("""
            SELECT column_name FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = \(table)
            """).map { try $0[0].decode(String.self) })
        let left = inDatabase.subtracting(columns).subtracting(databaseOnlyColumns[table] ?? [])
        if let column = columns.first(where: { !inDatabase.contains($0) }) ?? left.sorted().first {
            throw StoreError.copyRefused(address, reason: "the table \(table) of the database and the folder's differ "
                + "in the column \(column): copy with the automator the workers run")
        }
        let list = columns.map { "\"\($0)\"" }.joined(separator: ", ")
        let total = try await session.rows(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"))[0][0].decode(Int.self)
        let insert = "INSERT INTO \(table) (\(list)) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))"
        var copied = 0
        var page: [[DatabaseValue]] = []
        func flush() async throws {
            guard !page.isEmpty else { return }
            try await sqlite.write { [page] db in try db.insert(page, with: insert) }
            copied += page.count
            page.removeAll(keepingCapacity: true)
            progress(table, Int64(copied), Int64(total))
        }
        let order = table == "custody" ? " ORDER BY key" : ""
        let rows = try await session.connection.query(PostgresQuery(unsafeSQL: "SELECT \(list) FROM \(table)\(order)"),
                                                      logger: session.logger)
        for try await row in rows {
            page.append(try row.enumerated().map { index, cell in
                try folderValue(cell, of: "\(table).\(columns[index])", row: copied + page.count + 1, address: address)
            })
            if page.count >= Self.page { try await flush() }
        }
        try await flush()
        return copied
    }

    /// A cell of the database as the folder's SQLite keeps it: booleans as 0 and 1.
    private static func folderValue(_ cell: PostgresCell, of column: String, row: Int, address: String) throws
        -> DatabaseValue
    {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .int2, .int4, .int8: return try cell.decode(Int64.self).databaseValue
        case .bool: return (try cell.decode(Bool.self) ? 1 : 0).databaseValue
        case .text, .varchar: return try cell.decode(String.self).databaseValue
        case .bytea: return Data(try cell.decode(ByteBuffer.self).readableBytesView).databaseValue
        default:
            throw StoreError.copyRefused(address, reason: "\(column) of the row \(row) is of type \(cell.dataType), which "
                + "the folder's store does not take: it is not this automator's schema")
        }
    }

    /// The keys of `checkpoints`, each with how many it signed and the last entry one covers.
    private static func signers(of checkpoints: [JournalCheckpoint]) -> [Signer] {
        var signers: [Signer] = []
        for checkpoint in checkpoints {
            let key = Data(checkpoint.publicKey)
            if let index = signers.firstIndex(where: { $0.publicKey == key }) {
                signers[index].checkpoints += 1
                signers[index].through = max(signers[index].through, checkpoint.sequence)
            } else {
                signers.append(Signer(publicKey: key, checkpoints: 1, through: checkpoint.sequence))
            }
        }
        return signers.sorted { $0.through < $1.through }
    }
}

extension Database {
    /// Runs `sql`, an `INSERT` with a parameter per column, once for each row, the values bound with
    /// SQLite's own calls: GRDB's `StatementArguments` of a row maps its values through a key path,
    /// a fifth of a copy's CPU (2.6 million rows).
    fileprivate func insert(_ rows: [[DatabaseValue]], with sql: String) throws {
        let statement = try cachedStatement(sql: sql)
        let handle = statement.sqliteStatement
        func check(_ code: Int32) throws {
            guard code == SQLITE_OK || code == SQLITE_DONE else {
                throw DatabaseError(resultCode: ResultCode(rawValue: code), message: lastErrorMessage, sql: sql)
            }
        }
        for row in rows {
            try check(sqlite3_reset(handle))
            for (index, value) in row.enumerated() {
                let position = Int32(index + 1)
                switch value.storage {
                case .null: try check(sqlite3_bind_null(handle, position))
                case .int64(let number): try check(sqlite3_bind_int64(handle, position, number))
                case .double(let number): try check(sqlite3_bind_double(handle, position, number))
                case .string(let text): try check(sqlite3_bind_text(handle, position, text, -1, Statement.transient))
                // An empty blob has no address, and a blob bound from none is NULL.
                case .blob(let data) where data.isEmpty: try check(sqlite3_bind_zeroblob(handle, position, 0))
                case .blob(let data):
                    try check(data.withUnsafeBytes {
                        sqlite3_bind_blob(handle, position, $0.baseAddress, Int32($0.count), Statement.transient)
                    })
                }
            }
            try check(sqlite3_step(handle))
        }
        try check(sqlite3_reset(handle))
    }
}
