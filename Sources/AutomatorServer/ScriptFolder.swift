import AutomatorRuntime
import Foundation

/// The folder of scripts the API runs by name (`--scripts`). A name is a relative path inside
/// it, such as `triage.lua` or `phishing/triage.lua`; a name that could leave it (an absolute
/// path, `..`) is refused before the file system sees it. Symbolic links inside the folder are
/// followed: what it holds is the operator's choice.
struct ScriptFolder: Sendable {
    let path: String

    /// The script's name as runs keep it (`phishing/triage.lua`, so errors read
    /// `phishing/triage.lua:3:`) and its source.
    ///
    /// - Throws: 400 for a name that is not a path inside the folder; 404 for no such file.
    func load(_ name: String) throws(APIError) -> (name: String, source: Data) {
        let components = name.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        guard !name.hasPrefix("/"), !components.isEmpty, !components.contains(".."), !name.contains("\0") else {
            throw .badRequest(
                "the script name \(JSONText.string(name)) is not a path inside the scripts folder: name a file in it, "
                    + "such as \"triage.lua\" or \"phishing/triage.lua\", or send the Lua text as \"source\"")
        }
        let relative = components.joined(separator: "/")
        let file = URL(fileURLWithPath: path).appendingPathComponent(relative).path
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: file, isDirectory: &isFolder), !isFolder.boolValue,
              let source = FileManager.default.contents(atPath: file)
        else {
            throw .notFound("no script \(relative) in the scripts folder \(path): check the name, or send the Lua text "
                + "as \"source\"")
        }
        return (relative, source)
    }
}
