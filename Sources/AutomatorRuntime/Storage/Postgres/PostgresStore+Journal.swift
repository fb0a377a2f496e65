import Foundation
import PostgresNIO

/// The journal's hash chains, verified as SQLite's are (`JournalVerifier`): the entries are
/// streamed in sequence order, not loaded whole.
extension PostgresStore: JournalStore {
    public func verifyJournal(of incident: IncidentID?, expecting kept: JournalKept) async throws(StoreError)
        -> JournalVerification
    {
        let trusted = try JournalVerifier.trustedKey(kept: kept, folder: dataFolder)
        return try await read { session in
            try await Self.verifyJournal(session, of: incident, expecting: kept, trusted: trusted)
        }
    }

    /// As `verifyJournal`, on `session` (`store copy --to-folder`'s snapshot, which reads the
    /// journal as its rows were copied).
    static func verifyJournal(_ session: PostgresSession, of incident: IncidentID?, expecting kept: JournalKept,
                              trusted: JournalVerifier.TrustedKey?) async throws -> JournalVerification
    {
        var verifier = JournalVerifier(wholeJournal: incident == nil)
        let query: PostgresQuery = if let incident {
            "SELECT sequence, incident, at, actor, kind, text, hash, chain FROM journal WHERE incident = \(incident.number) ORDER BY sequence"
        } else {
            "SELECT sequence, incident, at, actor, kind, text, hash, chain FROM journal ORDER BY sequence"
        }
        for try await row in try await session.connection.query(query, logger: session.logger) {
            let row = row.makeRandomAccess()
            let entry = JournalChain.Stored(sequence: try row[0].decode(Int64.self), incident: try row[1].decode(Int.self),
                                            at: try row[2].decode(Int64.self), actor: try row[3].decode(String.self),
                                            kind: try row[4].decode(String.self), text: try row[5].decode(String.self))
            guard verifier.check(entry, hash: try row.data(6), chain: try row.data(7)) else {
                return verifier.verification
            }
        }
        guard incident == nil, verifier.finish() else { return verifier.verification }
        func chain(at sequence: Int64) async throws -> [UInt8]? {
            try await session.rows("SELECT chain FROM journal WHERE sequence = \(sequence)").first?.bytes(0)
        }
        for checkpoint in try await checkpoints(session) {
            guard verifier.check(checkpoint, chainThere: try await chain(at: checkpoint.sequence), trusted: trusted) else {
                return verifier.verification
            }
        }
        for anchor in kept.checkpoints {
            guard verifier.check(kept: anchor, chainThere: try await chain(at: anchor.sequence)) else { break }
        }
        return verifier.verification
    }

    public func journalHead() async throws(StoreError) -> (sequence: Int64, chain: [UInt8])? {
        try await read { session in
            // As SQLite's: a journal copied from SQLite has no link on some entries (v9).
            try await session.rows("""
                SELECT sequence, chain FROM journal WHERE chain IS NOT NULL ORDER BY sequence DESC LIMIT 1
                """).first.map { row in
                (try row[0].decode(Int64.self), try row.bytes(1))
            }
        }
    }

    public func journalCheckpoints() async throws(StoreError) -> [JournalCheckpoint] {
        try await read { session in try await Self.checkpoints(session) }
    }

    static func checkpoints(_ session: PostgresSession) async throws -> [JournalCheckpoint] {
        try await session.rows("SELECT sequence, chain, at, public_key, signature FROM journal_checkpoint ORDER BY sequence")
            .map { row in
                JournalCheckpoint(sequence: try row[0].decode(Int64.self), chain: try row.bytes(1), at: try row.date(2)!,
                                  publicKey: try row.bytes(3), signature: try row.bytes(4))
            }
    }
}
