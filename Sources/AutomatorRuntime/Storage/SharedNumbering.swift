/// A store that gives incident and task numbers itself, because several workers create incidents
/// on it (PostgreSQL: a sequence each), so that no two of them give one number twice. A store that
/// one process owns (SQLite, under the data folder's lock) does not: `IncidentLedger` counts on
/// from the highest number stored.
public protocol SharedNumbering: IncidentStore {
    /// A number of `kind` given to no one before. A number taken by a write that then fails is
    /// not given again: numbers may have gaps, never repeats.
    func takeNumber(_ kind: NumberedKind) async throws(StoreError) -> Int
}

/// What is numbered: incidents (`INC-42`) and tasks (`T-7`), each counting on its own.
public enum NumberedKind: String, Sendable {
    case incident, task
}
