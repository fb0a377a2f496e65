public import Logging
import Synchronization

/// The bot on Slack: events arrive over HTTP (the Events API, at `/slack/events`), button
/// clicks at `/slack/interactions`, or both over Socket Mode (`SlackSocketMode.swift`) when the
/// configuration has an app token; the bot speaks through the Web API.
///
/// ```swift
/// let slack = SlackAdapter(configuration: SlackConfiguration(signingSecret: secret, botToken: token),
///                          conversations: store, logger: logger)
/// try await slack.run(delivering: bot)   // checks the token, learns `me`
/// // the server's routes hand each request to slack.handleEvents / slack.handleInteraction
/// ```
///
/// The app needs the bot scopes `channels:read`, `groups:read`, `im:read`, `users:read`,
/// `channels:join`, `chat:write`, `reactions:write`, `files:read`, `files:write`,
/// `channels:history`, `groups:history`, `im:history`, `app_mentions:read`, `commands`; the
/// events `message.channels`, `message.groups`, `message.im`, `app_mention` sent to
/// `https://HOST/slack/events`; Interactivity on, with `https://HOST/slack/interactions`; and a
/// slash command (`/automator`) with the request URL `https://HOST/slack/commands`. Over Socket
/// Mode instead: Socket Mode on, and an app-level token with `connections:write`.
public final class SlackAdapter: ChatAdapter {
    public let network = "slack"
    /// Slack handles are unique in a workspace (display names are not, and are not used).
    public let namesAreUnique = true

    let configuration: SlackConfiguration
    let api: SlackWebAPI
    let directory: SlackDirectory
    let logger: Logger
    /// Requests refused for their signature, logged a line a minute at most.
    let refusals: RefusedRequests
    /// When Slack's requests get their 200 if the bot has not taken their message yet.
    let deadlines: SlackDeadlines
    /// Where slash commands' conversations are kept, so that any worker answers them.
    let conversations: any ChatCommandStore
    let state = Mutex(State())

    struct State {
        var me: ChatUser?
        /// Event ids delivered lately, so that Slack's retries are not.
        var events = RecentKeys(capacity: 1000)
        /// `CHANNEL/TS` of the messages delivered lately: a mention comes as `message` and as
        /// `app_mention`.
        var messages = RecentKeys(capacity: 1000)
    }

    /// - Parameters:
    ///   - conversations: where slash commands' conversations are kept (the server's store), read
    ///     by whichever worker answers them.
    ///   - http: the clients for the Web API and files; by default those shared by every Slack
    ///     adapter. Those passed in must follow no redirect: a redirect would carry the bot token
    ///     along.
    ///   - answerWithin: the longest an event's 200 waits for the bot to have stored the message
    ///     (`handOver`); below Slack's 3 seconds.
    public init(configuration: SlackConfiguration, conversations: any ChatCommandStore, http: HTTPClients? = nil,
                answerWithin: Duration = .seconds(2), logger: Logger)
    {
        self.configuration = configuration
        self.conversations = conversations
        deadlines = SlackDeadlines(within: answerWithin)
        api = SlackWebAPI(configuration: configuration, clients: http ?? SlackWebAPI.sharedClients, logger: logger)
        directory = SlackDirectory(api: api, logger: logger)
        self.logger = logger
        refusals = RefusedRequests(logger: logger)
    }

    public var me: ChatUser? { state.withLock { $0.me } }

    /// Checks the token with `auth.test` and learns the bot's user; then receives over Socket
    /// Mode until cancelled when there is an app token, or returns: events come through
    /// `handleEvents`.
    public func run(delivering inbox: any ChatInbox) async throws {
        let me: ChatUser
        do { me = try await api.authTest() } catch {
            throw ChatError(error.kind, "cannot connect to Slack: \(error.description)")
        }
        state.withLock { $0.me = me }
        logger.info("slack: connected as \(me.name) (\(me.id))")
        if let appToken = configuration.appToken { try await receiveOverSocket(appToken: appToken, delivering: inbox) }
    }

    /// The text is shown as written (`SlackMarkup`): no mention, ping or labelled link in it is read;
    /// the post's `mentions` (`<@U0123ABCD>`, checked by `ChatMention`) come before it, as written.
    public func post(_ post: ChatPost) async throws -> ChatMessageRef {
        var post = post
        post.text = post.mentions.map { $0 + " " }.joined() + SlackMarkup.escaped(post.text)
        if post.channel.hasPrefix(Self.commandChannel) { return try await answerCommand(post) }
        return try await api.postMessage(post)
    }

    /// `emoji` is a name (`eyes`), with or without its colons. An answer to a slash command takes
    /// none (Slack's ephemeral messages cannot have reactions): the reaction is left out.
    public func react(to message: ChatMessageRef, with emoji: String) async throws {
        guard !message.channel.hasPrefix(Self.commandChannel) else { return }
        var name = Substring(emoji)
        if name.hasPrefix(":") { name = name.dropFirst() }
        if name.hasSuffix(":") { name = name.dropLast() }
        try await api.addReaction(String(name), to: message)
    }

    public func upload(to channel: String, name: String, data: [UInt8], comment: String?) async throws {
        guard !channel.hasPrefix(Self.commandChannel) else {
            throw ChatError(.notFound, "an answer to a slash command cannot carry a file: ask in a direct message to the bot")
        }
        try await api.upload(to: channel, name: name, data: data, comment: comment.map(SlackMarkup.escaped))
    }

    public func channels() async throws -> [ChatChannel] {
        try await directory.list()
    }

    public func channels(named nameOrID: String) async throws -> [ChatChannel] {
        let key = String(nameOrID.trimmingPrefix("#"))
        if key.hasPrefix(Self.commandChannel) { return try await commandConversation(key).map { [$0.channel] } ?? [] }
        if Self.looksLikeID(key) { return try await channel(id: key).map { [$0] } ?? [] }
        return try await directory.channels(named: key)
    }

    private func channel(id: String) async throws(ChatError) -> ChatChannel? {
        do { return try await directory.channel(id) } catch where error.kind == .notFound { return nil }
    }

    /// Read fresh: an archived channel, or one whose posting permissions leave the bot out.
    public func postingRefusal(in channel: ChatChannel) async throws -> String? {
        let found = try await api.conversation(channel.id)
        if found.isArchived == true { return "it is archived: unarchive it first" }
        if found.isReadOnly == true {
            return "its posting permissions let only some members post: let the bot post in the channel's settings"
        }
        return nil
    }

    public func user(_ id: String) async throws -> ChatUser? {
        do { return try await directory.user(id) } catch where error.kind == .notFound { return nil }
    }

    public func join(_ channel: ChatChannel) async throws {
        try await api.join(channel.id)
    }

    public func leave(_ channel: ChatChannel) async throws {
        try await api.leave(channel.id)
    }

    public func download(_ file: ChatFile, limit: Int) async throws -> [UInt8] {
        try await api.download(file, limit: limit)
    }

    /// `C0123ABC`, `G…`, `D…`: what Slack's conversation ids look like (names are lower case).
    static func looksLikeID(_ text: String) -> Bool {
        guard let first = text.first, "CGD".contains(first) else { return false }
        return text.allSatisfy { $0.isASCII && ($0.isUppercase || $0.isNumber) }
    }
}
