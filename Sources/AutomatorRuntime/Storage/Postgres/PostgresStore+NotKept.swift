/// What the PostgreSQL store does not keep yet, refused when used (reads here, writes in
/// `apply`) with a message that says to use SQLite for it: `automator serve --store` starts, and
/// a playbook that keeps evidence or runs an action fails at that call, saying why.
///
/// Evidence: its files live in the data folder's vault, which several machines would need to
/// share. Actions: their records are response actions' work (issue 10).
extension PostgresStore: EvidenceStore, ActionStore {
    public func evidence(_ id: String) async throws(StoreError) -> Evidence? { throw .notInPostgres("evidence") }

    public func evidenceList(of incident: IncidentID?) async throws(StoreError) -> [Evidence] {
        throw .notInPostgres("evidence")
    }

    public func custody(of evidence: String) async throws(StoreError) -> [CustodyEvent] {
        throw .notInPostgres("evidence")
    }

    public func action(_ id: String) async throws(StoreError) -> ActionRecord? { throw .notInPostgres("response actions") }

    public func actions(on incident: IncidentID?, limit: Int) async throws(StoreError) -> [ActionRecord] {
        throw .notInPostgres("response actions")
    }

    public func expiringActions() async throws(StoreError) -> [ActionRecord] { throw .notInPostgres("response actions") }
}
