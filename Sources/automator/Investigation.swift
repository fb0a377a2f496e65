import AutomatorRuntime
import Foundation

/// `automator repl --incident INC-42`: the REPL as an incident's investigation log. On the data
/// folder, the bot works in the incident's war room (`#inc-42` on the console), so `!note called
/// the user` and `!task done 3` need no incident id; through a running server, `inc` is the
/// incident as the API shows it. Either way every line typed is journaled on the incident with
/// what it showed (kind `command`), in the name of the person at the terminal.
final class Investigation: Sendable {
    let incident: IncidentID
    /// The console channel that is the incident's war room.
    var channel: String { "#" + incident.description.lowercased() }
    /// Who investigates: `cli:alice`.
    let actor: String
    /// What the bot posted since the last line was journaled.
    private let posted = Locked<[String]>([])
    /// Where entries go: the folder's store, through the bot's console, or the server's API.
    private let journal = Locked<Callback<@Sendable (JournalEntry) async throws -> Void>?>(nil)

    init(incident: IncidentID, actor: String) {
        self.incident = incident
        self.actor = actor
    }

    /// Shows a post of the bot and keeps it for the journal.
    func write(_ text: String) {
        printVisible(text)
        posted.withLock { $0.append(text) }
    }

    /// Opens the bot's console on the folder and makes its channel the war room.
    func open(_ opening: () async throws -> ChatConsole) async throws -> ChatConsole {
        let opened = try await opening()
        try await opened.makeWarRoom(channel, for: incident, by: actor)
        journal.withLock { $0 = Callback { try await opened.journal($0) } }
        return opened
    }

    /// Works through the server that holds the folder: returns the incident's JSON, as the API
    /// shows it, and journals there.
    func attach(_ client: ServerClient, user: String?) async throws(CommandFailure) -> String {
        let json = try await client.call("GET", "/api/v1/incidents/\(incident)")
        journal.withLock { journal in
            journal = Callback { [incident] entry throws(CommandFailure) in
                var body = JSONText.Object()
                body["kind"] = JSONText.string(entry.kind.rawValue)
                body["text"] = JSONText.string(entry.text)
                body["by"] = user.map(JSONText.string)
                _ = try await client.call("POST", "/api/v1/incidents/\(incident)/journal", body: body.textWithoutNulls)
            }
        }
        return json
    }

    /// Journals a line and what it showed; `shown` nil for a `!` line: what the bot posted.
    func record(_ input: String, shown: [String]?) {
        let output = shown ?? posted.withLock { posted in
            defer { posted = [] }
            return posted
        }
        guard let journal = journal.withLock({ $0 }) else { return }
        let entry = JournalEntry(incident: incident, actor: actor, kind: .command,
                                 text: ([input] + output).joined(separator: "\n"))
        let failure = waitBlocking { () async -> String? in
            do { try await journal.call(entry) } catch { return "\(error)" }
            return nil
        }
        if let failure { FileHandle.standardError.write(Data("warning: not journaled on \(incident): \(failure)\n".utf8)) }
    }
}
