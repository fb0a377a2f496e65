/// Where evidence records and their chains of custody are kept (the files are in the vault).
public protocol EvidenceStore: JournalStore {
    /// The vault of this store's evidence files: beside SQLite, the data folder's; beside
    /// PostgreSQL, the database, which every worker reaches.
    func evidenceVault(dataFolder: String) -> any EvidenceVault

    func evidence(_ id: String) async throws(StoreError) -> Evidence?
    /// Of one incident, or all; oldest first.
    func evidenceList(of incident: IncidentID?) async throws(StoreError) -> [Evidence]
    func custody(of evidence: String) async throws(StoreError) -> [CustodyEvent]
    /// Whether any evidence names the content `sha256` (the vault keeps each content once, for all
    /// the evidence that names it).
    func namesContent(_ sha256: String) async throws(StoreError) -> Bool
}

extension EvidenceStore {
    /// An incident's evidence as collected, each with its custody, oldest event first.
    public func evidenceWithCustody(of incident: IncidentID) async throws(StoreError) -> [(Evidence, [CustodyEvent])] {
        var files: [(Evidence, [CustodyEvent])] = []
        for file in try await evidenceList(of: incident) { files.append((file, try await custody(of: file.id))) }
        return files
    }
}
