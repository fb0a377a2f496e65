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
            (a refused --approve is journaled on the incident). While that role names no one, \
            only the operator approves: whoever holds the data folder or the server's shared \
            token, never a personal token, as no one in chat. Every action is recorded with who \
            asked and who approved, and journaled on its incident.

            While automator serve holds the data folder, run and undo go through it: they act with \
            the server's configuration (its protected networks and accounts, its approvers), its \
            integrations and journal, and --config and --scripts are not read; list and history \
            show the server's integrations and store (on PostgreSQL, not the folder). With no \
            server, run acts on the folder with the configuration --config names, and refuses to \
            run without one: forgetting it would skip the protections. \(CaseOptions.withoutWorker)

            You are whoever runs the command ($USER, or $SUDO_USER through sudo; journaled as cli:$USER): as for every command \
            on a data folder, its owner is trusted.

            Examples:
              automator action list
              automator action run checkpoint.block_ip --param ip=198.51.100.7 \\
                  --incident INC-7 --dry-run
              automator action run checkpoint.block_ip --param ip=198.51.100.7 \\
                  --incident INC-7 --approve
              automator action run checkpoint.block_ip --param ip=198.51.100.7 \\
                  --incident INC-7 --ttl 24h --approve
              automator action history --incident INC-7
              automator action show ACT-3f9a0c12b4
              automator action undo ACT-3f9a0c12b4
              automator action undo --incident INC-7   # INC-7's actions, the last first
            """,
        subcommands: [List.self, Run.self, Show.self, Undo.self, History.self]
    )

    struct Options: ParsableArguments {
        @OptionGroup var place: CaseOptions
        @Option(help: ArgumentHelp("The folder of integrations/.", valueName: "folder"))
        var scripts = "./scripts"
        @Option(help: ArgumentHelp("""
            The configuration file: integrations' settings, protected networks and accounts, approvers. \
            Needed by run with no automator serve on --data; while one runs, its own is used.
            """, valueName: "file"))
        var config: String?

        /// Runs `body` where actions are run (`CaseAccess`): through the server that holds the folder,
        /// else on the store with `--config`, which `requiringConfiguration` refuses to do without. A
        /// failure prints `error: ...` and exits 1.
        func act<T>(requiringConfiguration: Bool, _ body: (ActionBackend) async throws -> T) async throws -> T {
            try await CommandLogging.exitingOnFailure {
                switch try await CaseAccess.open(place) {
                case .server(let client):
                    if let config {
                        CommandLogging.note("automator serve holds \(place.data) and acts with its own configuration: "
                            + "\(config) is not read (stop serve, or give serve --config \(config))")
                    }
                    return try await body(.server(client))
                case .store(let store):
                    if requiringConfiguration, store.shared == nil, config == nil {
                        throw CommandFailure("no automator serve holds \(place.data), and no configuration was given: "
                            + "pass --config automator.yml (the file serve uses), whose actions.protected networks and "
                            + "accounts every action is checked against; a file without them protects nothing")
                    }
                    return try await onStore(store) { service, chat in
                        try await body(.store(service, approvers: chat.roles["approver"], store))
                    }
                }
            }
        }

        /// Runs `body` with an action service on the store: `--config`'s rules, `--scripts`' integrations.
        private func onStore<T>(_ place: CaseStore, _ body: (ActionService, ChatConfiguration) async throws -> T)
            async throws -> T
        {
            let logger = CommandLogging.logger(verbose: false)
            let store = place.store
            do {
                let intel = try config.map { try IntelConfiguration(file: $0) } ?? IntelConfiguration()
                let actions = try config.map { try ActionConfiguration(file: $0) } ?? ActionConfiguration()
                let chat = try config.map { try ChatConfiguration(file: $0) } ?? ChatConfiguration()
                let integrations = await Integrations(folder: scripts + "/integrations", settings: intel.integrations,
                                                      quotas: store, logger: logger)
                defer { integrations.shutdown() }
                let service = ActionService(integrations: integrations, store: store, rules: AccessRules(actions: actions), logger: logger)
                let result = try await body(service, chat)
                await store.close()
                return result
            } catch {
                await store.close()
                throw error
            }
        }
    }

    static func parseIncident(_ text: String?) throws -> IncidentID? {
        guard let text else { return nil }
        guard let id = IncidentID(text) else { throw ValidationError("'\(text)' is not an incident id: write it as INC-42") }
        return id
    }

    /// One action as the API gives it (`ActionsModule.json`), on a line: id, status, name,
    /// incident, parameters, who asked and who approved, and when a done one lifts by itself (or,
    /// planned, how long after it is sent it would); why one was not done: who denied it in which
    /// question, which question nobody answered by when, the error of one failed or refused.
    static func line(_ action: [String: Any]) -> String {
        let text = { (key: String) in action[key] as? String ?? "" }
        let approval = action["approved_by"] is String ? "approved by \(text("approved_by"))" : ""
        let question = action["question"] as? String
        let outcome = switch (text("status"), action["ttl"] as? Double) {
        case ("done", _) where action["expires_at"] is String: lifting(action)
        case ("planned", let ttl?): "would lift \(DurationText.text(ttl)) after it is sent"
        case ("undone", _): "undone by \(text("undone_by"))" + (action["undone_at"] is String
            ? " at \(IncidentOutput.time(text("undone_at"))) UTC" : "")
        case ("denied", _): text("result") + (question.map { " in \($0)" } ?? "")
        // Declined as soon as the question timed out: the record's time is when it did.
        case ("timed_out", _): question.map { "nobody answered \($0) by \(IncidentOutput.time(text("at"))) UTC" }
            ?? text("result")
        // An integration's error may quote a service's page: its lines would read as other actions.
        case ("failed", _), ("refused", _): text("result").split(whereSeparator: \.isWhitespace).joined(separator: " ")
        default: ""
        }
        return [text("id"), text("status"), text("name"), action["incident"] as? String ?? "-", json(action["params"]),
                "by \(text("requested_by"))", approval, outcome].filter { !$0.isEmpty }.joined(separator: "  ")
    }

    /// One action as `GET /api/v1/actions/{id}` gives it, a field a line: what it is and on what,
    /// who asked and approved (and the question that asked), what came back, its ttl and its undo.
    static func details(_ action: [String: Any]) -> String {
        let text = { (key: String) in action[key] as? String ?? "" }
        let id = text("id")
        let time = { (key: String) in (action[key] as? String).map { IncidentOutput.time($0) + " UTC" } }
        var lines = [("id", id), ("action", text("name")), ("params", json(action["params"])), ("status", text("status")),
                     ("incident", action["incident"] as? String ?? "-"),
                     ("asked", text("requested_by") + (time("at").map { ", " + $0 } ?? "")),
                     ("approved", action["approved_by"] as? String ?? approvalText(action))]
        if let question = action["question"] as? [String: Any] {
            lines.append(("question", questionText(question)))
        } else if let question = action["question"] as? String {
            lines.append(("question", "\(question) (gone from the store)"))
        }
        lines.append(("result", action["result"].map { $0 is String ? text("result") : json($0) } ?? "-"))
        lines.append(("ttl", ttlText(action)))
        lines.append(("undo", undoText(action)))
        lines.append(("key", text("idempotency_key")))
        return IncidentOutput.fields(lines)
    }

    /// When a done action lifts by itself; past that time (no server ran, or its undo failed: the
    /// server tries again every minute), that it is still in force and what lifts it.
    private static func lifting(_ action: [String: Any]) -> String {
        let expires = action["expires_at"] as? String ?? ""
        let at = IncidentOutput.time(expires) + " UTC"
        guard let due = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(expires), due < Date()
        else { return "lifts at \(at)" }
        return "not lifted yet, due at \(at): automator serve lifts it (or automator action undo "
            + "\(action["id"] as? String ?? ""))"
    }

    /// Why an action nobody approved was not: who said no, or that nobody answered in time.
    private static func approvalText(_ action: [String: Any]) -> String {
        switch action["status"] as? String {
        case "denied", "timed_out": "no: " + (action["result"] as? String ?? "")
        default: "-"
        }
    }

    /// The question that decided an action, its text and its answer: who gave it when, or when it
    /// timed out (automator answers `timeout` for nobody).
    private static func questionText(_ question: [String: Any]) -> String {
        let at = (question["answered_at"] as? String).map { IncidentOutput.time($0) + " UTC" }
        let answer = switch question["answer"] as? String {
        case nil: ": not answered yet"
        case "timeout": ": nobody answered by " + (at ?? "its timeout")
        case let answer?: ": " + answer + ((question["answered_by"] as? String).map { " by \($0)" } ?? "")
            + (at.map { ", " + $0 } ?? "")
        }
        return "\(question["id"] as? String ?? "") \"\(question["text"] as? String ?? "")\"\(answer)"
    }

    /// How long an action lasts: when a done one lifts, what a planned one would have had.
    private static func ttlText(_ action: [String: Any]) -> String {
        guard let ttl = action["ttl"] as? Double else {
            switch action["status"] as? String {
            case "done", "sending": return "none: it stays until undone"
            case "planned": return "none: it would stay until undone"
            default: return "-"
            }
        }
        let lasting = DurationText.text(ttl)
        switch action["status"] as? String {
        case "done": return lasting + ((action["expires_at"] as? String).map { ", lifts by itself at " + IncidentOutput.time($0) + " UTC" } ?? "")
        case "planned": return lasting + ", its undo would run by itself that long after it is sent"
        default: return lasting
        }
    }

    /// Whether and how an action can be reversed.
    private static func undoText(_ action: [String: Any]) -> String {
        if let by = action["undone_by"] as? String {
            return "undone by \(by)" + ((action["undone_at"] as? String).map { ", " + IncidentOutput.time($0) + " UTC" } ?? "")
        }
        guard let undo = action["undo"] as? String else {
            return "none declared (or no integration file declares the action now): reverse it by hand"
        }
        switch action["status"] as? String {
        case "done": return "\(undo): automator action undo \(action["id"] as? String ?? "")"
        case "planned", "sending": return "\(undo), once it is done"
        default: return "\(undo); nothing to undo: it was not done"
        }
    }

    /// One declared action as the API gives it, on a line: name, risk, parameters (`reason?` when
    /// optional), undo and ttl.
    static func declarationLine(_ action: [String: Any]) -> String {
        let parameters = (action["params"] as? [String: [String: Any]] ?? [:]).sorted { $0.key < $1.key }.map {
            "\($0.key)\($0.value["required"] as? Bool == true ? "" : "?"):\($0.value["type"] as? String ?? "string")"
        }
        var line = "\(action["name"] as? String ?? "")  risk \(action["risk"] as? String ?? "")  "
            + parameters.joined(separator: " ")
        if let undo = action["undo"] as? String { line += "  undo \(undo)" }
        if let ttl = action["ttl"] as? Double { line += "  ttl \(DurationText.text(ttl))" }
        return line
    }

    /// `value` as compact JSON with sorted keys, as the record keeps parameters and results.
    static func json(_ value: Any?) -> String {
        guard let value, JSONSerialization.isValidJSONObject([value]),
              let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes,
                                                                                      .fragmentsAllowed])
        else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The API's JSON of one action (or of `{"actions": [...]}`, or of its `key` list), read back for `line`.
    static func actions(in json: String, key: String = "actions") throws -> [[String: Any]] {
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        guard let object else { throw CommandFailure("the answer could not be read: \(json.prefix(200))") }
        return object[key] as? [[String: Any]] ?? (key == "actions" ? [object] : [])
    }
}

extension ActionCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the actions the integrations declare: risk, parameters, undo, ttl.",
            discussion: """
                The server's integrations while automator serve holds --data; else those of \
                --scripts with --config's settings, read from the files: no data folder is needed.
                """)

        @OptionGroup var options: Options
        @Flag(help: ArgumentHelp("Print the API's JSON (GET /api/v1/actions/catalog): {\"actions\": [...], "
            + "\"off\": [...]}, the actions in use and those whose integration is not set up."))
        var json = false

        /// The server that holds the data folder, if one does; none for a folder not there.
        private func serverAccess() throws -> FolderAccess? {
            FolderAccess.exists(options.place.data) ? try FolderAccess.open(options.place.data) : nil
        }

        /// What the integrations of `--scripts` declare, with `--config`'s settings: `{"actions": [...],
        /// "off": [...]}`, those in use and those not set up (off until their settings are given).
        private func declarations() async throws -> String {
            let intel = try options.config.map { try IntelConfiguration(file: $0) } ?? IntelConfiguration()
            let integrations = await Integrations(folder: options.scripts + "/integrations", settings: intel.integrations,
                                                  logger: CommandLogging.logger(verbose: false))
            defer { integrations.shutdown() }
            return ActionsModule.json(integrations.actions, off: integrations.unconfiguredActions)
        }

        func run() async throws {
            let (answer, source) = try await CommandLogging.exitingOnFailure {
                if case .server(let client) = try serverAccess() {
                    return (try await ActionBackend.server(client).catalog(), "automator serve's integrations")
                }
                return (try await declarations(), "\(options.scripts)/integrations")
            }
            if json { return print(answer) }
            let (catalog, off) = (try ActionCommand.actions(in: answer), try ActionCommand.actions(in: answer, key: "off"))
            if catalog.isEmpty { print("no integration in use in \(source) declares actions") }
            Self.list(catalog)
            // A first look, before any settings, shows what could be done and what it takes.
            guard !off.isEmpty else { return }
            print("\(catalog.isEmpty ? "" : "\n")off until their integration's settings are given (automator check "
                + "--config FILE names what each needs):")
            Self.list(off)
        }

        private static func list(_ actions: [[String: Any]]) {
            for action in actions {
                printVisible(ActionCommand.declarationLine(action))
                if let description = action["description"] as? String, !description.isEmpty {
                    printVisible("    " + description)
                }
            }
        }
    }

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run an action (or, with --dry-run, record what it would do and send nothing).")

        @OptionGroup var options: Options
        @Argument(help: ArgumentHelp("The action, as `automator action list` names it.", valueName: "name"))
        var name: String
        @Option(help: ArgumentHelp("""
            A parameter; repeat for more, each name once. The value is read as the type the action \
            declares: a whole number for an integer, true or false for a boolean.
            """, valueName: "name=value"))
        var param: [String] = []
        @Option(help: ArgumentHelp("The incident it is for: it is journaled there.", valueName: "id"))
        var incident: String?
        @Option(help: ArgumentHelp("""
            Lift it by itself after this long (90s, 15m, 24h, 2d, 1w): its undo runs then, also if \
            no server ran meanwhile (at the next automator serve). Only for an action with an undo; \
            longer or shorter than a ttl the action declares, it wins.
            """, valueName: "duration"))
        var ttl: String?
        @Flag(help: "Check and record the action, send nothing (the integration's settings may still be missing).")
        var dryRun = false
        @Flag(help: """
            Approve it yourself, for an action whose risk needs an approval: only the people \
            chat.roles.approver names may (as USER or cli:USER), or, while it names no one, the \
            operator on the data folder or with the server's shared token (not a personal token). \
            You are $USER ($SUDO_USER through sudo), whoever runs the command: the data folder's owner \
            is trusted. A dry run needs no approval: with --dry-run, --approve is ignored.
            """)
        var approve = false

        func validate() throws {
            try options.place.requireFolder()
            _ = try ActionCommand.parseIncident(incident)
            if let bad = param.first(where: { !$0.contains("=") }) {
                throw ValidationError("'\(bad)' is not a parameter: write --param name=value")
            }
            // The last of two values would win silently: the first may be the one meant.
            var given: Set<Substring> = []
            if let twice = param.map({ $0.prefix { $0 != "=" } }).first(where: { !given.insert($0).inserted }) {
                throw ValidationError("--param \(twice) is given twice: give each parameter once")
            }
            if let ttl, let missing = DurationText.missingUnit("--ttl", ttl, likely: "h") { throw ValidationError(missing) }
        }

        func run() async throws {
            var parameters: [String: String] = [:]
            for pair in param {
                let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                parameters[String(parts[0])] = String(parts[1])
            }
            let incident = try ActionCommand.parseIncident(incident)
            let action = try await options.act(requiringConfiguration: true) { backend in
                try ActionCommand.actions(in: try await backend.run(name, parameters: parameters, ttl: ttl,
                                                                    incident: incident, dryRun: dryRun,
                                                                    approve: approve))[0]
            }
            printVisible(ActionCommand.line(action))
            if action["status"] as? String == "done", let result = action["result"] { printVisible(ActionCommand.json(result)) }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show an action run: parameters, who asked and approved, status, result, ttl, undo.",
            discussion: """
                Also the chat question that decided it (automator question show gives it whole): \
                who approved or denied it and when, or when it timed out with no answer; \
                when it lifts by itself (or, for a dry run, the ttl it would have had), and whether \
                it was undone, or how to undo it.
                """)

        @OptionGroup var options: Options
        @Argument(help: ArgumentHelp("The action, as `automator action history` shows it.", valueName: "id"))
        var id: String
        @Flag(help: "Print the API's JSON (GET /api/v1/actions/ID).")
        var json = false

        func validate() throws {
            try options.place.requireFolder()
            guard id.hasPrefix("ACT-") else {
                throw ValidationError("'\(id)' is not an action id: they read ACT-3f9a0c12b4 (automator action history lists them)")
            }
        }

        func run() async throws {
            let text = try await options.act(requiringConfiguration: false) { backend in try await backend.show(id) }
            if json { return print(text) }
            printVisible(ActionCommand.details(try ActionCommand.actions(in: text)[0]))
        }
    }

    struct Undo: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reverse an action with its undo, or every action of an incident, the last one first.",
            discussion: """
                An undo that fails (the integration raised, its API refused) says that the action is \
                still in force, by its id, name and parameters, and exits 1: run the undo again once \
                the cause is fixed, or lift it by hand in the product and say so in the incident's \
                journal (!note in chat). With --incident, the undo stops at the first that fails and \
                names those undone before it and those still done.
                """)

        @OptionGroup var options: Options
        @Argument(help: ArgumentHelp("The action, as `automator action history` shows it.", valueName: "id"))
        var id: String?
        @Option(help: ArgumentHelp("Reverse every done action of this incident.", valueName: "id"))
        var incident: String?

        func validate() throws {
            try options.place.requireFolder()
            _ = try ActionCommand.parseIncident(incident)
            switch (id, incident) {
            case (nil, nil): throw ValidationError("give the action id to undo, or --incident INC-7 for all of an incident's")
            case (_?, _?): throw ValidationError("give an action id or --incident, not both")
            default: break
            }
        }

        func run() async throws {
            let incident = try ActionCommand.parseIncident(incident)
            let undone = try await options.act(requiringConfiguration: false) { backend in
                if let id { return try ActionCommand.actions(in: try await backend.undo(id)) }
                return try ActionCommand.actions(in: try await backend.undoAll(on: incident!))
            }
            if undone.isEmpty { print("nothing to undo") }
            for action in undone { printVisible(ActionCommand.line(action)) }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the actions run, newest first.",
            discussion: """
                One a line: id, status, action, incident, parameters, who asked, who approved; when \
                a done one lifts by itself; who denied one and in which question (Q-…), which \
                question nobody answered by when; the error of one failed or refused. automator \
                action show ACT-… gives one whole.
                """)

        @OptionGroup var options: Options
        @Option(help: ArgumentHelp("Only the actions of this incident.", valueName: "id"))
        var incident: String?

        func validate() throws {
            try options.place.requireFolder()
            _ = try ActionCommand.parseIncident(incident)
        }

        func run() async throws {
            let incident = try ActionCommand.parseIncident(incident)
            let records = try await options.act(requiringConfiguration: false) { backend in
                try ActionCommand.actions(in: try await backend.history(on: incident))
            }
            // Silence would read as a command that did nothing, as the other lists say so.
            if records.isEmpty { print(incident.map { "no actions on \($0)" } ?? "no actions") }
            for record in records { printVisible(ActionCommand.line(record)) }
        }
    }
}
