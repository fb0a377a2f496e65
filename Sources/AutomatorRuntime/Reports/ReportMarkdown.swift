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
        out += "\n## Closed incidents by resolution\n\n"
        out += report.absent.contains(.resolutions) ? ReportText.absent(.resolutions) + "\n"
            : table(["Type"] + ReportText.resolutionHeaders, report.resolutions.map(ReportText.resolutionRow))
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
                [$0.value, $0.type, $0.verdict, ReportText.time($0.lastSeen, in: zone)]
            }, text: 4, code: 0)
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
    /// times), the others, counts and durations, right; the `code` column as code (indicators,
    /// which a renderer would make links). Every cell is shown as written (`cell`, `code`).
    private static func table(_ header: [String], _ rows: [[String]], text: Int = 1, code: Int? = nil) -> String {
        guard !rows.isEmpty else { return "None.\n" }
        func line(_ cells: [String]) -> String {
            "| " + cells.indices.map { $0 == code ? Self.code(cells[$0]) : cell(cells[$0]) }.joined(separator: " | ")
                + " |\n"
        }
        return "| " + header.joined(separator: " | ") + " |\n|"
            + header.indices.map { $0 < text ? " --- |" : " ---: |" }.joined() + "\n" + rows.map(line).joined()
    }

    /// Text from incidents, tasks and playbooks (a type, an owner, a name) as Markdown shows it,
    /// as written, on one line: line breaks and controls escaped as the CLI shows them
    /// (`VisibleText`), then `|`, `[`, `]`, `<`, `>` and backquotes escaped. An owner set to
    /// `[Reset](https://evil.example)` or `<img src=x onerror=...>`, or a type with a line break and
    /// `| forged | row |`, added a link, HTML or a row to a report pasted in a wiki or a ticket.
    private static func cell(_ text: String) -> String {
        var cell = ""
        for character in VisibleText.escaped(text, as: .name) {
            if "|[]<>`".contains(character) { cell.append("\\") }
            cell.append(character)
        }
        return cell
    }

    /// A code span of `text` on one line, its fence longer than any run of backquotes in it
    /// (Markdown has no escapes in code); `|` escaped, as a table needs even in code.
    private static func code(_ text: String) -> String {
        let shown = VisibleText.escaped(text, as: .name).replacingOccurrences(of: "|", with: "\\|")
        var longest = 0
        var run = 0
        for character in shown {
            run = character == "`" ? run + 1 : 0
            longest = max(longest, run)
        }
        let fence = String(repeating: "`", count: longest + 1)
        // A space on each side keeps a backquote at an end from joining the fence.
        return longest == 0 ? fence + shown + fence : fence + " " + shown + " " + fence
    }
}
