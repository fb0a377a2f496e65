internal import CLua
import Foundation
import Logging

/// `automator check`: reads every script of a scripts folder as the runtime would, without
/// running a playbook, command or integration, and lists the mistakes with their `file:line`:
/// syntax errors, globals read or written that the runtime does not define (a typo, a missing
/// `local`), playbook and chat command declarations the catalogs refuse (no `run`, an unknown
/// `match` field, a bad `sla`, a name taken twice), integration declarations `serve` would refuse
/// (every mistake, an unknown field too, at its line), actions named (`ActionReference`) that no
/// integration of the folder declares, and, given the configuration, integrations whose settings
/// are missing or that the configuration names but the folder lacks, and actions run that no
/// usable integration declares.
public struct ScriptChecker: Sendable {
    public let scripts: String
    public let configuration: IntelConfiguration?
    /// Where `configuration` was read, for its problems.
    public let configurationFile: String?

    /// Globals of modules that need a store or a chat service to exist, so a checker's sandbox
    /// does not have them: the incidents module and its declarations, the chat bot's, evidence,
    /// response actions.
    static let serviceGlobals: Set<String> = ["incidents", "playbook", "mapper", "chat", "command", "watch", "evidence",
                                              "actions"]
    /// `automator run` gives a script its arguments in `arg`.
    static let runGlobals: Set<String> = ["arg"]

    public init(scripts: String, configuration: IntelConfiguration? = nil, configurationFile: String? = nil) {
        self.scripts = scripts
        self.configuration = configuration
        self.configurationFile = configurationFile
    }

    /// The Lua files under `paths` (folders searched), sorted.
    public static func files(in paths: [String]) -> [String] {
        ScriptFiles.find(in: paths) { $0.hasSuffix(".lua") }
    }

    /// What `check` found: the problems, and the integrations that are off because nothing sets
    /// them up (the shipped ones a team does not use), which are not problems.
    public struct Findings: Sendable {
        public var problems: [ScriptProblem] = []
        public var notSetUp: [NotSetUp] = []
    }

    /// An integration off for want of its settings, and what it needs: the settings and their
    /// environment variables, as its error names them (`VIRUSTOTAL_API_KEY`).
    public struct NotSetUp: Sendable {
        public var integration: String
        public var needs: String
    }

    /// The problems of `files`, and of the scripts folder's playbooks and integrations among them.
    public func check(_ files: [String]) async -> Findings {
        var problems: [ScriptProblem] = []
        var unreadable: Set<String> = []
        let known = (try? Self.baseGlobals()) ?? []
        let state: LuaState
        do { state = try LuaState() } catch {
            return Findings(problems: [ScriptProblem(file: scripts, line: nil, message: "\(error)")])
        }
        for file in files {
            guard let source = FileManager.default.contents(atPath: file) else {
                problems.append(ScriptProblem(file: file, line: nil, message: "cannot read the file"))
                continue
            }
            let found = Self.check(source: Array(source), file: file, on: state,
                                   known: known.union(file.hasSuffix("_test.lua") ? TestingModule.globals : []))
            if !found.compiled { unreadable.insert(file) }
            problems += found.problems
        }
        // A file that does not compile is reported once, by its syntax error.
        problems += await declarationProblems().filter { files.contains($0.file) && !unreadable.contains($0.file) }
        let declarations = await integrationDeclarationProblems(in: files.filter { !unreadable.contains($0) })
        problems += declarations
        // An integration whose declaration is wrong is reported once, by its mistakes, not again as not used.
        let integrations = await integrationProblems(in: files.filter { !unreadable.contains($0) },
                                                     broken: Set(declarations.map(\.file)))
        problems += integrations.problems.filter { problem in
            (files.contains(problem.file) || problem.file == configurationFile)
                && !(problem.line == nil && declarations.contains { $0.file == problem.file })
        }
        problems += feedProblems()
        problems += files.compactMap(Self.unknownHook)
        let notSetUp = integrations.notSetUp.filter { files.contains(scripts + "/integrations/\($0.integration).lua") }
        return Findings(problems: problems.sorted(), notSetUp: notSetUp)
    }

    /// The hooks the runtime runs, by their file in the scripts folder.
    static let hooks = ["hooks/sla_breach.lua", IncidentClosedHook.path]

    /// A file of a `hooks/` folder that is none of `hooks`: a misspelt name runs nothing, and
    /// nothing else would say so.
    private static func unknownHook(_ file: String) -> ScriptProblem? {
        let parts = file.split(separator: "/")
        guard parts.count >= 2, parts[parts.count - 2] == "hooks", file.hasSuffix(".lua"), !file.hasSuffix("_test.lua")
        else { return nil }
        let name = "hooks/" + parts[parts.count - 1]
        guard !hooks.contains(name) else { return nil }
        let meant = Typo.meant(by: name, among: hooks).map { " (did you mean \($0)?)" } ?? ""
        return ScriptProblem(file: file, line: nil, message: "no hook the runtime runs\(meant): the hooks are "
            + hooks.joined(separator: " and "))
    }

    /// With a configuration: feeds that cannot be read, and the lines of a feed that are no
    /// indicator (the first hundred). Serve leaves both out and only logs them, and a verdict
    /// then says "no feed lists it".
    private func feedProblems() -> [ScriptProblem] {
        guard let configuration, !configuration.feeds.isEmpty else { return [] }
        let feeds = FeedSet(configuration.feeds, logger: Logger(label: "automator.check") { _ in SwiftLogNoOpLogHandler() })
        return feeds.statuses.flatMap { status in
            let name = status.feed.name
            return status.failure.map { [ScriptProblem(file: configurationFile ?? "the configuration", line: nil,
                                                       message: "\($0)")] }
                ?? status.problems.map { ScriptProblem(file: $0.file, line: $0.line, message: "feed \(name): \($0.message)") }
        }
    }

    /// Syntax, then the globals the code reads and writes.
    static func check(source: [UInt8], file: String, on state: LuaState, known: Set<String>)
        -> (problems: [ScriptProblem], compiled: Bool)
    {
        let top = state.stack.top
        defer { lua_settop(state.L, top) }
        do { try state.load(source, chunkName: "@" + file) } catch {
            return ([ScriptProblem(file: file, error: error.message)], false)
        }
        var problems: [ScriptProblem] = []
        var reported: Set<GlobalAccess> = []
        for access in GlobalAccess.of(chunkOn: state) where !reported.contains(access) {
            reported.insert(access)
            if access.isWrite {
                problems.append(ScriptProblem(file: file, line: access.line, message: "assigns the global \(access.name): "
                    + "declare it local (local \(access.name) = ...), or keep it in a table the script returns"))
            } else if !known.contains(access.name) {
                problems.append(ScriptProblem(file: file, line: access.line, message: "reads the undefined global "
                    + "\(access.name): a typo, or a local declared later or in another scope?"))
            }
        }
        return (problems, true)
    }

    /// The names the runtime defines for every script: standard Lua, the host modules that need
    /// no service, and the modules and declarations that do.
    static func baseGlobals() throws(LuaError) -> Set<String> {
        let quiet = Logger(label: "automator.check") { _ in SwiftLogNoOpLogHandler() }
        let sandbox = try Sandbox(modules: StandardModules.all(logger: quiet)
            + [SMTPModule(allowedServers: []), IntegrationsModule()])
        let listing = "local names = {} for name in pairs(_G) do names[#names + 1] = name end return names"
        let chunk = try sandbox.load(Array(listing.utf8), chunkName: "=globals", in: try sandbox.makeEnvironment())
        guard case .table(let names) = try sandbox.run(chunk).first else { return serviceGlobals }
        return Set(names.array.compactMap { if case .string(let name) = $0 { name.description } else { nil } })
            .union(serviceGlobals).union(runGlobals)
    }

    /// The playbooks of the scripts folder in the order they are tried, and the files left out,
    /// as serve reads them: `playbook list` with no data folder, which needs none to read them.
    public func playbooks() async throws -> (playbooks: [Playbook], problems: [PlaybookProblem]) {
        let folder = Self.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (playbooks, _, store) = try openCatalogs(reading: scripts, storeIn: folder, modulePaths: [scripts])
        await playbooks.refresh(force: true)
        await store.close()
        return (await playbooks.playbooks, await playbooks.problems)
    }

    /// What the playbook and command catalogs refuse, as `serve` would log it.
    private func declarationProblems() async -> [ScriptProblem] {
        let folder = Self.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let catalogs: (PlaybookCatalog, CommandCatalog, SQLiteStore)
        do { catalogs = try openCatalogs(reading: scripts, storeIn: folder, modulePaths: [scripts]) } catch {
            return [ScriptProblem(file: scripts, line: nil, message: "the scripts could not be read: \(error)")]
        }
        let (playbooks, commands, store) = catalogs
        await playbooks.refresh(force: true)
        await commands.refresh(force: true)
        await store.close()
        let refused = await commands.problems.map { problem in
            let path = String(problem.prefix { $0 != " " }.dropLast())  // "commands/x.lua: message"
            return (path, String(problem.dropFirst(path.count + 2)))
        }
        return await playbooks.problems.map { ScriptProblem(file: scripts + "/" + $0.path, line: $0.line, message: $0.message) }
            + refused.flatMap { path, message in
                Self.problems(of: scripts + "/" + path, as: scripts + "/" + path, refused: message)
            }
    }

    /// The mistakes of the declaration of the playbook `file`, wherever it is, for which serve's
    /// catalog would leave it out (an unknown field, a bad `sla`, a `match` field that is none),
    /// each at its line: `automator run --incident` refuses such a playbook as serve would, rather
    /// than running one serve would not, or failing with a message that names no line. A syntax
    /// error or a top level that fails (a `require`) is the run's to report, with its traceback.
    public func playbookDeclarationProblems(_ file: String) async -> [ScriptProblem] {
        let folder = Self.scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let path = "playbooks/" + (file as NSString).lastPathComponent
        let catalogs: (PlaybookCatalog, CommandCatalog, SQLiteStore)
        do {
            try FileManager.default.createDirectory(atPath: folder + "/playbooks", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: file, toPath: folder + "/" + path)
            let beside = (file as NSString).deletingLastPathComponent
            catalogs = try openCatalogs(reading: folder, storeIn: folder + "/store",
                                        modulePaths: [scripts, beside.isEmpty ? "." : beside])
        } catch {
            return [ScriptProblem(file: file, line: nil, message: "the playbook could not be read: \(error)")]
        }
        let (playbooks, _, store) = catalogs
        await playbooks.refresh(force: true)
        await store.close()
        // How the catalog's refusals of a declaration start: `declare`'s (`playbook: unknown field
        // sal`), its own checks of `match` and `sla`, and a file that declares no playbook.
        return await playbooks.problems.map { ScriptProblem(file: file, line: $0.line, message: $0.message) }
            .filter {
                $0.message.prefixMatch(of: /playbook:\s|match\snames\sthe\sunknown\sfield\s|sla\smust\sbe\s|the\sfile\smust\sreturn\splaybook\s/)
                    != nil
            }
    }

    /// A new folder's path under the temporary directory, for a store the caller removes.
    private static func scratchFolder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("automator-check-\(UUID().uuidString)").path
    }

    /// The catalogs of `folder` as serve reads them, on a store in `storeIn`: the declarations come
    /// from the incidents and chat modules, whose functions need a store and a chat service;
    /// neither is used.
    private func openCatalogs(reading folder: String, storeIn storeFolder: String, modulePaths: [String]) throws
        -> (PlaybookCatalog, CommandCatalog, SQLiteStore)
    {
        let quiet = Logger(label: "automator.check") { _ in SwiftLogNoOpLogHandler() }
        let store = try SQLiteStore(folder: storeFolder, durability: .normal)
        let ledger = IncidentLedger(store: store)
        let chat = ChatService(store: store, adapters: [], scripts: scripts, logger: quiet)
        let evaluator = try ScriptEvaluator(modules: StandardModules.all(logger: quiet)
            + [IncidentsModule(ledger: ledger), ChatModule(service: chat, reputation: nil, evidence: nil)],
            modulePaths: modulePaths, quiet: true)
        return (PlaybookCatalog(folder: folder, evaluator: evaluator, logger: quiet),
                CommandCatalog(folder: folder, evaluator: evaluator, logger: quiet), store)
    }

    /// A catalog's refusal of the file it read at `read`, as problems of `file` (the same file, or
    /// the one it was copied from). A declaration raises all its mistakes at once, a line each
    /// (its traceback after them), each at the declaration's line: the field it names is the place
    /// to show.
    static func problems(of read: String, as file: String, refused message: String) -> [ScriptProblem] {
        message.components(separatedBy: "\n").prefix { !$0.hasPrefix("stack traceback") }
            .filter { !$0.isEmpty }.map { text in
                var found = ScriptProblem(file: read, error: text)
                found.file = file
                let declaration = found.message.prefixMatch(of: /(playbook|mapper|command|watch):\s/) != nil
                if found.line == nil || declaration { found.line = Self.line(in: file, naming: found.message) ?? found.line }
                return found
            }
    }

    /// For a message without a line (the declaration is a tail call, whose frame Lua drops), or
    /// at its declaration's, the line it is about: the field it names (`playbook: unknown field
    /// rn`, `playbook: sla must be ...`, `sla must be a duration ... got "4 hours"`), the field it
    /// quotes (`match names the unknown field "kind"`), else the declaration it names (`playbook:
    /// run must be function`, a field not written).
    private static func line(in file: String, naming message: String) -> Int? {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { return nil }
        let field = message.firstMatch(of: /unknown\sfield\s(\w+)/)?.1 ?? message.firstMatch(of: /^\w+:\s(\w+)\smust\sbe\s/)?.1
            ?? message.prefixMatch(of: /(\w+)\smust\sbe\s/)?.1
            ?? message.split(separator: "\"").dropFirst().first.map { Substring(NSRegularExpression.escapedPattern(for: String($0))) }
        let declaration = "\\b\(NSRegularExpression.escapedPattern(for: String(message.prefix { $0 != ":" })))\\s*[{(]"
        let lines = text.components(separatedBy: "\n")
        for pattern in [field.map { "\\b\($0)\\s*=" }, declaration].compactMap(\.self) {
            if let index = lines.firstIndex(where: { $0.range(of: pattern, options: .regularExpression) != nil }) {
                return index + 1
            }
        }
        return nil
    }

    /// What `integration { ... }` refuses in the integrations among `files`, with or without a
    /// configuration: every mistake of a declaration (`Integrations` reads them alike, and leaves
    /// the integration out), each at its line.
    private func integrationDeclarationProblems(in files: [String]) async -> [ScriptProblem] {
        let folder = scripts + "/integrations/"
        let declarations = files.filter {
            $0.hasPrefix(folder) && !$0.hasSuffix("_test.lua") && !$0.dropFirst(folder.count).contains("/")
        }
        guard !declarations.isEmpty, let evaluator = try? Integrations.declarationReader(scripts: scripts)
        else { return [] }
        var problems: [ScriptProblem] = []
        for file in declarations {
            guard let source = FileManager.default.contents(atPath: file) else { continue }
            do {
                _ = try await evaluator.declaration("integration", source: Array(source),
                                                    path: "integrations/" + file.dropFirst(folder.count))
            } catch {
                let lines = (try? String(contentsOfFile: file, encoding: .utf8))?.components(separatedBy: "\n") ?? []
                for message in Integrations.mistakes(in: error.message) {
                    var problem = ScriptProblem(file: file, error: message)
                    if problem.line == nil { problem.line = Self.line(in: lines, following: problem.message) }
                    problems.append(problem)
                }
            }
        }
        return problems
    }

    /// The line an integration's mistake is about, found by the path it starts with
    /// (`integration: actions.block.risk must be ...`): each part searched for as `part =` from
    /// the line of the one before to the end of its table (a field not written is then the
    /// table's line, not the same field of the next action); an unknown field adds its name.
    /// Else the declaration's line.
    static func line(in lines: [String], following message: String) -> Int? {
        var rest = Substring(message.hasPrefix("integration: ") ? message.dropFirst("integration: ".count) : "")
        var path: [String] = []
        if !rest.hasPrefix("unknown field ") {
            let head = rest.prefix { $0 != " " && $0 != ":" }
            path = head.split(separator: ".").map(String.init)
            rest = rest.dropFirst(head.count).drop { $0 == ":" || $0 == " " }
        }
        if rest.hasPrefix("unknown field ") {
            path.append(String(rest.dropFirst("unknown field ".count).prefix { $0 != ":" }))
        }
        var found: Int?
        var last = lines.count - 1
        for part in path {
            // On the same line as the part before, too: `token = { secret = true, requird = true }`.
            let pattern = "(^|[^\\w.])" + NSRegularExpression.escapedPattern(for: part) + "\\s*=(?!=)"
            let first = found.map { $0 - 1 } ?? 0
            guard first <= last, let index = lines[first...last].firstIndex(where: {
                $0.range(of: pattern, options: .regularExpression) != nil
            }), let value = lines[index].range(of: pattern, options: .regularExpression)?.upperBound
            else { break }
            found = index + 1
            last = Self.end(ofValueAt: value, line: index, in: lines)
        }
        return found ?? lines.firstIndex { $0.range(of: "\\bintegration\\s*[{(]", options: .regularExpression) != nil }
            .map { $0 + 1 }
    }

    /// The line where the value that starts at `start` of line `index` ends: its closing brace
    /// when it is a table (`{ ... }`, over several lines perhaps), else that line.
    private static func end(ofValueAt start: String.Index, line index: Int, in lines: [String]) -> Int {
        var depth = 0
        for (offset, line) in lines[index...].enumerated() {
            let text = offset == 0 ? line[start...] : line[...]
            for character in text {
                switch character {
                case "{": depth += 1
                case "}": depth -= 1
                case " ", "\t": continue
                default: if depth == 0 { return index }  // not a table
                }
                if depth == 0 { return index + offset }
            }
        }
        return lines.count - 1
    }

    /// With a configuration: integrations it names whose required settings are missing (serve
    /// would leave them out), integrations it configures that have no script, and actions
    /// `files` run that no usable integration declares; and the integrations nothing sets up.
    /// Without one: the actions `files` run that no integration of the folder declares, whatever
    /// their settings (`broken`: the integrations whose declaration is wrong). An action a script
    /// only asks after (`actions.available`, `respond.act`) needs a declaration, not the settings.
    private func integrationProblems(in files: [String], broken: Set<String>) async -> Findings {
        let folder = scripts + "/integrations"
        let declared = Set(await Integrations.declaredActions(in: folder).map(\.name))
        /// Why no integration of the folder declares `action`.
        func undeclared(_ action: String) -> String {
            let file = "\(folder)/\(action.prefix { $0 != "." }).lua"
            if broken.contains(file) { return "\(file) does not load: see its problems" }
            return FileManager.default.fileExists(atPath: file) ? "\(file) does not declare it"
                : "no integration in \(folder) declares it"
        }
        guard let configuration else {
            return Findings(problems: Self.actionProblems(in: files, declared: declared, undeclared: undeclared))
        }
        let quiet = Logger(label: "automator.check") { _ in SwiftLogNoOpLogHandler() }
        let integrations = await Integrations(folder: folder, settings: configuration.integrations, logger: quiet)
        integrations.shutdown()
        let off = Set(integrations.notSetUp.map { "integrations/\($0).lua" })
        var problems = integrations.problems.filter { !off.contains($0.path) }.map { problem in
            ScriptProblem(file: scripts + "/" + problem.path, line: nil, message: "not used: " + problem.message)
        }
        let unusable = { (action: String) in
            let integration = String(action.prefix { $0 != "." })
            return integrations.problems.first { $0.path == "integrations/\(integration).lua" }
                .map { "its integration is not used: \($0.message)" } ?? "its integration is not used"
        }
        problems += Self.actionProblems(in: files, declared: declared, undeclared: undeclared,
                                        usable: (Set(integrations.actions.map(\.name)), unusable))
        let integrationFiles = Set(Integrations.files(in: folder))
        for name in configuration.integrations.keys.sorted() where !integrationFiles.contains(name + ".lua") {
            problems.append(ScriptProblem(file: configurationFile ?? "the configuration", line: nil,
                                          message: Integrations.namesNoFile(name, among: integrationFiles)))
        }
        let notSetUp = integrations.notSetUp.map { name in
            let problem = integrations.problems.first { $0.path == "integrations/\(name).lua" }
            return NotSetUp(integration: name, needs: problem?.message ?? "")
        }
        return Findings(problems: problems, notSetUp: notSetUp)
    }

    /// The actions `files` name that they cannot have: one no integration of the folder
    /// `declared`, saying `undeclared` why, with the declared one a typo meant; and, with the
    /// `usable` ones (a configuration's), one they need sent that is declared but not usable,
    /// saying why not.
    private static func actionProblems(in files: [String], declared: Set<String>, undeclared: (String) -> String,
                                       usable: (actions: Set<String>, whyNot: (String) -> String)? = nil) -> [ScriptProblem]
    {
        files.flatMap { file in
            ActionReference.all(in: file).compactMap { reference in
                let action = reference.action
                let why: String
                if !declared.contains(action) {
                    why = undeclared(action) + (Typo.meant(by: action, among: declared).map { " (did you mean \($0)?)" } ?? "")
                } else if let usable, reference.needsIntegration, !usable.actions.contains(action) {
                    why = usable.whyNot(action)
                } else {
                    return nil
                }
                return ScriptProblem(file: file, line: reference.line, message: "\(reference.use.rawValue) the action \(action), but \(why)")
            }
        }
    }
}
