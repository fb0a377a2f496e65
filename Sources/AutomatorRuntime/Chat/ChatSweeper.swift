public import Foundation
public import Logging

/// Deletes what the chat keeps for every message a week after: the chat's finished runs
/// (`Store.deleteFinishedChatRuns`), since the watcher stores a run for every message it reads,
/// with its script's source, and the texts of edited messages (`ChatStore.deleteEditedTexts`);
/// and slash commands' conversations once Slack takes no more answers to them (half an hour).
/// Kept, a busy channel would grow the store without end. What they leave that matters is kept
/// elsewhere: a war room's messages in its incident's journal, the verdicts in the intel tables,
/// questions with their runs. An edit made later than a week after the previous one is compared
/// with the message as the network gives it, so what the earlier edit added is answered again.
public struct ChatSweeper: Sendable {
    /// How long a finished chat run, or an edited message's text, stays.
    public static let kept: TimeInterval = 7 * 24 * 3600

    let runs: any Store
    let chat: any ChatStore
    let logger: Logger

    public init(runs: any Store, chat: any ChatStore, logger: Logger) {
        self.runs = runs
        self.chat = chat
        self.logger = logger
    }

    /// Sweeps now, then every `interval` until cancelled.
    public func run(every interval: Duration) async {
        while !Task.isCancelled {
            await sweep()
            try? await Task.sleep(for: interval)
        }
    }

    /// Deletes the chat's runs that finished more than `kept` before `now`, the edited texts kept
    /// for as long, and the slash commands' conversations past their lifetime; returns how many of each.
    @discardableResult
    public func sweep(now: Date = Date()) async -> (runs: Int, editedTexts: Int, commandConversations: Int) {
        var deleted = (runs: 0, editedTexts: 0, commandConversations: 0)
        do throws(StoreError) {
            deleted.runs = try await runs.deleteFinishedChatRuns(finishedBefore: now - Self.kept)
            if deleted.runs > 0 {
                logger.info("deleted \(deleted.runs.counted("chat run")) finished over a week ago")
            }
        } catch {
            logger.warning("the chat's runs finished over a week ago could not be deleted (tried again in an hour): \(error)")
        }
        do throws(StoreError) {
            deleted.editedTexts = try await chat.deleteEditedTexts(keptBefore: now - Self.kept)
            let count = deleted.editedTexts
            if count > 0 { logger.info("deleted the texts of \(count.counted("edited message")) kept over a week") }
        } catch {
            logger.warning("the texts of edited messages kept over a week could not be deleted (tried again in an hour): \(error)")
        }
        do throws(StoreError) {
            deleted.commandConversations = try await chat.deleteCommandConversations(
                openedBefore: now - ChatCommandConversation.lifetime)
        } catch {
            logger.warning("slash commands' conversations over half an hour old could not be deleted (tried again in an hour): \(error)")
        }
        return deleted
    }
}
