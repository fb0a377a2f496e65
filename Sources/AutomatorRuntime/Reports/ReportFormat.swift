package import Foundation

/// How `automator report` writes a report: `md`, `html`, `json` or `csv`.
public enum ReportFormat: String, Sendable, CaseIterable {
    case markdown = "md", html, json, csv

    /// The report in this format: a complete document, ending with a newline.
    public func render(_ report: Report) -> String {
        switch self {
        case .markdown: ReportMarkdown.render(report)
        case .html: ReportHTML.render(report)
        case .json: ReportJSON.encode(report) + "\n"
        case .csv: ReportCSV.render(report)
        }
    }

    /// The format a file name's extension implies (`report.html`), if any.
    public init?(fileName: String) {
        let ext = (fileName as NSString).pathExtension.lowercased()
        self.init(rawValue: ext == "markdown" ? "md" : ext == "htm" ? "html" : ext)
    }
}

/// What the renderers share: how durations, times and counts read.
package enum ReportText {
    /// `45s`, `12m`, `6h 30m`, `2d 4h`; `-` when nothing was measured.
    static func duration(_ seconds: Double?) -> String {
        guard let seconds else { return "-" }
        let total = Int(seconds.rounded())
        let (days, hours, minutes) = (total / 86400, total % 86400 / 3600, total % 3600 / 60)
        if days > 0 { return hours > 0 ? "\(days)d \(hours)h" : "\(days)d" }
        if hours > 0 { return minutes > 0 ? "\(hours)h \(minutes)m" : "\(hours)h" }
        return minutes > 0 ? "\(minutes)m" : "\(total)s"
    }

    /// A timing's columns, in the order every table shows them.
    static let timingHeaders = ["Median", "Mean", "p90"]

    /// A timing's figures under `timingHeaders`: `4h`, `6h 30m`, `1d 6h`.
    static func durations(_ timing: Report.Timing) -> [String] {
        [duration(timing.median), duration(timing.mean), duration(timing.p90)]
    }

    /// `2026-03-01 08:00 UTC`; in another zone with its offset then, `2026-03-01 09:00 +01:00`
    /// (this system's zones have no abbreviation but `GMT+1`). With `seconds`, `2026-03-01 09:00:05 +01:00`.
    package static func time(_ date: Date, in zone: TimeZone, seconds: Bool = false) -> String {
        let local = date.formatted(Date.ISO8601FormatStyle(timeZone: zone))
        return local.prefix(10) + " " + local.dropFirst(11).prefix(seconds ? 8 : 5) + " " + offset(of: zone, at: date)
    }

    /// `UTC`, or `+01:00`, `-04:00`: `zone`'s offset from UTC at `date`.
    static func offset(of zone: TimeZone, at date: Date) -> String {
        guard zone.identifier != TimeZone.gmt.identifier else { return "UTC" }
        let seconds = zone.secondsFromGMT(for: date)
        return String(format: "%@%02d:%02d", seconds < 0 ? "-" : "+", abs(seconds) / 3600, abs(seconds) % 3600 / 60)
    }

    /// `2026-03-01 00:00 UTC to 2026-03-31 00:00 UTC`; in another zone, its name after:
    /// `2026-03-23 00:00 +01:00 to 2026-03-30 00:00 +02:00 (Europe/Berlin)`.
    static func window(_ window: ReportWindow) -> String {
        let zone = window.timeZone
        return time(window.from, in: zone) + " to " + time(window.to, in: zone)
            + (zone.identifier == TimeZone.gmt.identifier ? "" : " (\(window.timeZoneName))")
    }

    /// A day column's header: `Day (Europe/Berlin)`.
    static func dayHeader(_ report: Report) -> String { "Day (\(report.window.timeZoneName))" }

    /// The SLA tables' columns after the name, as `slaRow` fills them.
    static let slaHeaders = ["Met", "Breached", "At risk", "On track", "Met (of ended)"]

    /// `[name, met, breached, at risk, on track, share met of those met or breached]`.
    static func slaRow(_ name: String, _ counts: some SLACounts) -> [String] {
        [name] + counts.states.map { "\($0)" } + [share(counts.met, of: counts.met + counts.breached)]
    }

    /// The breached incidents' columns, as `breachedRow` fills them.
    static let breachedHeaders = ["Incident", "Type", "Severity", "Due", "Closed", "Late by"]

    static func breachedRow(_ incident: Report.BreachedIncident, in zone: TimeZone) -> [String] {
        [incident.id, incident.type, incident.severity, time(incident.due, in: zone),
         incident.closedAt.map { time($0, in: zone) } ?? "still open", duration(incident.late)]
    }

    /// Under the breached incidents when the report lists fewer than were breached: `The 100
    /// listed of 240 breached: the open ones first, then the latest.`; nil when it lists all.
    static func breachedCut(_ report: Report) -> String? {
        let all = report.sla.reduce(0) { $0 + $1.breached }
        guard all > report.breached.count else { return nil }
        return "The \(report.breached.count) listed of \(all) breached: the open ones first, then the latest."
    }

    /// `75%`, or `-` out of nothing.
    static func share(_ part: Int, of whole: Int) -> String {
        whole == 0 ? "-" : "\(Int((Double(part) * 100 / Double(whole)).rounded()))%"
    }

    /// The resolutions table's columns after the type, as `resolutionRow` fills them.
    static let resolutionHeaders = ["True positive", "Benign", "False positive", "Undetermined", "Not said",
                                    "False positives (of resolved)"]

    /// `[type, true positives, benign, false positives, undetermined, not said, false-positive rate]`:
    /// the rate is a share of those closed with a resolution, as a close without one says nothing.
    static func resolutionRow(_ counts: Report.Resolutions) -> [String] {
        [counts.type] + [counts.truePositive, counts.benign, counts.falsePositive, counts.undetermined, counts.unresolved]
            .map { "\($0)" } + [share(counts.falsePositive, of: counts.resolved)]
    }

    static func owner(_ owner: String?) -> String { owner ?? "(nobody)" }

    /// `56 open at the start, 58 at the end`; nil from a server older than the backlog.
    static func backlog(_ report: Report) -> String? {
        guard !report.absent.contains(.backlog) else { return nil }
        return "\(report.openAtStart) open at the start, \(report.openAtEnd) at the end"
    }

    /// In place of a section an older server did not send.
    static func absent(_ section: Report.Section) -> String {
        "The server that made this report is older than its \(section.title) section: upgrade it to see them."
    }

    /// An action's outcomes, named and in the order every format shows them.
    static func outcomes(_ action: Report.ActionOutcome) -> [(name: String, count: Int)] {
        [("done", action.done), ("failed", action.failed), ("refused", action.refused), ("denied", action.denied),
         ("timed out", action.timedOut),
         ("dry run", action.dryRun), ("undone", action.undone), ("expired", action.expired),
         ("in flight", action.inFlight)]
    }

    static let outcomeNames = outcomes(Report.ActionOutcome(action: "")).map(\.name)

    /// The outcomes as a table's columns: `Timed out`.
    static let outcomeHeaders = outcomeNames.map { $0.prefix(1).uppercased() + $0.dropFirst() }
}
