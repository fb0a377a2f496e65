import ArgumentParser
import AutomatorRuntime
import Dispatch
import Foundation

struct ReplCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repl",
        abstract: "An interactive Lua prompt in the sandbox.",
        discussion: """
            Type Lua and press Return. An expression shows its value (`1 + 1` shows 2); a \
            statement runs (`x = 42`). All lines share one environment, so globals persist \
            from line to line while locals last one line, as in `lua5.4 -i`. The sandbox, the \
            modules and the limits are those of `automator run`: --timeout and --memory apply \
            to each line, and `require("name")` loads name.lua from the current folder.

            Multi-line input: a line that stops in the middle of a construct (`function f(x)`, \
            `t = {`, `1 +`) continues at the `>> ` prompt until the whole compiles.

            Results: several values are separated by tabs. Strings are quoted and escaped so \
            that every byte shows (`"a\\0b"`, `"\\255"`, right-to-left overrides as `\\u{202E}`); \
            `1` and `1.0` differ; tables print in full with sorted keys (no metamethod runs), a \
            table inside itself as <cycle>. Errors go to standard error as \
            `error: stdin:LINE: message`, with a traceback when they come from inside a \
            function, and the session goes on.

            Chat commands: a line that starts with `!` goes to the bot, as in `automator chat`: \
            `!ip 203.0.113.7`, `!incident show INC-7`, `!note INC-7 called the user`, `!help`. \
            They work on the data folder (--data, --scripts, --config, as automator chat takes \
            them), opened at the first such line.

            Keys: Ctrl-C stops a running line (a runaway loop), or drops the input being typed; \
            Ctrl-D on an empty line quits.

            Investigation: with --incident INC-42, `inc` is the incident (inc:note, inc:task, \
            inc.fields...), the `!` commands run in its war room (`!note called the user`, \
            `!task done 3`, `!ip 203.0.113.7`), and every line, Lua or `!`, is journaled on the \
            incident with what it showed, in your name (kind command: automator journal show \
            INC-42). When automator serve holds the data folder, `inc` is the incident as its API \
            shows it (a table: change it with the API or the chat bot), the lines are journaled \
            through the API, and `!` commands run on the server's bot, in the incident's war room.

            Help: `:help` (or `help`) lists the documented API, `:help NAME` shows one entry (`:help \
            incidents.find`, `:help inc:task`), from the scripts folder's types/automator.lua. \
            Tab completes globals, module functions and, after `!`, command names.

            History: lines typed at a terminal are kept in ~/.automator_history (the last \
            \(historyLimit)), or in the file $AUTOMATOR_HISTORY names; set it empty to keep none.

            Piped input: without a terminal there are no prompts. Each line is evaluated, \
            results go to standard output and errors to standard error, and the exit status \
            is 1 if any line failed, 0 otherwise.

            Examples:
              automator repl
              automator repl --timeout 5 --memory 64
              printf 'x = 6\\nx * 7\\n' | automator repl
              automator repl --incident INC-42 --data ./automator-data --scripts ./scripts
            """
    )

    /// How many entries the history file keeps.
    static let historyLimit: Int32 = 1000

    @OptionGroup var limits: LimitOptions
    @OptionGroup var access: ModuleOptions

    @Option(help: ArgumentHelp("The data folder the `!` commands work on.", valueName: "folder"))
    var data = FolderAccess.defaultFolder

    @Option(help: ArgumentHelp("The scripts folder of the `!` commands (commands/, playbooks/).", valueName: "folder"))
    var scripts = "./scripts"

    @Option(help: ArgumentHelp("The configuration file of lookups, intel.reputation's and the `!` commands' "
        + "(feeds, integrations, chat roles, actions).", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("Investigate this incident: `inc` is bound to it, `!` commands run in its war room, "
        + "and every line and what it showed are journaled on it.", valueName: "id"))
    var incident: String?

    @Flag(name: .shortAndLong, help: "Show log.debug messages too.")
    var verbose = false

    func validate() throws {
        if let incident, IncidentID(incident) == nil {
            throw ValidationError("--incident takes an incident id such as INC-42, not '\(incident)'")
        }
    }

    func run() throws {
        let investigation = incident.flatMap(IncidentID.init).map {
            Investigation(incident: $0, actor: IncidentBackend.user.map { "cli:\($0)" } ?? "cli")
        }
        let write: @Sendable (String) -> Void = { [investigation] text in
            if let investigation { investigation.write(text) } else { printVisible(text) }
        }
        let (data, scripts, config, access, verbose) = (data, scripts, config, access, verbose)
        let opening: @Sendable () async throws -> ChatConsole = {
            try await ChatConsole(data: data, scripts: scripts, config: config, user: IncidentBackend.user ?? "you",
                                  modules: access, logger: CommandLogging.logger(verbose: verbose),
                                  lines: AsyncStream { $0.finish() }, write: write)
        }
        let session: ReplSession
        let bot: ReplBot
        do {
            // The folder's own, with its cache, when the REPL investigates on it (below).
            var modules: [any HostModule]?
            var console: (any ReplBotBackend)?
            var served: String?
            if let investigation {
                if case .server(let client) = try FolderAccess.open(data) {
                    served = try waitBlocking { () async throws(CommandFailure) in
                        try await investigation.attach(client, user: IncidentBackend.user)
                    }
                    console = ServerWarRoom(client: client, incident: investigation.incident,
                                            user: IncidentBackend.user ?? "you", write: write)
                } else {
                    // The bot's console first: the REPL's `inc` is an incident of the same store.
                    let opened = try waitBlocking { () async throws(any Error) in try await investigation.open(opening) }
                    console = opened
                    modules = opened.modules
                }
            }
            bot = ReplBot(opening: { [console] in
                if let console { return console }
                return try await opening()
            }, channel: investigation?.channel)
            let logger = CommandLogging.logger(verbose: verbose)
            let sandbox = try Sandbox(modules: try modules ?? access.modules(
                logger: logger, reputation: LocalReputation.open(config: config, scripts: scripts, logger: logger)?.reputation),
                                      modulePaths: ["."])
            // What a line does to the incident (inc:note) is the investigator's act.
            sandbox.actor = investigation?.actor
            session = try ReplSession(sandbox: sandbox, limits: limits.limits,
                                      help: ReplHelp(typesFile: scripts + "/types/automator.lua"))
            if let served {
                try session.define("inc", json: served)
            } else if let investigation {
                try Self.bind(investigation.incident, in: session)
            }
        } catch {
            CommandLogging.report(error)
            throw ExitCode.failure
        }
        let interrupts = Self.forwardInterrupts(to: session.interrupter)
        defer { interrupts.cancel() }
        defer { bot.close() }
        let record: (String, [String]?) -> Void = { investigation?.record($0, shown: $1) }
        if isatty(STDIN_FILENO) != 0 {
            runAtTerminal(session, bot: bot, investigation: investigation, record: record)
        } else if !Self.loop(session, bot: bot, read: { _ in readLine().map { .line($0) } ?? .end }, remember: { _ in },
                             record: record) {
            throw ExitCode.failure
        }
    }

    /// Binds `inc` to the incident (the war room, made first, found that it exists).
    private static func bind(_ incident: IncidentID, in session: ReplSession) throws {
        if case .failed(let error) = session.submit(#"inc = incidents.get("\#(incident)")"#) {
            throw CommandFailure(error.message)
        }
    }

    /// With a person at the keyboard: prompts, line editing, history. Always exits 0, as the
    /// person saw each error already.
    private func runAtTerminal(_ session: ReplSession, bot: ReplBot, investigation: Investigation?,
                               record: (String, [String]?) -> Void) {
        let editor = LineEditor(historyFile: Self.historyFile, historyLimit: Self.historyLimit,
                                completions: { [commands = commandNames] in
                                    session.completions() + commands.map { "!" + $0 }
                                        + (investigation == nil ? [] : session.help.methods(of: "Incident").map { "inc:" + $0 })
                                })
        if let warning = editor.loadHistory() { Self.warn(warning) }
        print("automator \(Automator.configuration.version): Lua 5.4 in the sandbox. Ctrl-D quits; see automator repl --help.")
        _ = Self.loop(session, bot: bot, read: editor.read(prompt:), remember: editor.remember, record: record)
        if let warning = editor.saveHistory() { Self.warn(warning) }
    }

    /// Reads, evaluates and prints until the input ends; `record` gets each input and what it
    /// showed (nil for a `!` line: what the bot posted). Returns whether every input succeeded.
    private static func loop(
        _ session: ReplSession, bot: ReplBot, read: (_ prompt: String) -> LineEditor.Input,
        remember: (_ entry: String) -> Void, record: (_ input: String, _ shown: [String]?) -> Void
    ) -> Bool {
        var succeeded = true
        var entry: [String] = []
        var number = 0
        while true {
            let input = read(session.isContinuing ? ">> " : "> ")
            if case .line = input { number += 1 }
            switch input {
            case .line(let line) where !session.isContinuing && line.hasPrefix("!"):
                remember(line)
                if bot.say(line) { record(line, nil) } else { succeeded = false }
            // `:help`, and `help` as people type it first (Lua would show its global: nil);
            // `::label::` is Lua.
            case .line(let line) where !session.isContinuing
                && (line.hasPrefix(":") && !line.hasPrefix("::") || line.trimmingCharacters(in: .whitespaces) == "help"):
                remember(line)
                let (text, found) = session.help(line.hasPrefix(":") ? line : ":help")
                print(text)
                succeeded = found && succeeded
            case .line(let line):
                entry.append(line)
                let outcome = session.submit(line, number: number)
                if case .needsMore = outcome { continue }
                remember(entry.joined(separator: "\n"))
                if case .empty = outcome {} else { record(entry.joined(separator: "\n"), shown(outcome)) }
                entry = []
                succeeded = show(outcome) && succeeded
            case .interrupted:
                session.discardPending()
                entry = []
            case .end:
                if let error = session.endOfInput() {
                    remember(entry.joined(separator: "\n"))
                    succeeded = show(.failed(error)) && succeeded
                }
                return succeeded
            }
        }
    }

    /// What an outcome shows, for the journal.
    private static func shown(_ outcome: ReplSession.Outcome) -> [String] {
        switch outcome {
        case .empty, .needsMore: []
        case .results(let values): values.isEmpty ? [] : [values.joined(separator: "\t")]
        case .failed(let error): ["error: \(ReplSession.report(error))"]
        }
    }

    /// Prints results on standard output, tab-separated, or the error on standard error.
    /// Returns false for an error.
    private static func show(_ outcome: ReplSession.Outcome) -> Bool {
        switch outcome {
        case .empty, .needsMore:
            return true
        case .results(let values):
            if !values.isEmpty { print(values.joined(separator: "\t")) }
            fflush(nil)  // a program reading the results through a pipe sees each at once
            return true
        case .failed(let error):
            fflush(nil)  // what the line printed before failing comes first
            FileHandle.standardError.write(Data("error: \(ReplSession.report(error))\n".utf8))
            return false
        }
    }

    /// The bot's commands, by their files in the scripts folder, for Tab after `!`.
    private var commandNames: [String] {
        ScriptFiles.find(in: [scripts + "/commands"]) { $0.hasSuffix(".lua") && !$0.hasSuffix("_test.lua") && $0 != "watch.lua" }
            .map { (($0 as NSString).lastPathComponent as NSString).deletingPathExtension }
    }

    /// `$AUTOMATOR_HISTORY` if set (empty: no history file), else `~/.automator_history`.
    private static var historyFile: String? {
        if let path = ProcessInfo.processInfo.environment["AUTOMATOR_HISTORY"] { return path.isEmpty ? nil : path }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".automator_history").path
    }

    private static func warn(_ message: String) {
        FileHandle.standardError.write(Data("warning: \(message)\n".utf8))
    }

    /// Makes Ctrl-C stop the running line instead of the process. The signal is received by a
    /// dispatch source, so no Swift code runs inside a signal handler.
    ///
    /// Returns once the source is installed (or after a second, if the system will not have
    /// it: the REPL then works without Ctrl-C). libedit, while it reads a line, puts its own
    /// handler in front of whatever handles SIGINT and puts that one back afterwards: were the
    /// source installed during a read, libedit would put back `SIG_IGN` over it.
    private static func forwardInterrupts(to interrupter: ReplSession.Interrupter) -> any DispatchSourceSignal {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global(qos: .userInteractive))
        let installed = DispatchSemaphore(value: 0)
        source.setRegistrationHandler { installed.signal() }
        source.setEventHandler { interrupter.interrupt() }
        source.resume()
        _ = installed.wait(timeout: .now() + .seconds(1))
        return source
    }
}
