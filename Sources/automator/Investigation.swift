import AutomatorRuntime
import Foundation

/// `automator repl --incident INC-42`: the REPL as an incident's investigation log. The bot
/// works in the incident's war room (`#inc-42` on the console), so `!note called the user` and
/// `!task done 3` need no incident id; every line typed, Lua or `!`, is journaled on the
/// incident with what it showed (kind `command`), in the name of the person at the terminal.
final class Investigation: Sendable {
    let incident: IncidentID
    /// The console channel that is the incident's war room.
    var channel: String { "#" + incident.description.lowercased() }
    /// Who investigates: `cli:alice`.
    let actor: String
    /// What the bot posted since the last line was journaled.
    private let posted = Locked<[String]>([])
    private let console = Locked<ChatConsole?>(nil)

    init(incident: IncidentID, actor: String) {
        self.incident = incident
        self.actor = actor
    }

    /// Shows a post of the bot and keeps it for the journal.
    func write(_ text: String) {
        print(text)
        posted.withLock { $0.append(text) }
    }

    /// Opens the bot's console on the folder and makes its channel the war room.
    func open(_ opening: () async throws -> ChatConsole) async throws -> ChatConsole {
        let opened = try await opening()
        try await opened.makeWarRoom(channel, for: incident, by: actor)
        console.withLock { $0 = opened }
        return opened
    }

    /// Journals a line and what it showed; `shown` nil for a `!` line: what the bot posted.
    func record(_ input: String, shown: [String]?) {
        let output = shown ?? posted.withLock { posted in
            defer { posted = [] }
            return posted
        }
        guard let console = console.withLock({ $0 }) else { return }
        let entry = JournalEntry(incident: incident, actor: actor, kind: .command,
                                 text: ([input] + output).joined(separator: "\n"))
        let failure = ReplBot.wait { () async -> String? in
            do { try await console.journal(entry) } catch { return "\(error)" }
            return nil
        }
        if let failure { FileHandle.standardError.write(Data("warning: not journaled on \(incident): \(failure)\n".utf8)) }
    }
}
