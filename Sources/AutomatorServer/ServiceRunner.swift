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
    /// The integrations' fetches, which the leader runs.
    let fetches: Fetches
    let actions: ActionService
    let checkpointer: JournalCheckpointer
    /// The daily report (`chat.report`), posted by the leader when one is set.
    let reports: ReportPoster
    /// The notices of new and overdue tasks (`chat.tasks`), posted by the leader when set.
    let taskNotices: TaskNotices
    /// On a store shared with other workers: this worker's share of the runs.
    let leases: RunLeaseKeeper?
    /// On a store shared with other workers: what they changed that runs here wait on.
    let changes: SharedChangeFollower?
    /// On SQLite: the log's word when a full disk refuses writes, and when it is over.
    let writes: StoreWriteWatch?
    let logger: Logger

    /// Waits for the group to stop (or to be cancelled, when the HTTP server could not start),
    /// then stops the timers and the executors, and closes the store.
    func run() async {
        await checkpointer.announce()
        let checkpoints = Task { await checkpointer.run(every: .seconds(3600)) }
        let leading = Task { await lead() }
        let keeper = Task { await leases?.run() }
        let following = Task { await changes?.run() }
        // Every worker reads its own files: an edited integration is used without a restart.
        let watching = Task { await integrations.watch(every: .seconds(1)) }
        // And its own playbooks, saying which runs' playbook is no longer loaded.
        let playbooks = Task { await service.watchPlaybooks(every: .seconds(1)) }
        let writing = Task { await writes?.run(every: .seconds(1)) }
        try? await gracefulShutdown()
        keeper.cancel()
        await keeper.value  // no adoption after the executors stop
        checkpoints.cancel()
        leading.cancel()
        following.cancel()
        watching.cancel()
        playbooks.cancel()
        writing.cancel()
        await leading.value  // another worker leads at once
        await following.value
        await watching.value  // no reload while the executors stop
        await playbooks.value
        await chat.shutdown()  // the watcher's runs in flight end first
        // Computing or waiting on a person: "in flight" made 18 runs waiting on tasks sound interrupted.
        let unfinished = service.runs.liveCount
        logger.info("stopping: \(unfinished.counted("unfinished run")) will resume at the next start")
        await checkpointer.checkpoint()  // before the store closes with the service
        await service.shutdown()
        integrations.shutdown()
    }

    /// What one worker does for all: receiving from the chat networks that every worker would
    /// receive from alike (Matrix), running the integrations' fetches (two workers would both
    /// ingest every page), posting the scheduled report and the task notices, lifting expired actions (twice
    /// would undo twice), deleting the chat's old runs, edited texts and slash commands' conversations. On a shared store, the leader among the
    /// workers does it; on SQLite, the only one.
    private func lead() async {
        let sweeper = ChatSweeper(runs: service.runs.store, chat: chat.store, logger: logger)
        let duties: @Sendable () async -> Void = { [chat, fetches, reports, taskNotices, actions] in
            async let receiving: Void = chat.receiveOnThisWorker()
            async let fetching: Void = fetches.run()
            async let scheduled: Void = reports.run()
            async let chasing: Void = taskNotices.run()
            // The expiries are in the store: one that passed while no server ran lifts at the first look.
            async let expiries: Void = actions.expire(every: .seconds(1))
            async let sweeping: Void = sweeper.run(every: .seconds(3600))
            _ = await (receiving, fetching, scheduled, chasing, expiries, sweeping)
        }
        guard let shared = service.runs.store as? any LeasingStore else { return await duties() }
        await shared.lead(duties)
    }
}
