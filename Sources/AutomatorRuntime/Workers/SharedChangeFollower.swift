public import Logging

/// What tells this worker of the changes made through the other workers on a store they share
/// (`LeasingStore.followChanges`): a run killed there (or whose incident was closed there) stops
/// here, a task completed or a question answered there resumes the run waiting on it here, and
/// what the bot was told there, it knows here.
///
/// When changes may have been missed (at the start, after the connection was lost) or one could
/// not be read, everything waited on here is looked at again.
public struct SharedChangeFollower: Sendable {
    private let store: any LeasingStore
    private let runs: RunService
    private let ledger: IncidentLedger
    private let chat: ChatService
    private let logger: Logger

    /// Nil when the ledger's store is not shared (SQLite): every change is made here.
    public init?(runs: RunService, ledger: IncidentLedger, chat: ChatService, logger: Logger) {
        guard let store = ledger.store as? any LeasingStore else { return nil }
        self.store = store
        self.runs = runs
        self.ledger = ledger
        self.chat = chat
        self.logger = logger
    }

    /// Follows the changes until the task is cancelled.
    public func run() async {
        let missed = Locked(false)
        await withDiscardingTaskGroup { group in
            group.addTask {
                await store.followChanges { change in
                    do throws(StoreError) { try await apply(change) } catch {
                        if !error.isDatabaseAway {
                            logger.warning("a change made by another worker could not be read (\(error)); looking again in 1 s")
                        }
                        missed.withLock { $0 = true }
                    }
                }
            }
            // A change that could not be read is looked for again, with everything else waited on.
            group.addTask {
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    guard missed.withLock({ flag in defer { flag = false }; return flag }) else { continue }
                    do { try await apply(.unknown) } catch { missed.withLock { $0 = true } }
                }
            }
        }
    }

    private func apply(_ change: SharedChange) async throws(StoreError) {
        switch change {
        case .killAsked(let id): try await runs.killAskedElsewhere(id)
        case .taskEnded(let id): try await ledger.completedElsewhere(id)
        case .questionAnswered(let id): try await chat.answeredElsewhere(id)
        case .chatChannels(let network): try await chat.settingsChangedElsewhere(in: network)
        case .unknown:
            // Kills first: a closed incident's run waiting on one of its tasks ends killed, as it
            // does when told in order (the close asks the kills before it cancels the tasks), not
            // failed by the cancelled task.
            try await runs.killAskedElsewhere(nil)
            try await ledger.completedElsewhere(nil)
            try await chat.answeredElsewhere(nil)
            try await chat.settingsChangedElsewhere(in: nil)
        }
    }
}
