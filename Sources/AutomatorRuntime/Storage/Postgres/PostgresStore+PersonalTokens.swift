public import Foundation
import PostgresNIO

extension PostgresStore: PersonalTokenStore {
    public func addPersonalToken(_ token: PersonalToken) async throws(StoreError) {
        let added = try await read { session in try await Self.insert(token, in: session) }
        if added == 0 { throw .tokenExists(token.name) }
    }

    public func personalTokens() async throws(StoreError) -> [PersonalToken] {
        try await read { session in
            try await session.rows("""
                SELECT \(unescaped: Self.columns) FROM personal_token ORDER BY name, created_at DESC
                """).map(Self.personalToken)
        }
    }

    public func livePersonalToken(sha256: String) async throws(StoreError) -> PersonalToken? {
        try await read { session in
            try await session.rows("""
                SELECT \(unescaped: Self.columns) FROM personal_token WHERE sha256 = \(sha256) AND revoked_at IS NULL
                """).first.map(Self.personalToken)
        }
    }

    public func revokePersonalToken(named name: String, at: Date) async throws(StoreError) {
        let revoked = try await read { session in try await Self.revoke(name, at: at, in: session) }
        if revoked == nil { throw .tokenNotFound(name) }
    }

    public func rotatePersonalToken(to token: PersonalToken, at: Date) async throws(StoreError) -> PersonalToken {
        let kept = try await read { session -> PersonalToken? in
            // One transaction: no worker sees the name without a live token, nor with two.
            try await session.changes("BEGIN")
            do {
                guard let old = try await Self.revoke(token.name, at: at, in: session) else {
                    try await session.changes("ROLLBACK")
                    return nil
                }
                var kept = token
                kept.metricsOnly = old.metricsOnly
                kept.ingestOnly = old.ingestOnly
                _ = try await Self.insert(kept, in: session)
                try await session.changes("COMMIT")
                return kept
            } catch {
                _ = try? await session.changes("ROLLBACK")
                throw error
            }
        }
        guard let kept else { throw .tokenNotFound(token.name) }
        return kept
    }

    public func notePersonalTokenUse(sha256: String, at: Date) async throws(StoreError) {
        _ = try await read { session in
            try await session.changes("""
                UPDATE personal_token SET last_used_at = \(at.millisecondsSince1970) WHERE sha256 = \(sha256)
                """)
        }
    }

    /// Inserts `token`; 0 when its name has a live token already (`personal_token_live`).
    private static func insert(_ token: PersonalToken, in session: PostgresSession) async throws -> Int {
        try await session.changes("""
            INSERT INTO personal_token (sha256, name, created_at, created_by, metrics_only, ingest_only)
            VALUES (\(token.sha256), \(token.name), \(token.createdAt.millisecondsSince1970), \(token.createdBy),
                    \(token.metricsOnly), \(token.ingestOnly))
            ON CONFLICT DO NOTHING
            """)
    }

    /// Revokes `name`'s live token; the token it revoked, or nil when there is none.
    private static func revoke(_ name: String, at: Date, in session: PostgresSession) async throws -> PersonalToken? {
        try await session.rows("""
            UPDATE personal_token SET revoked_at = \(at.millisecondsSince1970) WHERE name = \(name) AND revoked_at IS NULL
            RETURNING \(unescaped: Self.columns)
            """).first.map(Self.personalToken)
    }

    private static let columns =
        "name, sha256, created_at, created_by, revoked_at, metrics_only, last_used_at, ingest_only"

    /// A token from `columns`.
    private static func personalToken(_ row: PostgresRandomAccessRow) throws -> PersonalToken {
        PersonalToken(name: try row[0].decode(String.self), sha256: try row[1].decode(String.self),
                      createdAt: try row.date(2)!, createdBy: try row[3].decode(String.self), revokedAt: try row.date(4),
                      metricsOnly: try row[5].decode(Bool.self), ingestOnly: try row[7].decode(String?.self),
                      lastUsedAt: try row.date(6))
    }
}
