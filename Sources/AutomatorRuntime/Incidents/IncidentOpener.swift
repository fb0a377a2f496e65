/// How `incidents.create` reaches the incident service, which is made after the modules its
/// runs use: the service fills it in when it starts (`IncidentService.init`).
public final class IncidentOpener: Sendable {
    private let service = Locked<WeakService>(WeakService())

    private struct WeakService: @unchecked Sendable {
        weak var value: IncidentService?
    }

    public init() {}

    func attach(_ service: IncidentService) { self.service.withLock { $0.value = service } }

    /// Opens the incident `draft` describes (its playbook starts, as for any new incident).
    func open(_ draft: IncidentDraft, by actor: String) async throws(IncidentError) -> IncidentService.Ingested {
        guard let service = service.withLock({ $0.value }) else {
            throw IncidentError(.unavailable, "incidents can be created only where the incident service runs "
                + "(automator serve, or a command on the data folder)")
        }
        return try await service.create(draft, by: actor)
    }
}
