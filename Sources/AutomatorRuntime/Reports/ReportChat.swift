import Foundation

/// A report as a few lines of plain text for a chat channel: the figures a team reads over its
/// morning coffee, the full report (tables, charts) in the HTML file posted beside it.
///
/// Not the Markdown report: Slack shows neither its headings nor its tables, and a week's report
/// was some ninety lines of `| --- |` in the channel.
///
///     Automator report, 2026-11-23 08:00 UTC to 2026-11-30 08:00 UTC
///     Incidents: 26 opened, 24 closed; 56 open at the start, 58 at the end.
///     Closed as: 9 true positive, 6 benign, 7 false positive, 2 not said. False positives: 32% of
///     the resolved; brute_force 4 of 5, phishing 3 of 9.
///     SLA: 35% met (9 met, 17 breached, 1 on track). Breached: malware 9, phishing 5, ddos 3.
///     Breached and still open: INC-812 (2d 4h late), INC-840 (9h late).
///     Time to acknowledge: median 25m, p90 1h 15m (25 incidents). To resolve: median 4h 32m,
///     p90 17h 24m (23 incidents).
///     Playbook runs: 45 completed, 3 failed. Overdue tasks: 2.
///     Response actions: 5 done, 1 denied; 2 in force now.
enum ReportChat {
    static func summary(_ report: Report) -> String {
        let opened = report.statuses.reduce(0) { $0 + $1.count }
        let closed = report.days.reduce(0) { $0 + $1.closed }
        var lines = ["Automator report, " + ReportText.window(report.window)]
        let backlog = ReportText.backlog(report).map { "; " + $0 } ?? ""
        lines.append("Incidents: \(opened) opened, \(closed) closed\(backlog).")
        if !report.absent.contains(.resolutions), let resolutions = resolutions(report) { lines.append(resolutions) }
        if let sla = sla(report) { lines.append(sla) }
        if let open = breachedOpen(report) { lines.append(open) }
        lines.append("Time to acknowledge: \(timing(report.acknowledge)). To resolve: \(timing(report.resolve)).")
        var work: [String] = []
        let runs = [("completed", report.playbooks.reduce(0) { $0 + $1.completed }),
                    ("failed", report.playbooks.reduce(0) { $0 + $1.failed }),
                    ("killed", report.playbooks.reduce(0) { $0 + $1.killed }),
                    ("unfinished", report.playbooks.reduce(0) { $0 + $1.unfinished })]
        if let runs = listed(runs) { work.append("Playbook runs: \(runs).") }
        let overdue = report.owners.reduce(0) { $0 + $1.overdue }
        if overdue > 0 { work.append("Overdue tasks: \(overdue).") }
        if !work.isEmpty { lines.append(work.joined(separator: " ")) }
        if !report.absent.contains(.actions), let actions = actions(report) { lines.append(actions) }
        return lines.joined(separator: "\n")
    }

    /// `SLA: 35% met (9 met, 17 breached, 1 on track). Breached: malware 9, phishing 5.`: the
    /// share met of those met or breached, as the HTML's summary; nil without an incident under an SLA.
    private static func sla(_ report: Report) -> String? {
        let states = [("met", report.sla.reduce(0) { $0 + $1.met }),
                      ("breached", report.sla.reduce(0) { $0 + $1.breached }),
                      ("at risk", report.sla.reduce(0) { $0 + $1.atRisk }),
                      ("on track", report.sla.reduce(0) { $0 + $1.onTrack })]
        guard let listed = listed(states) else { return nil }
        let (met, breached) = (states[0].1, states[1].1)
        var line = met + breached == 0 ? "SLA: \(listed)."
            : "SLA: \(ReportText.share(met, of: met + breached)) met (\(listed))."
        let worst = report.sla.filter { $0.breached > 0 }.sorted { ($0.breached, $1.type) > ($1.breached, $0.type) }
        if !worst.isEmpty {
            line += " Breached: " + worst.prefix(3).map { "\($0.type) \($0.breached)" }.joined(separator: ", ") + "."
        }
        return line
    }

    /// `Closed as: 9 true positive, 6 benign, 7 false positive. False positives: 32% of the resolved;
    /// brute_force 4 of 5.`: what the closed turned out to be, and the types whose rules cry wolf
    /// most (three at most); nil when none closed.
    private static func resolutions(_ report: Report) -> String? {
        func sum(_ count: (Report.Resolutions) -> Int) -> Int { report.resolutions.reduce(0) { $0 + count($1) } }
        let counts = [("true positive", sum(\.truePositive)), ("benign", sum(\.benign)),
                      ("false positive", sum(\.falsePositive)), ("undetermined", sum(\.undetermined)),
                      ("not said", sum(\.unresolved))]
        guard let listed = listed(counts) else { return nil }
        var line = "Closed as: \(listed)."
        let resolved = sum(\.resolved)
        guard resolved > 0 else { return line }
        line += " False positives: \(ReportText.share(counts[2].1, of: resolved)) of the resolved"
        let worst = report.resolutions.filter { $0.falsePositive > 0 }
            .sorted { ($0.falsePositive, $1.type) > ($1.falsePositive, $0.type) }
        if !worst.isEmpty {
            line += "; " + worst.prefix(3).map { "\($0.type) \($0.falsePositive) of \($0.resolved)" }
                .joined(separator: ", ")
        }
        return line + "."
    }

    /// `Breached and still open: INC-812 (2d 4h late), INC-840 (9h late), and 4 more.`: what
    /// someone is to chase today; nil when none is.
    private static func breachedOpen(_ report: Report) -> String? {
        let open = report.breached.filter { $0.closedAt == nil }
        guard !open.isEmpty else { return nil }
        let more = open.count > 3 ? ", and \(open.count - 3) more" : ""
        return "Breached and still open: "
            + open.prefix(3).map { "\($0.id) (\(ReportText.duration($0.late)) late)" }.joined(separator: ", ") + more + "."
    }

    /// `Response actions: 5 done, 1 denied; 2 in force now.`; nil when none was asked for or is in force.
    private static func actions(_ report: Report) -> String? {
        let outcomes = ReportText.outcomeNames.enumerated().map { index, name in
            (name, report.actions.reduce(0) { $0 + ReportText.outcomes($1)[index].count })
        }
        let inForce = report.inForce.reduce(0) { $0 + $1.lifting + $1.untilUndone }
        let asked = listed(outcomes)
        guard asked != nil || inForce > 0 else { return nil }
        return "Response actions: " + (asked ?? "none asked for") + (inForce > 0 ? "; \(inForce) in force now." : ".")
    }

    /// `median 25m, p90 1h 15m (25 incidents)`, or `none measured`.
    private static func timing(_ timing: Report.Timing) -> String {
        guard timing.count > 0 else { return "none measured" }
        let incidents = timing.count.counted("incident")
        return "median \(ReportText.duration(timing.median)), p90 \(ReportText.duration(timing.p90)) (\(incidents))"
    }

    /// `45 completed, 3 failed`: the counts that are not zero; nil when all are.
    private static func listed(_ counts: [(String, Int)]) -> String? {
        let shown = counts.filter { $0.1 > 0 }.map { "\($0.1) \($0.0)" }
        return shown.isEmpty ? nil : shown.joined(separator: ", ")
    }
}
