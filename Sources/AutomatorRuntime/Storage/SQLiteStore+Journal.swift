import Foundation
import GRDB

extension SQLiteStore: JournalStore {
    public func verifyJournal(of incident: IncidentID?, expecting kept: JournalKept) async throws(StoreError)
        -> JournalVerification
    {
        let trusted = try JournalVerifier.trustedKey(kept: kept, folder: (path as NSString).deletingLastPathComponent)
        return try await read { db in
            var verifier = JournalVerifier(wholeJournal: incident == nil)
            let rows = if let incident {
                try Row.fetchCursor(db, sql: """
                    SELECT sequence, incident, at, actor, kind, text, hash, chain FROM journal WHERE incident = ?
                    ORDER BY sequence
                    """, arguments: [incident.number])
            } else {
                try Row.fetchCursor(db, sql: "SELECT sequence, incident, at, actor, kind, text, hash, chain FROM journal "
                    + "ORDER BY sequence")
            }
            while let row = try rows.next() {
                guard verifier.check(try Self.storedEntry(row), hash: row[6], chain: row[7]) else { return verifier.verification }
            }
            guard incident == nil, verifier.finish() else { return verifier.verification }
            func chain(at sequence: Int64) throws -> [UInt8]? {
                try Data.fetchOne(db, sql: "SELECT chain FROM journal WHERE sequence = ?", arguments: [sequence]).map(Array.init)
            }
            for checkpoint in try Self.checkpoints(db) {
                guard verifier.check(checkpoint, chainThere: try chain(at: checkpoint.sequence), trusted: trusted) else {
                    return verifier.verification
                }
            }
            for anchor in kept.checkpoints {
                guard verifier.check(kept: anchor, chainThere: try chain(at: anchor.sequence)) else { break }
            }
            return verifier.verification
        }
    }

    public func journalHead() async throws(StoreError) -> (sequence: Int64, chain: [UInt8])? {
        try await read { db in
            try Row.fetchOne(db, sql: """
                SELECT sequence, chain FROM journal WHERE chain IS NOT NULL ORDER BY sequence DESC LIMIT 1
                """).map { row in (row[0] as Int64, Array(row[1] as Data)) }
        }
    }

    public func journalCheckpoints() async throws(StoreError) -> [JournalCheckpoint] {
        try await read { db in try Self.checkpoints(db) }
    }

    private static func checkpoints(_ db: Database) throws -> [JournalCheckpoint] {
        try Row.fetchAll(db, sql: "SELECT sequence, chain, at, public_key, signature FROM journal_checkpoint ORDER BY sequence")
            .map { row in
                JournalCheckpoint(sequence: row[0], chain: Array(row[1] as Data), at: Date(millisecondsSince1970: row[2]),
                                  publicKey: Array(row[3] as Data), signature: Array(row[4] as Data))
            }
    }

    static func add(_ checkpoint: JournalCheckpoint, to db: Database) throws {
        try db.execute(sql: """
            INSERT OR REPLACE INTO journal_checkpoint (sequence, chain, at, public_key, signature) VALUES (?, ?, ?, ?, ?)
            """, arguments: [checkpoint.sequence, Data(checkpoint.chain), checkpoint.at.millisecondsSince1970,
                             Data(checkpoint.publicKey), Data(checkpoint.signature)])
    }
}
