import ArgumentParser
import AutomatorRuntime
import Foundation

struct ActionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "action",
        abstract: "Run, plan and undo the actions integrations declare: block, disable, contain, page, ticket.",
        discussion: """
            An action is declared by an integration in scripts/integrations (actions = { ... }), \
            with typed parameters, a risk and maybe an undo and a ttl. Before anything is sent, \
            the parameters are checked against the declaration and the configuration's \
            actions.protected networks and accounts. An action at or above actions.approval.risk \
            (high by default) needs --approve, which only people in chat.roles.approver may give \
            (anyone when that role is not configured). Every action is recorded with who asked \
            and who approved, and journaled on its incident.

            These commands work on the data folder directly, also while automator serve runs \
            (which lifts the actions whose ttl has passed).

            Examples:
              automator action list
              automator action run checkpoint.block_ip --param ip=198.51.100.7 --incident INC-7 --dry-run
              automator action run checkpoint.block_ip --param ip=198.51.100.7 --incident INC-7 --approve
              automator action history --incident INC-7
              automator action undo ACT-3f9a0c12b4
              automator action undo --incident INC-7      # every action of INC-7, the last one first
            """,
        subcommands: [List.self, Run.self, Undo.self, History.self]
    )

    struct Options: ParsableArguments {
        @Option(help: ArgumentHelp("The data folder of automator serve.", valueName: "folder"))
        var data = FolderAccess.defaultFolder
        @Option(help: ArgumentHelp("The folder of integrations/.", valueName: "folder"))
        var scripts = "./scripts"
        @Option(help: ArgumentHelp("The configuration file: integrations' settings, actions, chat roles.",
                                   valueName: "file"))
        var config: String?

        func validate() throws { try FolderAccess.requireFolder(data) }

        /// Runs `body` with the folder's action service; a failure prints `error: ...` and exits 1.
        func perform<T>(_ body: (ActionService, ChatConfiguration) async throws -> T) async throws -> T {
            try await CommandLogging.exitingOnFailure {
                let logger = CommandLogging.logger(verbose: false)
                let intel = try config.map { try IntelConfiguration(file: $0) } ?? IntelConfiguration()
                let actions = try config.map { try ActionConfiguration(file: $0) } ?? ActionConfiguration()
                let chat = try config.map { try ChatConfiguration(file: $0) } ?? ChatConfiguration()
                let store = try SQLiteStore(folder: data)
                let integrations = await Integrations(folder: scripts + "/integrations", settings: intel.integrations,
                                                      quotas: store, logger: logger)
                defer { integrations.shutdown() }
                let service = ActionService(integrations: integrations, store: store, configuration: actions, logger: logger)
                let result = try await body(service, chat)
                await store.close()
                return result
            }
        }
    }

    static var actor: String { IncidentBackend.user.map { "cli:\($0)" } ?? "cli" }

    static func parseIncident(_ text: String?) throws -> IncidentID? {
        guard let text else { return nil }
        guard let id = IncidentID(text) else { throw ValidationError("'\(text)' is not an incident id: write it as INC-42") }
        return id
    }

    static func line(_ record: ActionRecord) -> String {
        let approval = record.approvedBy.map { "approved by \($0)" } ?? ""
        return [record.id, record.status.rawValue, record.name, record.incident?.description ?? "-", record.parameters,
                "by \(record.requestedBy)", approval].filter { !$0.isEmpty }.joined(separator: "  ")
    }
}

extension ActionCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the actions the integrations declare: risk, parameters, undo, ttl.")

        @OptionGroup var options: Options

        func run() async throws {
            let catalog = try await options.perform { service, _ in service.catalog }
            if catalog.isEmpty { print("no integration in use in \(options.scripts)/integrations declares actions") }
            for action in catalog {
                let parameters = action.parameters.map { "\($0.name)\($0.required ? "" : "?"):\($0.kind.rawValue)" }
                var line = "\(action.name)  risk \(action.risk.rawValue)  " + parameters.joined(separator: " ")
                if let undo = action.undo { line += "  undo \(undo)" }
                if let ttl = action.ttl { line += "  ttl \(Int(ttl))s" }
                print(line)
                if !action.description.isEmpty { print("    " + action.description) }
            }
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run an action (or, with --dry-run, record what it would do and send nothing).")

        @OptionGroup var options: Options
        @Argument(help: ArgumentHelp("The action, as `automator action list` names it.", valueName: "name"))
        var name: String
        @Option(help: ArgumentHelp("A parameter; repeat for more.", valueName: "name=value"))
        var param: [String] = []
        @Option(help: ArgumentHelp("The incident it is for: it is journaled there.", valueName: "id"))
        var incident: String?
        @Flag(help: "Check and record the action, send nothing (the integration's settings may still be missing).")
        var dryRun = false
        @Flag(help: "Approve it yourself, for an action whose risk needs an approval (approvers only).")
        var approve = false

        func validate() throws {
            _ = try ActionCommand.parseIncident(incident)
            if let bad = param.first(where: { !$0.contains("=") }) {
                throw ValidationError("'\(bad)' is not a parameter: write --param name=value")
            }
        }

        func run() async throws {
            var parameters: [String: Any] = [:]
            for pair in param {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                parameters[String(parts[0])] = String(parts[1])
            }
            let record = try await options.perform { service, chat in
                let plan = try service.plan(name, parameters: parameters, dryRun: dryRun)
                var approvedBy: String?
                if approve {
                    try ActionCommand.requireApprover(chat)
                    approvedBy = ActionCommand.actor
                }
                return try await service.perform(plan, key: "cli-" + UUID().uuidString.lowercased(),
                                                 incident: try ActionCommand.parseIncident(incident),
                                                 requestedBy: ActionCommand.actor, approvedBy: approvedBy, dryRun: dryRun)
            }
            printVisible(ActionCommand.line(record))
            if let result = record.result, record.status == .done { printVisible(result) }
        }
    }

    /// Refuses a CLI approval from someone the configuration does not name an approver.
    static func requireApprover(_ chat: ChatConfiguration) throws {
        guard let approvers = chat.roles["approver"] else { return }
        let user = IncidentBackend.user ?? ""
        guard approvers.contains(user) || approvers.contains("cli:\(user)") else {
            throw ActionError(.notApproved, "\(user.isEmpty ? "you" : user) may not approve actions: "
                + "chat.roles.approver in the configuration names who may")
        }
    }

    struct Undo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reverse an action with its undo, or every action of an incident, the last one first.")

        @OptionGroup var options: Options
        @Argument(help: ArgumentHelp("The action, as `automator action history` shows it.", valueName: "id"))
        var id: String?
        @Option(help: ArgumentHelp("Reverse every done action of this incident.", valueName: "id"))
        var incident: String?

        func validate() throws {
            _ = try ActionCommand.parseIncident(incident)
            switch (id, incident) {
            case (nil, nil): throw ValidationError("give the action id to undo, or --incident INC-7 for all of an incident's")
            case (_?, _?): throw ValidationError("give an action id or --incident, not both")
            default: break
            }
        }

        func run() async throws {
            let undone = try await options.perform { service, _ in
                if let id { return [try await service.undo(id, by: ActionCommand.actor)] }
                return try await service.undoAll(on: try ActionCommand.parseIncident(incident)!, by: ActionCommand.actor)
            }
            if undone.isEmpty { print("nothing to undo") }
            for record in undone { printVisible(ActionCommand.line(record)) }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the actions run, newest first.")

        @OptionGroup var options: Options
        @Option(help: ArgumentHelp("Only the actions of this incident.", valueName: "id"))
        var incident: String?

        func validate() throws { _ = try ActionCommand.parseIncident(incident) }

        func run() async throws {
            let records = try await options.perform { service, _ in
                try await service.history(on: try ActionCommand.parseIncident(incident))
            }
            for record in records { printVisible(ActionCommand.line(record)) }
        }
    }
}
