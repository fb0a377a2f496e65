/// What the PostgreSQL store does not keep yet, refused when used (reads here, writes in
/// `apply`) with a message that says to use SQLite for it: `automator serve --store` starts, and
/// a playbook that keeps evidence fails at that call, saying why.
///
/// Evidence: its files live in the data folder's vault, which several machines would need to
/// share.
extension PostgresStore: EvidenceStore {
    public func evidence(_ id: String) async throws(StoreError) -> Evidence? { throw .notInPostgres("evidence") }

    public func evidenceList(of incident: IncidentID?) async throws(StoreError) -> [Evidence] {
        throw .notInPostgres("evidence")
    }

    public func custody(of evidence: String) async throws(StoreError) -> [CustodyEvent] {
        throw .notInPostgres("evidence")
    }
}
