import AutomatorRuntime
import Dispatch
import Foundation

/// The REPL's `!` lines: the bot of `automator chat`, opened on the data folder at the first one.
/// The REPL reads and evaluates on its own thread; each line waits here for the bot's answer.
final class ReplBot: @unchecked Sendable {
    private let opening: @Sendable () async throws -> ChatConsole
    /// Touched only from the REPL's thread, between waits.
    private var console: ChatConsole?
    /// The console channel lines are said in (an incident's war room), or nil for a direct message.
    private let channel: String?

    init(opening: @escaping @Sendable () async throws -> ChatConsole, channel: String? = nil) {
        self.opening = opening
        self.channel = channel
    }

    /// Says `line` to the bot; false if the bot could not be opened.
    func say(_ said: String) -> Bool {
        let line = channel.map { "\($0) \(said)" } ?? said
        let opened = console
        let result = Self.wait { [opening] () async -> Result<ChatConsole, any Error> in
            do {
                let console = if let opened { opened } else { try await opening() }
                await console.say(line)
                return .success(console)
            } catch {
                return .failure(error)
            }
        }
        fflush(nil)
        switch result {
        case .success(let opened):
            console = opened
            return true
        case .failure(let error):
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            return false
        }
    }

    func close() {
        guard let console else { return }
        _ = Self.wait { await console.close() }
    }

    /// Waits on this (the REPL's) thread for async work.
    static func wait<T: Sendable>(_ body: @escaping @Sendable () async -> T) -> T {
        let done = DispatchSemaphore(value: 0)
        let result = Locked<T?>(nil)
        Task {
            let value = await body()
            result.withLock { $0 = value }
            done.signal()
        }
        done.wait()
        return result.withLock { $0 }!
    }
}
