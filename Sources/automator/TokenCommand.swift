import ArgumentParser
import AutomatorRuntime
import Foundation

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Give people and integrations personal API tokens, list them, revoke them.",
        discussion: """
            A personal token authenticates as its name: a request with alice's token is \
            journaled as api:alice, may not claim another "by" (403), and chat.roles apply to \
            alice (an approval needs alice among the approvers). So each analyst of a team \
            gets a token of their own, and the audit and the four-eyes rule on high-risk \
            actions hold.

            The server's shared token (AUTOMATOR_API_TOKEN, or DATA/api-token) stays the \
            operator's: it is as powerful as the data folder, names anyone, and manages tokens. \
            Keep it to the people who run the server.

            The store keeps each token's SHA-256 only: a token is shown once, when made, and \
            cannot be shown again; a lost one is revoked and made anew. A name has one live \
            token at a time. A revoked token is refused at its next request, on every worker \
            sharing a PostgreSQL store.

            When an automator serve holds the data folder, these commands go through its API \
            with the folder's shared token; otherwise they work on the folder's store (a \
            worker's folder: its PostgreSQL store), or on --store.

            Exit status: 0 when done; 1 when it failed (a name that has a token already, or \
            none to revoke; the server refused or could not be reached); 64 for a usage error.

            Examples:
              automator token add alice
              automator token add siem-connector --data /var/lib/automator
              automator token list
              automator token revoke alice
            """,
        subcommands: [Add.self, List.self, Revoke.self]
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
                a token, revoke it first.

                Examples:
                  automator token add alice
                  automator token add alice --json | jq -r .token > alice.token
                """
        )

        @OptionGroup var options: TokenOptions
        @OptionGroup var token: TokenName

        @Flag(help: "Print the API's JSON: {\"name\", \"token\", \"created_at\", \"created_by\"}.")
        var json = false

        func run() async throws {
            let text = try await TokenBackend.perform(options) { [name = token.name] in try await $0.add(name) }
            if json { return print(text) }
            let made = try JSONDecoder().decode(Made.self, from: Data(text.utf8))
            printVisible("""
                Token for \(made.name), shown only this once (automator keeps its SHA-256, not the token):

                  \(made.token)

                \(made.name) sends it as Authorization: Bearer TOKEN: the journal names them api:\(made.name),
                and chat.roles apply to \(made.name). Revoke it with: automator token revoke \(made.name)
                """)
        }

        private struct Made: Decodable {
            var name: String
            var token: String
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the tokens by name: when made, by whom, when revoked. Never the tokens themselves."
        )

        @OptionGroup var options: TokenOptions

        @Flag(help: "Print the API's JSON: {\"tokens\": [{\"name\", \"created_at\", \"created_by\", \"revoked_at\"}]}.")
        var json = false

        func run() async throws {
            let text = try await TokenBackend.perform(options) { try await $0.list() }
            if json { return print(text) }
            let tokens = try JSONDecoder().decode(Listed.self, from: Data(text.utf8)).tokens
            guard !tokens.isEmpty else {
                return print("No personal tokens: automator token add NAME makes one.")
            }
            printVisible(IncidentOutput.table([["NAME", "CREATED", "CREATED BY", "REVOKED"]] + tokens.map {
                [$0.name, IncidentOutput.time($0.created_at), $0.created_by, $0.revoked_at.map(IncidentOutput.time) ?? "-"]
            }))
        }

        private struct Listed: Decodable {
            struct Token: Decodable {
                var name: String
                var created_at: String
                var created_by: String
                var revoked_at: String?
            }

            var tokens: [Token]
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a name's token: refused from its next request on, on every worker.",
            discussion: """
                The token stays listed, revoked, for the audit. `automator token add NAME` then \
                makes the name a new one.

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
