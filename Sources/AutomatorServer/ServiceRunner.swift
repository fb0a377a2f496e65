import AutomatorRuntime
import Logging
import ServiceLifecycle

/// The incident service's life (its runs, its SLA timers) and the chat bot's in the server's service group. Listed
/// before the HTTP server, so the group stops it after the server has stopped taking requests and
/// answered those in flight.
struct ServiceRunner: Service {
    let service: IncidentService
    let chat: ChatService
    let integrations: Integrations
    let actions: ActionService
    let checkpointer: JournalCheckpointer
    let reports: ReportPoster?
    /// On a store shared with other workers: this worker's share of the runs.
    let leases: RunLeaseKeeper?
    let logger: Logger

    /// Waits for the group to stop (or to be cancelled, when the HTTP server could not start),
    /// then stops the timers and the executors, and closes the store.
    func run() async {
        let checkpoints = Task { await checkpointer.run(every: .seconds(3600)) }
        let scheduled = Task { await reports?.run() }
        // The expiries are in the store: one that passed while no server ran lifts at the first look.
        let expiries = Task { await actions.expire(every: .seconds(1)) }
        let keeper = Task { await leases?.run() }
        try? await gracefulShutdown()
        keeper.cancel()
        await keeper.value  // no adoption after the executors stop
        checkpoints.cancel()
        scheduled.cancel()
        expiries.cancel()
        let inFlight = service.runs.liveCount
        logger.info("stopping: \(inFlight) run\(inFlight == 1 ? "" : "s") in flight will resume at the next start")
        await chat.shutdown()
        await checkpointer.checkpoint()  // before the store closes with the service
        await service.shutdown()
        integrations.shutdown()
    }
}
