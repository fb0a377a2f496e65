import AutomatorRuntime
import Foundation
import Hummingbird
import TestSupport
import Testing

@Suite("automator report and automator audit, on the data folder and through a server", .timeLimit(.minutes(2)))
struct ReportCommandTests {
    /// A data folder holding `ReportFixture`, whose figures `ReportTests` checks by hand.
    struct Setting {
        let folder: TemporaryFolder
        var data: String { folder.url.appendingPathComponent("data").path }
        /// The fixture's window, as the command line gives it.
        static let window = ["--from", "2026-03-01", "--to", "2026-03-03"]

        init() async throws {
            folder = try TemporaryFolder()
            let store = try SQLiteStore(folder: folder.url.appendingPathComponent("data").path)
            try await ReportFixture.fill(store)
            await store.close()
        }

        func automator(_ arguments: [String]) async throws -> AutomatorProcess.Result {
            try await AutomatorProcess.run(arguments + ["--data", data], in: folder.url)
        }
    }

    /// What does not depend on when the report is made (the SLA and overdue tasks do).
    static func settled(_ report: Report) -> [String] {
        [report.days, report.types, report.severities, report.statuses, report.verdicts, report.playbooks,
         report.actions, report.approvers, report.inForce]
            .map { "\($0)" } + ["\(report.window)", "\(report.acknowledge)", "\(report.resolve)", "\(report.approval)"]
    }

    @Test("Each format on standard output, from the folder's database")
    func formats() async throws {
        let setting = try await Setting()
        let json = try await setting.automator(["report", "--format", "json"] + Setting.window)
        #expect(json.status == 0, "\(json.stderr)")
        let report = try ReportJSON.decode(json.stdout)
        let expected = try await {
            let store = try SQLiteStore(folder: setting.data)
            defer { Task { await store.close() } }
            return try await store.report(ReportFixture.window, at: Date())
        }()
        #expect(Self.settled(report) == Self.settled(expected))
        #expect(report.statuses.map(\.count) == [1, 2, 1, 6])

        let markdown = try await setting.automator(["report"] + Setting.window)
        #expect(markdown.status == 0, "\(markdown.stderr)")
        #expect(markdown.stdout.hasPrefix("# Automator report\n\n2026-03-01 00:00 UTC to 2026-03-04 00:00 UTC, made "))
        #expect(markdown.stdout.contains("| Acknowledge | 7 | 2h | 6h 30m | 1d 6h |"))
        let csv = try await setting.automator(["report", "--format", "csv"] + Setting.window)
        #expect(csv.stdout.hasPrefix("section,name,measure,value\r\n"))
        #expect(csv.stdout.contains("\r\nresolve,,p90_seconds,126000\r\n"))
    }

    @Test("-o writes the file whole, its format from its extension unless --format says")
    func output() async throws {
        let setting = try await Setting()
        let result = try await setting.automator(["report", "-o", "march.html"] + Setting.window)
        #expect(result.status == 0 && result.stdout.isEmpty, "\(result.stderr)")
        let html = try String(contentsOf: setting.folder.url.appendingPathComponent("march.html"), encoding: .utf8)
        #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains(#"<svg id="chart-sla""#))
        // Replaced, not appended to; no temporary file left beside it.
        let again = try await setting.automator(["report", "-o", "march.html", "--format", "md"] + Setting.window)
        #expect(again.status == 0, "\(again.stderr)")
        let markdown = try String(contentsOf: setting.folder.url.appendingPathComponent("march.html"), encoding: .utf8)
        #expect(markdown.hasPrefix("# Automator report"))
        // Only its owner reads it, whatever the umask (022 here): it names incidents and people.
        let mode = try FileManager.default.attributesOfItem(atPath: setting.folder.url.appendingPathComponent("march.html").path)
        #expect(mode[.posixPermissions] as? Int == 0o600)
        let files = try FileManager.default.contentsOfDirectory(atPath: setting.folder.url.path).sorted()
        #expect(files == ["data", "march.html"])

        let nowhere = try await setting.automator(["report", "-o", "missing/report.csv"] + Setting.window)
        #expect(nowhere.status == 1)
        #expect(nowhere.stderr == "error: cannot write missing/report.csv: No such file or directory\n")
    }

    @Test("Bad windows, formats and folders are usage errors that say what to write")
    func usage() async throws {
        let setting = try await Setting()
        for (arguments, message) in [
            (["--since", "soon"], "--since wants a duration such as 90s, 15m, 4h, 2d or 1w (at most 100 years), not 'soon'"),
            // Once a crash: the window's start was a date before any the calendar has.
            (["--since", "99999999999999999999d"], "--since wants a duration such as 90s, 15m, 4h, 2d or 1w (at most 100 years), not '99999999999999999999d'"),
            // Once a 7-second window, and exit 0: a bare number reads as days to some, seconds to others.
            (["--since", "7"], "--since wants its unit, as in 7d (days); the units are s, m, h, d and w: "
                + "90s, 15m, 4h, 2d, 1w"),
            (["--from", "1 March"], "--from wants a date such as 2026-03-01 or a time such as 2026-03-01T08:00:00Z, not '1 March'"),
            (["--from", "2026-03-01", "--to", "2026-02-31"], "--to wants a date such as 2026-03-01 or a time such as 2026-03-01T08:00:00Z, not '2026-02-31'"),
            (["--from", "2026-03-05", "--to", "2026-03-01"], "the window is empty: --from 2026-03-05 is not before --to 2026-03-01"),
            // Once 22 s and 296 MB of the server's: a row for each of 3.65 million days.
            (["--from", "0001-01-01", "--to", "9999-12-31"], "the window from --from 0001-01-01 to --to 9999-12-31 is "
                + "longer than 100 years, the longest a report covers: move --from or --to closer"),
            (["--since", "7d", "--from", "2026-03-01"], "give --since or --from, not both"),
            (["--to", "2026-03-01"], "--to goes with --from, as in --from 2026-03-01 --to 2026-03-31"),
            (["--period", "last-week", "--since", "7d"], "give --period or --since or --from, one of them: --period "
                + "last-week is a whole window"),
            (["--period", "week"], "--period wants today, yesterday, this-week, last-week, this-month, last-month, "
                + "not 'week'"),
            (["--tz", "Berlin"], "--tz wants a time zone's name from the tz database, such as Europe/Berlin, "
                + "America/New_York or UTC, not 'Berlin': did you mean Europe/Berlin?"),
            (["--format", "pdf"], "--format must be one of md, html, json, csv, not 'pdf'; for a PDF, write the html "
                + "and print it from a browser"),
            // Once Markdown in week.pdf, and exit 0.
            (["-o", "week.pdf"], "-o week.pdf: a .pdf file is not one automator writes: name it .md, .html, .json or "
                + ".csv, or give --format; for a PDF, write the html and print it from a browser"),
            (["-o", "week.xlsx"], "-o week.xlsx: a .xlsx file is not one automator writes: name it .md, .html, .json "
                + "or .csv, or give --format"),
        ] {
            let result = try await setting.automator(["report"] + arguments)
            #expect(result.status == 64, "\(arguments)")
            #expect(result.stderr.hasPrefix("error: \(message)\n"), "\(result.stderr)")
        }
        let bare = try await setting.automator(["audit", "--since", "24"])
        #expect(bare.status == 64 && bare.stderr.contains("--since wants its unit, as in 24d (days)"), "\(bare.stderr)")
        for since in ["0d", "9223372036854775807s"] {
            let audit = try await setting.automator(["audit", "--since", since])
            #expect(audit.status == 64 && audit.stderr.contains("--since wants a duration"), "\(audit.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: setting.folder.url.appendingPathComponent("week.pdf").path))
        let noFolder = try await AutomatorProcess.run(["report", "--data", setting.folder.url.path + "/nothing"])
        #expect(noFolder.status == 64 && noFolder.stderr.contains("there is no data folder"), "\(noFolder.stderr)")
    }

    @Test("audit lists who did what, newest first; --actor narrows, --json for scripts; a window cut at --limit says so")
    func audit() async throws {
        let setting = try await Setting()
        let cli = try await setting.automator(["audit", "--actor", "cli"] + Setting.window)
        #expect(cli.status == 0, "\(cli.stderr)")
        #expect(cli.stdout == """
            TIME (UTC)           ACTOR      INCIDENT  KIND       TEXT
            2026-03-03 23:00:00  cli:dave   INC-9     note       note by cli:dave
            2026-03-03 18:00:00  cli:alice  -         approval   Q-8 Approve?: approve
            2026-03-03 02:00:00  cli:alice  INC-12    note       note by cli:alice
            2026-03-02 17:00:00  cli:carol  -         action     ACT-13 undone: firewall.block_ip {}
            2026-03-02 16:00:00  cli:carol  -         action     ACT-13 done: firewall.block_ip {}, approved by cli:carol: {}
            2026-03-02 12:00:00  cli:carol  INC-6     update     update by cli:carol
            2026-03-01 03:00:00  cli:alice  INC-1     task_done  task_done by cli:alice

            """)
        let json = try await setting.automator(["audit", "--json", "--limit", "2"] + Setting.window)
        let entries = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])["audit"]
            as? [[String: Any]]
        #expect(entries?.map { $0["incident"] as? String } == ["INC-9", "INC-9"])
        #expect(json.stdout.hasPrefix(#"{"more":true,"#) && json.stderr.contains("which holds more"), "\(json.stderr)")
        #expect(!cli.stdout.contains("more") && !cli.stderr.contains("which holds more"), "all of cli's fit: \(cli.stderr)")
        let one = try await setting.automator(["audit", "--limit", "1"] + Setting.window)
        #expect(one.stderr.contains("this is the newest entry of the window, which holds more: --all reads them all, "
            + "--after "), "\(one.stderr)")
        let nobody = try await setting.automator(["audit", "--actor", "mallory"] + Setting.window)
        #expect(nobody.stdout == "nothing in the journal in that time\n")
    }

    @Test("audit reads its times in --tz's clock, each with its offset, as the report does; --json keeps UTC")
    func auditInTimeZone() async throws {
        let setting = try await Setting()
        // The window is Berlin's days: 2026-02-28 23:00 UTC to 2026-03-03 23:00 UTC, so cli:dave's
        // note at 23:00 UTC on the 3rd (midnight in Berlin, the 4th) is past its end.
        let berlin = try await setting.automator(["audit", "--actor", "cli", "--tz", "Europe/Berlin"] + Setting.window)
        #expect(berlin.status == 0, "\(berlin.stderr)")
        #expect(berlin.stdout == """
            TIME (Europe/Berlin)        ACTOR      INCIDENT  KIND       TEXT
            2026-03-03 19:00:00 +01:00  cli:alice  -         approval   Q-8 Approve?: approve
            2026-03-03 03:00:00 +01:00  cli:alice  INC-12    note       note by cli:alice
            2026-03-02 18:00:00 +01:00  cli:carol  -         action     ACT-13 undone: firewall.block_ip {}
            2026-03-02 17:00:00 +01:00  cli:carol  -         action     ACT-13 done: firewall.block_ip {}, approved by cli:carol: {}
            2026-03-02 13:00:00 +01:00  cli:carol  INC-6     update     update by cli:carol
            2026-03-01 04:00:00 +01:00  cli:alice  INC-1     task_done  task_done by cli:alice

            """)
        let newYork = try await setting.automator(["audit", "--actor", "cli:dave", "--tz", "America/New_York"]
            + Setting.window)
        #expect(newYork.stdout.contains("2026-03-03 18:00:00 -05:00  cli:dave"), "\(newYork.stdout)")
        let json = try await setting.automator(["audit", "--json", "--tz", "Europe/Berlin"] + Setting.window)
        #expect(json.stdout.contains(#""at":"2026-03-03T18:00:00"#), "\(json.stdout)")
    }

    @Test("Through the server that holds the folder: GET /api/v1/report and /api/v1/audit")
    func throughServer() async throws {
        let setting = try await Setting()
        let scripts = setting.folder.url.appendingPathComponent("scripts")
        try FileManager.default.createDirectory(at: scripts, withIntermediateDirectories: true)
        let server = try await ServerProcess.start(data: setting.folder.url.appendingPathComponent("data"),
                                                   scripts: scripts)
        let json = try await setting.automator(["report", "--format", "json"] + Setting.window)
        #expect(json.status == 0, "\(json.stderr)")
        let api = try await server.call("GET", "/api/v1/report?from=2026-03-01&to=2026-03-03")
        #expect(api.status == 200)
        #expect(Self.settled(try ReportJSON.decode(json.stdout)) == Self.settled(try ReportJSON.decode(api.body)))
        #expect(json.stderr.isEmpty, "a server as new as the CLI sends every section: \(json.stderr)")
        // Berlin's days through the server, as the folder's database counts them.
        let berlin = try await setting.automator(["report", "--format", "json", "--tz", "Europe/Berlin"] + Setting.window)
        let zoned = try ReportJSON.decode(berlin.stdout)
        #expect(berlin.status == 0 && zoned.window.timeZoneName == "Europe/Berlin", "\(berlin.stderr)")
        let direct = try await {
            let store = try SQLiteStore(folder: setting.data)
            defer { Task { await store.close() } }
            return try await store.report(zoned.window, at: Date())
        }()
        #expect(Self.settled(zoned) == Self.settled(direct))
        // Opened 2026-03-01 Berlin [-1, 23): INC-1, 2, 3, 4, and INC-10 closed at 12; INC-1 at 5, INC-4 at 22.
        #expect(zoned.days.first == Report.Day(date: "2026-03-01", opened: 4, closed: 3))
        #expect(api.headers["server"]?.hasPrefix("automator/") == true, "\(api.headers)")
        let refused = try await server.call("GET", "/api/v1/report?since=forever")
        #expect(refused.status == 400 && refused.body.contains("--since wants a duration"), "\(refused.body)")
        let unbounded = try await server.call("GET", "/api/v1/report?from=0001-01-01&to=9999-12-31")
        #expect(unbounded.status == 400 && unbounded.body.contains("longer than 100 years, the longest a report covers"),
                "\(unbounded.body)")

        let audit = try await setting.automator(["audit", "--actor", "slack:bob", "--json"] + Setting.window)
        #expect(audit.status == 0, "\(audit.stderr)")
        // INC-2's and INC-12's chat, Q-9's answer (on no incident).
        #expect(audit.stdout.components(separatedBy: #""actor":"slack:bob""#).count - 1 == 3, "\(audit.stdout)")

        // Page by page: --all reads them all, 2 at a time, as one list; --after takes a page's next.
        func texts(_ json: String) throws -> [String] {
            let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
            return (object?["audit"] as? [[String: Any]] ?? []).compactMap { $0["text"] as? String }
        }
        let whole = try await setting.automator(["audit", "--json"] + Setting.window)
        let paged = try await setting.automator(["audit", "--json", "--all", "--limit", "2"] + Setting.window)
        #expect(paged.status == 0 && !paged.stderr.contains("which holds more"), "\(paged.stderr)")
        let all = try texts(whole.stdout)
        #expect(try texts(paged.stdout) == all && all.count > 2, "\(paged.stdout)")
        let first = try await server.call("GET", "/api/v1/audit?from=2026-03-01&to=2026-03-03&limit=2")
        let next = try #require((try JSONSerialization.jsonObject(with: Data(first.body.utf8)) as? [String: Any])?["next"]
            as? String, "\(first.body)")
        let second = try await setting.automator(["audit", "--json", "--limit", "2", "--after", next] + Setting.window)
        #expect(try texts(second.stdout) == Array(all[2..<4]), "\(second.stdout)\(second.stderr)")
        let wrong = try await server.call("GET", "/api/v1/audit?after=page-2")
        #expect(wrong.status == 400 && wrong.body.contains("the \\\"next\\\" of the page before"), "\(wrong.body)")
    }

    @Test("A server older than the CLI: its report read all the same, the section it lacks said, the server named")
    func olderServer() async throws {
        let setting = try await Setting()
        // Held as a server holds its folder, so that the CLI asks the server named in the file.
        let lock = open(setting.data + "/serve.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        #expect(flock(lock, LOCK_EX | LOCK_NB) == 0)
        defer { close(lock) }
        try "older-token".write(toFile: setting.data + "/api-token", atomically: true, encoding: .utf8)
        // The first servers sent no Server header.
        for version in [nil, "0.0.9"] as [String?] {
            let router = Router()
            router.get("api/v1/report") { request, _ -> Response in
                guard request.headers[.authorization] == "Bearer older-token" else { return Response(status: .unauthorized) }
                var response = Response(status: .ok, headers: [.contentType: "application/json"],
                                        body: .init(byteBuffer: ByteBuffer(string: ReportFixture.olderServerJSON)))
                if let version { response.headers[.server] = "automator/" + version }
                return response
            }
            let server = try await LoopbackServer(router)
            defer { server.stop() }
            let holder = Data(#"{"pid":\#(getpid()),"url":"\#(server.url)"}"#.utf8)
            ftruncate(lock, 0)
            _ = holder.withUnsafeBytes { pwrite(lock, $0.baseAddress, $0.count, 0) }

            let markdown = try await setting.automator(["report"] + Setting.window)
            #expect(markdown.status == 0, "\(markdown.stderr)")
            #expect(markdown.stdout.contains("| 2026-03-01 | 2 | 1 |\n"))
            #expect(markdown.stdout.hasSuffix("## Response actions\n\nThe server that made this report is older than its "
                + "response actions section: upgrade it to see them.\n"))
            let named = version.map { "automator " + $0 } ?? "an automator too old to say its version"
            #expect(markdown.stderr == "note: the server at \(server.url) (\(named)) does not report response actions: "
                + "upgrade it to see them\nnote: the server at \(server.url) (\(named)) does not report backlog (incidents "
                + "open at the start and at the end): upgrade it to see them\nnote: the server at \(server.url) (\(named)) "
                + "does not report SLA by severity and breached incidents: upgrade it to see them\nnote: the server at "
                + "\(server.url) (\(named)) does not report closed incidents by resolution: upgrade it to see them\n")
            // Asked for Berlin's days, it made UTC's: said, rather than passed off as Berlin's.
            let berlin = try await setting.automator(["report", "--tz", "Europe/Berlin"] + Setting.window)
            #expect(berlin.stdout.contains("| Day (UTC) |") && berlin.stderr.hasSuffix("note: the server at \(server.url) "
                + "(\(named)) counts days in UTC, not Europe/Berlin: upgrade it for --tz\n"), "\(berlin.stderr)")
            let json = try await setting.automator(["report", "--format", "json"] + Setting.window)
            #expect(json.status == 0 && !json.stdout.contains("\"actions\""), "\(json.stderr)")
        }
    }
}
