import ArgumentParser
import AutomatorRuntime

struct PlaybookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "playbook",
        abstract: "List the playbooks, and start one on an incident.",
        discussion: """
            Playbooks are the files of the scripts folder's playbooks/ that return playbook { \
            ... }: an arriving incident gets the first whose match takes it. When an automator \
            serve holds the data folder, these commands ask it (its --scripts); otherwise they \
            read --scripts. \(CaseOptions.withoutWorker)

            Exit status: 0 when done; 1 when it failed (no such playbook or incident, the server \
            refused or could not be reached); 64 for a usage error.

            Examples:
              automator playbook list
              automator playbook run "Phishing triage" --incident INC-7
            """,
        subcommands: [List.self, Run.self]
    )
}

extension PlaybookCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the playbooks in the order they are tried, then the files that could not be read.",
            discussion: """
                An incident gets the first playbook whose match takes it: the highest priority \
                first, ties by name. A playbook without its own SLA leaves the incident's to \
                sla.lua. A file left out is listed after them with each of its mistakes at its \
                line (FILE:LINE: message), as automator check shows them; in the JSON, each \
                problem is {"file", "line", "error"}, with no line when there is none to give.

                Last, the playbooks no longer loaded (a file removed or renamed, a name changed, a \
                file that no longer loads) whose unfinished runs go on with the version they \
                started with, each run with its incident: automator runs kill RUN stops one.

                No data folder is needed: with none (and no --store), the playbooks of --scripts \
                are listed, and no run waits on one.

                Examples:
                  automator playbook list
                  automator playbook list --scripts ./scripts
                  automator playbook list --json | jq -r '.problems[].file'
                """
        )

        @OptionGroup var options: IncidentOptions

        @Flag(help: "Print the API's JSON: {\"playbooks\": [...], \"problems\": [...], \"unloaded\": [...]}.")
        var json = false

        func run() async throws {
            let text = if FolderAccess.exists(options.data) || options.place.store != nil {
                try await IncidentBackend.perform(options) { backend throws(CommandFailure) in try await backend.playbooks() }
            } else {
                try await CommandLogging.exitingOnFailure { try await IncidentBackend.playbooks(in: options.scripts) }
            }
            if json { print(text) } else { printVisible(try IncidentOutput.playbooks(text)) }
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start a playbook on an incident, whatever its match.",
            discussion: """
                The incident's playbook becomes this one, and its run the new one. Without a \
                server on the data folder, the command waits while the run works (until it waits \
                on a task, at most 10 seconds); the rest resumes at the next automator serve.

                Examples:
                  automator playbook run "Phishing triage" --incident INC-7
                  automator playbook run "Impossible travel" --incident INC-9 --json | jq -r .id
                """
        )

        @OptionGroup var options: IncidentOptions

        @Argument(help: ArgumentHelp("The playbook's name, as `automator playbook list` shows it.", valueName: "name"))
        var name: String

        @Option(help: ArgumentHelp("The incident to run it on.", valueName: "id"))
        var incident: String

        @Flag(help: "Print the API's JSON: the run.")
        var json = false

        func validate() throws {
            try options.requireDataFolder()
            guard IncidentID(incident) != nil else {
                throw ValidationError("--incident takes an incident id such as INC-42, not '\(incident)'")
            }
        }

        func run() async throws {
            let id = IncidentID(incident)!
            let text = try await IncidentBackend.perform(options) { [name] backend throws(CommandFailure) in
                try await backend.runPlaybook(name, on: id)
            }
            if json { print(text) } else { printVisible(try IncidentOutput.run(text, on: id)) }
        }
    }
}
