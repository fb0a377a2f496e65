import ArgumentParser
import AutomatorRuntime
import Foundation

struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs",
        abstract: "List, show and stop the runs of a data folder.",
        discussion: """
            When an automator serve holds the data folder, these commands go through its API: \
            the address is in DATA/serve.lock, the token in $AUTOMATOR_API_TOKEN or \
            DATA/api-token. Otherwise they work on the folder's database directly; a kill then \
            marks an unfinished run killed, so that the next serve does not resume it. \
            \(CaseOptions.withoutWorker)

            Exit status: 0 when done; 1 when it failed (no such run, the run had already ended, \
            the server refused or could not be reached); 64 for a usage error.

            Examples:
              automator runs list
              automator runs list --status failed --limit 20 --data /var/lib/automator
              automator runs show run-0192c3e4a5b6f7a8b9c0d1e2f3a4
              automator runs kill run-0192c3e4a5b6f7a8b9c0d1e2f3a4
              automator runs list --json | jq -r '.runs[].id'
            """,
        subcommands: [List.self, Show.self, Kill.self]
    )
}

/// What every `automator runs` command takes.
struct RunsOptions: ParsableArguments {
    @OptionGroup var place: CaseOptions

    func validate() throws { try place.requireFolder() }
}

/// The run that `show` and `kill` act on, and how they print it.
struct OneRun: ParsableArguments {
    @Argument(help: ArgumentHelp("The run's id, as `automator runs list` shows it.", valueName: "id"))
    var id: String

    @Flag(help: "Print the API's JSON.")
    var json = false

    /// Prints the run (the API's JSON text) as asked.
    func print(_ text: String) throws {
        if json { Swift.print(text) } else { printVisible(try RunsOutput.details(text)) }
    }
}

extension RunsCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List runs, newest first: id, status, script, incident, creation time, error.",
            discussion: """
                A run is waiting while it waits on a person or a timer: a task it created is \
                open, a question it asked (an approval too) is unanswered, or it sleeps. Through \
                a running server, an unfinished run whose playbook is no longer loaded is marked \
                "(playbook no longer loaded)": it goes on with the version it started with \
                (automator playbook list names them all). With no server, no playbook is loaded: \
                none is marked, and --json leaves playbook_loaded out (automator playbook list \
                --scripts names the playbooks of unfinished runs that folder lacks).

                Examples:
                  automator runs list
                  automator runs list --status waiting
                  automator runs list --status failed --limit 5 --json
                """
        )

        @OptionGroup var options: RunsOptions

        @Option(help: ArgumentHelp("Only the runs with this status: \(statuses).", valueName: "status"))
        var status: String?

        @Option(help: ArgumentHelp("At most this many runs, from 1 to 1000.", valueName: "n"))
        var limit = 100

        @Flag(help: "Print the API's JSON: {\"runs\": [...]}.")
        var json = false

        private static let statuses = RunRecord.Status.allCases.map(\.rawValue).joined(separator: ", ")

        func validate() throws {
            if let status, RunRecord.Status(rawValue: status) == nil {
                throw ValidationError("--status must be one of \(Self.statuses), not '\(status)'")
            }
            guard (1...1000).contains(limit) else {
                throw ValidationError("--limit must be from 1 to 1000, e.g. --limit 20")
            }
        }

        func run() async throws {
            let status = self.status.flatMap(RunRecord.Status.init(rawValue:))
            let text = try await RunsBackend.perform(options.place) { backend throws(CommandFailure) in
                try await backend.list(status: status, limit: limit)
            }
            if json { print(text) } else { printVisible(try RunsOutput.table(text, status: status)) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a run: status and what it waits on, incident, arguments, result or error, times.",
            discussion: """
                A waiting run names what it waits on: a timer (until when), a question or an \
                approval (its id, channel and since when: automator question answer ID), or a task \
                it created (its id, owner and due time: automator task done ID); --json has it \
                as waiting_on. A run in a call to the outside world (an HTTP request, an intel \
                lookup, an action being sent) reads running: through the server that holds it, \
                with the call and since when (running in http.get since ...; --json: in_call). \
                With no server, or a run another worker holds, nothing more is said: only that \
                server knows.

                Through a running server, an unfinished run whose playbook is no longer loaded is \
                marked as runs list marks it; with none, --json leaves playbook_loaded out.

                Examples:
                  automator runs show run-0192c3e4a5b6f7a8b9c0d1e2f3a4
                  automator runs show run-0192c3e4a5b6f7a8b9c0d1e2f3a4 --json | jq .result
                """
        )

        @OptionGroup var options: RunsOptions
        @OptionGroup var run: OneRun

        func run() async throws {
            try await run.print(RunsBackend.perform(options.place) { [id = run.id] backend throws(CommandFailure) in
                try await backend.show(RunID(id))
            })
        }
    }

    struct Kill: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop a run; shows it as it ended (killed).",
            discussion: """
                The open tasks the run created are cancelled, each journaled on its incident: \
                nothing would take their answers. A run that has already ended cannot be stopped: \
                that fails with exit status 1.

                Examples:
                  automator runs kill run-0192c3e4a5b6f7a8b9c0d1e2f3a4
                  automator runs kill run-0192c3e4a5b6f7a8b9c0d1e2f3a4 --data /var/lib/automator
                """
        )

        @OptionGroup var options: RunsOptions
        @OptionGroup var run: OneRun

        func run() async throws {
            try await run.print(RunsBackend.perform(options.place) { [id = run.id] backend throws(CommandFailure) in
                try await backend.kill(RunID(id))
            })
        }
    }
}
