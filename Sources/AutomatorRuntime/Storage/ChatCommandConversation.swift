public import Foundation

/// The conversation a slash command opens with the bot (`slash:9f0c…`), and where its answers go:
/// kept in the store rather than by the adapter that took the command, so that the worker that
/// executes its run answers it, this one after a restart or another behind the same load balancer.
public struct ChatCommandConversation: Sendable, Hashable {
    public var network: String
    /// `slash:` and a random number.
    public var id: String
    /// The name of the channel the command was typed in, for the run's `msg.channel.name`.
    public var name: String
    /// Where the answers go (Slack's `response_url`), its own authorisation: no token goes with it.
    public var responseURL: String
    public var openedAt: Date

    /// How long answers to a command are taken: Slack's half hour. Read no longer, and swept after
    /// (`ChatSweeper`).
    public static let lifetime: TimeInterval = 30 * 60

    public init(network: String, id: String, name: String, responseURL: String, openedAt: Date = Date()) {
        self.network = network
        self.id = id
        self.name = name
        self.responseURL = responseURL
        self.openedAt = openedAt.roundedToMilliseconds
    }
}

/// Where slash commands' conversations are kept (`ChatStore`), as long as the network takes
/// answers to them.
public protocol ChatCommandStore: Sendable {
    /// Keeps `conversation` (`StoreWrite.openCommandConversation`).
    func openCommandConversation(_ conversation: ChatCommandConversation) async throws(StoreError)

    /// The conversation `id` of `network` opened at `openedSince` or later; nil when unknown, or
    /// opened earlier (the network takes no more answers to it).
    func commandConversation(network: String, id: String, openedSince: Date) async throws(StoreError)
        -> ChatCommandConversation?

    /// Deletes the conversations opened before `cutoff`; returns how many were deleted.
    func deleteCommandConversations(openedBefore cutoff: Date) async throws(StoreError) -> Int
}
