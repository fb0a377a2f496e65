public import Foundation

/// A channel, private channel, room or direct conversation, as its chat network names it.
public struct ChatChannel: Sendable, Hashable, Codable {
    /// The network's own id: `C0123ABC` on Slack, `!abc:example.org` on Matrix, `#soc` on the
    /// console.
    public var id: String
    /// The name people type, without `#` (`soc`); for a direct conversation, the other person's.
    public var name: String
    /// A direct conversation with the bot: commands need no `!` there.
    public var isDirect: Bool

    public init(id: String, name: String, isDirect: Bool = false) {
        self.id = id
        self.name = name
        self.isDirect = isDirect
    }
}

/// A person (or bot) on a chat network.
public struct ChatUser: Sendable, Hashable, Codable {
    /// `U0123ABC` on Slack, `@alice:example.org` on Matrix.
    public var id: String
    /// The name shown and matched by the roles of the configuration (`alice`).
    public var name: String

    public init(id: String, name: String) {
        self.id = id
        self.name = name
    }
}

/// A file uploaded with a message; its bytes are fetched with `ChatAdapter.download`.
public struct ChatFile: Sendable, Hashable, Codable {
    /// The network's id of the file (Slack `F0123`, a Matrix `mxc://` URI).
    public var id: String
    public var name: String
    public var size: Int?
    public var mimeType: String?
    /// Where the adapter downloads it from (Slack's `url_private`, a Matrix `mxc://` URI).
    public var url: String

    public init(id: String, name: String, size: Int? = nil, mimeType: String? = nil, url: String) {
        self.id = id
        self.name = name
        self.size = size
        self.mimeType = mimeType
        self.url = url
    }
}

/// A message the bot received.
public struct ChatMessage: Sendable, Hashable, Codable {
    /// Its id within the channel: Slack's `ts`, a Matrix event id. An edit has the id of the
    /// message it edits: it is that message, with a new text.
    public var id: String
    public var channel: ChatChannel
    public var user: ChatUser
    /// Plain text, as the person wrote it (Slack's `<http://x|x>` markup left as it is: the
    /// extractor reads it).
    public var text: String
    /// The id of the thread's first message, when the message is a reply in a thread.
    public var thread: String?
    /// The message it answers, when the network says so (a Matrix reply; a Slack thread reply
    /// answers the thread's first message).
    public var replyTo: String?
    public var files: [ChatFile]
    /// The targets of links the text does not show: a Matrix message's HTML links whose label is
    /// not their URL (`<a href="https://evil.example/">the portal</a>`). Slack's `<url|label>` is
    /// in `text`, URL and all.
    public var links: [String]
    /// Set when the message is an edit of an earlier one (whose `id` it has).
    public var edit: ChatEdit?
    public var at: Date
    /// True when commands' roles govern its author on a network that exempts its people
    /// (`ChatAdapter.commandsNeedRoles`): a command sent to the server's console with a personal
    /// API token, whose holder is a person like any in chat, not the holder of the data folder.
    public var rolesApply: Bool?

    public init(id: String, channel: ChatChannel, user: ChatUser, text: String, thread: String? = nil,
                replyTo: String? = nil, files: [ChatFile] = [], links: [String] = [], edit: ChatEdit? = nil,
                at: Date = Date())
    {
        self.id = id
        self.channel = channel
        self.user = user
        self.text = text
        self.thread = thread
        self.replyTo = replyTo
        self.files = files
        self.links = links
        self.edit = edit
        self.at = at
    }
}

/// What is known of an edit besides the new text.
public struct ChatEdit: Sendable, Hashable, Codable {
    /// The text before the edit: Slack sends it; for Matrix, which sends only the new text, the
    /// bot fills it in from the message it remembers or reads back.
    public var previousText: String?

    public init(previousText: String? = nil) { self.previousText = previousText }
}

/// A question with choices that suspends a run until an authorised person answers
/// (`chat.ask`, `chat.approve`). Slack shows the choices as buttons; the other networks list
/// them and take the answer as a reply in the thread.
public struct ChatQuestion: Sendable, Hashable, Codable {
    /// The bot's id of the question, carried by the answer (a Slack button's value).
    public var id: String
    public var choices: [String]

    public init(id: String, choices: [String]) {
        self.id = id
        self.choices = choices
    }
}

/// A message the bot sends.
public struct ChatPost: Sendable, Hashable {
    /// The channel's id.
    public var channel: String
    public var text: String
    /// Posts it as a reply in this message's thread.
    public var thread: String?
    public var question: ChatQuestion?
    /// Whom it notifies (`ChatMention`), before the text: the only part the adapter does not
    /// escape.
    public var mentions: [String]

    public init(channel: String, text: String, thread: String? = nil, question: ChatQuestion? = nil,
                mentions: [String] = []) {
        self.channel = channel
        self.text = text
        self.thread = thread
        self.question = question
        self.mentions = mentions
    }
}

/// A message the bot sent, to react to or answer in.
public struct ChatMessageRef: Sendable, Hashable, Codable {
    public var channel: String
    public var id: String

    public init(channel: String, id: String) {
        self.channel = channel
        self.id = id
    }
}

/// A person's answer to a question through the network's own controls (a Slack button);
/// answers typed as replies arrive as messages.
public struct ChatAnswer: Sendable, Hashable {
    public var question: String
    public var choice: String
    public var user: ChatUser
    public var channel: ChatChannel
    /// The message that asked, so that the adapter's network can show who answered.
    public var message: ChatMessageRef?

    public init(question: String, choice: String, user: ChatUser, channel: ChatChannel, message: ChatMessageRef? = nil) {
        self.question = question
        self.choice = choice
        self.user = user
        self.channel = channel
        self.message = message
    }
}
