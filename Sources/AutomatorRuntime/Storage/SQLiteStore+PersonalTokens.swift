public import Foundation
import GRDB

extension SQLiteStore: PersonalTokenStore {
    public func addPersonalToken(_ token: PersonalToken) async throws(StoreError) {
        let added = try await writeAlone { db in
            // A name's live token is unique (`personal_token_live`): a second is ignored, and refused below.
            try Self.insert(token, into: db)
            return db.changesCount == 1
        }
        if !added { throw .tokenExists(token.name) }
    }

    public func personalTokens() async throws(StoreError) -> [PersonalToken] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM personal_token ORDER BY name, created_at DESC").map(Self.personalToken)
        }
    }

    public func livePersonalToken(sha256: String) async throws(StoreError) -> PersonalToken? {
        try await read { db in
            try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM personal_token WHERE sha256 = ? AND revoked_at IS NULL"),
                             arguments: [sha256]).map(Self.personalToken)
        }
    }

    public func revokePersonalToken(named name: String, at: Date) async throws(StoreError) {
        let revoked = try await writeAlone { db in try Self.revoke(name, at: at, in: db) != nil }
        if !revoked { throw .tokenNotFound(name) }
    }

    public func rotatePersonalToken(to token: PersonalToken, at: Date) async throws(StoreError) -> PersonalToken {
        let kept = try await writeAlone { db -> PersonalToken? in
            guard let old = try Self.revoke(token.name, at: at, in: db) else { return nil }
            var kept = token
            kept.metricsOnly = old.metricsOnly
            kept.ingestOnly = old.ingestOnly
            try Self.insert(kept, into: db)
            return kept
        }
        guard let kept else { throw .tokenNotFound(token.name) }
        return kept
    }

    public func notePersonalTokenUse(sha256: String, at: Date) async throws(StoreError) {
        try await writeAlone { db in
            try db.execute(sql: "UPDATE personal_token SET last_used_at = ? WHERE sha256 = ?",
                           arguments: [at.millisecondsSince1970, sha256])
        }
    }

    private static func insert(_ token: PersonalToken, into db: Database) throws {
        try db.execute(sql: """
            INSERT OR IGNORE INTO personal_token (sha256, name, created_at, created_by, metrics_only, ingest_only)
            VALUES (?, ?, ?, ?, ?, ?)
            """, arguments: [token.sha256, token.name, token.createdAt.millisecondsSince1970, token.createdBy,
                             token.metricsOnly, token.ingestOnly])
    }

    /// Revokes `name`'s live token; the token it revoked, or nil when there is none.
    private static func revoke(_ name: String, at: Date, in db: Database) throws -> PersonalToken? {
        guard let live = try Row.fetchOne(db, sql: "SELECT * FROM personal_token WHERE name = ? AND revoked_at IS NULL",
                                          arguments: [name]).map(personalToken)
        else { return nil }
        try db.execute(sql: "UPDATE personal_token SET revoked_at = ? WHERE sha256 = ?",
                       arguments: [at.millisecondsSince1970, live.sha256])
        return live
    }

    private static func personalToken(_ row: Row) -> PersonalToken {
        PersonalToken(name: row["name"], sha256: row["sha256"], createdAt: Date(millisecondsSince1970: row["created_at"]),
                      createdBy: row["created_by"],
                      revokedAt: (row["revoked_at"] as Int64?).map(Date.init(millisecondsSince1970:)),
                      metricsOnly: row["metrics_only"], ingestOnly: row["ingest_only"],
                      lastUsedAt: (row["last_used_at"] as Int64?).map(Date.init(millisecondsSince1970:)))
    }
}
