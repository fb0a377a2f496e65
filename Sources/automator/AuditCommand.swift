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

            Exit status: 0 when done; 1 when it failed; 64 for a usage error.

            Examples:
              automator audit
              automator audit --since 24h --actor cli:alice
              automator audit --from 2026-03-01 --to 2026-03-07 --actor slack
              automator audit --json | jq -r '.audit[] | [.at, .actor, .incident] | @tsv'
            """
    )

    @OptionGroup var window: WindowOptions

    @Option(help: ArgumentHelp("Only this actor (cli:alice), or this family of actors (cli, slack, playbook).",
                               valueName: "actor"))
    var actor: String?

    @Option(help: ArgumentHelp("At most this many entries, from 1 to 100000.", valueName: "n"))
    var limit = 1000

    @Flag(help: "Print the API's JSON: {\"more\", \"audit\": [{\"at\", \"actor\", \"incident\" (null on none), \"kind\", \"text\"}]}; \"more\" is true when the window holds entries past --limit.")
    var json = false

    func validate() throws {
        _ = try window.window(fallback: "7d")
        guard (1...100_000).contains(limit) else { throw ValidationError("--limit must be from 1 to 100000, e.g. --limit 50") }
        if let actor, actor.isEmpty { throw ValidationError("--actor needs a name, e.g. --actor cli:alice") }
    }

    func run() async throws {
        let query = AuditQuery(window: try window.window(fallback: "7d"), actor: actor, limit: limit)
        let text = try await ReportBackend.perform(window) { backend throws(CommandFailure) in
            try await backend.audit(query)
        }
        if json { print(text) } else { printVisible(try Self.table(text)) }
        if (try? JSONDecoder().decode(Audit.self, from: Data(text.utf8)))?.more == true {
            CommandLogging.note("these are the newest \(limit) entries of the window, which holds more: narrow it "
                + "(--from, --to, --actor) or raise --limit (at most 100000)")
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
        /// The window holds entries past the limit (nil from a server before it said so).
        var more: Bool?
    }

    /// A line per entry: time, actor, incident, kind, text.
    private static func table(_ json: String) throws -> String {
        let entries = try JSONDecoder().decode(Audit.self, from: Data(json.utf8)).audit
        guard !entries.isEmpty else { return "nothing in the journal in that time" }
        return IncidentOutput.table([["TIME (UTC)", "ACTOR", "INCIDENT", "KIND", "TEXT"]] + entries.map {
            [IncidentOutput.time($0.at), $0.actor, $0.incident ?? "-", $0.kind, $0.text]
        })
    }
}
