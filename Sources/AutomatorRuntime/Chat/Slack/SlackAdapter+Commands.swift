import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

extension SlackAdapter {
    /// `POST /slack/commands`: a slash command (`/automator ip 203.0.113.7`), as a form. Checks the
    /// signature (401), delivers it to `inbox` (`take`) and answers 200 once the bot has it (or
    /// at the deadline: `handOver`). A form that is not a slash command is a 400.
    package func handleCommand(_ request: SlackHTTPRequest, delivering inbox: any ChatInbox) async -> SlackHTTPResponse {
        if let refusal = refusal(of: request) { return refusal }
        guard let command = SlackCommand(form: Self.formFields(in: request.body)) else {
            return .badRequest("a slash command is a form with command, text, user_id, channel_id and response_url")
        }
        guard me != nil else { return .notConnected }
        return await take(command, delivering: inbox)
    }

    /// Delivers a slash command as a direct message to the bot from its user, whatever channel it
    /// was typed in: its text is read as a direct message is (`ip 203.0.113.7` runs `ip`, and an
    /// address alone is checked), `help` when it has none. The bot's answers go to the command's
    /// `response_url`, for that person's eyes only (Slack's ephemeral messages), so a command
    /// works in any channel, the bot a member or not, without posting there. Over HTTP and over
    /// Socket Mode. The conversation is in the store before the message is delivered: the worker
    /// that answers may be another, or this one restarted. Nothing is delivered when the answers
    /// would go to a host that is neither HTTPS nor the Web API's (a 400), or when the store cannot
    /// keep the conversation (the person is told to try again).
    @discardableResult
    func take(_ command: SlackCommand, delivering inbox: any ChatInbox) async -> SlackHTTPResponse {
        guard let url = URL(string: command.responseURL), Self.mayAnswer(at: url, apiURL: configuration.apiURL) else {
            logger.warning("slack: refused the slash command \(command.command): its response_url is not Slack's")
            return .badRequest("the command's response_url is not Slack's")
        }
        // Random, not counted: a run replayed after a restart answers its own command or none,
        // never the one that took its number since.
        let conversation = ChatCommandConversation(
            network: network, id: Self.commandChannel + String(UInt64.random(in: 1...UInt64.max), radix: 16),
            name: command.channelName ?? command.channelID, responseURL: command.responseURL)
        do { try await conversations.openCommandConversation(conversation) } catch {
            logger.error("slack: the slash command \(command.command) was not taken, since its conversation could not be kept: \(error)")
            return .told("Automator cannot take commands at the moment (its store is unavailable): try again in a minute.")
        }
        await handOver { [self] in
            let message = ChatMessage(id: conversation.id, channel: conversation.channel,
                                      user: await directory.userOrID(command.userID), text: command.line)
            await inbox.receive(message, from: self)
        }
        return .ok
    }

    /// The ids of the conversations that answer slash commands begin so (`slash:9f0c…`): no
    /// Slack conversation id does.
    static let commandChannel = "slash:"

    /// The conversation of the slash command `id` (`slash:9f0c…`), while Slack takes its answers,
    /// whichever worker took the command.
    func commandConversation(_ id: String) async throws(ChatError) -> ChatCommandConversation? {
        let since = Date() - ChatCommandConversation.lifetime
        do { return try await conversations.commandConversation(network: network, id: id, openedSince: since) } catch {
            throw ChatError(.unavailable, "the slash command \(id) cannot be answered now, since the store is unavailable: \(error)")
        }
    }

    /// Slack's `response_url` is `https://hooks.slack.com/…`; tests answer on the loopback Web API.
    private static func mayAnswer(at url: URL, apiURL: String) -> Bool {
        guard let api = URL(string: apiURL) else { return false }
        return url.scheme == "https" || (url.scheme == api.scheme && url.host == api.host && url.port == api.port)
    }

    /// Posts the bot's answer to a slash command to its `response_url`, seen by its user alone
    /// (Slack takes five answers to a command, within half an hour). No token: the URL is its own
    /// authorisation.
    func answerCommand(_ post: ChatPost) async throws(ChatError) -> ChatMessageRef {
        guard let url = try await commandConversation(post.channel)?.responseURL else {
            throw ChatError(.notFound, "the slash command \(post.channel) can no longer be answered: Slack takes answers "
                + "for half an hour; ask again")
        }
        struct Answer: Encodable {
            var text: String
            var responseType = "ephemeral"
            var blocks: [SlackBlock]?

            private enum CodingKeys: String, CodingKey { case text, responseType = "response_type", blocks }
        }
        let answer = Answer(text: post.text, blocks: post.question.map { SlackQuestionBlocks.blocks(text: post.text, question: $0) })
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        do { request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(answer))) } catch {
            throw ChatError(.unavailable, "Slack: the answer to a slash command could not be encoded: \(error)")
        }
        let response = try await api.send(request, what: "the answer to a slash command")
        _ = try? await response.body.collect(upTo: SlackWebAPI.maximumAnswer)
        guard response.status == .ok else {
            throw ChatError(.unavailable, "Slack answered HTTP \(response.status.code) to the answer of a slash command "
                + "(it takes five, within half an hour)")
        }
        return ChatMessageRef(channel: post.channel, id: post.channel)
    }

    /// The fields of a form-encoded body.
    static func formFields(in body: [UInt8]) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in String(decoding: body, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, let value = parts[1].replacingOccurrences(of: "+", with: " ").removingPercentEncoding
            else { continue }
            fields[String(parts[0])] = value
        }
        return fields
    }
}

extension ChatCommandConversation {
    /// The bot's direct conversation with the person who typed the command.
    var channel: ChatChannel { ChatChannel(id: id, name: name, isDirect: true) }
}

/// A slash command, as Slack sends it: a form over HTTP, a JSON payload over Socket Mode.
struct SlackCommand: Decodable, Sendable {
    /// `/automator`.
    var command: String
    var text: String
    var userID: String
    var channelID: String
    var channelName: String?
    var responseURL: String

    private enum CodingKeys: String, CodingKey {
        case command, text, userID = "user_id", channelID = "channel_id", channelName = "channel_name",
             responseURL = "response_url"
    }

    init?(form fields: [String: String]) {
        guard let command = fields["command"], let userID = fields["user_id"], let channelID = fields["channel_id"],
              let responseURL = fields["response_url"]
        else { return nil }
        self.command = command
        text = fields["text"] ?? ""
        self.userID = userID
        self.channelID = channelID
        channelName = fields["channel_name"]
        self.responseURL = responseURL
    }

    /// What the bot reads: the command's text, `help` when there is none.
    var line: String {
        let line = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return line.isEmpty ? "help" : line
    }
}
