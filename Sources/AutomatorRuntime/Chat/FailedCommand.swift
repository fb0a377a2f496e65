import Foundation

/// What the bot answers when a command's run fails: someone is waiting for an answer.
///
/// A refusal of the host (`actions.run: the network 10.0.0.0/8 is protected`, raised by a
/// function of the Lua API: its name before the colon) is the person's to fix, and said plainly;
/// anything else is the script's failure, said with where it failed and which run, for whoever
/// maintains the bot:
///
/// ```swift
/// FailedCommand.answer("commands/action.lua", error: "commands/action.lua:52: actions.run: …", run: id)
/// // "⚠️ Not done: …"
/// ```
enum FailedCommand {
    static func answer(_ path: String, error: String?, run: RunID) -> String {
        let reason = error?.split(separator: "\n").first.map(String.init) ?? "it failed"
        if let refusal = refusal(in: reason, of: path) { return "⚠️ Not done: \(refusal)" }
        return "⚠️ \(path) failed: \(reason) (run \(run))"
    }

    /// The message of a host function's error (`module.function: message`), after the place in
    /// the script that called it (`commands/x.lua:12: `), if that is what `reason` is.
    static func refusal(in reason: String, of path: String) -> String? {
        var rest = Substring(reason)
        if rest.hasPrefix(path + ":") {
            let line = rest.dropFirst(path.count + 1).prefix { $0.isNumber }
            rest = rest.dropFirst(path.count + 1 + line.count)
            guard !line.isEmpty, rest.hasPrefix(": ") else { return nil }
            rest = rest.dropFirst(2)
        }
        let function = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." }
        guard function.contains("."), function.first?.isLetter == true, rest.dropFirst(function.count).hasPrefix(": ")
        else { return nil }
        return String(rest.dropFirst(function.count + 2))
    }
}
