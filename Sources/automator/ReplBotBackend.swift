import AutomatorRuntime
import Foundation

/// Where the REPL's `!` lines go: the bot on the data folder (`ChatConsole`), or, when a server
/// holds the folder, the server's bot in the incident's war room (`ServerWarRoom`).
protocol ReplBotBackend: Sendable {
    /// Says `text` in `channel` (a war room such as `#inc-42`; nil: a direct message) and
    /// returns once the bot has answered.
    func say(_ text: String, in channel: String?) async throws
    func close() async
}

extension ChatConsole: ReplBotBackend {
    func say(_ text: String, in channel: String?) async {
        await say(channel.map { "\($0) \(text)" } ?? text)
    }
}

/// The server's bot, through `POST /api/v1/incidents/ID/command`: what the investigation REPL
/// talks to when `automator serve` holds the data folder. The server's console answers in the
/// incident's war room; its posts are shown here.
struct ServerWarRoom: ReplBotBackend {
    let client: ServerClient
    let incident: IncidentID
    /// Who types, as the bot's roles and the journal name them.
    let user: String
    let write: @Sendable (String) -> Void

    func say(_ text: String, in channel: String?) async throws {
        var body = JSONText.Object()
        body["text"] = JSONText.string(text)
        body["by"] = JSONText.string(user)
        let answer = try await client.call("POST", "/api/v1/incidents/\(incident)/command", body: body.text)
        let posts = (try? JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any])?["posts"] as? [String]
        for post in posts ?? [] { write(post) }
    }

    func close() async {}
}
