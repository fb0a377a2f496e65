public import GRDB
import Foundation

/// Appends journal entries in their place in the hash chains (`JournalChain`), remembering the
/// journal's tip between appends: the last entry's sequence, the last link of the journal's
/// chain and the hashes appended since, and the last hash of the incidents written to lately.
/// Looking them up cost two indexed reads an entry, as much as the insert itself
/// (JournalBenchmark); remembered, an entry costs one SHA-256, and a transaction one more for
/// its link (`link`, before it commits).
///
/// What it remembers must be what the file holds, so it forgets:
/// - everything, when another connection has appended since its last transaction (another
///   automator on the same data folder, such as `automator evidence add` beside `serve`). That
///   connection took the next sequence, so this one's insert at it is refused by the primary key:
///   the tip is read again and the entry appended after theirs. An append can only follow the
///   journal's end, so no other change can leave the tip stale, and no transaction pays a read
///   to find out (`PRAGMA data_version` in each cost more than the link);
/// - everything, when a transaction fails (`forget()`), or when a savepoint rolls back (rare: a
///   write that is refused), rather than keeping what each append replaced to put it back; the
///   link then reads what the transaction kept.
///
/// Confined to the store's writer, whose transactions are serial (the group committer); public
/// for the benchmark, which measures the store's own appends.
@_spi(Benchmarks)
public final class JournalTip: @unchecked Sendable {
    /// All of it in one value, changed in one access: a class's stored properties are checked
    /// for exclusive access at run time, at every access.
    private var state = State()

    /// Without the chains, for JournalBenchmark only: the same appends as the store made before it
    /// had them (no sequence, no hash, no link), the baseline the chains' cost is measured against.
    public init(chained: Bool = true) { state.chained = chained }

    /// Starts a transaction.
    public func begin() { state.appended = false }

    /// After a failed transaction or a rolled-back savepoint: the file may hold less than was
    /// remembered.
    public func forget() { state.forget() }

    /// Inserts `entry` with the next sequence and its hash, and sets its sequence.
    public func append(_ entry: inout JournalEntry, to db: Database) throws {
        try state.append(&entry, to: db)
    }

    /// Ends the transaction's appends: stores the journal's chain on its last entry. Called once,
    /// just before the commit; a transaction that appended nothing writes nothing.
    public func link(_ db: Database) throws { try state.link(db) }

    private struct State {
        /// The journal's end: its last entry, its last link and what follows the link.
        struct End {
            var sequence: Int64
            var chain: JournalHash
            /// The hashes of the entries after the link, 32 bytes each, in sequence order.
            var unlinked: [UInt8] = []
        }

        var chained = true
        var end: End?
        var heads = Heads()
        /// This transaction has appended, so it needs a link (even if a savepoint undid them all:
        /// the link then finds nothing to cover).
        var appended = false

        mutating func forget() {
            end = nil
            heads = Heads()
        }

        mutating func append(_ entry: inout JournalEntry, to db: Database) throws {
            let incident = entry.incident.number
            guard chained else {
                try db.cachedStatement(sql: "INSERT INTO journal (incident, at, actor, kind, text) VALUES (?, ?, ?, ?, ?)")
                    .execute(arguments: [incident, entry.at.millisecondsSince1970, entry.actor, entry.kind.rawValue,
                                         entry.text])
                entry.sequence = db.lastInsertedRowID
                return
            }
            let hash: JournalHash
            do {
                hash = try insert(&entry, to: db)
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
                // Another connection appended since this one's last transaction (within one, none can).
                guard !appended else { throw error }
                forget()
                hash = try insert(&entry, to: db)
            }
            // Only once the insert has succeeded: a refused one (an unknown incident) changes nothing.
            // Changed in place: a copy taken out and put back copies the hashes each time.
            appended = true
            end?.sequence = entry.sequence
            hash.withUnsafeBytes { end?.unlinked.append(contentsOf: $0) }
            heads.remember(hash, of: incident)
        }

        /// Inserts `entry` after the remembered tip, reading what is not remembered; returns its hash.
        private mutating func insert(_ entry: inout JournalEntry, to db: Database) throws -> JournalHash {
            let incident = entry.incident.number
            if end == nil { end = try Self.end(of: db) }
            let previousHash = try heads.hash(of: incident) ?? Self.lastHash(of: incident, in: db)
            entry.sequence = (end?.sequence ?? 0) + 1
            let hash = JournalChain.hash(of: entry, after: previousHash ?? .origin)
            try db.cachedStatement(sql: """
                INSERT INTO journal (sequence, incident, at, actor, kind, text, hash) VALUES (?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [
                    entry.sequence, incident, entry.at.millisecondsSince1970, entry.actor, entry.kind.rawValue, entry.text,
                ], hash: hash)
            return hash
        }

        mutating func link(_ db: Database) throws {
            guard chained, appended else { return }
            if end == nil { end = try Self.end(of: db) }
            if let linked = end, !linked.unlinked.isEmpty {
                let chain = JournalChain.chain(linked.unlinked, after: linked.chain)
                // The chain last, for `execute(arguments:hash:)`.
                try db.cachedStatement(sql: "UPDATE journal SET chain = ?2 WHERE sequence = ?1")
                    .execute(arguments: [linked.sequence], hash: chain)
                end = End(sequence: linked.sequence, chain: chain)
            }
            appended = false
        }

        /// The last hash of the incidents written to lately, in a slot chosen by the incident's
        /// number: an index rather than a dictionary's hashing and probing, which cost a quarter
        /// of the chains' time an entry. An incident whose slot another took since is read from
        /// the file; the few incidents being written to at a time rarely share one.
        struct Heads {
            private static let slots = 4096
            /// -1 in an empty slot: no incident has that number.
            private var incidents = [Int](repeating: -1, count: slots)
            private var hashes = [JournalHash](repeating: .origin, count: slots)

            func hash(of incident: Int) -> JournalHash? {
                let slot = incident & (Self.slots - 1)
                return incidents[slot] == incident ? hashes[slot] : nil
            }

            mutating func remember(_ hash: JournalHash, of incident: Int) {
                let slot = incident & (Self.slots - 1)
                incidents[slot] = incident
                hashes[slot] = hash
            }
        }

        /// The journal's end as the file holds it: the last link, and the entries after it (this
        /// transaction's, when a savepoint made the tip forget them).
        static func end(of db: Database) throws -> End {
            let link = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT sequence, chain FROM journal WHERE chain IS NOT NULL ORDER BY sequence DESC LIMIT 1
                """))
            let chain: Data? = link?[1]
            var end = End(sequence: link?[0] ?? 0, chain: chain.flatMap(JournalHash.init) ?? .origin)
            let after = try Row.fetchCursor(db.cachedStatement(sql: """
                SELECT sequence, hash FROM journal WHERE sequence > ? ORDER BY sequence
                """), arguments: [end.sequence])
            while let row = try after.next() {
                end.sequence = row[0]
                // A hash missing or not 32 bytes (a row written outside Automator) is linked as
                // the origin, as `lastHash` reads it: the writer goes on, and verify names the row.
                let stored: Data? = row[1]
                (stored.flatMap(JournalHash.init) ?? .origin).withUnsafeBytes { end.unlinked.append(contentsOf: $0) }
            }
            return end
        }

        static func lastHash(of incident: Int, in db: Database) throws -> JournalHash? {
            try Data.fetchOne(db.cachedStatement(sql: """
                SELECT hash FROM journal WHERE incident = ? ORDER BY sequence DESC LIMIT 1
                """), arguments: [incident]).flatMap(JournalHash.init)
        }
    }
}
