import Foundation
import Logging

/// A chat command as `scripts/commands/NAME.lua` declares it.
public struct ChatCommand: Sendable, Hashable {
    public var name: String
    public var usage: String
    public var help: String
    /// Who may run it: people with one of these roles; anyone when empty.
    public var roles: [String]
    /// Roles for a first word in place of `roles`: `close` of `!incident close` changes things
    /// where `!incident show` only reads.
    public var rolesByWord: [String: [String]]
    public var path: String
    var source: [UInt8]

    /// The roles `!name rest` needs, and how a refusal names it (`!incident close`).
    func requirement(for rest: String) -> (roles: [String], what: String) {
        if let word = rest.split(whereSeparator: \.isWhitespace).first?.lowercased(), let roles = rolesByWord[word] {
            return (roles, "!\(name) \(word)")
        }
        return (roles, "!" + name)
    }
}

/// `scripts/commands/` as the bot reads it: the commands (`command { ... }`) and the channel
/// watcher (`watch { ... }`). Looked at again at most once a second, so an edited command is
/// taken without a restart; a file that does not load is logged and left out.
actor CommandCatalog {
    /// The scripts folder, which holds `commands/`.
    nonisolated let folder: String
    private let evaluator: ScriptEvaluator
    private let logger: Logger
    private(set) var commands: [String: ChatCommand] = [:]
    /// The watcher's path and source.
    private(set) var watcher: (path: String, source: [UInt8])?
    private(set) var problems: [String] = []
    private var watch: ScriptFolderWatch

    init(folder: String, evaluator: ScriptEvaluator, logger: Logger) {
        self.folder = folder
        self.evaluator = evaluator
        self.logger = logger
        watch = ScriptFolderWatch(folder: folder)
    }

    func command(_ name: String) async -> ChatCommand? {
        await refresh()
        return commands[name.lowercased()]
    }

    func currentWatcher() async -> (path: String, source: [UInt8])? {
        await refresh()
        return watcher
    }

    func refresh(force: Bool = false) async {
        guard watch.due(force: force) else { return }
        let paths = watch.list("commands")
        guard watch.changed(paths) else { return }
        await reload(paths)
    }

    private func reload(_ paths: [String]) async {
        var commands: [String: ChatCommand] = [:]
        var watcher: (path: String, source: [UInt8])?
        var problems: [String] = []
        for path in paths {
            guard let data = FileManager.default.contents(atPath: folder + "/" + path) else { continue }
            let source = Array(data)
            do {
                let (json, _) = try await evaluator.declaration("chat", source: source, path: path)
                let info = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] ?? [:]
                if info["kind"] as? String == "watch" {
                    if let other = watcher { throw ChatError(.unavailable, "\(other.path) is the watcher already") }
                    watcher = (path, source)
                    continue
                }
                let name = (info["name"] as? String ?? "").lowercased()
                if let other = commands[name] { throw ChatError(.unavailable, "the name \"\(name)\" is taken by \(other.path)") }
                commands[name] = ChatCommand(name: name, usage: info["usage"] as? String ?? "!" + name,
                                             help: info["help"] as? String ?? "", roles: info["roles"] as? [String] ?? [],
                                             rolesByWord: info["roles_by_word"] as? [String: [String]] ?? [:],
                                             path: path, source: source)
            } catch {
                problems.append("\(path): \(error)")
                logger.error("chat command \(path) is not used: \(error)")
            }
        }
        self.commands = commands
        self.watcher = watcher
        self.problems = problems
    }
}
