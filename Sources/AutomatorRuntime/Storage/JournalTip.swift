public import GRDB
import Foundation

/// Appends journal entries in their place in the hash chains (`JournalChain`), remembering the
/// journal's tip between appends: the last entry's sequence and chain, and the last hash of the
/// incidents written to lately. Looking them up cost two indexed reads an entry, as much as the
/// insert itself (JournalBenchmark); remembered, the chains cost two SHA-256.
///
/// What it remembers must be what the file holds, so it forgets:
/// - everything, when another connection has committed since its last transaction (`PRAGMA
///   data_version` moved: another automator on the same data folder, such as `automator
///   evidence add` beside `serve`), and when a transaction fails (`forget()`);
/// - everything, when a savepoint rolls back (rare: a write that is refused), rather than
///   keeping what each append replaced to put it back.
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

    /// Inserts `entry` with the next sequence and its hashes, and sets its sequence.
    public func append(_ entry: inout JournalEntry, to db: Database) throws {
        try state.append(&entry, to: db)
    }

    private struct State {
        struct Last {
            var sequence: Int64
            var chain: Data
        }

        /// Past this many incidents the heads start again: a year of incidents is not kept in
        /// memory for the few that are being written to.
        static let maximumHeads = 10_000

        var last: Last?
        var heads: [Int: Data] = [:]
        var dataVersion: Int64?

        mutating func begin(dataVersion version: Int64?) {
            if version != dataVersion {
                forget()
                dataVersion = version
            }
        }

        mutating func forget() {
            last = nil
            heads.removeAll()
        }

        mutating func append(_ entry: inout JournalEntry, to db: Database) throws {
            let incident = entry.incident.number
            let previous = try last ?? Self.lastEntry(in: db)
            let previousHash = try heads[incident] ?? Self.lastHash(of: incident, in: db)
            entry.sequence = (previous?.sequence ?? 0) + 1
            let hash = JournalChain.hash(of: entry, after: previousHash ?? JournalChain.origin)
            let chain = JournalChain.chain(hash, after: previous?.chain ?? JournalChain.origin)
            try db.cachedStatement(sql: """
                INSERT INTO journal (sequence, incident, at, actor, kind, text, hash, chain) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [
                    entry.sequence, incident, entry.at.millisecondsSince1970, entry.actor, entry.kind.rawValue,
                    entry.text, hash, chain,
                ])
            // Only once the insert has succeeded: a refused one (an unknown incident) changes nothing.
            last = Last(sequence: entry.sequence, chain: chain)
            if heads.count >= Self.maximumHeads { heads.removeAll() }
            heads[incident] = hash
        }

        static func lastEntry(in db: Database) throws -> Last? {
            try Row.fetchOne(db.cachedStatement(sql: "SELECT sequence, chain FROM journal ORDER BY sequence DESC LIMIT 1"))
                .map { row in Last(sequence: row[0], chain: row[1]) }
        }

        static func lastHash(of incident: Int, in db: Database) throws -> Data? {
            try Data.fetchOne(db.cachedStatement(sql: """
                SELECT hash FROM journal WHERE incident = ? ORDER BY sequence DESC LIMIT 1
                """), arguments: [incident])
        }
    }
}
