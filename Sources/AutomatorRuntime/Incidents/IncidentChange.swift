public import Foundation

/// A change to an incident: the properties set are changed, the others kept. Applied by the
/// store in one statement, so that two changes to different properties (a playbook raising the
/// severity, a person taking ownership) never undo each other.
public struct IncidentChange: Sendable, Hashable {
    public var id: IncidentID
    public var title: String?
    public var type: String?
    public var severity: Incident.Severity?
    /// Closing sets `closedAt` to `at` (give `closeReason`); any other status clears both.
    public var status: Incident.Status?
    public var closeReason: String?
    /// `.some(nil)` clears the owner.
    public var owner: String??
    public var labels: [String]?
    /// A JSON object merged into the custom fields (RFC 7386: `null` removes a field).
    public var fieldsPatch: String?
    public var details: String?
    /// The playbook chosen, and the run that executes it.
    public var playbook: String?
    public var runID: RunID?
    public var slaDueAt: Date?
    public var slaBreachedAt: Date?
    /// Counts one more alert (a duplicate linked to it).
    public var addsAlert = false
    public var at: Date

    public init(_ id: IncidentID, at: Date = Date()) {
        self.id = id
        self.at = at.roundedToMilliseconds
    }

    /// The properties it changes, for the journal: `severity=high, owner=alice`.
    public var summary: String {
        var parts: [String] = []
        if let title { parts.append("title=\(title)") }
        if let type { parts.append("type=\(type)") }
        if let severity { parts.append("severity=\(severity.rawValue)") }
        if let status { parts.append("status=\(status.rawValue)") }
        if let owner { parts.append("owner=\(owner ?? "none")") }
        if let labels { parts.append("labels=\(labels.joined(separator: ","))") }
        if let fieldsPatch { parts.append("fields+=\(fieldsPatch)") }
        if details != nil { parts.append("details") }
        return parts.joined(separator: ", ")
    }
}
