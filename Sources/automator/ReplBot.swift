import AutomatorRuntime
import Dispatch
import Foundation

/// The REPL's `!` lines: the bot of `automator chat`, opened on the data folder at the first one
/// (or the server's, when one holds the folder). The REPL reads and evaluates on its own
/// thread; each line waits here for the bot's answer.
final class ReplBot: @unchecked Sendable {
    private let opening: @Sendable () async throws -> any ReplBotBackend
    /// Touched only from the REPL's thread, between waits.
    private var bot: (any ReplBotBackend)?
    /// The channel lines are said in (an incident's war room), or nil for a direct message.
    private let channel: String?

    init(opening: @escaping @Sendable () async throws -> any ReplBotBackend, channel: String? = nil) {
        self.opening = opening
        self.channel = channel
    }

    /// Says `said` to the bot; false if the bot could not be opened or did not answer.
    func say(_ said: String) -> Bool {
        let opened = bot
        let result = waitBlocking { [opening, channel] () async -> Result<any ReplBotBackend, any Error> in
            do {
                let bot = if let opened { opened } else { try await opening() }
                try await bot.say(said, in: channel)
                return .success(bot)
            } catch {
                return .failure(error)
            }
        }
        fflush(nil)
        switch result {
        case .success(let opened):
            bot = opened
            return true
        case .failure(let error):
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            return false
        }
    }

    func close() {
        guard let bot else { return }
        waitBlocking { await bot.close() }
    }
}
