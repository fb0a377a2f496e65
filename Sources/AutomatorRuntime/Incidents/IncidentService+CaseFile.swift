import Foundation

extension IncidentService {
    /// The whole case of an incident, as `GET /api/v1/incidents/{id}` answers it and `automator
    /// incident show` prints it: the incident with its tasks, progress and playbook run
    /// (`details`), its evidence as collected, each with a summary of its custody
    /// (`EvidenceJSON`), and its actions, oldest first, as `GET /api/v1/actions` shows each: what
    /// HR or counsel ask for one case, in one answer.
    ///
    /// Reading it notes no custody event: it shows the evidence's records, not its content.
    ///
    /// - Throws: `.notFound` for an unknown incident.
    public func caseFile(_ id: IncidentID) async throws(IncidentError) -> String {
        let (incident, tasks, run, breachHook) = try await details(id)
        let closeHook = try await closeHook(of: id)
        var evidence: [(Evidence, [CustodyEvent])]?
        var actions: [ActionRecord]?
        do throws(StoreError) {
            if let store = store as? any EvidenceStore { evidence = try await store.evidenceWithCustody(of: id) }
            if let store = store as? any ActionStore { actions = try await store.actions(on: id, limit: 1000).reversed() }
        } catch {
            throw .store(error)
        }
        return IncidentJSON.forAPI(incident, tasks: tasks, run: run, breachHook: breachHook, closeHook: closeHook,
                                   evidence: evidence, actions: actions)
    }
}
