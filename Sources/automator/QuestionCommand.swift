import ArgumentParser
import AutomatorRuntime
import Foundation

struct QuestionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "question",
        abstract: "List, show and answer the questions runs wait on: chat.ask, chat.approve, actions' approvals.",
        discussion: """
            A run that asks a question waits until someone answers it: in chat (a button, or a \
            reply in its thread), or here. A question that could not be posted (no chat network, \
            the network down) waits here too, and its incident's journal says so. When an \
            automator serve holds the data folder, these commands go through its API and the run \
            goes on at once; otherwise the answer is kept in the folder, and the run goes on at \
            the next automator serve. \(CaseOptions.withoutWorker)

            Anyone who can run these commands holds the data folder or the server's shared \
            token, so the roles a question names apply in chat, and to personal API tokens, \
            only; the journal names who answered. A question for a role the configuration names \
            no one for (an approval while chat.roles.approver is unset) is refused to everyone \
            in chat: it is answered here.

            question show gives one question, answered or not: its choices, the roles that may answer, \
            its incident, who answered and when.

            Exit status: 0 when done; 1 when it failed (no such question, an answer not among its \
            choices, a question answered already, the server refused or could not be reached); \
            64 for a usage error.

            Examples:
              automator question list
              automator question list --incident INC-4
              automator question show Q-3f2a9c1e
              automator question answer Q-3f2a9c1e approve --by alice
            """,
        subcommands: [List.self, Show.self, Answer.self]
    )
}

extension QuestionCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the questions nobody answered, oldest first: id, incident, when, question, choices."
        )

        @OptionGroup var options: IncidentOptions

        @Option(help: ArgumentHelp("Only the questions asked for this incident: its runs', and its war room's !action.",
                                   valueName: "id"))
        var incident: String?

        @Flag(help: "Print the API's JSON: {\"questions\": [...]}.")
        var json = false

        func validate() throws {
            try options.requireDataFolder()
            if let incident, IncidentID(incident) == nil {
                throw ValidationError("--incident takes an incident id such as INC-42, not '\(incident)'")
            }
        }

        func run() async throws {
            let text = try await IncidentBackend.perform(options) {
                [incident = incident.flatMap { IncidentID($0) }] backend throws(CommandFailure) in
                try await backend.questions(of: incident)
            }
            if json { print(text) } else { printVisible(try IncidentOutput.questions(text)) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a question, answered or not: choices, roles, incident, who answered and when.")

        @OptionGroup var options: IncidentOptions

        @Argument(help: ArgumentHelp("""
            The question's id, as `automator question list`, the incident's journal or an action's \
            record (automator action show) names it.
            """, valueName: "id"))
        var id: String

        @Flag(help: "Print the API's JSON (GET /api/v1/questions/ID).")
        var json = false

        func validate() throws {
            try options.requireDataFolder()
            guard id.hasPrefix("Q-") else { throw ValidationError("'\(id)' is not a question id: they read Q-3f2a9c1e") }
        }

        func run() async throws {
            let text = try await IncidentBackend.perform(options) { [id] backend throws(CommandFailure) in
                try await backend.question(id)
            }
            if json { print(text) } else { printVisible(try IncidentOutput.question(text)) }
        }
    }

    struct Answer: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Answer a question with one of its choices; the run waiting on it goes on.",
            discussion: """
                The journal says who answered: --by, else $USER.

                Examples:
                  automator question answer Q-3f2a9c1e approve
                  automator question answer Q-3f2a9c1e deny --by alice
                """
        )

        @OptionGroup var options: IncidentOptions

        @Argument(help: ArgumentHelp("The question's id, as `automator question list` shows it.", valueName: "id"))
        var id: String

        @Argument(help: ArgumentHelp("One of the question's choices (case does not matter).", valueName: "choice"))
        var choice: String

        @Option(help: ArgumentHelp("Who answers, for the journal (default: $USER).", valueName: "name"))
        var by: String?

        func validate() throws {
            try options.requireDataFolder()
            guard id.hasPrefix("Q-") else { throw ValidationError("'\(id)' is not a question id: they read Q-3f2a9c1e") }
        }

        func run() async throws {
            let text = try await IncidentBackend.perform(options) {
                [id, choice, by = by ?? IncidentBackend.user] backend throws(CommandFailure) in
                try await backend.answer(id, choice: choice, by: by)
            }
            let answered = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
            printVisible("\(id) answered: \(answered?["choice"] as? String ?? choice)")
        }
    }
}
