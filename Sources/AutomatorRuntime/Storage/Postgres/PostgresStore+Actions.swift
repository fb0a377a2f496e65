import Foundation
import PostgresNIO

/// Actions (issue 10) on PostgreSQL, as in SQLite (`SQLiteStore+Actions.swift`): table `action` of
/// migration v4. Refusals are found by reading, never by a failing statement, which would abort
/// the batch's transaction.
extension PostgresStore: ActionStore {
    static let actionColumns = """
        id, key, name, parameters, incident, requested_by, approved_by, status, result, at, expires_at, undone_by, undone_at,
        question, ttl_ms
        """

    public func action(_ id: String) async throws(StoreError) -> ActionRecord? {
        try await read { session in
            try await session.rows("SELECT \(unescaped: Self.actionColumns) FROM action WHERE id = \(id)").first.map(Self.action)
        }
    }

    public func actions(on incident: IncidentID?, limit: Int) async throws(StoreError) -> [ActionRecord] {
        try await read { session in
            let query: PostgresQuery = if let incident {
                """
                SELECT \(unescaped: Self.actionColumns) FROM action WHERE incident = \(incident.number)
                ORDER BY at DESC, id DESC LIMIT \(limit)
                """
            } else {
                "SELECT \(unescaped: Self.actionColumns) FROM action ORDER BY at DESC, id DESC LIMIT \(limit)"
            }
            return try await session.rows(query).map(Self.action)
        }
    }

    public func expiringActions() async throws(StoreError) -> [ActionRecord] {
        try await read { session in
            try await session.rows("""
                SELECT \(unescaped: Self.actionColumns) FROM action WHERE status = 'done' AND expires_at IS NOT NULL
                ORDER BY expires_at
                """).map(Self.action)
        }
    }

    static func action(_ row: PostgresRandomAccessRow) throws -> ActionRecord {
        let id = try row[0].decode(String.self)
        let status = try row[7].decode(String.self)
        guard let known = ActionRecord.Status(rawValue: status) else { throw StoreError.unknownValue(status, of: "action \(id)") }
        var action = ActionRecord(id: id, key: try row[1].decode(String.self), name: try row[2].decode(String.self),
                                  parameters: try row[3].decode(String.self),
                                  incident: try row[4].decode(Int?.self).map(IncidentID.init),
                                  requestedBy: try row[5].decode(String.self), approvedBy: try row[6].decode(String?.self),
                                  status: known, result: try row[8].decode(String?.self), at: try row.date(9)!,
                                  expiresAt: try row.date(10))
        action.undoneBy = try row[11].decode(String?.self)
        action.undoneAt = try row.date(12)
        action.question = try row[13].decode(String?.self)
        action.ttl = try row[14].decode(Int64?.self).map { TimeInterval($0) / 1000 }
        return action
    }

    static func applyActionWrite(_ write: StoreWrite, to session: PostgresSession) async throws -> StoreError? {
        switch write {
        case .recordAction(let action):
            // A refusal is kept whatever incident it names, as in SQLite.
            if let incident = action.incident, action.status != .refused {
                // What closing an incident promises: nothing more is done on it, an approval given late
                // included; an action declared on_closed takes the close itself to the incident's source.
                let status = try await session.rows("SELECT status FROM incident WHERE number = \(incident.number)")
                    .first.map { try $0[0].decode(String.self) }
                switch status {
                case nil: return .incidentNotFound(incident)
                case Incident.Status.closed.rawValue? where action.status == .sending && !action.followsClose:
                    return .incidentClosedToActions(incident)
                default: break
                }
            }
            try await session.changes("""
                INSERT INTO action (id, key, name, parameters, incident, requested_by, approved_by, status, result, at,
                                    expires_at, question, ttl_ms)
                VALUES (\(action.id), \(action.key), \(action.name), \(action.parameters), \(action.incident?.number),
                        \(action.requestedBy), \(action.approvedBy), \(action.status.rawValue), \(action.result),
                        \(action.at.millisecondsSince1970), \(action.expiresAt?.millisecondsSince1970), \(action.question),
                        \(action.ttlMilliseconds))
                ON CONFLICT (id) DO NOTHING
                """)
        case .finishAction(let id, let status, let result, let expiresAt):
            let changed = try await session.changes("""
                UPDATE action SET status = \(status.rawValue), result = \(result),
                                  expires_at = \(expiresAt?.millisecondsSince1970)
                WHERE id = \(id)
                """)
            if changed == 0 { return .actionNotFound(id) }
        case .undoAction(let id, let by, let at):
            let changed = try await session.changes("""
                UPDATE action SET status = 'undone', undone_by = \(by), undone_at = \(at.millisecondsSince1970)
                WHERE id = \(id) AND status = 'done'
                """)
            if changed == 0 {
                guard let row = try await session.rows("SELECT status FROM action WHERE id = \(id)").first else {
                    return .actionNotFound(id)
                }
                return .actionNotDone(id, status: try row[0].decode(String.self))
            }
        default:
            preconditionFailure("not an action write: \(write)")
        }
        return nil
    }
}
