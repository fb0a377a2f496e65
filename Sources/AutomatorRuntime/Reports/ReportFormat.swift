import Foundation

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
enum ReportText {
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

    /// `2026-03-01 08:00 UTC`.
    static func time(_ date: Date) -> String {
        let iso = date.formatted(Date.ISO8601FormatStyle())
        return iso.prefix(10) + " " + iso.dropFirst(11).prefix(5) + " UTC"
    }

    /// `2026-03-01 00:00 UTC to 2026-03-31 00:00 UTC`.
    static func window(_ window: ReportWindow) -> String { time(window.from) + " to " + time(window.to) }

    /// `75%`, or `-` out of nothing.
    static func share(_ part: Int, of whole: Int) -> String {
        whole == 0 ? "-" : "\(Int((Double(part) * 100 / Double(whole)).rounded()))%"
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
