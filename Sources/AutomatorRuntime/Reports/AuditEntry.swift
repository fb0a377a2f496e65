public import Foundation

/// One line of `automator audit`: a journal entry, or what no incident's journal holds: an action
/// on no incident run (or denied, or planned) or undone, an action its checks refused, a question
/// answered for a run on no incident (a chat command's, a scheduled script's) or for no run.
public struct AuditEntry: Sendable, Hashable {
    /// Its place in the whole journal; nil for what the journal does not hold.
    public var sequence: Int64?
    public var incident: IncidentID?
    public var at: Date
    public var actor: String
    public var kind: JournalEntry.Kind
    public var text: String
    /// What it is, for what the journal does not hold: `ACT-…`, `ACT-… undone`, `Q-…` (one place
    /// each in the audit's order, `AuditCursor`).
    public var reference: String?

    public init(sequence: Int64? = nil, reference: String? = nil, incident: IncidentID?, at: Date, actor: String,
                kind: JournalEntry.Kind, text: String)
    {
        self.sequence = sequence
        self.reference = reference
        self.incident = incident
        self.at = at.roundedToMilliseconds
        self.actor = actor
        self.kind = kind
        self.text = text
    }

    public init(_ entry: JournalEntry) {
        self.init(sequence: entry.sequence, incident: entry.incident, at: entry.at, actor: entry.actor, kind: entry.kind,
                  text: entry.text)
    }

    /// An action, by who asked for it: `ACT-… done: firewall.block_ip {"ip":"198.51.100.7"},
    /// approved by slack:bob: {"rule":"r-1"}`.
    static func action(_ record: ActionRecord) -> AuditEntry {
        // What happened then: an action undone since was done.
        let status = record.status == .undone ? ActionRecord.Status.done : record.status
        return AuditEntry(reference: "\(record.id)", incident: record.incident, at: record.at, actor: record.requestedBy,
                          kind: .action,
                          text: "\(record.id) \(status.rawValue): \(record.name) \(record.parameters)"
                              + (record.approvedBy.map { ", approved by \($0)" } ?? "")
                              + (record.status == .planned ? ": dry run, nothing sent" : record.result.map { ": \($0)" } ?? ""))
    }

    /// The undo of an action on no incident, by who undid it (`automator` at the end of its ttl).
    static func undo(of record: ActionRecord, by actor: String, at: Date) -> AuditEntry {
        AuditEntry(reference: "\(record.id) undone", incident: nil, at: at, actor: actor, kind: .action,
                   text: "\(record.id) undone: \(record.name) \(record.parameters)"
                       + (actor == "automator" ? " (its ttl ended)" : ""))
    }

    /// A question's answer, by who answered: `Q-… Approve firewall.block_ip ...?: approve`.
    static func answer(question id: String, text: String, answer: String, by actor: String, at: Date) -> AuditEntry {
        AuditEntry(reference: id, incident: nil, at: at, actor: actor, kind: .approval, text: "\(id) \(text): \(answer)")
    }
}

extension AuditQuery {
    /// Whether `actor` is the query's, or of its family (`slack` for `slack:bob`): as the stores'
    /// SQL reads the journal, for what they read besides it.
    func matches(_ actor: String) -> Bool {
        guard let wanted = self.actor else { return true }
        return actor == wanted || actor.hasPrefix(wanted + ":") || actor.hasPrefix(wanted + " ")
    }

    /// The journal's entries (read in the audit's order, after `after`) and the others as one
    /// list in the audit's order (`AuditCursor`), at most `limit`; the others only as far as the
    /// query names their actor, and after `after`.
    func merged(_ journal: [AuditEntry], _ others: [AuditEntry]) -> [AuditEntry] {
        let others = others.filter { matches($0.actor) && after?.precedes($0) != false }
        guard !others.isEmpty else { return journal }
        return (journal + others).sorted { AuditCursor.ordered(AuditCursor($0), AuditCursor($1)) }.prefix(limit).map { $0 }
    }
}

extension ReportStore {
    /// The entries `query` asks for, and where the next page starts when the window holds more
    /// than its limit (nil otherwise): an audit cut at its limit must say so, or "who did what
    /// last week" reads as the whole of it.
    public func auditPage(_ query: AuditQuery) async throws(StoreError) -> (entries: [AuditEntry], next: AuditCursor?) {
        var asked = query
        asked.limit += 1
        let entries = try await audit(asked)
        let page = Array(entries.prefix(query.limit))
        return (page, entries.count > query.limit ? page.last.map(AuditCursor.init) : nil)
    }
}
