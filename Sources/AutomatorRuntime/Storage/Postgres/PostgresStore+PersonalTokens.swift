public import Foundation
import PostgresNIO

extension PostgresStore: PersonalTokenStore {
    public func addPersonalToken(_ token: PersonalToken) async throws(StoreError) {
        let added = try await read { session in
            // A name's live token is unique (`personal_token_live`): a second is not inserted, and refused below.
            try await session.changes("""
                INSERT INTO personal_token (sha256, name, created_at, created_by)
                VALUES (\(token.sha256), \(token.name), \(token.createdAt.millisecondsSince1970), \(token.createdBy))
                ON CONFLICT DO NOTHING
                """)
        }
        if added == 0 { throw .tokenExists(token.name) }
    }

    public func personalTokens() async throws(StoreError) -> [PersonalToken] {
        try await read { session in
            try await session.rows("""
                SELECT name, sha256, created_at, created_by, revoked_at FROM personal_token ORDER BY name, created_at DESC
                """).map(Self.personalToken)
        }
    }

    public func livePersonalToken(sha256: String) async throws(StoreError) -> PersonalToken? {
        try await read { session in
            try await session.rows("""
                SELECT name, sha256, created_at, created_by, revoked_at FROM personal_token
                WHERE sha256 = \(sha256) AND revoked_at IS NULL
                """).first.map(Self.personalToken)
        }
    }

    public func revokePersonalToken(named name: String, at: Date) async throws(StoreError) {
        let revoked = try await read { session in
            try await session.changes("""
                UPDATE personal_token SET revoked_at = \(at.millisecondsSince1970) WHERE name = \(name) AND revoked_at IS NULL
                """)
        }
        if revoked == 0 { throw .tokenNotFound(name) }
    }

    /// A token from the columns name, sha256, created_at, created_by, revoked_at.
    private static func personalToken(_ row: PostgresRandomAccessRow) throws -> PersonalToken {
        PersonalToken(name: try row[0].decode(String.self), sha256: try row[1].decode(String.self),
                      createdAt: try row.date(2)!, createdBy: try row[3].decode(String.self), revokedAt: try row.date(4))
    }
}
