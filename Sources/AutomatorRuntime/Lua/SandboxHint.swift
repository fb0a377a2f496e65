import Foundation

/// What a script learns when it reaches for what the sandbox leaves out: Lua only says
/// `attempt to index a nil value (global 'io')`, which reads like a typo.
enum SandboxHint {
    /// Standard Lua's globals that the sandbox does not have, and what to use instead.
    private static let globals: [String: String] = [
        "io": "scripts read and write no files: evidence.add keeps one, http asks the web",
        "dofile": "scripts load no files: require loads a module of the scripts folder",
        "loadfile": "scripts load no files: require loads a module of the scripts folder",
        "debug": "scripts cannot look into the host's Lua state",
        "package": "require loads modules of the scripts folder, and only those",
    ]
    /// `os`'s functions that the sandbox leaves out (it keeps time, clock, date and difftime).
    private static let os: [String: String] = [
        "execute": "scripts start no processes: act through an integration's actions",
        "getenv": "an integration's settings and secrets come from the configuration",
        "remove": "scripts change no files", "rename": "scripts change no files", "tmpname": "scripts make no files",
        "exit": "a script ends by returning, or by raising an error",
        "setlocale": "the host's locale is not a script's to change",
    ]

    /// `message` with why, when it is a nil value standing for something left out.
    static func explain(_ message: String) -> String {
        guard let match = message.firstMatch(of: /attempt to (?:index|call) a nil value \((global|field) '(\w+)'\)/)
        else { return message }
        let (kind, name) = (match.1, String(match.2))
        if kind == "global", let why = globals[name] { return message + ": \(name) is not in the sandbox (\(why))" }
        if kind == "field", let why = os[name] { return message + ": os.\(name) is not in the sandbox (\(why))" }
        return message
    }
}
