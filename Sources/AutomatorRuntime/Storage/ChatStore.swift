public import Foundation

/// What the chat bot keeps: its settings per channel, its adapters' state, slash commands'
/// conversations, and the questions runs wait on. Implementations pass the conformance suite.
public protocol ChatStore: ChatStateStore, ChatCommandStore, IncidentStore {
    /// The settings of every channel the bot was told about on `network`, by name.
    func chatChannels(network: String) async throws(StoreError) -> [ChatChannelSettings]

    func question(_ id: String) async throws(StoreError) -> ChatQuestionRecord?

    /// The question that the message `message` of `channel` asked, if any, answered or not:
    /// replies in its thread answer it, or are told that it was answered.
    func question(network: String, channel: String, message: String) async throws(StoreError) -> ChatQuestionRecord?

    /// The questions nobody answered yet, oldest first, each with the incident of the run that
    /// asked: all, or those of `incident`'s runs.
    func openQuestions(of incident: IncidentID?) async throws(StoreError)
        -> [(question: ChatQuestionRecord, incident: IncidentID?)]

    /// The text the message `message` of `channel` was last checked with after an edit
    /// (`StoreWrite.keepEditedText`), if it is kept.
    func editedText(network: String, channel: String, message: String) async throws(StoreError) -> String?

    /// Deletes the edited texts kept before `cutoff`; returns how many were deleted.
    func deleteEditedTexts(keptBefore cutoff: Date) async throws(StoreError) -> Int
}

extension ChatStore {
    /// A question, answered or not, with the incident it was asked for (its run's, for one kept
    /// before schema v19, as `openQuestions` gives it); nil for an unknown id.
    public func questionOnIncident(_ id: String) async throws(StoreError)
        -> (question: ChatQuestionRecord, incident: IncidentID?)?
    {
        guard let question = try await question(id) else { return nil }
        guard question.incident == nil, let run = question.runID else { return (question, question.incident) }
        return (question, try await loadRun(run)?.incident)
    }
}

/// The text a message was last checked with after an edit, on a network that sends an edit's new
/// text alone (Matrix): the next edit is compared with it, after a restart too, so that what an
/// earlier edit added is not answered again. Kept a week (`ChatSweeper`).
public struct ChatEditedText: Sendable, Hashable {
    public var network: String
    public var channel: String
    public var message: String
    public var text: String
    /// When the edit was checked.
    public var at: Date

    public init(network: String, channel: String, message: String, text: String, at: Date = Date()) {
        self.network = network
        self.channel = channel
        self.message = message
        self.text = text
        self.at = at.roundedToMilliseconds
    }
}

/// What the bot does in one channel.
public struct ChatChannelSettings: Sendable, Hashable {
    public var network: String
    public var channel: ChatChannel
    /// Every indicator and file posted is checked (`join`).
    public var watched: Bool
    /// Every result is posted, not only the malicious ones (`verbose on`).
    public var verbose: Bool
    /// The incident whose war room this is: its messages are journaled there.
    public var incident: IncidentID?
    public var changedBy: String
    public var changedAt: Date

    public init(network: String, channel: ChatChannel, watched: Bool = false, verbose: Bool = false,
                incident: IncidentID? = nil, changedBy: String, changedAt: Date = Date())
    {
        self.network = network
        self.channel = channel
        self.watched = watched
        self.verbose = verbose
        self.incident = incident
        self.changedBy = changedBy
        self.changedAt = changedAt.roundedToMilliseconds
    }
}

/// A question a run asked in a channel (`chat.ask`, `chat.approve`), and its answer once given.
public struct ChatQuestionRecord: Sendable, Hashable {
    public var id: String
    public var runID: RunID?
    public var network: String
    public var channel: String
    /// The id of the message that asked, once posted.
    public var message: String?
    public var text: String
    public var choices: [String]
    /// Who may answer: people with one of these roles; anyone when empty (`answerable(by:choices:)`).
    public var roles: [String]
    /// The incident it was asked for: its run's, or the one named (a war room's `!action`, whose
    /// command run has none). Nil for a question on no incident, and for those kept before schema v19.
    public var incident: IncidentID?
    public var askedAt: Date
    public var answer: String?
    public var answeredBy: String?
    public var answeredAt: Date?

    public init(id: String, runID: RunID?, network: String, channel: String, message: String?, text: String,
                choices: [String], roles: [String], askedAt: Date = Date())
    {
        self.id = id
        self.runID = runID
        self.network = network
        self.channel = channel
        self.message = message
        self.text = text
        self.choices = choices
        self.roles = Self.answerable(by: roles, choices: choices)
        self.askedAt = askedAt.roundedToMilliseconds
    }

    /// The roles a question is answered for: those it was asked for, and `approver` for one asked
    /// for none that offers `chat.approve`'s choices.
    ///
    /// Approvals asked before they had a role were stored with none, and took anyone's answer
    /// while they waited. Decided whenever a record is made (asked, or read from either store)
    /// rather than by a migration, which would stop an older worker opening a shared store. A SOAR
    /// denies by default (`UnassignedRole`): a `chat.ask` offering exactly approve and deny with no
    /// roles is an approval too.
    static func answerable(by roles: [String], choices: [String]) -> [String] {
        roles.isEmpty && choices == approvalChoices ? ["approver"] : roles
    }

    /// What `chat.approve` offers.
    static let approvalChoices = ["approve", "deny"]

    /// An approval: `chat.approve`'s, or an action's.
    public var isApproval: Bool { choices == Self.approvalChoices }

    /// The answer of a question whose run was killed or whose incident was closed: nobody waits for it.
    public static let cancelled = "cancelled"

    /// The choice `answer` names, whatever its case; nil when it is none of them.
    public func choice(matching answer: String) -> String? {
        choices.first { $0.caseInsensitiveCompare(answer) == .orderedSame }
    }
}
