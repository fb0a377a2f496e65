import Foundation

/// Where an integration's `require("lib.microsoft")` looks: the scripts folder that holds its
/// `integrations/`, as a playbook's does on `serve`, and nowhere else (not the folder of a playbook
/// `automator run` was given: an integration is the same file whichever playbook calls it).
///
/// Every place that runs or reads an integration's file takes its module path from here: its
/// executor (lookups, actions, fetches) and the evaluators that read declarations (`serve`,
/// `automator check`, the test world's declared actions, a configuration check).
extension Integrations {
    /// The scripts folder of an integrations folder: `scripts` for `scripts/integrations`, `.` for
    /// `integrations`. Taken from the path as written, not resolved: a scripts folder linked into
    /// place (`scripts -> /srv/checkout/scripts`) is searched through its link, as a playbook's is.
    static func scriptsFolder(of folder: String) -> String {
        let parent = (folder as NSString).deletingLastPathComponent
        return parent.isEmpty ? "." : parent
    }

    /// What reads integrations' declarations, with `require` of the modules of `scripts`.
    static func declarationReader(scripts: String) throws(LuaError) -> ScriptEvaluator {
        try ScriptEvaluator(modules: [JSONModule(), IntegrationsModule()], modulePaths: [scripts])
    }

    /// The mistakes of a declaration that did not load (`integration { }` raises each on a line of
    /// its own); a line that starts with a tab goes on the one before, as the files a missing
    /// module was looked for in do: `module 'lib.x' not found: no file 'scripts/lib/x.lua'`.
    static func mistakes(in message: String) -> [String] {
        var mistakes: [String] = []
        for line in message.split(separator: "\n") {
            guard line.hasPrefix("\t"), let last = mistakes.popLast() else {
                mistakes.append(String(line))
                continue
            }
            mistakes.append(last + (last.hasSuffix(":") ? " " : ", ") + line.dropFirst())
        }
        return mistakes
    }
}
