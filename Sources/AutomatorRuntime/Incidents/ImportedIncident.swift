import Foundation

/// A closed incident from another tool (Cortex XSOAR, TheHive, a ticketing system), as one line
/// of `automator incident import` takes it: an incident as `incident create --json` takes it,
/// with its history.
///
/// ```json
/// {"title": "Phishing reported by jdoe", "type": "phishing", "severity": "high",
///  "source": "thehive", "source_ref": "~40964184", "created_at": "2026-03-02T09:14:00Z",
///  "responded_at": "2026-03-02T09:40:00Z", "closed_at": "2026-03-02T13:05:00Z",
///  "close_reason": "resolved: sender blocked", "resolution": "true_positive"}
/// ```
///
/// Only closed incidents: an open case is worked here, so it is opened with `incident create`,
/// which starts its playbook and times its SLA; an imported one does neither.
struct ImportedIncident: Sendable {
    var draft: IncidentDraft
    /// Where it came from and its id there: what makes importing the same file twice add nothing.
    var source: String
    var sourceRef: String
    var origin: SourceRef { SourceRef(source: source, ref: sourceRef) }
    var createdAt: Date
    /// When a person first acted on it there, if the source says: the report's time to respond.
    var respondedAt: Date?
    var closedAt: Date
    var closeReason: String
    /// What it turned out to be, where the other tool says (TheHive's `resolutionStatus`, XSOAR's
    /// close reason): reports count the false positives of the months before automator too.
    var resolution: Incident.Resolution?

    static let historyFields = ["created_at", "responded_at", "closed_at", "close_reason", "resolution"]
    static let example = #"{"title": "...", "type": "phishing", "severity": "high", "source": "thehive", "#
        + #""source_ref": "~40964184", "created_at": "2026-03-02T09:14:00Z", "closed_at": "2026-03-02T13:05:00Z", "#
        + #""close_reason": "resolved"}"#

    /// Reads one line; `now` is the latest time it may give.
    ///
    /// - Throws: `.invalid` naming the field, as `IncidentDraft` does, and for a time that is
    ///   missing, not RFC 3339, in the future, or out of order.
    init(json: [UInt8], now: Date) throws(IncidentError) {
        let (object, members) = try IncidentDraft.parse(json, allowing: Self.historyFields)
        draft = try IncidentDraft(object: object, members: members)
        guard let source = draft.source, !source.isEmpty, let sourceRef = draft.sourceRef, !sourceRef.isEmpty else {
            throw .invalid(draft.source?.isEmpty == false ? "source_ref" : "source",
                           "required to import: the other tool's name and its id for the incident, which make "
                               + "importing the same file again add nothing")
        }
        self.source = source
        self.sourceRef = sourceRef
        func time(_ name: String, required: Bool) throws(IncidentError) -> Date? {
            guard let value = object[name], !(value is NSNull) else {
                if required { throw .invalid(name, "required: a time such as \"2026-03-02T09:14:00Z\", as in \(Self.example)") }
                return nil
            }
            guard let text = value as? String, let date = Self.date(text) else {
                throw .invalid(name, "an RFC 3339 time such as \"2026-03-02T09:14:00Z\" expected, got "
                    + ((value as? String).map(JSONText.string) ?? IncidentDraft.kind(of: value)))
            }
            guard date <= now else { throw .invalid(name, "\(JSONText.string(text)) is in the future") }
            return date.roundedToMilliseconds
        }
        createdAt = try time("created_at", required: true)!
        guard object["closed_at"] != nil, !(object["closed_at"] is NSNull) else {
            throw .invalid("closed_at", "required: only closed incidents are imported; open this one with automator "
                + "incident create, so that its playbook and its SLA work on it")
        }
        closedAt = try time("closed_at", required: true)!
        guard closedAt >= createdAt else { throw .invalid("closed_at", "before created_at") }
        respondedAt = try time("responded_at", required: false)
        if let respondedAt, !(createdAt...closedAt).contains(respondedAt) {
            throw .invalid("responded_at", "not between created_at and closed_at")
        }
        guard let reason = object["close_reason"] as? String,
              !reason.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty
        else {
            throw .invalid("close_reason", "required: why it was closed, a non-empty string (\"false positive\")")
        }
        closeReason = reason
        switch object["resolution"] {
        case nil, is NSNull: resolution = nil
        case let name as String: resolution = try IncidentChange.resolution(named: name)
        case let other?:
            throw .invalid("resolution", "one of \(Incident.Resolution.names) expected, got \(IncidentDraft.kind(of: other))")
        }
    }

    private static let fractional = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    private static let whole = Date.ISO8601FormatStyle()

    /// `2026-03-02T09:14:00Z`, with or without fractions of a second, in UTC or with an offset.
    static func date(_ text: String) -> Date? {
        (try? fractional.parse(text)) ?? (try? whole.parse(text))
    }

    /// The incident it becomes, numbered `id`: closed, with no playbook, its SLA due by `policy`
    /// from its own creation (so met or breached by its own times, as reports count them).
    func incident(_ id: IncidentID, policy: SLAPolicy) -> Incident {
        var incident = draft.incident(id, at: createdAt)
        incident.status = .closed
        incident.updatedAt = closedAt
        incident.closedAt = closedAt
        incident.closeReason = closeReason
        incident.resolution = resolution
        if let (sla, _) = policy.sla(type: incident.type, severity: incident.severity, playbook: nil) {
            incident.slaDueAt = createdAt.addingTimeInterval(sla).roundedToMilliseconds
        }
        return incident
    }

    /// Its journal: first the `imported` entry, at `now` by `actor` (who imported it, from which
    /// file), then what happened in the other tool at its times, by the tool's name: the first
    /// response (if given) and the close. Those count as a person's acts in the report's time to
    /// respond, as a close by a person does here; the `imported` entry does not.
    func journal(of id: IncidentID, from file: String, by actor: String, at now: Date) -> [JournalEntry] {
        let time = { (date: Date) in String(JSONText.time(date).dropFirst().dropLast()) }
        var entries = [JournalEntry(incident: id, at: now, actor: actor, kind: .imported,
                                    text: "imported from \(file): \(source) \(sourceRef), \(draft.severity.rawValue) "
                                        + "\(draft.type), opened there \(time(createdAt)), closed \(time(closedAt)); "
                                        + "it did not happen in automator")]
        if let respondedAt {
            entries.append(JournalEntry(incident: id, at: respondedAt, actor: source, kind: .note,
                                        text: "first response in \(source)"))
        }
        entries.append(JournalEntry(incident: id, at: closedAt, actor: source, kind: .closed,
                                    text: "closed" + (resolution.map { " as \($0.rawValue)" } ?? "") + ": \(closeReason)"))
        return entries
    }
}
