import Foundation

/// A report as Markdown: a heading per section, a table per figure; fit for a ticket, a wiki
/// page or a chat message.
enum ReportMarkdown {
    static func render(_ report: Report) -> String {
        let opened = report.statuses.reduce(0) { $0 + $1.count }
        let closed = report.days.reduce(0) { $0 + $1.closed }
        let backlog = ReportText.backlog(report).map { "; " + $0 } ?? ""
        let zone = report.window.timeZone
        var out = """
            # Automator report

            \(ReportText.window(report.window)), made \(ReportText.time(report.generatedAt, in: zone)).
            \(opened.counted("incident")) opened, \(closed) closed\(backlog).

            ## Incidents per day


            """
        out += table([ReportText.dayHeader(report), "Opened", "Closed"], report.days.map { [$0.date, "\($0.opened)", "\($0.closed)"] })
        out += "\n## Incidents by type\n\n"
        out += table(["Type", "Opened", "Closed"], report.types.map { [$0.name, "\($0.opened)", "\($0.closed)"] })
        out += "\n## Incidents by severity\n\n"
        out += table(["Severity", "Opened", "Closed"], report.severities.map { [$0.name, "\($0.opened)", "\($0.closed)"] })
        out += "\n## Incidents opened in the window, by status now\n\n"
        out += table(["Status", "Incidents"], report.statuses.map { [$0.name, "\($0.count)"] })
        out += "\n## SLA by type\n\n"
        out += table(["Type"] + ReportText.slaHeaders, report.sla.map { ReportText.slaRow($0.type, $0) })
        if report.absent.contains(.breaches) {
            out += "\n## SLA by severity, breached incidents\n\n" + ReportText.absent(.breaches) + "\n"
        } else {
            out += "\n## SLA by severity\n\n"
            out += table(["Severity"] + ReportText.slaHeaders, report.slaBySeverity.map {
                ReportText.slaRow($0.severity, $0)
            })
            out += "\n## Breached incidents\n\n"
            out += table(ReportText.breachedHeaders, report.breached.map { ReportText.breachedRow($0, in: zone) }, text: 5)
            if let cut = ReportText.breachedCut(report) { out += "\n" + cut + "\n" }
        }
        out += "\n## Response times\n\n"
        out += table(["", "Incidents"] + ReportText.timingHeaders, [("Acknowledge", report.acknowledge),
                                                                   ("Resolve", report.resolve)].map { name, timing in
            [name, "\(timing.count)"] + ReportText.durations(timing)
        })
        out += "\n## Indicators looked up\n\n"
        out += table(["Verdict", "Indicators"], report.verdicts.map { [$0.name, "\($0.count)"] })
        if !report.indicators.isEmpty {
            out += "\nThe worst:\n\n"
            out += table(["Indicator", "Type", "Verdict", "Last seen"], report.indicators.map {
                ["`\($0.value)`", $0.type, $0.verdict, ReportText.time($0.lastSeen, in: zone)]
            }, text: 4)
        }
        out += "\n## Playbook runs\n\n"
        out += table(["Playbook", "Completed", "Failed", "Killed", "Unfinished", "Success"], report.playbooks.map { run in
            [run.playbook, "\(run.completed)", "\(run.failed)", "\(run.killed)", "\(run.unfinished)",
             ReportText.share(run.completed, of: run.completed + run.failed + run.killed)]
        })
        out += "\n## Tasks by owner\n\n"
        out += table(["Owner", "Open", "Done", "Overdue"], report.owners.map { owner in
            [ReportText.owner(owner.owner), "\(owner.open)", "\(owner.done)", "\(owner.overdue)"]
        })
        out += "\n## Response actions\n\n"
        if report.absent.contains(.actions) { return out + ReportText.absent(.actions) + "\n" }
        out += table(["Action"] + ReportText.outcomeHeaders, report.actions.map { action in
            [action.action] + ReportText.outcomes(action).map { "\($0.count)" }
        })
        out += "\nApproved by:\n\n"
        out += table(["Approver", "Actions"], report.approvers.map { [$0.name, "\($0.count)"] })
        out += "\n" + table(["", "Actions"] + ReportText.timingHeaders, [
            ["Approval in chat", "\(report.approval.count)"] + ReportText.durations(report.approval),
        ])
        out += "\nIn force now:\n\n"
        out += table(["Action", "Lifting at their ttl", "Until undone", "Since"], report.inForce.map { action in
            [action.action, "\(action.lifting)", "\(action.untilUndone)", ReportText.time(action.since, in: zone)]
        })
        return out
    }

    /// A Markdown table, or `None.` without rows: its first `text` columns aligned left (names,
    /// times), the others, counts and durations, right.
    private static func table(_ header: [String], _ rows: [[String]], text: Int = 1) -> String {
        guard !rows.isEmpty else { return "None.\n" }
        func line(_ cells: [String]) -> String {
            "| " + cells.map { $0.replacingOccurrences(of: "|", with: "\\|") }.joined(separator: " | ") + " |\n"
        }
        return line(header) + "|" + header.indices.map { $0 < text ? " --- |" : " ---: |" }.joined() + "\n"
            + rows.map(line).joined()
    }
}
