import ArgumentParser
import AutomatorRuntime
import Foundation

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Report what the team and its playbooks did over a stretch of time.",
        discussion: """
            For the incidents opened in the window: how many per day, type, severity and status; \
            their SLA (met, breached, at risk, on track) per type and per severity, and the breached \
            ones (the open first, then the latest: due, closed, late by how much); the median, mean and 90th percentile \
            of the time to acknowledge (the first act of a person, not of a playbook) and to \
            resolve (to closing). Also: incidents closed in the window, those open at its start \
            and at its end (the backlog), the indicators looked up \
            and their verdicts, playbook runs by outcome, tasks per owner (open, done, overdue). \
            docs/ARCHITECTURE.md ("Reports") defines each figure.

            The window: --since is the time until now (--since 7d on a Monday at 07:00 is eight \
            partial days); --period is whole calendar days, midnight to midnight: for a weekly \
            report, --period last-week (Monday to Sunday, whatever the hour it runs), for a \
            monthly one --period last-month. Days, --period and the dates of --from/--to are those \
            of --tz (default UTC), the clocks' changes included (a day of 23 or 25 hours); every \
            time printed says its zone, and the JSON names it (timezone).

            Formats: md (Markdown, the default), html (one self-contained file with charts, for \
            a browser, a phone or a printer), json (as GET /api/v1/report answers), csv (one flat \
            table: section,name,measure,value). With -o, the file's extension (.md, .html, .json, \
            .csv) chooses the format unless --format does; another extension is refused rather \
            than given Markdown (for a PDF, print the html one from a browser). The file is \
            replaced whole, never left half written, with mode 0600 (only you read it: chmod it \
            to share it).

            When an automator serve holds the data folder, the report comes through its API; \
            otherwise from the folder's database. A server older than this command may lack a \
            section (the response actions): the report says so in its place, and a note names \
            the server and its version. With --store, from the workers' PostgreSQL \
            directly (a laptop with access to the database needs no worker of its own).

            Exit status: 0 when done; 1 when it failed (the database, the server, the file); 64 \
            for a usage error (a date that cannot be read, say).

            Examples:
              automator report
              automator report --since 7d --format html -o week.html
              automator report --period last-week --tz Europe/Berlin \\
                  -o /srv/reports/week.html
              automator report --from 2026-03-01 --to 2026-03-31 -o march.csv
              automator report --since 24h --format json | jq .resolve
              PGPASSWORD=... automator report \\
                  --store postgres://automator@db.example:5432/automator
            """
    )

    @OptionGroup var window: WindowOptions

    @Option(help: ArgumentHelp("md, html, json or csv (default: from -o's extension, else md).", valueName: "format"))
    var format: String?

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Write to this file (mode 0600) instead of standard output.",
                                                                      valueName: "file"))
    var output: String?

    private static let formats = ReportFormat.allCases.map(\.rawValue).joined(separator: ", ")

    func validate() throws {
        _ = try window.window(fallback: "30d")
        if let format, ReportFormat(rawValue: format) == nil {
            throw ValidationError("--format must be one of \(Self.formats), not '\(format)'" + Self.advice(for: format))
        }
        // `-o week.pdf` once wrote Markdown into week.pdf, which no PDF reader opens, and exited 0.
        if format == nil, let output, case let ext = (output as NSString).pathExtension, !ext.isEmpty,
           ReportFormat(fileName: output) == nil
        {
            throw ValidationError("-o \(output): a .\(ext) file is not one automator writes: name it .md, .html, .json "
                + "or .csv, or give --format" + Self.advice(for: ext))
        }
    }

    /// What someone who asked for a PDF does instead.
    private static func advice(for format: String) -> String {
        format.lowercased() == "pdf" ? "; for a PDF, write the html and print it from a browser" : ""
    }

    func run() async throws {
        let now = Date()  // one time for the window's end and the report's
        let span = try window.window(fallback: "30d", now: now)
        let chosen = format.flatMap(ReportFormat.init(rawValue:)) ?? output.flatMap(ReportFormat.init(fileName:))
            ?? .markdown
        let report = try await ReportBackend.perform(window) { backend throws(CommandFailure) in
            try await backend.report(span, at: now)
        }
        let text = chosen.render(report)
        guard let output else { return print(text, terminator: "") }
        do { try ReportFile.write(text, to: output) } catch {
            CommandLogging.report(error)
            throw ExitCode.failure
        }
    }
}
