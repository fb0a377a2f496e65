public import Foundation
import PostgresNIO

/// The integrations' cached answers and the indicators looked up, in PostgreSQL, as in SQLite:
/// every worker then asks an integration once for all of them, within a cache time.
extension PostgresStore: IntelStore {
    public func cachedVerdicts(type: String, value: String, at now: Date) async throws(StoreError) -> [SourceVerdict] {
        try await read { session in
            try await session.rows("""
                SELECT source, score, reliability, reason FROM intel_cache
                WHERE type = \(type) AND value = \(value) AND expires_at > \(now.millisecondsSince1970) ORDER BY source
                """).compactMap { row in
                guard let score = Score(rawValue: try row[1].decode(Int.self)),
                      let reliability = Reliability(rawValue: try row[2].decode(String.self))
                else { return nil }
                return SourceVerdict(source: try row[0].decode(String.self), score: score, reliability: reliability,
                                     reason: try row[3].decode(String.self))
            }
        }
    }

    public func seenIndicators() async throws(StoreError) -> [SeenIndicator] {
        try await read { session in
            try await session.rows("""
                SELECT type, value, score, summary, first_seen, last_seen, stix_id FROM intel_seen
                ORDER BY first_seen, type, value
                """).compactMap { row in
                guard let type = IndicatorType(rawValue: try row[0].decode(String.self)),
                      let score = Score(rawValue: try row[2].decode(Int.self))
                else { return nil }
                return SeenIndicator(type: type, value: try row[1].decode(String.self), score: score,
                                     summary: try row[3].decode(String.self), firstSeen: try row.date(4)!,
                                     lastSeen: try row.date(5)!, stixID: try row[6].decode(String.self))
            }
        }
    }

    /// Under a lock of its own, so that workers taking the same quota at once count one by one.
    public func takeQuota(_ key: String, _ quotas: [QuotaWindow], at now: Date) async throws(StoreError) -> Date? {
        let time = now.millisecondsSince1970
        let longest = quotas.map(\.milliseconds).max() ?? 0
        return try await read { session in
            try await session.changes("BEGIN")
            do {
                try await session.changes("SELECT pg_advisory_xact_lock(\(Self.quotaLock))")
                try await session.changes("DELETE FROM quota_use WHERE key = \(key) AND at <= \(time - longest)")
                let starts = try await session.rows("SELECT at FROM quota_use WHERE key = \(key) ORDER BY at")
                    .map { try $0[0].decode(Int64.self) }
                var free: Date?
                if let slot = quotas.firstFree(after: starts, at: time) {
                    free = Date(millisecondsSince1970: slot)
                } else {
                    try await session.changes("INSERT INTO quota_use (key, at) VALUES (\(key), \(time))")
                }
                try await session.changes("COMMIT")
                return free
            } catch {
                _ = try? await session.changes("ROLLBACK")
                throw error
            }
        }
    }

    static let quotaLock: Int64 = 0x4155_544F_0000_0004

    static func applyIntelWrite(_ write: StoreWrite, to session: PostgresSession) async throws {
        switch write {
        case .noteIndicator(let seen):
            try await session.changes("""
                INSERT INTO intel_seen (type, value, score, summary, first_seen, last_seen, stix_id)
                VALUES (\(seen.type.rawValue), \(seen.value), \(seen.score.rawValue), \(seen.summary),
                        \(seen.firstSeen.millisecondsSince1970), \(seen.lastSeen.millisecondsSince1970), \(seen.stixID))
                ON CONFLICT (type, value) DO UPDATE SET score = excluded.score, summary = excluded.summary,
                                                        last_seen = excluded.last_seen
                """)
        case .cacheVerdicts(let type, let value, let verdicts):
            for (verdict, expires) in verdicts {
                try await session.changes("""
                    INSERT INTO intel_cache (type, value, source, score, reliability, reason, expires_at)
                    VALUES (\(type), \(value), \(verdict.source), \(verdict.score.rawValue), \(verdict.reliability.rawValue),
                            \(verdict.reason), \(expires.millisecondsSince1970))
                    ON CONFLICT (type, value, source) DO UPDATE SET score = excluded.score,
                        reliability = excluded.reliability, reason = excluded.reason, expires_at = excluded.expires_at
                    """)
            }
        default:
            preconditionFailure("not an intel write: \(write)")
        }
    }
}
