import Foundation
import PostgresNIO

/// Evidence records and their custody in PostgreSQL, as in SQLite; the files are in the same
/// database (`PostgresVault`), so that every worker reaches them.
extension PostgresStore: EvidenceStore {
    public func evidenceVault(dataFolder: String) -> any EvidenceVault { PostgresVault(store: self) }

    public func evidence(_ id: String) async throws(StoreError) -> Evidence? {
        try await read { session in
            try await session.rows("\(unescaped: Self.selectEvidence) WHERE id = \(id)").first.map(Self.evidence(from:))
        }
    }

    public func evidenceList(of incident: IncidentID?) async throws(StoreError) -> [Evidence] {
        try await read { session in
            let rows = if let incident {
                try await session.rows("""
                    \(unescaped: Self.selectEvidence) WHERE incident = \(incident.number) ORDER BY collected_at, id
                    """)
            } else {
                try await session.rows("\(unescaped: Self.selectEvidence) ORDER BY collected_at, id")
            }
            return try rows.map(Self.evidence(from:))
        }
    }

    public func custody(of evidence: String) async throws(StoreError) -> [CustodyEvent] {
        try await read { session in
            try await session.rows("""
                SELECT at, actor, action, detail FROM custody WHERE evidence = \(evidence) ORDER BY at, key
                """).map { row in
                CustodyEvent(evidence: evidence, at: try row.date(0)!, actor: try row[1].decode(String.self),
                             action: CustodyEvent.Action(rawValue: try row[2].decode(String.self)) ?? .viewed,
                             detail: try row[3].decode(String.self))
            }
        }
    }

    /// A scan (no index on the hash): asked only when a record could not be written.
    public func namesContent(_ sha256: String) async throws(StoreError) -> Bool {
        try await read { session in
            try await session.rows("SELECT EXISTS (SELECT 1 FROM evidence WHERE sha256 = \(sha256))")[0][0].decode(Bool.self)
        }
    }

    private static let selectEvidence = """
        SELECT id, incident, name, description, source, collected_by, collected_at, tags, sha256, sha1, md5, size
        FROM evidence
        """

    private static func evidence(from row: PostgresRandomAccessRow) throws -> Evidence {
        Evidence(id: try row[0].decode(String.self), incident: IncidentID(try row[1].decode(Int.self)),
                 name: try row[2].decode(String.self), description: try row[3].decode(String.self),
                 source: try row[4].decode(String.self), collectedBy: try row[5].decode(String.self),
                 collectedAt: try row.date(6)!, tags: try StringList.decode(try row[7].decode(String.self)),
                 hashes: FileHashes(md5: try row[10].decode(String.self), sha1: try row[9].decode(String.self),
                                    sha256: try row[8].decode(String.self)),
                 size: try row[11].decode(Int64.self))
    }

    /// Refusals without failing a statement: an unknown incident is looked for when nothing was
    /// inserted; evidence recorded again (the same id) keeps its first record.
    static func applyEvidenceWrite(_ write: StoreWrite, to session: PostgresSession) async throws -> StoreError? {
        switch write {
        case .addEvidence(let evidence):
            let inserted = try await session.changes("""
                INSERT INTO evidence (id, incident, name, description, source, collected_by, collected_at, tags, sha256,
                                      sha1, md5, size)
                SELECT \(evidence.id), number, \(evidence.name), \(evidence.description), \(evidence.source),
                       \(evidence.collectedBy), \(evidence.collectedAt.millisecondsSince1970),
                       \(StringList.encode(evidence.tags)), \(evidence.hashes.sha256), \(evidence.hashes.sha1),
                       \(evidence.hashes.md5), \(evidence.size)
                FROM incident WHERE number = \(evidence.incident.number)
                ON CONFLICT (id) DO NOTHING
                """)
            guard inserted == 1 else {
                let known = try await session.rows("SELECT 1 FROM incident WHERE number = \(evidence.incident.number)")
                return known.isEmpty ? .incidentNotFound(evidence.incident) : nil
            }
            try await note([CustodyEvent(evidence: evidence.id, at: evidence.collectedAt, actor: evidence.collectedBy,
                                         action: .added, detail: evidence.source)], in: session)
        case .noteCustody(let events):
            try await note(events, in: session)
        default:
            preconditionFailure("not an evidence write: \(write)")
        }
        return nil
    }

    /// Notes custody events; one of evidence that is not recorded is dropped, since it could
    /// only be about nothing.
    private static func note(_ events: [CustodyEvent], in session: PostgresSession) async throws {
        for event in events {
            try await session.changes("""
                INSERT INTO custody (evidence, at, actor, action, detail)
                SELECT id, \(event.at.millisecondsSince1970), \(event.actor), \(event.action.rawValue), \(event.detail)
                FROM evidence WHERE id = \(event.evidence)
                """)
        }
    }
}
