import Logging
import Synchronization

/// Channels and users from the Web API, kept a few minutes: every message names both, and
/// people rename rarely.
final class SlackDirectory: Sendable {
    static let lifetime = Duration.seconds(300)

    private let api: SlackWebAPI
    private let logger: Logger
    private let channels = Mutex(ExpiringCache<ChatChannel>(lifetime: lifetime))
    /// Channel ids by lower-cased name, from `conversations.list`.
    private let channelIDs = Mutex(ExpiringCache<[String]>(lifetime: lifetime))
    private let users = Mutex(ExpiringCache<ChatUser>(lifetime: lifetime))

    init(api: SlackWebAPI, logger: Logger) {
        self.api = api
        self.logger = logger
    }

    func user(_ id: String) async throws(ChatError) -> ChatUser {
        if let cached = users.withLock({ $0[id] }) { return cached }
        let found = try await api.user(id)
        let user = ChatUser(id: found.id, name: found.name)
        users.withLock { $0.store(user, for: id) }
        return user
    }

    /// A channel by id; a direct conversation is named after the other person.
    func channel(_ id: String) async throws(ChatError) -> ChatChannel {
        if let cached = channels.withLock({ $0[id] }) { return cached }
        let found = try await api.conversation(id)
        let channel = if found.isIm == true, let other = found.user {
            ChatChannel(id: found.id, name: try await user(other).name, isDirect: true)
        } else {
            ChatChannel(id: found.id, name: found.name ?? found.id)
        }
        channels.withLock { $0.store(channel, for: id) }
        return channel
    }

    /// The channels of a name, case aside: several when channels share it (a channel shared
    /// from another workspace); empty if the bot sees none.
    func channels(named name: String) async throws(ChatError) -> [ChatChannel] {
        let key = name.lowercased()
        if let ids = channelIDs.withLock({ $0[key] }) {
            let cached = channels.withLock { cache in ids.compactMap { cache[$0] } }
            if cached.count == ids.count { return cached }
        }
        return try await list().filter { $0.name.lowercased() == key }
    }

    /// Every channel the bot could join, fresh from `conversations.list`.
    func list() async throws(ChatError) -> [ChatChannel] {
        let list = try await api.conversations().map { ChatChannel(id: $0.id, name: $0.name ?? $0.id) }
        channels.withLock { cache in for channel in list { cache.store(channel, for: channel.id) } }
        let byName = Dictionary(grouping: list) { $0.name.lowercased() }
        channelIDs.withLock { cache in for (name, named) in byName { cache.store(named.map(\.id), for: name) } }
        return list
    }

    /// The user, or one named by its id when Slack cannot say (logged): the message still
    /// arrives, and an id matches no role.
    func userOrID(_ id: String) async -> ChatUser {
        do { return try await user(id) } catch {
            logger.warning("slack: user \(id) stays unnamed: \(error)")
            return ChatUser(id: id, name: id)
        }
    }

    /// The channel, or one named by its id when Slack cannot say (logged).
    func channelOrID(_ id: String) async -> ChatChannel {
        do { return try await channel(id) } catch {
            logger.warning("slack: channel \(id) stays unnamed: \(error)")
            return ChatChannel(id: id, name: id)
        }
    }
}
