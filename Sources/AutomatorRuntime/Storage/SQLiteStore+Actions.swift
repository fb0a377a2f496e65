import Foundation
import GRDB

extension SQLiteStore: ActionStore {
    public func action(_ id: String) async throws(StoreError) -> ActionRecord? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM action WHERE id = ?", arguments: [id]).map(Self.action)
        }
    }

    public func actions(on incident: IncidentID?, limit: Int) async throws(StoreError) -> [ActionRecord] {
        try await read { db in
            if let incident {
                return try Row.fetchAll(db, sql: "SELECT * FROM action WHERE incident = ? ORDER BY at DESC, id DESC LIMIT ?",
                                        arguments: [incident.number, limit]).map(Self.action)
            }
            return try Row.fetchAll(db, sql: "SELECT * FROM action ORDER BY at DESC, id DESC LIMIT ?", arguments: [limit])
                .map(Self.action)
        }
    }

    public func expiringActions() async throws(StoreError) -> [ActionRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM action WHERE status = 'done' AND expires_at IS NOT NULL ORDER BY expires_at
                """).map(Self.action)
        }
    }

    static func action(_ row: Row) throws -> ActionRecord {
        let id: String = row["id"]
        let status: String = row["status"]
        guard let known = ActionRecord.Status(rawValue: status) else {
            throw StoreError.unknownValue(status, of: "action \(id)")
        }
        var action = ActionRecord(id: id, key: row["key"], name: row["name"], parameters: row["parameters"],
                                  incident: (row["incident"] as Int?).map(IncidentID.init), requestedBy: row["requested_by"],
                                  approvedBy: row["approved_by"], status: known, result: row["result"],
                                  at: Date(millisecondsSince1970: row["at"]),
                                  expiresAt: (row["expires_at"] as Int64?).map(Date.init(millisecondsSince1970:)))
        action.undoneBy = row["undone_by"]
        action.undoneAt = (row["undone_at"] as Int64?).map(Date.init(millisecondsSince1970:))
        action.question = row["question"]
        action.ttl = (row["ttl_ms"] as Int64?).map { TimeInterval($0) / 1000 }
        return action
    }

    static func applyActionWrite(_ write: StoreWrite, to db: Database) throws -> StoreError? {
        switch write {
        case .recordAction(let action):
            // A refusal keeps what was asked, on whatever incident it names: nothing was done. It is
            // written with its run's next write, which an unknown incident would otherwise fail.
            if let incident = action.incident, action.status != .refused {
                // What closing an incident promises: nothing more is done on it, an approval given late
                // included; an action declared on_closed takes the close itself to the incident's source.
                switch try String.fetchOne(db.cachedStatement(sql: "SELECT status FROM incident WHERE number = ?"),
                                           arguments: [incident.number]) {
                case nil: return .incidentNotFound(incident)
                case Incident.Status.closed.rawValue? where action.status == .sending && !action.followsClose:
                    return .incidentClosedToActions(incident)
                default: break
                }
            }
            try db.cachedStatement(sql: """
                INSERT OR IGNORE INTO action (id, key, name, parameters, incident, requested_by, approved_by, status,
                                              result, at, expires_at, question, ttl_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """).execute(arguments: [
                    action.id, action.key, action.name, action.parameters, action.incident?.number, action.requestedBy,
                    action.approvedBy, action.status.rawValue, action.result, action.at.millisecondsSince1970,
                    action.expiresAt?.millisecondsSince1970, action.question, action.ttlMilliseconds,
                ])
        case .finishAction(let id, let status, let result, let expiresAt):
            try db.cachedStatement(sql: "UPDATE action SET status = ?, result = ?, expires_at = ? WHERE id = ?")
                .execute(arguments: [status.rawValue, result, expiresAt?.millisecondsSince1970, id])
            if db.changesCount == 0 { return .actionNotFound(id) }
        case .undoAction(let id, let by, let at):
            try db.cachedStatement(sql: """
                UPDATE action SET status = 'undone', undone_by = ?, undone_at = ? WHERE id = ? AND status = 'done'
                """).execute(arguments: [by, at.millisecondsSince1970, id])
            if db.changesCount == 0 {
                guard let status = try String.fetchOne(db, sql: "SELECT status FROM action WHERE id = ?", arguments: [id])
                else { return .actionNotFound(id) }
                return .actionNotDone(id, status: status)
            }
        default:
            preconditionFailure("not an action write: \(write)")
        }
        return nil
    }
}
