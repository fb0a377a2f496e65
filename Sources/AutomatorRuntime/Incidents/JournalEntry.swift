public import Foundation

/// One line of an incident's timeline (its war room): what happened, when, and who or what
/// did it. Append-only.
public struct JournalEntry: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case created, alert, note, update, task, taskDone = "task_done", link, playbook, sla, closed, chat, evidence, approval,
             action
        /// A line typed in the investigation REPL (`automator repl --incident`), with what it showed.
        case command
        /// A command refused in the war room to someone without its role.
        case refused
        /// The incident came from another tool (`automator incident import`): what follows it
        /// happened there, not in automator.
        case imported
    }

    /// Its position in the whole journal (assigned by the store; 0 before).
    public var sequence: Int64
    public var incident: IncidentID
    public var at: Date
    /// `api`, `cli:alice`, `playbook Phishing triage (run-…)`.
    public var actor: String
    public var kind: Kind
    public var text: String

    /// `actor` and `text` are kept without NUL (`withoutNUL`): the entry is hashed as it is stored.
    public init(sequence: Int64 = 0, incident: IncidentID, at: Date = Date(), actor: String, kind: Kind, text: String) {
        self.sequence = sequence
        self.incident = incident
        self.at = at.roundedToMilliseconds
        self.actor = actor.withoutNUL
        self.kind = kind
        self.text = text.withoutNUL
    }
}

extension JournalEntry {
    /// The longest note, in bytes of UTF-8: 1 MiB, as an incident's details. A note of 100 MiB
    /// made its incident's journal more than the CLI reads from a server in one answer; large
    /// content belongs in the evidence vault, by reference.
    public static let longestNote = 1 << 20

    /// Why `text` cannot be a note, or nil when it can.
    public static func refusal(ofNote text: String) -> String? {
        let size = text.utf8.count
        guard size > longestNote else { return nil }
        return "the note is \(size) bytes, over the limit of 1 MiB (\(longestNote) bytes): keep a large text as evidence "
            + "(inc:evidence in a playbook, automator evidence add) and note its id"
    }

    /// What a task cancelled with its incident or its run leaves in the journal.
    static func cancelled(_ task: TaskID, title: String, of incident: IncidentID, because cancellation: TaskCancellation,
                          by actor: String, at: Date) -> JournalEntry {
        JournalEntry(incident: incident, at: at, actor: actor, kind: .task, text: "\(task) \(title): cancelled, \(cancellation.why)")
    }

    /// What a question cancelled with its incident or its run leaves in the journal.
    static func cancelled(question id: String, text: String, of incident: IncidentID, because cancellation: TaskCancellation,
                          by actor: String, at: Date) -> JournalEntry {
        JournalEntry(incident: incident, at: at, actor: actor, kind: .approval, text: "\(id) \(text): cancelled, \(cancellation.why)")
    }
}
