import ArgumentParser
import AutomatorRuntime
import Foundation

struct TaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task",
        abstract: "List, complete and reassign the tasks playbooks give people.",
        discussion: """
            A playbook's run that creates a task waits until someone completes it, then goes on \
            with the answer. When an automator serve holds the data folder, these commands go \
            through its API (as automator incident does) and the run goes on at once; otherwise \
            the answer is kept in the folder, and the run goes on at the next automator serve. \
            \(CaseOptions.withoutWorker)

            Exit status: 0 when done; 1 when it failed (no such task, a task already done, an \
            answer not among its choices, the server refused or could not be reached); 64 for a \
            usage error.

            Examples:
              automator task list
              automator task list --owner tier1 --overdue
              automator task done T-7 --answer phishing
              automator task assign T-7 bob
            """,
        subcommands: [List.self, Done.self, Assign.self]
    )
}

extension TaskCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List open tasks, most urgent first: id, incident, owner, due, title, choices.",
            discussion: """
                Examples:
                  automator task list
                  automator task list --owner mail-team --overdue
                  automator task list --incident INC-7 --all
                  automator task list --json | jq -r '.tasks[] | select(.overdue) | .id'
                """
        )

        @OptionGroup var options: IncidentOptions

        @Option(help: ArgumentHelp("Only the tasks of this person or team.", valueName: "owner"))
        var owner: String?

        @Flag(help: "Only open tasks past their due time.")
        var overdue = false

        @Flag(help: "Done tasks too, after the open ones.")
        var all = false

        @Option(help: ArgumentHelp("Only the tasks of this incident.", valueName: "id"))
        var incident: String?

        @Option(help: ArgumentHelp("At most this many tasks, from 1 to 1000.", valueName: "n"))
        var limit = 100

        @Flag(help: "Print the API's JSON: {\"tasks\": [...]}.")
        var json = false

        func validate() throws {
            try options.requireDataFolder()
            if let incident, IncidentID(incident) == nil {
                throw ValidationError("--incident takes an incident id such as INC-42, not '\(incident)'")
            }
            guard (1...1000).contains(limit) else {
                throw ValidationError("--limit must be from 1 to 1000, e.g. --limit 20")
            }
        }

        func run() async throws {
            let query = TaskQuery(incident: incident.flatMap { IncidentID($0) }, owner: owner, status: all ? nil : .open,
                                  dueBefore: overdue ? Date() : nil, limit: limit)
            let text = try await IncidentBackend.perform(options) { backend throws(CommandFailure) in
                try await backend.tasks(query)
            }
            if json { print(text) } else { printVisible(try IncidentOutput.tasks(text, includingDone: all)) }
        }
    }

    struct Done: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Complete a task with an answer; the run waiting on it goes on.",
            discussion: """
                A task with choices takes one of them as its answer (automator task list shows \
                them); one without takes any text, or none. The journal says who answered: \
                --by, else $USER. A task cancelled (its incident closed, its run killed) takes \
                no answer: that fails with exit status 1.

                Examples:
                  automator task done T-7 --answer phishing
                  automator task done T-8 --answer "12 copies removed" --by alice
                """
        )

        @OptionGroup var options: IncidentOptions
        @OptionGroup var task: OneTask

        @Option(help: ArgumentHelp("The answer: one of the task's choices, if it has some.", valueName: "text"))
        var answer = ""

        @Option(help: ArgumentHelp("Who completes it, for the journal (default: $USER).", valueName: "name"))
        var by: String?

        @Flag(help: "Print the API's JSON: the task.")
        var json = false

        func validate() throws { try options.requireDataFolder() }

        func run() async throws {
            let text = try await IncidentBackend.perform(options) {
                [id = task.id, answer, by = by ?? IncidentBackend.user] backend throws(CommandFailure) in
                try await backend.complete(id, answer: answer, by: by)
            }
            if json { print(text) } else { printVisible(try IncidentOutput.completed(text)) }
        }
    }

    struct Assign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Give an open task to another person or team; journaled on its incident.",
            discussion: """
                The run waiting on the task goes on waiting: only who is asked to answer changes, \
                and the journal says who gave it to whom (--by, else $USER). A task done or \
                cancelled is not given: that fails with exit status 1.

                Examples:
                  automator task assign T-7 bob
                  automator task assign T-8 tier2 --by alice
                """
        )

        @OptionGroup var options: IncidentOptions
        @OptionGroup var task: OneTask

        @Argument(help: ArgumentHelp("Who answers it now: a person or a team, as playbooks name owners.",
                                     valueName: "owner"))
        var owner: String

        @Option(help: ArgumentHelp("Who gives it, for the journal (default: $USER).", valueName: "name"))
        var by: String?

        @Flag(help: "Print the API's JSON: the task.")
        var json = false

        func validate() throws { try options.requireDataFolder() }

        func run() async throws {
            let text = try await IncidentBackend.perform(options) {
                [id = task.id, owner, by = by ?? IncidentBackend.user] backend throws(CommandFailure) in
                try await backend.assign(id, to: owner, by: by)
            }
            if json { print(text) } else { printVisible(try IncidentOutput.assigned(text)) }
        }
    }
}

/// The task that `done` and `assign` act on.
struct OneTask: ParsableArguments {
    @Argument(help: ArgumentHelp("The task's id, as `automator task list` shows it.", valueName: "id"))
    var text: String

    /// The id, once `validate` has passed.
    var id: TaskID { TaskID(text)! }

    func validate() throws {
        guard TaskID(text) != nil else { throw ValidationError("'\(text)' is not a task id: write it as T-7") }
    }
}
