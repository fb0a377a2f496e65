import ArgumentParser
import AutomatorRuntime
import AutomatorServer
import Foundation
import Logging

struct ChatCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Talk to the bot in the terminal, as in a chat: commands, checks, questions.",
        discussion: """
            Each line is a message to the bot, as a direct message in Slack or Matrix would be: \
            `ip 203.0.113.7`, `help`, `incident new Suspicious login`, `task list`. A line that \
            starts with #NAME is said in that channel instead, where commands take a `!` \
            (`#soc !ip 203.0.113.7`), and where the bot checks every indicator once told \
            `join #soc` (every result once told `verbose on #soc`). `/file PATH` uploads a local \
            file, which the bot hashes and checks (in a channel: `#soc /file PATH`). A command's \
            words that are paths (starting with /, ./, ../ or ~/) attach those files, as a command \
            sent with a file does in Slack: `file /tmp/dropper.bin` checks it, `evidence INC-3 \
            /tmp/dropper.bin` keeps it on INC-3. The terminal has no threads, so a line answers \
            the latest file of its channel: after `/file PATH` or `file PATH`, `evidence INC-3` \
            keeps that file. A mistyped command is answered with the one it likely meant \
            (`incdent show` gets "No command incdent. Did you mean incident?").

            The commands are the scripts in SCRIPTS/commands/ (return command { ... }), the \
            watcher is commands/watch.lua (return watch { ... }). The bot works on the data \
            folder as automator serve would, so incidents, notes and tasks are the server's; it \
            needs the folder to itself (stop automator serve first, or talk to the server's bot \
            in Slack or Matrix). A first chat makes the default folder ./automator-data; a \
            folder named with --data must exist. --config gives what serve reads from it: the feeds and \
            integrations that checks ask, chat.roles.approver (who approves), and the actions' \
            rules (protected networks and accounts, which risks need an approval). The terminal \
            holds the data folder, so its person needs no role to run a command, as with the CLI.

            When the input is not a terminal, each line is answered before the next is read, and \
            the command ends with the input. A question a playbook asks here (chat.ask) waits, \
            like any run, for an answer after a restart; so does an action whose risk needs an \
            approval: the next line answers it, and only an approver's yes lets it run (while \
            chat.roles.approver names no one, the terminal's: its person is the operator).

            Examples:
              automator chat --config automator.yml
              printf 'join #soc\\n#soc seen 203.0.113.7 beaconing\\n' | automator chat
              printf 'file ./dropper.bin\\nevidence INC-3\\n' | automator chat
            """
    )

    // No --store: the bot opens incidents, runs playbooks and answers questions, and on the
    // workers' PostgreSQL those are the workers' to do (CaseStore.requireWritable).
    @Option(help: ArgumentHelp("The data folder the bot works on, which it holds meanwhile.", valueName: "folder"))
    var data = FolderAccess.defaultFolder

    @Option(help: ArgumentHelp("The scripts folder: commands/, playbooks/, integrations/.", valueName: "folder"))
    var scripts = "./scripts"

    @Option(help: ArgumentHelp("The configuration file: feeds, integrations' settings and secrets, approvers, "
                               + "actions (YAML).",
                               valueName: "file"))
    var config: String?

    @Option(name: .customLong("as"), help: ArgumentHelp("Your name in the chat (default: $USER).", valueName: "name"))
    var user: String?

    @OptionGroup var access: ModuleOptions

    @Flag(name: .shortAndLong, help: "Show log.debug messages too.")
    var verbose = false

    func run() async throws {
        let logger = CommandLogging.logger(verbose: verbose)
        do {
            let interactive = isatty(STDIN_FILENO) == 1
            let console = Locked<ChatConsole?>(nil)
            let opened = try await ChatConsole(
                data: data, scripts: scripts, config: config, user: user ?? IncidentBackend.user ?? "you",
                modules: access, logger: logger, lines: Self.lines(prompt: interactive),
                afterEach: { if !interactive { await console.withLock { $0 }?.settle() } })
            console.withLock { $0 = opened }
            // The console's input ends the session.
            await opened.waitForInput()
            await opened.close()
        } catch {
            CommandLogging.report(error)
            throw ExitCode.failure
        }
    }

    /// Standard input's lines; with a prompt at a terminal.
    private static func lines(prompt: Bool) -> AsyncStream<String> {
        AsyncStream { continuation in
            let thread = Thread {
                while true {
                    if prompt {
                        print("> ", terminator: "")
                        fflush(nil)
                    }
                    guard let line = readLine() else { break }
                    continuation.yield(line)
                }
                continuation.finish()
            }
            thread.start()
        }
    }
}
