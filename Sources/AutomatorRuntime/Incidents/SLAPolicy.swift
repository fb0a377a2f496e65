import Foundation

/// How long an incident may stay open: its playbook's own `sla`, else `sla.lua` by type and
/// severity. The catalog reads it from the scripts folder; the ledger keeps the last one read,
/// so that a playbook's `inc:update` finds it on an executor's thread, which cannot await.
struct SLAPolicy: Sendable {
    /// `sla.lua`: seconds by type, then by severity; `default` for what a type does not name.
    var table: [String: [String: TimeInterval]] = [:]
    /// The `sla` of the playbooks that declare one, by name.
    var playbooks: [String: TimeInterval] = [:]

    /// The SLA of an incident of `type` and `severity` that `playbook` works on, with where it
    /// comes from as the journal says it (`critical malware, 30m`); nil when none applies.
    func sla(type: String, severity: Incident.Severity, playbook: String?) -> (seconds: TimeInterval, why: String)? {
        if let playbook, let seconds = playbooks[playbook] {
            return (seconds, "the playbook \(playbook)'s sla, \(DurationText.text(seconds))")
        }
        guard let seconds = table[type]?[severity.rawValue] ?? table["default"]?[severity.rawValue] else { return nil }
        return (seconds, "\(severity.rawValue) \(type), \(DurationText.text(seconds))")
    }

    /// Sets the due time `change` gives `incident` when it changes its type or severity: the SLA
    /// for them, counted from its opening, as if it had opened so. Returns the journal's line
    /// (`SLA now due 2026-03-01 14:30 UTC: critical malware, 30m`), or nil when the due time stays:
    /// the change sets neither, the incident is or becomes closed (its SLA is history: met or
    /// not), or no SLA applies. A breach already noted stays noted; a due time already past is
    /// breached by the SLA timers, as any other.
    func move(_ change: inout IncidentChange, of incident: Incident) -> String? {
        guard change.type != nil || change.severity != nil, (change.status ?? incident.status) != .closed,
              let (seconds, why) = sla(type: change.type ?? incident.type, severity: change.severity ?? incident.severity,
                                       playbook: incident.playbook)
        else { return nil }
        let due = incident.createdAt.addingTimeInterval(seconds).roundedToMilliseconds
        guard due != incident.slaDueAt else { return nil }
        change.slaDueAt = due
        return "SLA now due \(ReportText.time(due, in: .gmt)): \(why)" + (due <= change.at ? ", already past" : "")
    }
}
