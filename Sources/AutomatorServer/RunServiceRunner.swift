import AutomatorRuntime
import Logging
import ServiceLifecycle

/// The run service's life in the server's service group. Listed before the HTTP server, so the
/// group stops it after the server has stopped taking requests and answered those in flight.
struct RunServiceRunner: Service {
    let runs: RunService
    let logger: Logger

    /// Waits for the group to stop (or to be cancelled, when the HTTP server could not start),
    /// then stops the executors and closes the store.
    func run() async {
        try? await gracefulShutdown()
        let inFlight = runs.liveCount
        logger.info("stopping: \(inFlight) run\(inFlight == 1 ? "" : "s") in flight will resume at the next start")
        await runs.shutdown()
    }
}
