import ArgumentParser
import AutomatorRuntime
import Foundation

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Give people and integrations personal API tokens, list, rotate and revoke them.",
        discussion: """
            A personal token authenticates as its name: a request with alice's token is \
            journaled as api:alice, may not claim another "by" (403), and chat.roles apply to \
            alice (an approval needs alice among the approvers; with none named, no personal token \
            approves). So each analyst of a team \
            gets a token of their own, and the audit and the four-eyes rule on high-risk \
            actions hold.

            Any personal token reads, creates and triages incidents, notes, completes tasks, \
            ingests alerts and runs the scripts folder's playbooks. Beyond that it needs the \
            role chat asks for the same thing, in the --config of automator serve: \
            chat.roles.responder to run or undo an action, chat.roles.approver to approve, \
            and chat.roles.author to run Lua sent with the request ({"source": ...}). A token \
            made with --metrics-only scrapes GET /metrics and nothing else: Prometheus's. A token \
            made with --ingest-only SOURCE posts alerts to /api/v1/ingest/SOURCE and nothing \
            else: a webhook's, such as Splunk's, and the only kind that may travel in a URL \
            (?token=) for a sender that cannot set a header.

            The server's shared token (AUTOMATOR_API_TOKEN, or DATA/api-token) stays the \
            operator's: it is as powerful as the data folder, names anyone, and manages tokens. \
            Keep it to the people who run the server.

            The store keeps each token's SHA-256 only: a token is shown once, when made, and \
            cannot be shown again; a lost one is rotated: a new one in its place. A name has \
            one live token at a time. A revoked token is refused at its next request, on every worker \
            sharing a PostgreSQL store.

            When an automator serve holds the data folder, these commands go through its API \
            with the folder's shared token; otherwise they work on the folder's store (a \
            worker's folder: its PostgreSQL store), or on --store.

            Exit status: 0 when done; 1 when it failed (a name that has a token already, or \
            none to rotate or revoke; the server refused or could not be reached); 64 for a \
            usage error.

            Examples:
              automator token add alice
              automator token add siem-connector --data /var/lib/automator
              automator token add prometheus --metrics-only
              automator token add splunk --ingest-only splunk
              automator token list
              automator token rotate alice
              automator token revoke alice
            """,
        subcommands: [Add.self, List.self, Rotate.self, Revoke.self]
    )
}

/// `--data` and `--store`: where the tokens are kept.
struct TokenOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The data folder of automator serve.", valueName: "folder"))
    var data = FolderAccess.defaultFolder

    @Option(help: ArgumentHelp(StoreOption.help + " The workers' store, directly.", valueName: "url"))
    var store: String?

    func validate() throws {
        guard let store else { return try FolderAccess.requireFolder(data) }
        do { _ = try PostgresLocation(url: store) } catch { throw ValidationError("--store: \(error)") }
    }
}

/// A token's name, checked as the store would refuse it.
struct TokenName: ParsableArguments {
    @Argument(help: ArgumentHelp("The person's or integration's name, as chat.roles names them (alice, siem-connector).",
                                 valueName: "name"))
    var name: String

    func validate() throws {
        if let problem = PersonalToken.nameProblem(name) { throw ValidationError(problem) }
    }
}

extension TokenCommand {
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a token for a person or an integration, and print it, once.",
            discussion: """
                Hand the token to its holder over a private channel. They send it as \
                Authorization: Bearer TOKEN; automator itself keeps only its SHA-256. To replace \
                a token, rotate it.

                Examples:
                  automator token add alice
                  automator token add alice --json | jq -r .token > alice.token
                  automator token add prometheus --metrics-only --json \\
                      | jq -r .token > /etc/prometheus/automator-token
                  automator token add splunk --ingest-only splunk
                """
        )

        @OptionGroup var options: TokenOptions
        @OptionGroup var token: TokenName

        @Flag(help: ArgumentHelp("A token that scrapes GET /metrics and is refused everywhere else (403): for Prometheus, "
                                 + "so that its credentials file opens nothing more."))
        var metricsOnly = false

        @Option(help: ArgumentHelp(
            "A token that posts alerts to POST /api/v1/ingest/<source> and is refused everywhere else (403): for a "
                + "webhook, such as Splunk's alert action. The only kind of token that may be sent in the URL "
                + "(?token=), for a sender that cannot set a header: the URL is logged by proxies and kept in the "
                + "sender's configuration, so what leaks there posts that source's alerts and nothing more.",
            valueName: "source"))
        var ingestOnly: String?

        @Flag(help: ArgumentHelp("Print the API's JSON: {\"name\", \"token\", \"created_at\", \"created_by\", "
                                 + "\"metrics_only\", \"ingest_only\"}."))
        var json = false

        func validate() throws {
            guard let ingestOnly else { return }
            if let problem = IngestSource.problem(ingestOnly) { throw ValidationError("--ingest-only: \(problem)") }
            if metricsOnly { throw ValidationError("--metrics-only or --ingest-only, not both: make one token of each") }
        }

        func run() async throws {
            let text = try await TokenBackend.perform(options) { [name = token.name, metricsOnly, ingestOnly] in
                try await $0.add(name, metricsOnly: metricsOnly, ingestOnly: ingestOnly)
            }
            try TokenCommand.printMade(text, json: json)
        }
    }

    /// Prints a token made by `add` or `rotate`, the once it is seen.
    static func printMade(_ text: String, json: Bool) throws {
        if json { return print(text) }
        let made = try JSONDecoder().decode(Made.self, from: Data(text.utf8))
        let use: String
        if let source = made.ingest_only {
            use = """
                It posts alerts to POST /api/v1/ingest/\(source), and every other route refuses it. A webhook
                that cannot set Authorization: Bearer TOKEN puts it in the URL it posts to:
                  https://AUTOMATOR/api/v1/ingest/\(source)?token=\(made.token)
                The journal names the alerts' sender api:\(made.name).
                """
        } else if made.metrics_only {
            use = "Prometheus sends it as Authorization: Bearer TOKEN (its credentials_file) to GET /metrics; the API refuses it."
        } else {
            use = """
                \(made.name) sends it as Authorization: Bearer TOKEN: the journal names them api:\(made.name),
                and chat.roles apply to \(made.name).
                """
        }
        printVisible("""
            Token for \(made.name), shown only this once (automator keeps its SHA-256, not the token):

              \(made.token)

            \(use)
            A new one in its place: automator token rotate \(made.name); none: automator token revoke \(made.name)
            """)
    }

    private struct Made: Decodable {
        var name: String
        var token: String
        var metrics_only: Bool
        var ingest_only: String?
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the tokens by name: when made, by whom, when last used, when revoked. Never the tokens themselves.",
            discussion: """
                LAST USED is when a request last carried the token, to the minute (a busy token is \
                noted once a minute): a live token unused for months is one to revoke. FOR is \
                api; metrics for a token that scrapes /metrics alone; ingest:SOURCE for one that \
                posts alerts to /api/v1/ingest/SOURCE alone.
                """
        )

        @OptionGroup var options: TokenOptions

        @Flag(help: ArgumentHelp("Print the API's JSON: {\"tokens\": [{\"name\", \"created_at\", \"created_by\", "
                                 + "\"revoked_at\", \"metrics_only\", \"ingest_only\", \"last_used_at\"}]}."))
        var json = false

        func run() async throws {
            let text = try await TokenBackend.perform(options) { try await $0.list() }
            if json { return print(text) }
            let tokens = try JSONDecoder().decode(Listed.self, from: Data(text.utf8)).tokens
            guard !tokens.isEmpty else {
                return print("No personal tokens: automator token add NAME makes one.")
            }
            printVisible(TextTable.render([["NAME", "FOR", "CREATED", "CREATED BY", "LAST USED", "REVOKED"]] + tokens.map {
                [$0.name, $0.scope, IncidentOutput.time($0.created_at), $0.created_by,
                 $0.last_used_at.map(IncidentOutput.time) ?? "never", $0.revoked_at.map(IncidentOutput.time) ?? "-"]
            }))
        }

        private struct Listed: Decodable {
            struct Token: Decodable {
                var name: String
                var created_at: String
                var created_by: String
                var revoked_at: String?
                var metrics_only: Bool
                var ingest_only: String?
                var last_used_at: String?

                /// What the token is for, as FOR shows it.
                var scope: String { ingest_only.map { "ingest:" + $0 } ?? (metrics_only ? "metrics" : "api") }
            }

            var tokens: [Token]
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give a name a new token in place of its live one, and print it, once.",
            discussion: """
                The old token is refused from its next request on, on every worker; the new one \
                is for the same name (a metrics-only or ingest-only token stays one), so the journal and \
                chat.roles see the same person. The old one stays listed, revoked. For a token \
                that leaked, or a holder's yearly change.

                Examples:
                  automator token rotate alice
                  automator token rotate prometheus --json \\
                      | jq -r .token > /etc/prometheus/automator-token
                """
        )

        @OptionGroup var options: TokenOptions
        @OptionGroup var token: TokenName

        @Flag(help: ArgumentHelp("Print the API's JSON: {\"name\", \"token\", \"created_at\", \"created_by\", "
                                 + "\"metrics_only\", \"ingest_only\"}."))
        var json = false

        func run() async throws {
            let text = try await TokenBackend.perform(options) { [name = token.name] in try await $0.rotate(name) }
            try TokenCommand.printMade(text, json: json)
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a name's token: refused from its next request on, on every worker.",
            discussion: """
                The token stays listed, revoked, for the audit. `automator token add NAME` then \
                makes the name a new one; `automator token rotate NAME` does both at once.

                Example:
                  automator token revoke alice
                """
        )

        @OptionGroup var options: TokenOptions
        @OptionGroup var token: TokenName

        func run() async throws {
            _ = try await TokenBackend.perform(options) { [name = token.name] in try await $0.revoke(name) }
            printVisible("Revoked the token of \(token.name): it is refused from now on.")
        }
    }
}
