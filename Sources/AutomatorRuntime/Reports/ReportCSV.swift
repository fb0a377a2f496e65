import Foundation

/// A report as one CSV table in a flat shape, `section,name,measure,value`, one figure a row:
///
///     section,name,measure,value
///     window,,from,2026-03-01T00:00:00Z
///     window,,timezone,UTC
///     day,2026-03-01,opened,4
///     type,phishing,closed,3
///     sla,malware,at_risk,0
///     acknowledge,,p90_seconds,108000
///     owner,tier1,overdue,1
///
/// A spreadsheet's pivot table (or `grep '^day,'`) gives back any section as a table. Sections:
/// `window`, `day`, `type`, `severity`, `resolution` (name: the type; measures `true_positive`,
/// `benign`, `false_positive`, `undetermined`, `unresolved`), `backlog` (measures `open_at_start`, `open_at_end`),
/// `status`, `sla`, `sla_by_severity`, `breached` (name: the incident; measures `type`,
/// `severity`, `due`, `closed_at` (empty while open), `late_seconds`), `acknowledge`, `resolve`, `verdict`, `indicator` (name: the value; measures
/// `type`, `verdict`, `last_seen`), `playbook`, `owner`
/// (an empty name: tasks nobody owns), `action` (measures `done`, `failed`, `refused`, `denied`,
/// `timed_out`, `dry_run`, `undone`, `expired`, `in_flight`), `approver`, `approval` (the wait
/// for an approval in chat), `in_force` (measures `lifting`, `until_undone`, `since`); `absent`
/// (name: a section an older server did not send, such as `actions`; measure `note`).
/// Durations in seconds, times in ISO 8601 with the offset of the report's time zone
/// (`2026-03-23T00:00:00+01:00`; `Z` in UTC), days that zone's.
enum ReportCSV {
    static func render(_ report: Report) -> String {
        let zone = report.window.timeZone
        func time(_ date: Date) -> String { date.formatted(Date.ISO8601FormatStyle(timeZoneSeparator: .colon, timeZone: zone)) }
        var rows: [[String]] = [["section", "name", "measure", "value"]]
        func add(_ section: String, _ name: String, _ measures: [(String, String)]) {
            rows += measures.map { [section, name, $0.0, $0.1] }
        }
        add("window", "", [("from", time(report.window.from)), ("to", time(report.window.to)),
                           ("timezone", report.window.timeZoneName), ("generated_at", time(report.generatedAt))])
        for day in report.days { add("day", day.date, [("opened", "\(day.opened)"), ("closed", "\(day.closed)")]) }
        for (section, breakdowns) in [("type", report.types), ("severity", report.severities)] {
            for item in breakdowns { add(section, item.name, [("opened", "\(item.opened)"), ("closed", "\(item.closed)")]) }
        }
        if !report.absent.contains(.backlog) {
            add("backlog", "", [("open_at_start", "\(report.openAtStart)"), ("open_at_end", "\(report.openAtEnd)")])
        }
        for counts in report.resolutions {
            add("resolution", counts.type, [("true_positive", "\(counts.truePositive)"), ("benign", "\(counts.benign)"),
                                            ("false_positive", "\(counts.falsePositive)"),
                                            ("undetermined", "\(counts.undetermined)"), ("unresolved", "\(counts.unresolved)")])
        }
        for status in report.statuses { add("status", status.name, [("incidents", "\(status.count)")]) }
        func sla(_ counts: some SLACounts) -> [(String, String)] {
            Array(zip(["met", "breached", "at_risk", "on_track"], counts.states.map { "\($0)" }))
        }
        for tally in report.sla { add("sla", tally.type, sla(tally)) }
        for tally in report.slaBySeverity { add("sla_by_severity", tally.severity, sla(tally)) }
        for incident in report.breached {
            add("breached", incident.id, [("type", incident.type), ("severity", incident.severity),
                                          ("due", time(incident.due)), ("closed_at", incident.closedAt.map(time) ?? ""),
                                          ("late_seconds", seconds(incident.late))])
        }
        let approval = report.absent.contains(.actions) ? [] : [("approval", report.approval)]
        for (section, timing) in [("acknowledge", report.acknowledge), ("resolve", report.resolve)] + approval {
            add(section, "", [("count", "\(timing.count)"), ("median_seconds", seconds(timing.median)),
                              ("mean_seconds", seconds(timing.mean)), ("p90_seconds", seconds(timing.p90))])
        }
        for verdict in report.verdicts { add("verdict", verdict.name, [("indicators", "\(verdict.count)")]) }
        for indicator in report.indicators {
            add("indicator", indicator.value, [("type", indicator.type), ("verdict", indicator.verdict),
                                               ("last_seen", time(indicator.lastSeen))])
        }
        for run in report.playbooks {
            add("playbook", run.playbook, [("completed", "\(run.completed)"), ("failed", "\(run.failed)"),
                                           ("killed", "\(run.killed)"), ("unfinished", "\(run.unfinished)")])
        }
        for owner in report.owners {
            add("owner", owner.owner ?? "", [("open", "\(owner.open)"), ("done", "\(owner.done)"),
                                             ("overdue", "\(owner.overdue)")])
        }
        for action in report.actions {
            add("action", action.action, ReportText.outcomes(action).map {
                ($0.name.replacingOccurrences(of: " ", with: "_"), "\($0.count)")
            })
        }
        for approver in report.approvers { add("approver", approver.name, [("actions", "\(approver.count)")]) }
        for action in report.inForce {
            add("in_force", action.action, [("lifting", "\(action.lifting)"), ("until_undone", "\(action.untilUndone)"),
                                            ("since", time(action.since))])
        }
        for section in Report.Section.allCases where report.absent.contains(section) {
            add("absent", section.rawValue, [("note", ReportText.absent(section))])
        }
        return rows.map { $0.map(field).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
    }

    /// RFC 4180: quoted when it holds a comma, a quote or a line break, its quotes doubled. Text
    /// that a spreadsheet would run as a formula (`=HYPERLINK(...)` as an incident's type or owner,
    /// from whoever posts alerts) starts with `'`, which spreadsheets show as text.
    static func field(_ text: String) -> String {
        var text = text
        if let first = text.first, "=+-@\t\r".contains(first), Double(text) == nil { text = "'" + text }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// Whole seconds when whole (`108000`), else to the millisecond; empty when not measured.
    private static func seconds(_ value: Double?) -> String {
        guard let value else { return "" }
        return value == value.rounded() ? "\(Int(value))" : String(format: "%.3f", value)
    }
}
