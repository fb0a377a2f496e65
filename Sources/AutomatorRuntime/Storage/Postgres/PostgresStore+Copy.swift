import Foundation
import GRDB
public import Logging
import NIOCore
import PostgresNIO

/// `automator store copy`: a data folder's SQLite store into an empty PostgreSQL database, for a
/// team that outgrew one machine and would otherwise start its shared store with no history.
///
/// The rows are read from one snapshot of the SQLite file (a command writing meanwhile changes
/// nothing the copy sees). Everything is written in one transaction, the schema, the evidence
/// files and the rows (`COPY ... FROM STDIN`): a copy that fails or is killed leaves the database
/// as it found it, without even the tables, and the next copy starts afresh. Every column keeps
/// its value: the journal's hashes and chains (verified on both sides), the runs with their
/// records (a waiting run is adopted by a worker, as a dead worker's is, and goes on from where it
/// waited), the numbers of incidents and tasks, which the database's sequences continue. Evidence
/// files are checked against their names on the way. A copy that succeeds marks the folder's
/// store as moved (`DataFolder.movedFile`): it is the backup of the move from then on, and
/// opening it as a store is refused.
extension PostgresStore {
    /// What a copy moved.
    public struct Copied: Sendable {
        /// Each table and its rows, in the order they were copied.
        public var tables: [(name: String, rows: Int)] = []
        public var evidenceFiles = 0
        public var evidenceBytes: Int64 = 0
        /// The journal as verified in the folder before the copy, and in the database after.
        public var journalBefore = JournalVerification()
        public var journalAfter = JournalVerification()
    }

    /// Where a copy is: `table` has `done` of `total` rows in the database, or the evidence's
    /// files `done` of `total` bytes (`table` is then `evidenceFiles`).
    public typealias CopyProgress = @Sendable (_ table: String, _ done: Int64, _ total: Int64) -> Void

    /// What `CopyProgress` names the evidence's files.
    public static let evidenceFiles = "evidence files"

    /// The tables a copy fills, each after those it refers to. A table missing here but present in
    /// SQLite's schema fails the copy (`copyRefused`) rather than being left behind.
    static let copiedTables = [
        "incident", "incident_link", "incident_indicator", "task", "journal", "journal_checkpoint", "run", "host_call",
        "action", "evidence", "custody", "intel_seen", "intel_cache", "chat_channel", "chat_state", "chat_edit",
        "chat_command", "chat_question", "quota_use", "personal_token", "script_source",
        "fetch_cursor",
    ]

    /// Rows read from SQLite at a time.
    static let page = 5_000

    /// Copies the store of `folder` into the empty database at `location`, with the schema.
    ///
    /// - Throws: `StoreError` (the database holds data already, cannot be reached, or refused a
    ///   row; the folder's store cannot be read) or `EvidenceError` (a file of the folder's vault is
    ///   missing or damaged). The database is then as it was.
    public static func copy(folder: String, to location: PostgresLocation, logger: Logger,
                            progress: @escaping CopyProgress = { _, _, _ in }) async throws -> Copied
    {
        try UnfinishedCopy.refuse(folder)
        // Workers would resume its runs, which the original's server runs too.
        if let mark = DataFolder.backup(folder) { throw StoreError.backupFolder(folder, mark: mark) }
        // Again, into another database, when the first was not the right one.
        let source = try SQLiteStore(folder: folder, journal: JournalTip(), evenIfMoved: true)
        var copied: Copied
        do {
            copied = try await copy(source, folder: folder, into: location, logger: logger, progress: progress)
        } catch {
            await source.close()
            throw error
        }
        await source.close()
        let target = try await PostgresStore(location: location, dataFolder: folder, logger: logger)
        do { copied.journalAfter = try await target.verifyJournal(of: nil) } catch {
            await target.close()
            throw error
        }
        await target.close()
        if copied.journalBefore.problem == nil, let problem = copied.journalAfter.problem {
            throw StoreError.copyRefused(location.description, reason: "the copied journal does not verify "
                + "(\(problem)) although the folder's did: the database changed a value it was given")
        }
        try DataFolder.markMoved(folder, to: location.description)
        return copied
    }

    /// Everything but the journal's verification in the database, which reads what was committed.
    private static func copy(_ source: SQLiteStore, folder: String, into location: PostgresLocation, logger: Logger,
                             progress: @escaping CopyProgress) async throws -> Copied
    {
        let snapshot = try source.snapshot()
        let plan = try await snapshot.read { [path = source.path] db in try TablePlan.all(in: db, path: path) }
        var copied = Copied()
        copied.journalBefore = try await source.verifyJournal(of: nil)
        let password = try PostgresPassword.find(for: location)
        let address = location.description
        return try await withConnection(to: location, password: password, logger: logger) { session in
            try await session.changes("BEGIN")
            do {
                _ = try await migrate(inTransaction: session, location: location)
                // Workers started on the database meanwhile wait until the copy is committed.
                try await session.changes(PostgresQuery(unsafeSQL: "LOCK TABLE "
                    + copiedTables.joined(separator: ", ") + " IN EXCLUSIVE MODE"))
                let holding = try await nonEmpty(in: session)
                guard holding.isEmpty else { throw StoreError.copyTargetNotEmpty(address, tables: holding) }
                let vault = PostgresVault(transaction: session.connection, location: location, logger: logger)
                (copied.evidenceFiles, copied.evidenceBytes) = try await copyEvidence(snapshot, folder: folder,
                                                                                     into: vault, progress: progress)
                for table in plan {
                    copied.tables.append((table.name, try await copy(table, from: snapshot, to: session,
                                                                     address: address, progress: progress)))
                }
                // The numbers given next follow the copied ones.
                try await session.changes("SELECT setval('incident_number', coalesce(max(number), 0) + 1, false) FROM incident")
                try await session.changes("SELECT setval('task_number', coalesce(max(number), 0) + 1, false) FROM task")
                try await session.changes("""
                    SELECT setval(pg_get_serial_sequence('run', 'key'), coalesce(max(key), 0) + 1, false) FROM run
                    """)
                try await session.changes("COMMIT")
                return copied
            } catch {
                _ = try? await session.changes("ROLLBACK")
                throw error
            }
        }
    }

    /// The copied tables that hold a row already.
    private static func nonEmpty(in session: PostgresSession) async throws -> [String] {
        var holding: [String] = []
        for table in copiedTables where !(try await session.rows(PostgresQuery(unsafeSQL: "SELECT 1 FROM \(table) LIMIT 1")).isEmpty) {
            holding.append(table)
        }
        return holding
    }

    /// Each evidence file of the folder's vault into the database's, checked on the way: a file
    /// that does not hash to the name the records give it fails the copy.
    private static func copyEvidence(_ snapshot: DatabaseSnapshot, folder: String, into: PostgresVault,
                                     progress: @escaping CopyProgress) async throws -> (Int, Int64)
    {
        let files = try await snapshot.read { db in
            try Row.fetchAll(db, sql: "SELECT sha256, max(size) FROM evidence GROUP BY sha256 ORDER BY sha256")
                .map { (sha256: $0[0] as String, size: $0[1] as Int64) }
        }
        let total = files.reduce(0) { $0 + $1.size }
        let from = FolderVault(dataFolder: folder)
        var done: Int64 = 0
        for file in files {
            let object = LocalPath(from.path(of: file.sha256))
            let (_, size) = try await into.add(file: object, expected: file.sha256) { read, _ in
                progress(evidenceFiles, done + read, total)
            }
            done += size
        }
        return (files.count, done)
    }

    /// One table, a page of rows at a time, in key order (so that custody keeps the order it was
    /// noted in, which PostgreSQL's `key` numbers).
    private static func copy(_ table: TablePlan, from snapshot: DatabaseSnapshot, to session: PostgresSession,
                             address: String, progress: @escaping CopyProgress) async throws -> Int
    {
        let types = Dictionary(uniqueKeysWithValues: try await session.rows("""
            SELECT column_name, data_type FROM information_schema.columns
            WHERE table_schema = current_schema() AND table_name = \(table.name)
            """).map { (try $0[0].decode(String.self), try $0[1].decode(String.self)) })
        let columns = try table.columns.map { column in
            guard let type = types[column] else {
                throw StoreError.copyRefused(address, reason: "the database's table \(table.name) has no "
                    + "column \(column): it is not this automator's schema")
            }
            return try CopyColumn(name: column, type: type, address: address)
        }
        var copied = 0
        try await session.connection.copyFrom(table: table.name, columns: table.columns, logger: session.logger) {
            writer in
            var after: [DatabaseValue]?
            while true {
                let last = after
                let page = try await snapshot.read { db in try table.page(after: last, in: db, columns: columns) }
                guard page.rows > 0 else { break }
                try await writer.write(page.text)
                copied += page.rows
                after = page.last
                progress(table.name, Int64(copied), Int64(table.rows))
            }
        }
        return copied
    }
}

/// A table of the SQLite store as a copy reads it: its columns, and the key it is paged by.
private struct TablePlan: Sendable {
    let name: String
    let columns: [String]
    /// `rowid`, or the primary key of a table without one.
    let key: [String]
    let rows: Int

    /// The tables to copy, in `PostgresStore.copiedTables`'s order; refuses a table of the file
    /// that the list does not name.
    static func all(in db: Database, path: String) throws -> [TablePlan] {
        let present = try String.fetchAll(db, sql: """
            SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'grdb_migrations'
            """)
        if let unknown = present.first(where: { !PostgresStore.copiedTables.contains($0) }) {
            throw StoreError.copyRefused(path, reason: "the table \(unknown) is not one this automator copies: "
                + "copy with the automator that wrote the folder")
        }
        return try PostgresStore.copiedTables.filter(present.contains).map { name in
            let info = try Row.fetchAll(db, sql: "SELECT name, pk FROM pragma_table_info(?)", arguments: [name])
            let withoutRowid = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE name = ?", arguments: [name])?
                .contains("WITHOUT ROWID") ?? false
            let key = withoutRowid
                ? info.filter { ($0[1] as Int) > 0 }.sorted { ($0[1] as Int) < ($1[1] as Int) }.map { $0[0] as String }
                : ["rowid"]
            return TablePlan(name: name, columns: info.map { $0[0] as String }, key: key,
                             rows: try Int.fetchOne(db, sql: "SELECT count(*) FROM \(name)") ?? 0)
        }
    }

    /// The rows after the key `after` (from the first when nil), as `COPY`'s text.
    func page(after: [DatabaseValue]?, in db: Database, columns: [CopyColumn]) throws -> CopyPage {
        let keys = key.joined(separator: ", ")
        var sql = "SELECT \(keys), \(self.columns.joined(separator: ", ")) FROM \(name)"
        if after != nil { sql += " WHERE (\(keys)) > (\(key.map { _ in "?" }.joined(separator: ", ")))" }
        sql += " ORDER BY \(keys) LIMIT \(PostgresStore.page)"
        let cursor = try Row.fetchCursor(db, sql: sql, arguments: StatementArguments(after ?? []))
        var text = ByteBuffer()
        var rows = 0
        var last: [DatabaseValue] = []
        while let row = try cursor.next() {
            last = (0..<key.count).map { row[$0] }
            for (index, column) in columns.enumerated() {
                if index > 0 { text.writeInteger(UInt8(ascii: "\t")) }
                try column.write(row[key.count + index], to: &text, table: name, key: last)
            }
            text.writeInteger(UInt8(ascii: "\n"))
            rows += 1
        }
        return CopyPage(text: text, rows: rows, last: last)
    }
}

private struct CopyPage: Sendable {
    let text: ByteBuffer
    let rows: Int
    let last: [DatabaseValue]
}

/// A column as PostgreSQL types it, and SQLite's value written in `COPY`'s text format.
private struct CopyColumn: Sendable {
    enum Kind { case integer, boolean, text, bytes }

    let name: String
    let kind: Kind

    init(name: String, type: String, address: String) throws(StoreError) {
        self.name = name
        switch type {
        case "bigint", "integer", "smallint": kind = .integer
        case "boolean": kind = .boolean
        case "text": kind = .text
        case "bytea": kind = .bytes
        default:
            throw StoreError.copyRefused(address, reason: "the column \(name) is of type \(type), which a copy does not write: "
                + "it is not this automator's schema")
        }
    }

    func write(_ value: DatabaseValue, to text: inout ByteBuffer, table: String, key: [DatabaseValue]) throws(StoreError) {
        func refuse(_ what: String) -> StoreError {
            .copyRefused("the data folder's store", reason: "\(table).\(name) of the row \(key.map(\.description).joined(separator: ", ")) "
                + "holds \(what), which the database's column cannot take: correct the row with sqlite3, then copy again")
        }
        switch (value.storage, kind) {
        case (.null, _):
            text.writeStaticString("\\N")
        case (.int64(let number), .integer):
            text.writeString(String(number))
        case (.double(let number), .integer) where number == number.rounded() && abs(number) < 9.2e18:
            text.writeString(String(Int64(number)))
        case (.int64(let number), .boolean):
            text.writeStaticString(number != 0 ? "t" : "f")
        case (.string(let string), .text):
            Self.escape(string, to: &text)
        case (.int64, .text), (.double, .text):
            text.writeString(value.description)
        case (.blob(let data), .bytes):
            Self.writeHex(data, to: &text)
        case (.string(let string), .bytes):
            Self.writeHex(Data(string.utf8), to: &text)
        default:
            throw refuse(value.description)
        }
    }

    /// `COPY`'s text format: a backslash, a tab, a line feed and a carriage return escaped.
    /// (SQLite's text reaches here without NUL characters, which PostgreSQL's text cannot hold:
    /// GRDB reads text up to the first.)
    private static func escape(_ string: String, to text: inout ByteBuffer) {
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\\"): text.writeStaticString("\\\\")
            case UInt8(ascii: "\t"): text.writeStaticString("\\t")
            case UInt8(ascii: "\n"): text.writeStaticString("\\n")
            case UInt8(ascii: "\r"): text.writeStaticString("\\r")
            default: text.writeInteger(byte)
            }
        }
    }

    /// `bytea` as `\x` and hexadecimal, its backslash escaped for `COPY`.
    private static func writeHex(_ data: Data, to text: inout ByteBuffer) {
        text.writeStaticString("\\\\x")
        let digits = Array("0123456789abcdef".utf8)
        for byte in data {
            text.writeInteger(digits[Int(byte >> 4)])
            text.writeInteger(digits[Int(byte & 0x0f)])
        }
    }
}
