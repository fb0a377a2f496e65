/// Where evidence records and their chains of custody are kept (the files are in the vault).
public protocol EvidenceStore: JournalStore {
    func evidence(_ id: String) async throws(StoreError) -> Evidence?
    /// Of one incident, or all; oldest first.
    func evidenceList(of incident: IncidentID?) async throws(StoreError) -> [Evidence]
    func custody(of evidence: String) async throws(StoreError) -> [CustodyEvent]
}
