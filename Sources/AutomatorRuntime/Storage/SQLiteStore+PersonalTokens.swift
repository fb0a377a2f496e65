public import Foundation
import GRDB

extension SQLiteStore: PersonalTokenStore {
    public func addPersonalToken(_ token: PersonalToken) async throws(StoreError) {
        let added = try await writeAlone { db in
            // A name's live token is unique (`personal_token_live`): a second is ignored, and refused below.
            try db.execute(sql: """
                INSERT OR IGNORE INTO personal_token (sha256, name, created_at, created_by) VALUES (?, ?, ?, ?)
                """, arguments: [token.sha256, token.name, token.createdAt.millisecondsSince1970, token.createdBy])
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
        let revoked = try await writeAlone { db in
            try db.execute(sql: "UPDATE personal_token SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
                           arguments: [at.millisecondsSince1970, name])
            return db.changesCount > 0
        }
        if !revoked { throw .tokenNotFound(name) }
    }

    private static func personalToken(_ row: Row) -> PersonalToken {
        PersonalToken(name: row["name"], sha256: row["sha256"], createdAt: Date(millisecondsSince1970: row["created_at"]),
                      createdBy: row["created_by"],
                      revokedAt: (row["revoked_at"] as Int64?).map(Date.init(millisecondsSince1970:)))
    }
}
