/// A chat network the bot lives in: Slack, Matrix, the console. An adapter turns the network's
/// events into `ChatMessage`s for the bot's inbox and carries out what the bot says.
///
/// Every method may throw `ChatError`; an adapter retries what its network asks it to retry
/// (a 429 with `Retry-After`) and throws the rest.
public protocol ChatAdapter: AnyObject, Sendable {
    /// `slack`, `matrix`, `console`: the prefix of the ids the bot stores (`slack:C0123`).
    var network: String { get }

    /// Connects (logs in, checks the token), then delivers the network's messages and answers to
    /// `inbox` until the task is cancelled; throws when the network cannot be reached for good.
    /// Slack's Events API delivers through the server's routes instead, and returns once the
    /// token is checked.
    func run(delivering inbox: any ChatInbox) async throws

    /// Whether one worker alone may receive from this network, among workers sharing a store:
    /// true where `run` polls the network (Matrix's `/sync`), so that every worker running it
    /// would receive each message. Then `run` is the leader's, and the others `connect`.
    var receivesOnOneWorker: Bool { get }

    /// Connects as `run` does, without receiving, so that a worker that does not receive can post.
    func connect() async throws

    /// The bot's own user, known once `run` has connected; messages from it are not delivered.
    var me: ChatUser? { get }

    /// Whether it is connected, since when, and its last event, for `/healthz` and `/metrics`;
    /// nil where the adapter does not tell.
    var connection: ChatConnection? { get }

    /// Whether a user's name is theirs alone, so that roles may name people by it (a Slack
    /// handle). Where anyone can take a name (a Matrix display name), roles match ids only.
    var namesAreUnique: Bool { get }

    /// Whether `member`, a person as the configuration's roles write them, is `user`: their id,
    /// or their name where names are unique (`namesAreUnique`).
    func names(_ user: ChatUser, as member: String) -> Bool

    func post(_ post: ChatPost) async throws -> ChatMessageRef
    func react(to message: ChatMessageRef, with emoji: String) async throws
    func upload(to channel: String, name: String, data: [UInt8], comment: String?) async throws

    /// The channels the bot could join (`join all`), direct conversations excluded.
    func channels() async throws -> [ChatChannel]
    /// The channels `nameOrID` names: the one of an id, or every channel of a name (`soc`,
    /// without `#`), several when channels share it; empty if the network has none.
    func channels(named nameOrID: String) async throws -> [ChatChannel]
    func user(_ id: String) async throws -> ChatUser?
    func join(_ channel: ChatChannel) async throws
    func leave(_ channel: ChatChannel) async throws

    /// Why the bot may not post in `channel`, a channel it is in (the power level Matrix asks for
    /// a message, a Slack channel that is read-only or archived); nil when it may.
    func postingRefusal(in channel: ChatChannel) async throws -> String?

    /// The file's bytes; throws `.tooLarge` past `limit` bytes without reading the rest.
    func download(_ file: ChatFile, limit: Int) async throws -> [UInt8]

    /// A message of `channel`, asked of the network by its id: the one a command answers in its
    /// thread (`!file`, `!evidence`) when this process did not receive it (Slack sends each
    /// event to one of several workers; a restart forgets). Nil where the network has no such
    /// message or cannot be asked.
    func message(_ id: String, in channel: ChatChannel) async throws -> ChatMessage?

    /// Whether a post that names no network may go here (`chat.post("#soc", ...)`): true for
    /// the team's networks, false for the server's console, which only answers the
    /// investigation REPL's commands.
    var isDefaultNetwork: Bool { get }

    /// Whether commands' roles govern the people who write here: true for a team's network, where
    /// anyone in the workspace can write to the bot; false for the console, whose person holds the
    /// data folder and may do as much with the CLI. Who may answer a question is checked everywhere.
    var commandsNeedRoles: Bool { get }

    /// Whether people talk to one another in this network's channels: true for a team's
    /// network, where a `!word` that names no command and no typo of one is chatter the bot
    /// leaves alone; false for the console, where every line is said to the bot.
    var channelsAreShared: Bool { get }
}

extension ChatAdapter {
    public func names(_ user: ChatUser, as member: String) -> Bool {
        member == user.id || (namesAreUnique && member == user.name)
    }

    public var isDefaultNetwork: Bool { true }
    public var commandsNeedRoles: Bool { true }
    public var channelsAreShared: Bool { true }
    public var receivesOnOneWorker: Bool { false }
    public var connection: ChatConnection? { nil }
    public func connect() async throws {}
    public func postingRefusal(in channel: ChatChannel) async throws -> String? { nil }
    public func message(_ id: String, in channel: ChatChannel) async throws -> ChatMessage? { nil }
}

/// Where adapters deliver what they receive: the bot.
public protocol ChatInbox: Sendable {
    func receive(_ message: ChatMessage, from adapter: any ChatAdapter) async
    func receive(_ answer: ChatAnswer, from adapter: any ChatAdapter) async
}

/// Why a chat network refused or failed a request; `description` says what to do.
public struct ChatError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Hashable {
        /// The token or password was refused.
        case unauthorized
        /// The channel, user or file does not exist or the bot cannot see it.
        case notFound
        /// A file larger than the limit.
        case tooLarge
        /// The network failed, answered something unexpected, or kept rate-limiting.
        case unavailable
        /// An answer that is none of a question's choices.
        case notAChoice
        /// A channel's name that several channels share: it takes the id of one.
        case ambiguous
        /// The bot may not post in the channel.
        case forbidden
        /// Someone without the role a question asks for answered it.
        case notAllowed
    }

    public let kind: Kind
    public let description: String

    public init(_ kind: Kind, _ description: String) {
        self.kind = kind
        self.description = description
    }
}

/// Small state an adapter keeps across restarts (Matrix's `next_batch`), in the store.
public protocol ChatStateStore: Sendable {
    func chatState(_ key: String) async throws(StoreError) -> String?
    func setChatState(_ key: String, to value: String) async throws(StoreError)
}
