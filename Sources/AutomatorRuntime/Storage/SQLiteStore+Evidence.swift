import Foundation
import GRDB

extension SQLiteStore: EvidenceStore {
    public func evidenceVault(dataFolder: String) -> any EvidenceVault { FolderVault(dataFolder: dataFolder) }

    public func evidence(_ id: String) async throws(StoreError) -> Evidence? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM evidence WHERE id = ?", arguments: [id]).map(Self.evidence)
        }
    }

    public func evidenceList(of incident: IncidentID?) async throws(StoreError) -> [Evidence] {
        try await read { db in
            if let incident {
                return try Row.fetchAll(db, sql: "SELECT * FROM evidence WHERE incident = ? ORDER BY collected_at, id",
                                        arguments: [incident.number]).map(Self.evidence)
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM evidence ORDER BY collected_at, id").map(Self.evidence)
        }
    }

    public func custody(of evidence: String) async throws(StoreError) -> [CustodyEvent] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT at, actor, action, detail FROM custody WHERE evidence = ? ORDER BY at, rowid",
                             arguments: [evidence]).map { row in
                CustodyEvent(evidence: evidence, at: Date(millisecondsSince1970: row[0]), actor: row[1],
                             action: CustodyEvent.Action(rawValue: row[2]) ?? .viewed, detail: row[3])
            }
        }
    }

    /// A scan (no index on the hash): asked only when a record could not be written.
    public func namesContent(_ sha256: String) async throws(StoreError) -> Bool {
        try await read { db in
            try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM evidence WHERE sha256 = ?)", arguments: [sha256]) ?? false
        }
    }

    private static func evidence(_ row: Row) throws -> Evidence {
        Evidence(id: row["id"], incident: IncidentID(row["incident"]), name: row["name"], description: row["description"],
                 source: row["source"], collectedBy: row["collected_by"],
                 collectedAt: Date(millisecondsSince1970: row["collected_at"]),
                 tags: try StringList.decode(row["tags"]),
                 hashes: FileHashes(md5: row["md5"], sha1: row["sha1"], sha256: row["sha256"]), size: row["size"])
    }

    static func applyEvidenceWrite(_ write: StoreWrite, to db: Database) throws -> StoreError? {
        switch write {
        case .addEvidence(let evidence):
            // Recorded again (the same id): the first record stays, as on PostgreSQL.
            do {
                try db.cachedStatement(sql: """
                    INSERT INTO evidence (id, incident, name, description, source, collected_by, collected_at, tags, sha256,
                                          sha1, md5, size)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING
                    """).execute(arguments: [
                        evidence.id, evidence.incident.number, evidence.name, evidence.description, evidence.source,
                        evidence.collectedBy, evidence.collectedAt.millisecondsSince1970, StringList.encode(evidence.tags),
                        evidence.hashes.sha256, evidence.hashes.sha1, evidence.hashes.md5, evidence.size,
                    ])
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_FOREIGNKEY {
                return .incidentNotFound(evidence.incident)
            }
            guard db.changesCount == 1 else { return nil }
            try note([CustodyEvent(evidence: evidence.id, at: evidence.collectedAt, actor: evidence.collectedBy,
                                   action: .added, detail: evidence.source)], in: db)
        case .noteCustody(let events):
            try note(events, in: db)
        default:
            preconditionFailure("not an evidence write: \(write)")
        }
        return nil
    }

    /// Notes custody events; one of evidence that is not recorded is dropped, since it could
    /// only be about nothing (as on PostgreSQL).
    private static func note(_ events: [CustodyEvent], in db: Database) throws {
        for event in events {
            try db.cachedStatement(sql: """
                INSERT INTO custody (evidence, at, actor, action, detail) SELECT id, ?, ?, ?, ? FROM evidence WHERE id = ?
                """).execute(arguments: [event.at.millisecondsSince1970, event.actor, event.action.rawValue, event.detail,
                                     event.evidence])
        }
    }
}
