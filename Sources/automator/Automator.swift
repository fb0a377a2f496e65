import ArgumentParser
import AutomatorServer
import Foundation

@main
struct Automator: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "automator",
        abstract: "Security automation: playbooks in Lua, run safely and fast.",
        discussion: """
            Scripts run in a sandbox: no files, no processes, no network but what the host \
            modules offer, with a memory cap and a time limit per run.

            An incident arrives (the API, a mapped alert, automator incident create), the \
            playbook that matches it runs as a durable run, and people answer the tasks it waits on.

            Start with:
              automator run scripts/playbooks/phishing.lua \\
                  --incident scripts/examples/incidents/phishing.json
              automator serve --scripts scripts
              automator incident create --json scripts/examples/incidents/malware.json
              automator task list
              automator intel lookup 203.0.113.7
              automator report --since 7d --format html -o week.html
              automator test
              automator check
              automator repl
            """,
        version: AutomatorVersion.current,
        subcommands: [RunCommand.self, TestCommand.self, CheckCommand.self, ReplCommand.self, ServeCommand.self, RunsCommand.self, IncidentCommand.self, FetchCommand.self,
                      TaskCommand.self, QuestionCommand.self, PlaybookCommand.self, IntelCommand.self, ChatCommand.self,
                      JournalCommand.self, EvidenceCommand.self, ActionCommand.self, ReportCommand.self, AuditCommand.self,
                      MigrateCommand.self, StoreCommand.self, TokenCommand.self]
    )

    /// `error: ...`, as every failure of a command prints it (`CommandLogging.report`), for a usage
    /// error too: ArgumentParser's `Error: ...` beside the runtime's `error: ...` read as two
    /// programs', and a script that looks for one misses the other.
    static var _errorPrefix: String { "error: " }

    /// ArgumentParser's, except for a `ValidationError` that a command throws while it runs (a
    /// file it cannot read, an option it needs): the default shows the usage of `automator`
    /// itself there, which the command's own usage replaces. And a mistyped subcommand is named,
    /// with the one it likely meant, where the parser calls every word from it on unexpected; a
    /// mistyped option too, before what the command's validation found (`MistypedOption`).
    static func main() async {
        var command: any ParsableCommand
        do {
            command = try await asyncParseAsRoot(nil)
        } catch {
            if let mistyped = MistypedCommand.find(in: Array(CommandLine.arguments.dropFirst()), root: Automator.self) {
                FileHandle.standardError.write(Data("""
                    \(_errorPrefix)\(mistyped.message)
                      See '\(mistyped.path.joined(separator: " ")) --help' for more information.

                    """.utf8))
                exit(withError: ExitCode.validationFailure)
            }
            if let mistyped = MistypedOption.find(in: Array(CommandLine.arguments.dropFirst()), root: Automator.self) {
                FileHandle.standardError.write(Data("""
                    \(_errorPrefix)\(mistyped.message)
                    Usage: \(usageString(for: mistyped.command))
                      See '\(mistyped.path.joined(separator: " ")) --help' for more information.

                    """.utf8))
                exit(withError: ExitCode.validationFailure)
            }
            exit(withError: error)
        }
        do {
            if var running = command as? any AsyncParsableCommand { try await running.run() } else { try command.run() }
        } catch let error as ValidationError {
            let ran = type(of: command)
            let name = (["automator"] + path(to: ran, in: Automator.self)).joined(separator: " ")
            FileHandle.standardError.write(Data("""
                \(_errorPrefix)\(error.message)
                Usage: \(usageString(for: ran))
                  See '\(name) --help' for more information.

                """.utf8))
            exit(withError: ExitCode.validationFailure)
        } catch {
            exit(withError: error)
        }
    }

    /// The subcommands' names from `root` down to `command`: `["intel", "check"]`.
    private static func path(to command: any ParsableCommand.Type, in root: any ParsableCommand.Type) -> [String] {
        for sub in root.configuration.subcommands {
            if sub == command { return [sub._commandName] }
            let below = path(to: command, in: sub)
            if !below.isEmpty { return [sub._commandName] + below }
        }
        return []
    }
}
