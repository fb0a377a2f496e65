import Foundation

/// The Lua files a command works on (`check`, `test`): files as given, folders searched.
public enum ScriptFiles {
    /// The files among `paths`, and those under its folders whose path (relative to the folder)
    /// `include` takes, but for a folder's `types/`: its `---@meta` files describe the API for
    /// editors and are never run (`types/automator_test.lua` is no test file); sorted.
    public static func find(in paths: [String], where include: (String) -> Bool) -> [String] {
        var found: [String] = []
        for path in paths {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else { continue }
            guard isFolder.boolValue else {
                found.append(path)
                continue
            }
            // A scripts folder linked into place (scripts -> a checkout) is searched as the folder
            // it names: the enumerator does not descend into a link.
            let folder = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
            let names = FileManager.default.enumerator(atPath: folder)?.compactMap { $0 as? String } ?? []
            found += names.filter { !$0.hasPrefix("types/") && include($0) }.map { (path as NSString).appendingPathComponent($0) }
        }
        return found.sorted()
    }
}
