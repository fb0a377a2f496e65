import AutomatorRuntime
import Foundation
import Hummingbird

/// `POST /api/v1/incidents/{id}/command`: a war-room command (`!note ...`, `!task done 3`,
/// `!ip ...`) said to the server's bot in the incident's console channel, `#inc-42`, as
/// `automator repl --incident` says it on a data folder; the answer is what the bot posted there.
struct WarRoomRoutes: Sendable {
    let chat: ChatService
    /// The server's console: a chat network of its own, which only these requests talk in.
    let console: ConsoleAdapter
    let posts: WarRoomPosts

    func add(to group: RouterGroup<APIRequestContext>) {
        group.post("incidents/{id}/command", use: command)
    }

    /// `{"text": "!note called the user", "by": "alice"}` → 200 `{"posts": ["..."]}`, once every
    /// run the command started has ended or waits for a person. With a personal token, `by` is
    /// its holder, and the command needs its roles (`chat.roles`), as in chat: a refusal is posted.
    @Sendable func command(_ request: Request, context: APIRequestContext) async throws -> Response {
        guard let text = context.parameters.get("id"), let id = IncidentID(text) else {
            throw APIError.badRequest("the path needs an incident id such as INC-42")
        }
        let body = try await request.smallBody(example: #"{"text": "!note called the user", "by": "alice"}"#)
        guard let object = (try? JSONSerialization.jsonObject(with: Data(String(buffer: body).utf8))) as? [String: Any],
              let line = object["text"] as? String, !line.trimmingCharacters(in: .whitespaces).isEmpty
        else { throw APIError.badRequest(#"send {"text": "!note called the user", "by": "alice"}"#) }
        // The bot's roles and the journal name the person: a command from nobody is refused. A
        // personal token names its holder.
        guard let by = try RequestActor.by(in: object) ?? context.authenticated.person else {
            throw APIError.badRequest(#""by" is missing: it names who types the command, as in {"text": "!note called the user", "by": "alice"}"#)
        }
        let channel = "#" + id.description.lowercased()
        do {
            try await chat.ensureWarRoom(channel, on: console.network, for: id,
                                         by: try RequestActor.of(request, context, by: by))
        } catch let error as StoreError where error.kind == .notFound {
            throw APIError.notFound("there is no incident \(id)")
        }
        let said = await posts.collect(in: channel) {
            // A personal token's holder needs the command's roles, as in chat; the shared token's
            // is the operator, exempt as the terminal is.
            await console.say("\(channel) \(line)", by: by, rolesApply: context.authenticated.person != nil, to: chat)
            await chat.settle()
        }
        return .json(#"{"posts":"# + JSONText.array(said.map(JSONText.string)) + "}")
    }
}

/// What the server's console posts, handed to the requests that wait in each channel.
final class WarRoomPosts: Sendable {
    private let waiting = Locked<[String: [UUID: [String]]]>([:])

    /// The console's output: `[#inc-42] text`, its later lines indented under the first.
    func write(_ output: String) {
        guard output.hasPrefix("["), let end = output.firstIndex(of: "]") else { return }
        let channel = String(output[output.index(after: output.startIndex)..<end])
        let place = output.distance(from: output.startIndex, to: end) + 2
        let text = output.dropFirst(place).replacingOccurrences(of: "\n" + String(repeating: " ", count: place), with: "\n")
        waiting.withLock { waiting in
            guard var requests = waiting[channel] else { return }
            for request in requests.keys { requests[request]?.append(text) }
            waiting[channel] = requests
        }
    }

    /// What is posted in `channel` while `body` runs.
    func collect(in channel: String, _ body: () async -> Void) async -> [String] {
        let request = UUID()
        waiting.withLock { $0[channel, default: [:]][request] = [] }
        await body()
        return waiting.withLock { waiting in
            defer { waiting[channel]?[request] = nil }
            return waiting[channel]?[request] ?? []
        }
    }
}
