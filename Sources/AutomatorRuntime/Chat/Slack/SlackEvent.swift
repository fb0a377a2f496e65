/// An Events API request's body: `url_verification` with its `challenge`, or `event_callback`
/// with its `event`.
///
/// Slack's snake-case names are spelled in coding keys, here and in the adapter's other
/// `Decodable` types: `convertFromSnakeCase` converted every key of every event and answer, each
/// message, to find the few that differ.
struct SlackEventEnvelope: Decodable {
    var type: String
    var challenge: String?
    var eventId: String?
    var event: SlackEvent?

    private enum CodingKeys: String, CodingKey { case type, challenge, eventId = "event_id", event }
}

/// A `message` or `app_mention` event; other events decode too, and are left out by `incoming`.
struct SlackEvent: Decodable {
    var type: String
    var subtype: String?
    var user: String?
    var botId: String?
    var text: String?
    var channel: String?
    /// `channel`, `group` (a private channel), `im`, `mpim`; `app_mention` has none.
    var channelType: String?
    var ts: String?
    var threadTs: String?
    var files: [SlackFile]?
    var attachments: [Attachment]?
    var hidden: Bool?
    /// A `message_changed`'s message, as it is now, and its text before.
    var message: ChangedMessage?
    var previousMessage: PreviousMessage?

    private enum CodingKeys: String, CodingKey {
        case type, subtype, user, botId = "bot_id", text, channel, channelType = "channel_type", ts,
             threadTs = "thread_ts", files, attachments, hidden, message, previousMessage = "previous_message"
    }

    /// A message shared into this one (Slack's "Forward"), `is_share`; other attachments are
    /// apps' and link previews.
    struct Attachment: Decodable {
        var isShare: Bool?
        var text: String?

        private enum CodingKeys: String, CodingKey { case isShare = "is_share", text }
    }

    struct ChangedMessage: Decodable {
        var user: String?
        var botId: String?
        var text: String?
        var ts: String?
        var threadTs: String?

        private enum CodingKeys: String, CodingKey { case user, botId = "bot_id", text, ts, threadTs = "thread_ts" }
    }

    struct PreviousMessage: Decodable { var text: String? }

    /// Subtypes of messages people write; the others are edits, deletions, joins, bots' posts.
    static let spoken: Set<String?> = [nil, "file_share", "thread_broadcast"]
    static let conversations: Set<String> = ["channel", "group", "im"]

    /// The message for the bot, whose user is `bot`; nil for anything else.
    func incoming(bot: String) -> SlackIncoming? {
        if type == "message", subtype == "message_changed" { return edit(bot: bot) }
        guard type == "message" || type == "app_mention", Self.spoken.contains(subtype), botId == nil, hidden != true,
              let user, user != bot, let channel, let ts
        else { return nil }
        if let channelType, !Self.conversations.contains(channelType) { return nil }
        return SlackIncoming(channel: channel, isDirect: channelType == "im", user: user,
                             text: Self.quoting(attachments ?? [], below: Self.command(text ?? "", mentioning: bot)),
                             ts: ts, thread: threadTs == ts ? nil : threadTs, files: files ?? [])
    }

    /// `text` with the messages shared in it quoted below, as Slack shows them: a phish reported
    /// by forwarding it has its links and addresses there alone, with `text` empty or a comment.
    static func quoting(_ attachments: [Attachment], below text: String) -> String {
        let shared = attachments.filter { $0.isShare == true }.compactMap(\.text).filter { !$0.isEmpty }.map { shared in
            shared.split(separator: "\n", omittingEmptySubsequences: false).map { "> " + $0 }.joined(separator: "\n")
        }
        return ([text].filter { !$0.isEmpty } + shared).joined(separator: "\n")
    }

    /// A person's edit of their message (`message_changed`), as that message with its new text;
    /// nil when the text did not change (Slack sends the event for a link's preview too).
    private func edit(bot: String) -> SlackIncoming? {
        guard let message, message.botId == nil, let user = message.user, user != bot, let text = message.text,
              let channel, let ts = message.ts, let editedAt = self.ts, text != previousMessage?.text
        else { return nil }
        if let channelType, !Self.conversations.contains(channelType) { return nil }
        return SlackIncoming(channel: channel, isDirect: channelType == "im", user: user, text: text, ts: ts,
                             thread: message.threadTs == ts ? nil : message.threadTs, files: [],
                             edit: SlackIncoming.Edit(at: editedAt, previousText: previousMessage?.text))
    }

    /// A message that begins by mentioning the bot (`<@UBOT> ip 1.2.3.4`) is a command to it:
    /// `!ip 1.2.3.4`. Other text is left as it is.
    static func command(_ text: String, mentioning bot: String) -> String {
        let rest: Substring
        if text.hasPrefix("<@\(bot)>") {
            rest = text.dropFirst(bot.count + 3)
        } else if text.hasPrefix("<@\(bot)|"), let end = text.firstIndex(of: ">") {
            rest = text[text.index(after: end)...]
        } else {
            return text
        }
        let command = rest.drop { $0.isWhitespace }
        return command.hasPrefix("!") ? String(command) : "!" + command
    }
}

/// A message accepted from an event, before its names are looked up.
struct SlackIncoming: Sendable {
    var channel: String
    /// Known from the event's `channel_type`; `app_mention`s learn it from `conversations.info`.
    var isDirect: Bool
    var user: String
    var text: String
    var ts: String
    var thread: String?
    var files: [SlackFile]
    var edit: Edit? = nil

    struct Edit: Sendable {
        /// The `message_changed` event's own `ts`: each edit of a message is delivered once.
        var at: String
        var previousText: String?
    }

    /// What tells a repeat of this message from a first: Slack's retries, a mention's two events.
    var key: String { channel + "/" + ts + (edit.map { "/" + $0.at } ?? "") }
}
