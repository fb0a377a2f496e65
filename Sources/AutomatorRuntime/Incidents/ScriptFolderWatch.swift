import Foundation

/// Whether a scripts folder's files changed since the last look, by their modification times and
/// sizes, looked at no more than once a second: the catalogs (playbooks, chat commands) read
/// their files again when one changed, so that an edited script is taken without a restart.
struct ScriptFolderWatch {
    let folder: String
    private var signature: [String: [Int]] = [:]
    private var checkedAt = Date.distantPast

    init(folder: String) { self.folder = folder }

    /// Whether it is time to look again: a second since the last look, or `force`.
    mutating func due(force: Bool) -> Bool {
        let now = Date()
        guard force || now.timeIntervalSince(checkedAt) >= 1 else { return false }
        checkedAt = now
        return true
    }

    /// Whether any of `paths` (relative to the folder) changed, appeared or went away since the
    /// last look.
    mutating func changed(_ paths: [String]) -> Bool {
        var current: [String: [Int]] = [:]
        for path in paths {
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: folder + "/" + path) else { continue }
            let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            current[path] = [Int(modified * 1e6), (attributes[.size] as? Int) ?? 0]
        }
        guard current != signature else { return false }
        signature = current
        return true
    }

    /// The Lua files of a subfolder (tests, `_test.lua`, left out), in order.
    func list(_ subfolder: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder + "/" + subfolder)) ?? []
        return names.filter { $0.hasSuffix(".lua") && !$0.hasSuffix("_test.lua") }.sorted().map { subfolder + "/" + $0 }
    }
}
