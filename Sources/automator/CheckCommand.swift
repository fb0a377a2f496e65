import ArgumentParser
import AutomatorRuntime
import Foundation

struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Find mistakes in scripts without running them.",
        discussion: """
            Every Lua file is compiled, and its code read for the globals it uses: a global the \
            runtime does not define is a typo or a missing local (incidnets.find, a helper \
            declared below its use), and assigning a global is a missing local. Playbooks and \
            chat commands are read as serve reads them, every mistake of a declaration at its \
            field's line (an unknown field, with the one it likely meant: rn, did you mean run?): \
            no run, an unknown match field, a bad sla, a name taken twice. Integration declarations are read as serve reads them, every mistake \
            at its line: an unknown field (requird, rn), a bad risk, a reputation kind that is none, \
            each bad value quoted. An actions.run, actions.plan, actions.available or respond.act \
            call, or a playbook's approvals, naming an action no integration of the folder declares \
            is a problem, with the action it likely meant: by a literal ("entra.disable_user") or by \
            a local assigned one once (local DISABLE = "entra.disable_user"); a name only a run can \
            tell is skipped. With --config, the \
            file is read as serve reads it (every section: intel, chat, actions, store; every bad \
            value, at its own line), and integrations are loaded with their settings: one the file \
            names whose required setting is missing (serve would leave it out), a configured \
            integration with no script, and an action run or planned that only such an integration \
            declares are problems too (actions.available and respond.act ask first, so they need no \
            settings); integrations nothing sets up are listed as off, and a chat network with no one in \
            chat.roles.approver is noted (approvals there wait for an operator). Nothing runs but \
            what serve runs to read a playbook or an integration (the file's top level, which \
            declares it): no run, no command, no lookup.

            Each problem is printed as file:line: message.

            Exit status: 0 when no problem was found; 1 when one was; 64 for a usage error.

            Examples:
              automator check
              automator check scripts/playbooks/phishing.lua
              automator check --scripts ./scripts --config scripts/examples/automator.yml
            """
    )

    @Argument(help: ArgumentHelp("Lua files, or folders to search (default: the scripts folder).", valueName: "path"))
    var paths: [String] = []

    @Option(help: ArgumentHelp("The scripts folder: its playbooks/ and integrations/ are read as serve reads them.",
                               valueName: "folder"))
    var scripts = "scripts"

    @Option(help: ArgumentHelp("The configuration file serve is given, to check it and the integrations' settings.",
                               valueName: "file.yml"))
    var config: String?

    func validate() throws {
        for path in paths + [scripts] where !FileManager.default.fileExists(atPath: path) {
            throw ValidationError("no such file or folder: \(path)")
        }
    }

    func run() async throws {
        // Every section serve reads: a mistake in chat or store would otherwise be found at the
        // deploy, when serve refuses to start.
        var problems: [String] = []
        var configuration: IntelConfiguration?
        var approvals: String?
        if let config {
            do {
                let file = try ConfigurationFile(file: config)
                configuration = file.intel
                approvals = file.chat.approvalsWaitForAnOperator.map { "\(config): \($0)" }
            } catch {
                problems += error.problems.map(\.description)
                // The integrations' settings are still checked when only another section is wrong.
                configuration = try? IntelConfiguration(file: config)
            }
        }
        let searched = paths.isEmpty ? [scripts] : paths
        let files = ScriptChecker.files(in: searched)
        guard !files.isEmpty else { throw ValidationError("no .lua files under \(searched.joined(separator: ", "))") }
        let checker = ScriptChecker(scripts: scripts, configuration: configuration, configurationFile: config)
        let found = await checker.check(files)
        problems += found.problems.map(\.description)
        for problem in problems { print(problem) }
        if let approvals { print(approvals) }
        if !found.notSetUp.isEmpty {
            print("off, nothing sets them up (each is used once the configuration or the environment gives its "
                + "settings):")
            for off in found.notSetUp { print("  \(off.integration): \(off.needs)") }
        }
        let checked = "\(files.count.counted("file")) checked"
        guard problems.isEmpty else {
            print("\(checked): \(problems.count.counted("problem"))")
            throw ExitCode.failure
        }
        print("\(checked): no problems" + (config == nil ? " (integrations' settings not checked: give --config)" : ""))
    }
}
