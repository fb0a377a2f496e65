import Foundation
import Logging

/// The scripts folder as the incident service reads it: the playbooks (`playbooks/*.lua`), the
/// mappers (`mappers/SOURCE.lua`), the SLA policy (`sla.lua`), the breach hook
/// (`hooks/sla_breach.lua`) and the close hook (`hooks/incident_closed.lua`). Files are looked at again at most once a second, and read again when
/// any has changed, so `serve` takes an edited playbook without a restart; runs already started
/// keep the text they started with. An edited playbook that no longer loads keeps its previous
/// version in use, its mistakes in `problems` (`/healthz`, `automator_playbook_failing`).
actor PlaybookCatalog {
    /// A mapper as read: its declaration, and how it deduplicates.
    struct Mapper {
        var path: String
        var declaration: ScriptEvaluator.Declaration
        /// Seconds; nil for the service's default.
        var dedupWindow: TimeInterval?
        var decidesDuplicates: Bool
    }

    let folder: String
    private let evaluator: ScriptEvaluator
    private let logger: Logger
    private(set) var playbooks: [Playbook] = []
    private(set) var problems: [PlaybookProblem] = []
    private var declarations: [String: ScriptEvaluator.Declaration] = [:]
    private var mappers: [String: Mapper] = [:]
    /// Where the SLA policy read last is kept (`IncidentLedger.slaPolicy`).
    private let policy: Locked<SLAPolicy>
    private(set) var breachHook: (path: String, source: [UInt8])?
    /// Where the close hook read last is kept (`IncidentLedger.closeHook`): a playbook's close
    /// starts it on the executor's thread, which cannot await this actor.
    private let closeHook: Locked<IncidentClosedHook?>
    private var watch: ScriptFolderWatch
    /// How many times the folder was read: a reader that kept the last one sees that it changed.
    private(set) var readings = 0

    init(folder: String, evaluator: ScriptEvaluator, policy: Locked<SLAPolicy> = Locked(SLAPolicy()),
         closeHook: Locked<IncidentClosedHook?> = Locked(nil), logger: Logger)
    {
        self.folder = folder
        self.evaluator = evaluator
        self.policy = policy
        self.closeHook = closeHook
        self.logger = logger
        watch = ScriptFolderWatch(folder: folder)
    }

    /// Reads the folder again if a file changed since the last look (at most once a second, or
    /// now with `force`).
    func refresh(force: Bool = false) async {
        guard watch.due(force: force) else { return }
        guard watch.changed(["sla.lua", "hooks/sla_breach.lua", IncidentClosedHook.path] + list("playbooks") + list("mappers")) else { return }
        await reload()
    }

    /// The playbook for `incident`: the first that matches, by priority (highest first), then name.
    func choose(for incident: Incident) async -> Playbook? {
        await refresh()
        for playbook in playbooks {
            if let matched = playbook.matches(incident) {
                if matched { return playbook }
                continue
            }
            guard let declaration = declarations[playbook.path] else { continue }
            do {
                let answer = try await evaluator.call("matches", on: declaration,
                                                      json: "[" + IncidentJSON.forScript(incident) + "]")
                if answer == "true" { return playbook }
            } catch {
                logger.warning("the match function of \(playbook.path) failed: \(error.description)")
            }
        }
        return nil
    }

    func playbook(named name: String) async -> Playbook? {
        await refresh()
        return playbooks.first { $0.name == name }
    }

    /// The SLA policy as the folder says it now.
    func slaPolicy() async -> SLAPolicy {
        await refresh()
        return policy.withLock { $0 }
    }

    /// The mapper of `mappers/SOURCE.lua`.
    ///
    /// - Throws: `.notFound` when there is none, `.invalid` when it does not load.
    func mapper(for source: String) async throws(IncidentError) -> Mapper {
        await refresh()
        if let mapper = mappers[source] { return mapper }
        let path = "mappers/\(source).lua"
        guard let data = FileManager.default.contents(atPath: folder + "/" + path) else {
            throw IncidentError(.notFound, "there is no mapper for the source \"\(source)\": write \(folder)/\(path) "
                + "(return mapper { map = function(alert) return { title = ..., type = ..., severity = ... } end })")
        }
        do {
            let (json, declaration) = try await evaluator.declaration("mapper", source: Array(data), path: path)
            let info = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] ?? [:]
            var window: TimeInterval?
            if let text = info["dedup_window"] as? String ?? (info["dedup_window"] as? NSNumber)?.stringValue {
                guard let seconds = DurationText.seconds(text) else {
                    throw IncidentError(.invalid, "\(path): dedup_window must be \(DurationText.expected)")
                }
                window = seconds
            }
            let mapper = Mapper(path: path, declaration: declaration, dedupWindow: window,
                                decidesDuplicates: info["is_duplicate"] as? Bool ?? false)
            mappers[source] = mapper
            return mapper
        } catch let error as IncidentError {
            throw error
        } catch {
            throw IncidentError(.invalid, "the mapper \(path) does not load: \(error)")
        }
    }

    // MARK: Reading the folder

    private func list(_ subfolder: String) -> [String] { watch.list(subfolder) }

    private func reload() async {
        mappers = [:]
        var loaded: [Playbook] = []
        var problems: [PlaybookProblem] = []
        var declarations: [String: ScriptEvaluator.Declaration] = [:]
        for path in list("playbooks") {
            do {
                let (playbook, declaration) = try await load(path)
                if let other = loaded.first(where: { $0.name == playbook.name }) {
                    throw IncidentError(.invalid, "the name \"\(playbook.name)\" is taken by \(other.path)")
                }
                loaded.append(playbook)
                declarations[path] = declaration
            } catch {
                // An edit that does not load keeps the version in use, as an integration's does:
                // dropped, every incident of its type went without a playbook until someone read
                // the log.
                let previous = playbooks.first { $0.path == path }
                    .flatMap { old in loaded.contains { $0.name == old.name } ? nil : old }
                if let previous {
                    loaded.append(previous)
                    declarations[path] = self.declarations[path]
                }
                // Each mistake at its line, as `automator check` shows it; the host's traceback
                // says nothing to the playbook's author.
                for found in ScriptChecker.problems(of: folder + "/" + path, as: folder + "/" + path, refused: "\(error)") {
                    let message = found.message + (previous == nil ? "" : " (the previous version stays in use until the file loads)")
                    problems.append(PlaybookProblem(path: path, line: found.line, message: message))
                }
            }
        }
        // Said once, not at each reading of the folder (any file's edit reads them all).
        for problem in problems where !self.problems.contains(problem) {
            let kept = loaded.contains { $0.path == problem.path }
            logger.error("playbook \(kept ? "did not load again" : "not used"): \(problem)")
        }
        // Assigned together once all is read: a caller that enters while this awaits sees the
        // last catalog whole.
        playbooks = loaded.sorted { ($0.priority, $1.name) > ($1.priority, $0.name) }
        self.declarations = declarations
        self.problems = problems
        let table = await loadPolicy()
        policy.withLock { $0 = SLAPolicy(table: table, playbooks: playbooks.reduce(into: [:]) { $0[$1.name] = $1.sla }) }
        breachHook = FileManager.default.contents(atPath: folder + "/hooks/sla_breach.lua").map {
            ("hooks/sla_breach.lua", Array($0))
        }
        let hook = FileManager.default.contents(atPath: folder + "/" + IncidentClosedHook.path).map {
            IncidentClosedHook(source: Array($0))
        }
        closeHook.withLock { $0 = hook }
        readings += 1
    }

    private func load(_ path: String) async throws -> (Playbook, ScriptEvaluator.Declaration) {
        guard let data = FileManager.default.contents(atPath: folder + "/" + path) else {
            throw IncidentError(.notFound, "cannot read the file")
        }
        let source = Array(data)
        let (json, declaration) = try await evaluator.declaration("playbook", source: source, path: path)
        let info = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] ?? [:]
        var match: Playbook.Match?
        if info["match_function"] as? Bool == true {
            match = .function
        } else if let fields = info["match"] as? [String: [String]] {
            if let unknown = fields.keys.sorted().first(where: { !Playbook.matchFields.contains($0) }) {
                throw IncidentError(.invalid, "match names the unknown field \"\(unknown)\": use "
                    + Playbook.matchFields.joined(separator: ", "))
            }
            match = .fields(fields)
        }
        var sla: TimeInterval?
        if let text = info["sla"] as? String ?? (info["sla"] as? NSNumber)?.stringValue {
            guard let seconds = DurationText.seconds(text) else {
                throw IncidentError(.invalid, "sla must be \(DurationText.expected), got \"\(text)\"")
            }
            sla = seconds
        }
        let playbook = Playbook(name: info["name"] as? String ?? path, path: path, source: source,
                                priority: (info["priority"] as? NSNumber)?.intValue ?? 0, match: match, sla: sla,
                                handlesBreach: info["on_sla_breach"] as? Bool ?? false)
        return (playbook, declaration)
    }

    /// `sla.lua`: `{ default = { high = "4h" }, phishing = { high = "2h" } }`.
    private func loadPolicy() async -> [String: [String: TimeInterval]] {
        guard let data = FileManager.default.contents(atPath: folder + "/sla.lua") else { return [:] }
        do {
            let json = try await evaluator.value(source: Array(data), path: "sla.lua")
            guard let table = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: [String: Any]] else {
                throw IncidentError(.invalid, "it must return a table of types, each a table of severities")
            }
            var policy: [String: [String: TimeInterval]] = [:]
            for (type, severities) in table {
                for (severity, value) in severities {
                    let text = value as? String ?? (value as? NSNumber)?.stringValue ?? ""
                    guard let known = Incident.Severity(named: severity), let seconds = DurationText.seconds(text) else {
                        throw IncidentError(.invalid, "\(type).\(severity): a severity and \(DurationText.expected)")
                    }
                    policy[type, default: [:]][known.rawValue] = seconds
                }
            }
            return policy
        } catch {
            logger.error("sla.lua is not used: \(error)")
            return [:]
        }
    }
}
