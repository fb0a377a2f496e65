public import Foundation

/// A manual step of an incident's playbook, for a person: the run that created it waits
/// (`t:wait()`) until someone completes it, and gets the answer.
public struct IncidentTask: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable, CaseIterable {
        case open, done
        /// Its incident was closed while it was open: nobody is to do it any more, and a run
        /// that waits on it gets an error.
        case cancelled
    }

    public var id: TaskID
    public var incident: IncidentID
    /// The run that created it, which waits for it.
    public var runID: RunID?
    public var title: String
    /// A person or a team (`tier1`).
    public var owner: String?
    public var description: String
    /// The answers allowed; any answer when empty.
    public var choices: [String]
    public var dueAt: Date?
    public var status: Status
    public var answer: String?
    public var completedBy: String?
    public var createdAt: Date
    public var completedAt: Date?

    public init(id: TaskID, incident: IncidentID, runID: RunID?, title: String, owner: String? = nil,
                description: String = "", choices: [String] = [], dueAt: Date? = nil, status: Status = .open,
                answer: String? = nil, completedBy: String? = nil, createdAt: Date = Date(), completedAt: Date? = nil)
    {
        self.id = id
        self.incident = incident
        self.runID = runID
        self.title = title
        self.owner = owner
        self.description = description
        self.choices = choices
        self.dueAt = dueAt?.roundedToMilliseconds
        self.status = status
        self.answer = answer
        self.completedBy = completedBy
        self.createdAt = createdAt.roundedToMilliseconds
        self.completedAt = completedAt?.roundedToMilliseconds
    }

    /// Whether it is open past its due time at `now`.
    public func isOverdue(at now: Date = Date()) -> Bool {
        guard status == .open, let dueAt else { return false }
        return now > dueAt
    }
}
