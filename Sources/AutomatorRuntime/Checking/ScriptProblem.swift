import Foundation

/// A mistake `automator check` found in a script, where.
public struct ScriptProblem: Sendable, Hashable, CustomStringConvertible, Comparable {
    public var file: String
    public var line: Int?
    public var message: String

    public var description: String { "\(file):" + (line.map { "\($0):" } ?? "") + " \(message)" }

    public static func < (a: ScriptProblem, b: ScriptProblem) -> Bool {
        (a.file, a.line ?? 0, a.message) < (b.file, b.line ?? 0, b.message)
    }

    /// A problem from an error message that may start with `FILE:LINE:` (Lua's way); its first
    /// line only (a traceback says nothing about a script that was not run).
    init(file: String, error text: String) {
        self.file = file
        let message = String(text.prefix { $0 != "\n" })
        let parts = message.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, let line = Int(parts[1]) else {
            self.message = message
            return
        }
        // The script's own line; or a line of the runtime's Lua, which raised on the script's
        // behalf and whose place says nothing to its author.
        if file.hasSuffix(String(parts[0])) { self.line = line }
        let located = file.hasSuffix(String(parts[0])) || parts[0].hasPrefix("[host]")
        self.message = located ? parts[2].trimmingCharacters(in: .whitespaces) : message
    }

    init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }
}
