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
/// - everything, when another connection has committed since its last transaction (`PRAGMA
///   data_version` moved: another automator on the same data folder, such as `automator
///   evidence add` beside `serve`), and when a transaction fails (`forget()`);
/// - everything, when a savepoint rolls back (rare: a write that is refused), rather than
///   keeping what each append replaced to put it back; the link then reads what the
///   transaction kept.
///
/// Confined to the store's writer, whose transactions are serial (the group committer); public
/// for the benchmark, which measures the store's own appends.
@_spi(Benchmarks)
public final class JournalTip: @unchecked Sendable {
    /// All of it in one value, changed in one access: a class's stored properties are checked
    /// for exclusive access at run time, at every access.
    private var state = State()

    public init() {}

    /// Starts a transaction: forgets the tip if another connection committed since the last.
    public func begin(_ db: Database) throws {
        let version = try Int64.fetchOne(db.cachedStatement(sql: "PRAGMA data_version"))
        state.begin(dataVersion: version)
    }

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
            var chain: Data
            /// The hashes of the entries after the link, 32 bytes each, in sequence order.
            var unlinked: [UInt8] = []
        }

        /// Past this many incidents the heads start again: a year of incidents is not kept in
        /// memory for the few that are being written to.
        static let maximumHeads = 10_000

        var end: End?
        var heads: [Int: Data] = [:]
        var dataVersion: Int64?
        /// This transaction has appended, so it needs a link (even if a savepoint undid them all:
        /// the link then finds nothing to cover).
        var appended = false

        mutating func begin(dataVersion version: Int64?) {
            appended = false
            if version != dataVersion {
                forget()
                dataVersion = version
            }
        }

        mutating func forget() {
            end = nil
            heads.removeAll()
        }

        mutating func append(_ entry: inout JournalEntry, to db: Database) throws {
            let incident = entry.incident.number
            // Changed in place below: a copy taken out and put back copies the hashes each time.
            if end == nil { end = try Self.end(of: db) }
            let previousHash = try heads[incident] ?? Self.lastHash(of: incident, in: db)
            entry.sequence = (end?.sequence ?? 0) + 1
            let hash = JournalChain.hash(of: entry, after: previousHash ?? JournalChain.origin)
            try db.cachedStatement(sql: """
                INSERT INTO journal (sequence, incident, at, actor, kind, text, hash) VALUES (?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [
                    entry.sequence, incident, entry.at.millisecondsSince1970, entry.actor, entry.kind.rawValue,
                    entry.text, hash,
                ])
            // Only once the insert has succeeded: a refused one (an unknown incident) changes nothing.
            appended = true
            end?.sequence = entry.sequence
            hash.withUnsafeBytes { end?.unlinked.append(contentsOf: $0) }
            if heads.count >= Self.maximumHeads { heads.removeAll() }
            heads[incident] = hash
        }

        mutating func link(_ db: Database) throws {
            guard appended else { return }
            if end == nil { end = try Self.end(of: db) }
            if let linked = end, !linked.unlinked.isEmpty {
                let chain = JournalChain.chain(linked.unlinked, after: linked.chain)
                try db.cachedStatement(sql: "UPDATE journal SET chain = ? WHERE sequence = ?")
                    .execute(arguments: [chain, linked.sequence])
                end = End(sequence: linked.sequence, chain: chain)
            }
            appended = false
        }

        /// The journal's end as the file holds it: the last link, and the entries after it (this
        /// transaction's, when a savepoint made the tip forget them).
        static func end(of db: Database) throws -> End {
            let link = try Row.fetchOne(db.cachedStatement(sql: """
                SELECT sequence, chain FROM journal WHERE chain IS NOT NULL ORDER BY sequence DESC LIMIT 1
                """))
            var end = End(sequence: link?[0] ?? 0, chain: link?[1] ?? JournalChain.origin)
            let after = try Row.fetchCursor(db.cachedStatement(sql: """
                SELECT sequence, hash FROM journal WHERE sequence > ? ORDER BY sequence
                """), arguments: [end.sequence])
            while let row = try after.next() {
                end.sequence = row[0]
                end.unlinked.append(contentsOf: row[1] as Data)
            }
            return end
        }

        static func lastHash(of incident: Int, in db: Database) throws -> Data? {
            try Data.fetchOne(db.cachedStatement(sql: """
                SELECT hash FROM journal WHERE incident = ? ORDER BY sequence DESC LIMIT 1
                """), arguments: [incident])
        }
    }
}
