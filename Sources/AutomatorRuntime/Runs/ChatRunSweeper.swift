public import Foundation
public import Logging

/// Deletes the chat's runs a week after they finished (`Store.deleteFinishedChatRuns`): the
/// watcher stores a run for every message it reads, with its script's source, so a busy channel
/// would grow the store without end. What they leave that matters is kept elsewhere: a war room's
/// messages in its incident's journal, the verdicts in the intel tables, questions with their runs.
public struct ChatRunSweeper: Sendable {
    /// How long a finished chat run stays for `automator runs list`.
    public static let kept: TimeInterval = 7 * 24 * 3600

    let store: any Store
    let logger: Logger

    public init(store: any Store, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// Sweeps now, then every `interval` until cancelled.
    public func run(every interval: Duration) async {
        while !Task.isCancelled {
            await sweep()
            try? await Task.sleep(for: interval)
        }
    }

    /// Deletes the chat's runs that finished more than `kept` before `now`; returns how many.
    @discardableResult
    public func sweep(now: Date = Date()) async -> Int {
        do throws(StoreError) {
            let deleted = try await store.deleteFinishedChatRuns(finishedBefore: now - Self.kept)
            if deleted > 0 { logger.info("deleted \(deleted) chat run\(deleted == 1 ? "" : "s") finished over a week ago") }
            return deleted
        } catch {
            logger.warning("the chat's runs finished over a week ago could not be deleted (tried again in an hour): \(error)")
            return 0
        }
    }
}
