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
    let checkpointer: JournalCheckpointer
    let reports: ReportPoster?
    let logger: Logger

    /// Waits for the group to stop (or to be cancelled, when the HTTP server could not start),
    /// then stops the timers and the executors, and closes the store.
    func run() async {
        let checkpoints = Task { await checkpointer.run(every: .seconds(3600)) }
        let scheduled = Task { await reports?.run() }
        try? await gracefulShutdown()
        checkpoints.cancel()
        scheduled.cancel()
        let inFlight = service.runs.liveCount
        logger.info("stopping: \(inFlight) run\(inFlight == 1 ? "" : "s") in flight will resume at the next start")
        await chat.shutdown()
        await checkpointer.checkpoint()  // before the store closes with the service
        await service.shutdown()
        integrations.shutdown()
    }
}
