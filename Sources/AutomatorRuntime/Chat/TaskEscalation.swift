/// A stage of `chat.tasks.escalate`: an open task overdue by `after` is told again, in `channel`
/// (the owner's channel when nil), notifying `mentions`.
///
/// ```yaml
/// chat:
///   tasks:
///     channel: "#soc"
///     escalate:
///       - { after: 30m }                                    # the owner's channel again
///       - { after: 2h, channel: "#soc-leads", mention: "<!subteam^S0123ABCD>" }
/// ```
public struct TaskEscalation: Sendable, Hashable {
    /// Seconds past the task's due time, above 0.
    public var after: Double
    public var channel: String?
    /// Slack's `<@U0123ABCD>` or `<!subteam^S0123ABCD>`, Matrix user ids (`ChatMention`).
    public var mentions: [String]

    public init(after: Double, channel: String? = nil, mentions: [String] = []) {
        self.after = after
        self.channel = channel
        self.mentions = mentions
    }

    /// The chat state key of the due time up to which this stage told the open tasks:
    /// `tasks.escalated_until.2h`. By `after`, not by place in the list: a stage put before it,
    /// or a channel or mention changed, leaves what it told as told.
    var positionKey: String { "tasks.escalated_until." + DurationText.text(after) }
}
