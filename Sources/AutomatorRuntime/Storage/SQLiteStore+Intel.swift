public import Foundation
import GRDB

extension SQLiteStore: IntelStore {
    public func seenIndicators() async throws(StoreError) -> [SeenIndicator] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT type, value, score, summary, first_seen, last_seen, stix_id FROM intel_seen
                ORDER BY first_seen, type, value
                """).compactMap { row in
                guard let type = IndicatorType(rawValue: try row.decode(atIndex: 0)),
                      let score = Score(rawValue: try row.decode(atIndex: 2))
                else { return nil }
                return SeenIndicator(type: type, value: try row.decode(atIndex: 1), score: score,
                                     summary: try row.decode(atIndex: 3),
                                     firstSeen: Date(millisecondsSince1970: try row.decode(atIndex: 4)),
                                     lastSeen: Date(millisecondsSince1970: try row.decode(atIndex: 5)),
                                     stixID: try row.decode(atIndex: 6))
            }
        }
    }

    public func takeQuota(_ key: String, _ quotas: [QuotaWindow], at now: Date) async throws(StoreError) -> Date? {
        let time = now.millisecondsSince1970
        let longest = quotas.map(\.milliseconds).max() ?? 0
        return try await writeAlone { db in
            try db.execute(sql: "DELETE FROM quota_use WHERE key = ? AND at <= ?", arguments: [key, time - longest])
            let starts = try Int64.fetchAll(db, sql: "SELECT at FROM quota_use WHERE key = ? ORDER BY at", arguments: [key])
            if let free = quotas.firstFree(after: starts, at: time) { return Date(millisecondsSince1970: free) }
            try db.execute(sql: "INSERT INTO quota_use (key, at) VALUES (?, ?)", arguments: [key, time])
            return nil
        }
    }

    static func note(_ seen: SeenIndicator, in db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO intel_seen (type, value, score, summary, first_seen, last_seen, stix_id) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (type, value) DO UPDATE SET score = excluded.score, summary = excluded.summary,
                                                    last_seen = excluded.last_seen
            """).execute(arguments: [
                seen.type.rawValue, seen.value, seen.score.rawValue, seen.summary,
                seen.firstSeen.millisecondsSince1970, seen.lastSeen.millisecondsSince1970, seen.stixID,
            ])
    }

    public func cachedVerdicts(type: String, value: String, at now: Date) async throws(StoreError) -> [SourceVerdict] {
        try await read { db in
            try Row.fetchAll(db.cachedStatement(sql: """
                SELECT source, score, reliability, reason FROM intel_cache
                WHERE type = ? AND value = ? AND expires_at > ? ORDER BY source
                """), arguments: [type, value, now.millisecondsSince1970]).compactMap { row in
                guard let score = Score(rawValue: try row.decode(atIndex: 1)),
                      let reliability = Reliability(rawValue: try row.decode(atIndex: 2))
                else { return nil }
                return SourceVerdict(source: try row.decode(atIndex: 0), score: score, reliability: reliability,
                                     reason: try row.decode(atIndex: 3))
            }
        }
    }
}
