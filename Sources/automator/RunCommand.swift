import ArgumentParser
import AutomatorRuntime
import Foundation
import Logging

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a Lua script in the sandbox.",
        discussion: """
            The script sees its arguments in `arg` (arg[0] is the script's path) and as `...`. \
            `print` writes to standard output; `log.info(...)` and friends to standard error. \
            `require("name")` loads name.lua from the script's folder (with --incident, from the \
            scripts folder first, as automator serve does, then from the script's folder).

            Besides standard Lua (string, table, math, utf8, coroutine; os.time, os.clock, \
            os.date, os.difftime) a script has json (decode, encode, null, array), log (debug, \
            info, warn, error), time (now, sleep) and http (request, get, post) to the hosts \
            --allow-http names. No files, no processes, no other network.

            With --incident, the script is a playbook (it returns playbook { ... }) and its run \
            function gets the incident read from the file (JSON, as POST /api/v1/incidents takes \
            it; - for standard input). The run is durable as under serve, in a temporary store: \
            its journal is printed as it grows, and each task it waits on is asked on the \
            terminal, or read from standard input, one answer per line (so not with \
            --incident -, whose standard input is the incident: give the incident as a file). \
            It keeps evidence in that store, and its actions.run calls are dry runs: checked against \
            the integrations' declarations and --config's rules, journaled, never sent (a try does \
            not touch the firewall; automator serve acts). A playbook serve would leave out (an \
            unknown field in its declaration, a bad sla, a match on a field that is none) is \
            refused before it runs, each mistake at its file:line, as automator check says them.

            Exit status: 0 when the script finished, 1 when it failed or went over a limit \
            (the error, with file:line and a traceback, goes to standard error; a playbook's \
            traceback is in its journal, printed before), 64 for a usage error.

            Examples:
              automator run scripts/examples/triage.lua
              automator run scripts/examples/triage.lua --timeout 5 --memory 64 \\
                  -- "mail from 203.0.113.45"
              automator run notify.lua --allow-http hooks.example.com
              automator run scripts/playbooks/phishing.lua \\
                  --incident scripts/examples/incidents/phishing.json
              printf 'phishing\\n3 copies\\n' | \\
                  automator run scripts/playbooks/phishing.lua --incident inc.json
            """
    )

    @Argument(help: ArgumentHelp("The Lua script to run.", valueName: "file.lua"))
    var file: String

    @OptionGroup var limits: LimitOptions
    @OptionGroup var access: ModuleOptions

    @Option(help: ArgumentHelp("Run the script as a playbook against the incident in this JSON file (- for "
        + "standard input, which then cannot also answer its tasks).", valueName: "file.json"))
    var incident: String?

    @Option(help: ArgumentHelp("The scripts folder: its integrations/ for intel.reputation (with --config); with "
        + "--incident, its sla.lua and incidents for incidents.find.", valueName: "folder"))
    var scripts = "scripts"

    @Option(help: ArgumentHelp("The configuration file whose feeds and integrations intel.reputation asks (as "
        + "automator serve's); without it, intel.reputation fails.", valueName: "file"))
    var config: String?

    @Flag(name: .shortAndLong, help: "Show log.debug messages too.")
    var verbose = false

    @Argument(parsing: .postTerminator, help: ArgumentHelp("Arguments for the script, after --.", valueName: "args"))
    var arguments: [String] = []

    func validate() throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory) else {
            throw ValidationError("no such script: \(file)")
        }
        guard !isDirectory.boolValue else { throw ValidationError("\(file) is a folder: name a .lua file in it") }
    }

    func run() throws {
        guard let source = FileManager.default.contents(atPath: file) else {
            throw ValidationError("cannot read \(file): check its permissions")
        }
        let logger = CommandLogging.logger(verbose: verbose)
        let local: (reputation: ReputationService, integrations: Integrations)?
        let rules: ActionConfiguration
        do {
            local = try LocalReputation.open(config: config, scripts: scripts, logger: logger)
            rules = try config.map { try ActionConfiguration(file: $0) } ?? ActionConfiguration()
        } catch {
            CommandLogging.report(error)
            throw ExitCode.failure
        }
        let reputation = local?.reputation
        let folder = (file as NSString).deletingLastPathComponent
        let scriptFolder = folder.isEmpty ? "." : folder
        if let incident {
            // Where serve looks (the scripts folder), then where a plain run does.
            let modulePaths = scripts == scriptFolder ? [scripts] : [scripts, scriptFolder]
            // Without a configuration, the integrations' declarations only: their actions are dry runs.
            let integrations = local?.integrations ?? waitBlocking {
                await Integrations(folder: scripts + "/integrations", settings: [:],
                                   logger: Logger(label: "automator") { _ in SwiftLogNoOpLogHandler() })
            }
            try runPlaybook(Array(source), incident: incident, modulePaths: modulePaths, reputation: reputation,
                            actions: (integrations, rules), logger: logger)
            return
        }
        do {
            let sandbox = try Sandbox(modules: access.modules(logger: logger, reputation: reputation),
                                      modulePaths: [scriptFolder])
            let environment = try sandbox.makeEnvironment()
            var argTable = LuaTable(array: arguments.map { .string(LuaString($0)) })
            argTable.fields[.integer(0)] = .string(LuaString(file))
            try environment.set("arg", .table(argTable))
            // A playbook's `playbook { ... }` says what it needs, not "attempt to call a nil value".
            let playbook = try sandbox.load(Array(Self.playbookRefusal.utf8), chunkName: "=playbook", in: environment)
            _ = try sandbox.run(playbook, arguments: [.string(LuaString(file))], limits: limits.limits)
            let chunk = try sandbox.load(source, chunkName: "@\(file)", in: environment)
            _ = try sandbox.run(chunk, arguments: arguments.map { .string(LuaString($0)) }, limits: limits.limits)
        } catch {
            CommandLogging.report(error)
            throw ExitCode.failure
        }
    }

    /// Defines `playbook` for a plain run: a playbook needs an incident.
    private static let playbookRefusal = #"""
        local file = ...
        function playbook()
          error(file .. " is a playbook: run it on an incident with --incident FILE (the incident as JSON, "
                .. "as in scripts/examples/incidents/)", 0)
        end
        """#

    /// `--incident`: the async trial, waited for on this (main) thread.
    private func runPlaybook(_ source: [UInt8], incident path: String, modulePaths: [String],
                             reputation: ReputationService?, actions: (Integrations, ActionConfiguration), logger: Logger)
        throws
    {
        let data = path == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: path)
        guard let data else { throw ValidationError("cannot read the incident file \(path)") }
        let draft: IncidentDraft
        do { draft = try IncidentDraft(json: Array(data)) } catch {
            throw ValidationError("\(path) is not an incident: \(error)")
        }
        // A playbook serve would leave out is refused here too, each mistake at its line.
        let checker = ScriptChecker(scripts: scripts)
        let file = self.file
        let problems = waitBlocking { await checker.playbookDeclarationProblems(file) }
        guard problems.isEmpty else {
            FileHandle.standardError.write(Data(problems.map { "error: \($0)\n" }.joined().utf8))
            CommandLogging.note("automator serve would leave this playbook out; automator check finds such mistakes "
                + "without running anything")
            throw ExitCode.failure
        }
        let access = self.access
        let trial = PlaybookTrial(file: file, source: source, incident: draft, incidentOnStandardInput: path == "-",
                                  scripts: scripts, modulePaths: modulePaths,
                                  modules: { access.modules(logger: logger, reputation: reputation) + [IncidentsModule(ledger: $0)] },
                                  integrations: actions.0, actionRules: actions.1, limits: limits.limits, logger: logger)
        do {
            guard try waitBlocking({ () async throws(any Error) in try await trial.run() }) else { throw ExitCode.failure }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            CommandLogging.report(error)
            throw ExitCode.failure
        }
    }
}
