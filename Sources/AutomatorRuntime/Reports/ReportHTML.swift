import Foundation

/// A report as one self-contained HTML file: inline CSS and SVG charts, no script, no external
/// file. Readable on a phone (one column, tables that scroll sideways) and printed (no
/// backgrounds but the bars, sections kept whole on a page).
///
/// Charts, by `id`: `chart-days` (opened and closed per day), `chart-types`, `chart-severities`,
/// `chart-sla` (met, breached, at risk, on track per type), `chart-sla-severity` (the same per
/// severity), `chart-playbooks` (run outcomes), `chart-actions` (response actions' outcomes).
enum ReportHTML {
    static let chartIDs = ["chart-days", "chart-types", "chart-severities", "chart-sla", "chart-sla-severity",
                           "chart-playbooks", "chart-actions"]

    /// The SLA's states, in the order of their bars: the charts by type and by severity.
    private static let slaStates = [ReportChart.Series(name: "met", className: "met"),
                                    ReportChart.Series(name: "breached", className: "breached"),
                                    ReportChart.Series(name: "at risk", className: "at-risk"),
                                    ReportChart.Series(name: "on track", className: "on-track")]

    static func render(_ report: Report) -> String {
        let opened = report.statuses.reduce(0) { $0 + $1.count }
        let closed = report.days.reduce(0) { $0 + $1.closed }
        let met = report.sla.reduce(0) { $0 + $1.met }
        let breached = report.sla.reduce(0) { $0 + $1.breached }
        let backlog = report.absent.contains(.backlog) ? ""
            : "<div><dt>Open at the start</dt><dd>\(report.openAtStart)</dd></div>"
                + "<div><dt>Open at the end</dt><dd>\(report.openAtEnd)</dd></div>"
        let flow = [ReportChart.Series(name: "opened", className: "opened"),
                    ReportChart.Series(name: "closed", className: "closed")]
        let zone = report.window.timeZone
        let outcomes = [ReportChart.Series(name: "completed", className: "met"),
                        ReportChart.Series(name: "failed", className: "breached"),
                        ReportChart.Series(name: "killed", className: "at-risk"),
                        ReportChart.Series(name: "unfinished", className: "on-track")]
        var body = """
            <header><h1>Automator report</h1>
            <p>\(escape(ReportText.window(report.window)))<br>made \(escape(ReportText.time(report.generatedAt, in: zone)))</p></header>
            <dl class="summary">
            <div><dt>Opened</dt><dd>\(opened)</dd></div>
            <div><dt>Closed</dt><dd>\(closed)</dd></div>
            \(backlog)
            <div><dt>SLA met</dt><dd>\(ReportText.share(met, of: met + breached))</dd></div>
            <div><dt>Acknowledged in (median)</dt><dd>\(ReportText.duration(report.acknowledge.median))</dd></div>
            <div><dt>Resolved in (median)</dt><dd>\(ReportText.duration(report.resolve.median))</dd></div>
            </dl>

            """
        body += section("Incidents per day", ReportChart.columns(
            id: "chart-days", title: "Incidents opened and closed per day (\(report.window.timeZoneName))",
            labels: report.days.map(\.date), series: flow, values: report.days.map { [$0.opened, $0.closed] })
            + ReportChart.legend(flow)
            + table([ReportText.dayHeader(report), "Opened", "Closed"], names: true,
                    report.days.map { [$0.date, "\($0.opened)", "\($0.closed)"] }))
        for (id, name, breakdowns) in [("chart-types", "type", report.types),
                                       ("chart-severities", "severity", report.severities)]
        {
            body += section("Incidents by \(name)", ReportChart.rows(
                id: id, title: "Incidents opened and closed by \(name)", labels: breakdowns.map(\.name), series: flow,
                values: breakdowns.map { [$0.opened, $0.closed] }, stacked: false) + ReportChart.legend(flow)
                + table([name.capitalized, "Opened", "Closed"], breakdowns.map { [$0.name, "\($0.opened)", "\($0.closed)"] }))
        }
        body += section("Closed incidents by resolution", report.absent.contains(.resolutions)
            ? "<p>\(escape(ReportText.absent(.resolutions)))</p>\n"
            : table(["Type"] + ReportText.resolutionHeaders, report.resolutions.map(ReportText.resolutionRow)))
        body += section("Status now of the incidents opened",
                        table(["Status", "Incidents"], report.statuses.map { [$0.name, "\($0.count)"] }))
        body += section("SLA by type", ReportChart.rows(
            id: "chart-sla", title: "SLA met, breached, at risk and on track by type", labels: report.sla.map(\.type),
            series: slaStates, values: report.sla.map { [$0.met, $0.breached, $0.atRisk, $0.onTrack] }, stacked: true)
            + ReportChart.legend(slaStates)
            + table(["Type"] + ReportText.slaHeaders, report.sla.map { ReportText.slaRow($0.type, $0) }))
        body += breaches(report)
        body += section("Response times", table(["", "Incidents"] + ReportText.timingHeaders, [
            ("Acknowledge", report.acknowledge), ("Resolve", report.resolve),
        ].map { name, timing in
            [name, "\(timing.count)"] + ReportText.durations(timing)
        }))
        body += section("Indicators looked up", table(["Verdict", "Indicators"], report.verdicts.map {
            [$0.name, "\($0.count)"]
        }) + (report.indicators.isEmpty ? "" : table(["Worst indicators", "Type", "Verdict", "Last seen"],
                                                     report.indicators.map {
            [$0.value, $0.type, $0.verdict, ReportText.time($0.lastSeen, in: zone)]
        })))
        body += section("Playbook runs", ReportChart.rows(
            id: "chart-playbooks", title: "Playbook runs by outcome", labels: report.playbooks.map(\.playbook),
            series: outcomes, values: report.playbooks.map { [$0.completed, $0.failed, $0.killed, $0.unfinished] },
            stacked: true) + ReportChart.legend(outcomes)
            + table(["Playbook", "Completed", "Failed", "Killed", "Unfinished"], report.playbooks.map {
                [$0.playbook, "\($0.completed)", "\($0.failed)", "\($0.killed)", "\($0.unfinished)"]
            }))
        body += section("Tasks by owner", table(["Owner", "Open", "Done", "Overdue"], report.owners.map {
            [ReportText.owner($0.owner), "\($0.open)", "\($0.done)", "\($0.overdue)"]
        }))
        body += actions(report)
        return """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Automator report, \(escape(ReportText.window(report.window)))</title>
            <style>\(style)</style>
            </head>
            <body>
            \(body)</body>
            </html>

            """
    }

    /// The SLA by severity beside the one by type, and the breached incidents a manager follows up.
    private static func breaches(_ report: Report) -> String {
        if report.absent.contains(.breaches) {
            return section("SLA by severity, breached incidents", "<p>\(escape(ReportText.absent(.breaches)))</p>\n")
        }
        let cut = ReportText.breachedCut(report).map { "<p class=\"none\">\(escape($0))</p>\n" } ?? ""
        return section("SLA by severity", ReportChart.rows(
            id: "chart-sla-severity", title: "SLA met, breached, at risk and on track by severity",
            labels: report.slaBySeverity.map(\.severity), series: slaStates,
            values: report.slaBySeverity.map { [$0.met, $0.breached, $0.atRisk, $0.onTrack] }, stacked: true)
            + ReportChart.legend(slaStates)
            + table(["Severity"] + ReportText.slaHeaders, names: true,
                    report.slaBySeverity.map { ReportText.slaRow($0.severity, $0) }))
            + section("Breached incidents", wide: true, table(ReportText.breachedHeaders, names: true,
                                                              empty: "None breached.", report.breached.map {
                ReportText.breachedRow($0, in: report.window.timeZone)
            }) + cut)
    }

    /// What the actions did: outcomes, who approved and how fast, what is in force now.
    private static func actions(_ report: Report) -> String {
        if report.absent.contains(.actions) {
            return section("Response actions", wide: true, "<p>\(escape(ReportText.absent(.actions)))</p>\n")
        }
        let outcomes = ReportText.outcomeNames.map {
            ReportChart.Series(name: $0, className: "action-" + $0.replacingOccurrences(of: " ", with: "-"))
        }
        // Across both columns: ten columns of outcomes do not fit in one.
        return section("Response actions", wide: true, ReportChart.rows(
            id: "chart-actions", title: "Response actions by outcome", labels: report.actions.map(\.action),
            series: outcomes, values: report.actions.map { ReportText.outcomes($0).map(\.count) }, stacked: true)
            + ReportChart.legend(outcomes)
            + table(["Action"] + ReportText.outcomeHeaders, names: true, report.actions.map { action in
                [action.action] + ReportText.outcomes(action).map { "\($0.count)" }
            })
            + table(["Approved by", "Actions"], names: true, empty: "Approved by nobody.",
                    report.approvers.map { [$0.name, "\($0.count)"] })
            + table(["", "Actions"] + ReportText.timingHeaders, names: true, [
                ["Approval in chat", "\(report.approval.count)"] + ReportText.durations(report.approval),
            ])
            + table(["In force now", "Lifting at their ttl", "Until undone", "Since"], names: true,
                    empty: "None in force now.", report.inForce.map {
                [$0.action, "\($0.lifting)", "\($0.untilUndone)", ReportText.time($0.since, in: report.window.timeZone)]
            }))
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// - Parameter wide: across both columns of a wide screen.
    private static func section(_ title: String, wide: Bool = false, _ content: String) -> String {
        "<section\(wide ? #" class="wide""# : "")><h2>\(escape(title))</h2>\n\(content)</section>\n"
    }

    /// A table in a box that scrolls sideways on a narrow screen; the first column is a header,
    /// broken anywhere (a URL, a hash) unless it holds `names`, kept whole (the box scrolls).
    /// - Parameter empty: what shows without rows; a table below a section's first says which one
    ///   it stands for, as its header would.
    private static func table(_ header: [String], names: Bool = false, empty: String = "None.", _ rows: [[String]])
        -> String
    {
        guard !rows.isEmpty else { return "<p class=\"none\">\(escape(empty))</p>\n" }
        let head = "<tr>" + header.map { "<th scope=\"col\">\(escape($0))</th>" }.joined() + "</tr>"
        let lines = rows.map { row in
            "<tr>" + row.enumerated().map { index, cell in
                index == 0 ? "<th scope=\"row\">\(escape(cell))</th>" : "<td>\(escape(cell))</td>"
            }.joined() + "</tr>"
        }
        let open = names ? #"<table class="names">"# : "<table>"
        return "<div class=\"scroll\">\(open)<thead>\(head)</thead><tbody>\n" + lines.joined(separator: "\n")
            + "\n</tbody></table></div>\n"
    }

    /// One column on a phone, two from 60em; bars keep their colours when printed.
    static let style = """
        :root{--opened:#2563eb;--closed:#16a34a;--met:#16a34a;--breached:#dc2626;--at-risk:#d97706;--on-track:#94a3b8;
        color-scheme:light}
        *{box-sizing:border-box}
        body{margin:0 auto;max-width:72em;padding:1em;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
        color:#111827;background:#fff}
        h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.1em;margin:0 0 .5em}
        header p{margin:0;color:#4b5563}
        .summary{display:grid;grid-template-columns:repeat(auto-fit,minmax(9em,1fr));gap:.5em;margin:1em 0}
        .summary div{border:1px solid #e5e7eb;border-radius:.4em;padding:.5em .7em}
        .summary dt{font-size:.8em;color:#4b5563}.summary dd{margin:0;font-size:1.4em;font-weight:600}
        body>section{border-top:1px solid #e5e7eb;padding:1em 0}
        @media (min-width:60em){body{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);column-gap:2em}
        header,.summary,.wide{grid-column:1/-1}}
        .chart{display:block;width:100%;max-width:40em;height:auto;font-size:10px;fill:#374151}
        .chart .axis{stroke:#9ca3af}.chart .grid{stroke:#e5e7eb}
        .opened{fill:var(--opened);background:var(--opened)}.closed{fill:var(--closed);background:var(--closed)}
        .met{fill:var(--met);background:var(--met)}.breached{fill:var(--breached);background:var(--breached)}
        .at-risk{fill:var(--at-risk);background:var(--at-risk)}.on-track{fill:var(--on-track);background:var(--on-track)}
        .action-done{fill:#16a34a;background:#16a34a}.action-failed{fill:#dc2626;background:#dc2626}
        .action-refused{fill:#7c2d12;background:#7c2d12}.action-denied{fill:#9333ea;background:#9333ea}
        .action-timed-out{fill:#d97706;background:#d97706}
        .action-dry-run{fill:#94a3b8;background:#94a3b8}.action-undone{fill:#2563eb;background:#2563eb}
        .action-expired{fill:#0891b2;background:#0891b2}.action-in-flight{fill:#facc15;background:#facc15}
        .legend{font-size:.85em;margin:.3em 0 .6em}.legend span{margin-right:1em;white-space:nowrap}
        .legend i{display:inline-block;width:.8em;height:.8em;margin-right:.3em;vertical-align:-.05em}
        .scroll{overflow-x:auto}
        table{border-collapse:collapse;font-size:.9em;margin:.3em 0}
        th,td{padding:.2em .6em;border-bottom:1px solid #f3f4f6;text-align:right;white-space:nowrap}
        th[scope=row],thead th:first-child{text-align:left;font-weight:normal;word-break:break-all;white-space:normal}
        .names th[scope=row],.names thead th:first-child{word-break:normal;white-space:nowrap}
        thead th{font-weight:600;border-bottom:1px solid #d1d5db}
        .none{color:#6b7280}
        @media print{body{max-width:none;padding:0;font-size:10pt;display:block}
        body>section{break-inside:avoid}.scroll{overflow:visible}
        *{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
        """
}
