import ArgumentParser
import AutomatorRuntime
import Foundation

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "List who did what, newest first: the journal, and the actions and answers on no incident.",
        discussion: """
            Every change to an incident is journaled with its actor: a person at a terminal \
            (cli:alice, with or without a server), another API client (api, api:NAME) or in chat \
            (slack:bob), a playbook's run \
            (playbook …), or automator itself (SLA breaches, playbooks started). --actor takes one \
            of them, or a family: cli, api, slack, playbook. Actions (who asked, who approved, \
            what, the result) and answers to questions (approvals too) are in their incident's \
            journal; those on no incident (automator action run without --incident, a chat \
            command's run) are listed too, with - for the incident.

            When an automator serve holds the data folder, the list comes through its API; \
            otherwise from the folder's database. With --store, from the workers' PostgreSQL \
            directly.

            Times are in UTC; with --tz, in that zone's clock, each with its offset from UTC \
            (2026-03-03 00:00:00 +01:00). --json keeps UTC.

            Exit status: 0 when done; 1 when it failed; 64 for a usage error.

            A window with more than --limit entries is read a page at a time: --all reads \
            every page (--limit entries each), or --after takes the "next" a page gave (--json) to \
            read the one after it. Pages follow a place in the list, not a count: entries written \
            meanwhile move none of them, so an export of a month is read whole and once.

            Examples:
              automator audit
              automator audit --since 24h --actor cli:alice
              automator audit --from 2026-03-01 --to 2026-03-07 --actor slack
              automator audit --period yesterday --tz Europe/Berlin
              automator audit --from 2026-03-01 --to 2026-04-01 \\
                  --all --json > march-audit.json
              automator audit --json | jq -r '.audit[] | [.at, .actor, .incident] | @tsv'
            """
    )

    @OptionGroup var window: WindowOptions

    @Option(help: ArgumentHelp("Only this actor (cli:alice), or this family of actors (cli, slack, playbook).",
                               valueName: "actor"))
    var actor: String?

    @Option(help: ArgumentHelp("At most this many entries, from 1 to 100000.", valueName: "n"))
    var limit = 1000

    @Option(help: ArgumentHelp("Only the entries after the page that gave this \"next\" (--json), with the same window and --actor.",
                               valueName: "next"))
    var after: String?

    @Flag(help: "Read every page of the window, --limit entries at a time, and print them as one list.")
    var all = false

    @Flag(help: "Print the API's JSON: {\"more\", \"next\", \"audit\": [{\"sequence\", \"at\", \"actor\", \"incident\" (null on none), \"kind\", \"text\"}]}; \"more\" is true when the window holds entries past --limit, from \"next\" (pass it to --after).")
    var json = false

    func validate() throws {
        _ = try window.window(fallback: "7d")
        guard (1...100_000).contains(limit) else { throw ValidationError("--limit must be from 1 to 100000, e.g. --limit 50") }
        if let actor, actor.isEmpty { throw ValidationError("--actor needs a name, e.g. --actor cli:alice") }
        if let after, AuditCursor(after) == nil {
            throw ValidationError("--after takes the \"next\" of the page before (automator audit --json), as it is")
        }
    }

    func run() async throws {
        // One window for every page: "--since 7d" read again at each page would move under it.
        var query = AuditQuery(window: try window.window(fallback: "7d"), actor: actor, limit: limit,
                               after: after.flatMap(AuditCursor.init))
        var pages: [String] = []
        try await ReportBackend.perform(window) { backend throws(CommandFailure) in
            repeat {
                let text = try await backend.audit(query)
                pages.append(text)
                query.after = (try? Self.page(text))?.next.flatMap(AuditCursor.init)
            } while all && query.after != nil
        }
        let text = pages.count == 1 ? pages[0] : try Self.joined(pages)
        if json { print(text) } else { printVisible(try Self.table(text, in: query.window.timeZone)) }
        if let next = try Self.page(text).next {
            let newest = limit == 1 ? "this is the newest entry" : "these are the newest \(limit) entries"
            CommandLogging.note("\(newest) of the window, which holds more: --all reads them all, --after \(next) the "
                + "next \(limit == 1 ? "one" : "\(limit)"); or narrow it (--from, --to, --actor)")
        }
    }

    private struct Audit: Decodable {
        struct Entry: Decodable {
            var at: String
            var actor: String
            /// Nil for what happened on no incident.
            var incident: String?
            var kind: String
            var text: String
        }

        var audit: [Entry]
        /// Where the page after this one starts; nil on the last page, and from a server before it said.
        var next: String?
    }

    private static func page(_ json: String) throws -> Audit { try JSONDecoder().decode(Audit.self, from: Data(json.utf8)) }

    /// The pages `--all` read as one page, the last: their entries, in order, as the API's JSON.
    private static func joined(_ pages: [String]) throws -> String {
        var entries: [Any] = []
        for page in pages {
            guard let object = try JSONSerialization.jsonObject(with: Data(page.utf8)) as? [String: Any],
                  let audit = object["audit"] as? [Any]
            else { throw CommandFailure("a page of the audit is not the API's JSON: \(page.prefix(200))") }
            entries += audit
        }
        let data = try JSONSerialization.data(withJSONObject: ["more": false, "next": NSNull(), "audit": entries],
                                              options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self)
    }

    /// A line per entry: time, actor, incident, kind, text. Times read in `zone` (--tz), each with
    /// its offset, which a window across a change of the clocks does not share.
    private static func table(_ json: String, in zone: TimeZone) throws -> String {
        let entries = try page(json).audit
        guard !entries.isEmpty else { return "nothing in the journal in that time" }
        let utc = zone.identifier == TimeZone.gmt.identifier
        func time(_ at: String) -> String {
            guard !utc, let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(at) else {
                return IncidentOutput.time(at)
            }
            return ReportText.time(date, in: zone, seconds: true)
        }
        let header: [String] = ["TIME (\(utc ? "UTC" : zone.identifier))", "ACTOR", "INCIDENT", "KIND", "TEXT"]
        let rows: [[String]] = entries.map { [time($0.at), $0.actor, $0.incident ?? "-", $0.kind, $0.text] }
        return TextTable.render([header] + rows)
    }
}
