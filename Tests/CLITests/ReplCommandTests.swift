import Foundation
import Synchronization
import Testing

/// `automator repl` as a real process: piped input as scripts use it, and a pseudo-terminal as
/// a person uses it.
@Suite("automator repl")
struct ReplCommandTests {
    // MARK: Piped input

    @Test("--incident binds inc, runs ! commands in its war room, and journals every line with what it showed")
    func investigation() throws {
        let folder = try TemporaryFolder()
        let data = folder.url.appendingPathComponent("data").path
        try folder.write("incident.json", #"{"title": "Odd sign-in", "type": "test", "severity": "low"}"#)
        let created = try AutomatorProcess.run(["incident", "create", "--data", data, "--scripts", folder.url.path,
                                                "--json", folder.url.appendingPathComponent("incident.json").path])
        #expect(created.status == 0, "\(created.stderr)")
        let result = try AutomatorProcess.run(
            ["repl", "--incident", "INC-1", "--data", data, "--scripts", PlaybookTrialTests.scripts.path],
            input: "inc.title\ninc:note('checked the VPN logs')\n!note called the user\n"
                + "t = inc:task{ title = 'Call the user' }\n!task done 1 reached\n:help incidents.get\n")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("\"Odd sign-in\"\n"), "\(result.stdout)")
        #expect(result.stdout.contains("incidents.get(id)"), ":help shows the API doc: \(result.stdout)")

        let journal = try AutomatorProcess.run(["journal", "show", "INC-1", "--data", data])
        /// Whether the journal has an entry of `kind` by an actor starting with `actor`, whose text ends with `text`.
        func has(_ kind: String, _ text: String, by actor: String = "") -> Bool {
            journal.stdout.components(separatedBy: "\n").contains { line in
                line.range(of: "  \(actor)\\S* +\(kind) +.*\(NSRegularExpression.escapedPattern(for: text))$",
                           options: .regularExpression) != nil
            }
        }
        #expect(has("command", "inc.title"), "\(journal.stdout)")
        #expect(journal.stdout.components(separatedBy: "\n").contains { $0.trimmingCharacters(in: .whitespaces) == "\"Odd sign-in\"" },
                "the result is journaled under its line: \(journal.stdout)")
        #expect(has("note", "checked the VPN logs", by: "cli"), "the investigator's note: \(journal.stdout)")
        #expect(has("note", "called the user"), "the war room's !note: \(journal.stdout)")
        #expect(has("command", "!note called the user"), "\(journal.stdout)")
        #expect(has("task_done", "T-1 Call the user: reached"), "!task done 1 is T-1: \(journal.stdout)")
        #expect(!journal.stdout.contains(":help"), "help is not investigation: \(journal.stdout)")

        let missing = try AutomatorProcess.run(["repl", "--incident", "INC-9", "--data", data, "--scripts", folder.url.path])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("there is no incident INC-9"), "\(missing.stderr)")
    }

    @Test("--incident through the server that holds the folder: inc as the API shows it, ! commands on the server's bot, lines journaled by the API")
    func investigationThroughServer() async throws {
        let folder = try TemporaryFolder()
        let server = try await ServerProcess.start(data: folder.url.appendingPathComponent("data"),
                                                   scripts: PlaybookTrialTests.scripts)
        defer { server.terminate() }
        let created = try await server.call("POST", "/api/v1/incidents",
                                            body: #"{"title": "Odd sign-in", "type": "test", "severity": "low", "fields": {"ip": "203.0.113.7"}}"#)
        #expect(created.status == 201, "\(created.body)")

        let result = try await AutomatorProcess.run(
            ["repl", "--incident", "INC-1", "--data", server.data.path, "--scripts", PlaybookTrialTests.scripts.path],
            input: "inc.fields.ip\n!note called the user\n!nonsense\n!taks list\n", environment: ["USER": "alice"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("\"203.0.113.7\"\n"), "\(result.stdout)")
        #expect(result.stdout.contains("📝"), "the bot's reaction to !note: \(result.stdout)")
        #expect(result.stdout.contains("No command !nonsense. !help lists them."), "\(result.stdout)")
        #expect(result.stdout.contains("No command !taks. Did you mean !task? !help lists them."), "\(result.stdout)")

        let journal = try await server.journal("INC-1")
        let commands: [String] = journal.filter { $0.kind == "command" && $0.actor == "cli:alice" }.map(\.text)
        #expect(commands.contains("inc.fields.ip\n\"203.0.113.7\""), "\(journal)")
        #expect(commands.contains { (text: String) -> Bool in text.hasPrefix("!note called the user\n") }, "\(journal)")
        let notes: [String] = journal.filter { $0.kind == "note" && $0.actor == "console:alice" }.map(\.text)
        #expect(notes == ["called the user"], "the war room's !note, in the investigator's name: \(journal)")
        let added = try await server.call("POST", "/api/v1/incidents/INC-1/journal", body: #"{"text": "by hand", "by": "bob"}"#)
        #expect(added.status == 201 && added.json["text"] as? String == "by hand", "\(added.body)")
        #expect(added.json["sequence"] == nil, "not numbered in the answer, rather than numbered 0: \(added.body)")
        let refused = try await server.call("POST", "/api/v1/incidents/INC-1/journal", body: #"{"kind": "closed", "text": "x"}"#)
        #expect(refused.status == 400, "\(refused.body)")
        let unknown = try await server.call("POST", "/api/v1/incidents/INC-9/command", body: #"{"text": "!note x", "by": "alice"}"#)
        #expect(unknown.status == 404, "\(unknown.body)")
        let nobody = try await server.call("POST", "/api/v1/incidents/INC-1/command", body: #"{"text": "!note x"}"#)
        #expect(nobody.status == 400 && nobody.body.contains(#"\"by\" is missing"#), "\(nobody.body)")

        // With no incident, the bot is the folder's own, which the server holds: the refusal says
        // what a team with no Slack or Matrix can use instead.
        for command in [["chat"], ["repl"]] {
            let held = try AutomatorProcess.run(command + ["--data", server.data.path], input: "!help\n")
            #expect(held.status == 1, "\(command): \(held.stdout)")
            #expect(held.stderr.contains("automator repl --incident INC-42"), "\(command): \(held.stderr)")
        }
        let (checked, reachable) = (try await AutomatorProcess.run(["intel", "lookup", "203.0.113.7", "--data", server.data.path]),
                                    try await AutomatorProcess.run(["task", "list", "--data", server.data.path]))
        #expect(checked.status == 0 && reachable.status == 0, "what the refusal names works: \(checked.stderr)\(reachable.stderr)")
    }

    @Test("Piped lines print their results, tab-separated, and exit 0 when all succeed")
    func results() throws {
        let result = try AutomatorProcess.run(["repl"], input: "1 + 1\nx = 'hi'\nx, 2.0, nil\nprint('printed')\n{ 1, k = true }\n")
        #expect(result.stdout == "2\n\"hi\"\t2.0\tnil\nprinted\n{ 1, k = true }\n")
        #expect(result.stderr == "")
        #expect(result.status == 0)
    }

    @Test("Lines that start with ! go to the bot on the data folder, between Lua lines; Lua tables are not commands")
    func chatCommands() throws {
        let folder = try TemporaryFolder()
        try folder.write("feeds/bad.txt", "203.0.113.45 C2 of the Acme campaign\n")
        try folder.write("automator.yml", "feeds:\n  - { name: bad, path: feeds/bad.txt, verdict: malicious }\n")
        let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts").path
        let result = try AutomatorProcess.run(
            ["repl", "--data", folder.url.path, "--scripts", scripts,
             "--config", folder.url.appendingPathComponent("automator.yml").path],
            input: "x = 6\n!ip 203.0.113.45\nx * 7\nt = {\n!1 }\n!incident new Seen from the REPL\n!nonsense\n!incdent show\n")
        #expect(result.stdout.split(separator: "\n") == [
            "🔴 `203.0.113[.]45`: malicious: 1 of 1 source; local feed \"bad\" (C2 of the Acme campaign)", "42",
            "Opened INC-1: Seen from the REPL", "No command nonsense. help lists them.",
            "No command incdent. Did you mean incident? help lists them.",
        ], "\(result.stdout)\(result.stderr)")
        #expect(result.stderr.contains("unexpected symbol near '!'"), "`!1 }` inside a table is Lua: \(result.stderr)")
    }

    @Test("A function typed over several lines, then called")
    func multiLine() throws {
        let result = try AutomatorProcess.run(["repl"], input: "function double(x)\n  return 2 * x\nend\ndouble(21)\n")
        #expect(result.stdout == "42\n")
        #expect(result.status == 0)
    }

    @Test("A line that starts with a Lua label is Lua, not a :command")
    func label() throws {
        let result = try AutomatorProcess.run(["repl"], input: "::start:: answer = 42\nanswer\n")
        #expect(result.stdout == "42\n" && result.status == 0, "\(result.stdout)\(result.stderr)")
    }

    @Test("An error goes to standard error, the next line still runs, and the exit status is 1")
    func errorThenRecovery() throws {
        let result = try AutomatorProcess.run(["repl"], input: "error('boom')\n'after'\n:help\nnil + 1\n")
        #expect(result.stdout.hasPrefix("\"after\"\n"))
        #expect(result.stderr == "error: stdin:1: boom\nerror: stdin:4: attempt to perform arithmetic on a nil value\n",
                "each error names its line of the input: \(result.stderr)")
        #expect(result.status == 1)
    }

    @Test("help typed without its colon shows :help, not the value of a global help (nil)")
    func bareHelp() throws {
        let bare = try AutomatorProcess.run(["repl"], input: "help\n")
        let colon = try AutomatorProcess.run(["repl"], input: ":help\n")
        #expect(bare.stdout == colon.stdout && !bare.stdout.hasPrefix("nil"), "\(bare.stdout)")
        #expect(bare.status == 0)
    }

    @Test("Input that ends in the middle of a statement is an error")
    func unfinishedAtEnd() throws {
        let result = try AutomatorProcess.run(["repl"], input: "'before'\nfunction f()\n")
        #expect(result.stdout == "\"before\"\n")
        #expect(result.stderr == "error: stdin:2: 'end' expected near <eof>\n")
        #expect(result.status == 1)
    }

    @Test("--timeout stops a runaway line and the next one still prints")
    func timeout() throws {
        let started = ContinuousClock.now
        let result = try AutomatorProcess.run(["repl", "--timeout", "1"], input: "while true do end\n'still here'\n")
        #expect(result.stdout == "\"still here\"\n")
        #expect(result.stderr.contains("error: stdin:1: timeout: the run exceeded its limit of 1s"))
        #expect(result.status == 1)
        #expect(ContinuousClock.now - started < .seconds(20))
    }

    @Test("--memory caps each line")
    func memory() throws {
        let result = try AutomatorProcess.run(["repl", "--memory", "16"], input: "s = string.rep('x', 1 << 26)\n#'ok'\n")
        #expect(result.stdout == "2\n")
        #expect(result.stderr.contains("memory limit of 16 MiB exceeded"))
        #expect(result.status == 1)
    }

    @Test("--help teaches multi-line input, results, keys and history")
    func help() throws {
        let result = try AutomatorProcess.run(["repl", "--help"])
        #expect(result.status == 0)
        for topic in ["Multi-line", ">> ", "tabs", "<cycle>", "Ctrl-C", "Ctrl-D", "~/.automator_history", "AUTOMATOR_HISTORY",
                      "exit status", "Examples:", "--timeout"]
        {
            #expect(result.stdout.contains(topic), "--help does not mention \(topic)")
        }
    }

    @Test("require loads modules from the current folder")
    func requireFromCurrentFolder() throws {
        let folder = try TemporaryFolder()
        try folder.write("indicators.lua", "return { normalize = function(s) return s:lower() end }")
        let repl = try LiveRepl(folder: folder.url)
        repl.type("ind = require('indicators')\nind.normalize('EVIL.Example')\n")
        repl.closeInput()
        #expect(repl.waitForExit() == 0)
        #expect(repl.output == "\"evil.example\"\n")
        #expect(repl.errors == "")
    }

    @Test("SIGINT stops the running line, not the session")
    func interrupt() throws {
        let repl = try LiveRepl()
        repl.type("print('looping') while true do end\n'after'\n")
        repl.closeInput()
        // Lua's print flushes: once this shows, the loop runs.
        #expect(repl.waitFor("looping"))
        repl.interrupt()
        #expect(repl.waitForExit() == 1)
        #expect(repl.output == "looping\n\"after\"\n")
        #expect(repl.errors == "error: stdin:1: interrupted\n")
    }

    // MARK: At a terminal

    @Test("At a terminal: prompts, Ctrl-C drops the line, Ctrl-D quits, history survives the session",
          .enabled(if: LiveRepl.terminalsAvailable, "no pseudo-terminals here"))
    func terminal() throws {
        let folder = try TemporaryFolder()
        let history = folder.url.appendingPathComponent("history").path
        let environment = ["AUTOMATOR_HISTORY": history]

        let first = try LiveRepl(terminal: true, environment: environment)
        #expect(first.waitFor("> "))
        first.type("answer=6*7\r")
        first.type("answer\r")
        #expect(first.waitFor("42\r\n"))
        first.type("forgotten\u{03}")
        #expect(first.waitFor("^C"))
        first.type("for i = 1, 2 do\r")
        #expect(first.waitFor(">> "))
        first.type("\u{03}'fresh'\r")
        #expect(first.waitFor("\"fresh\""))
        first.type("\u{04}")
        #expect(first.waitForExit() == 0)

        let saved = try String(contentsOfFile: history, encoding: .utf8)
        #expect(saved.contains("answer=6*7"))
        #expect(!saved.contains("forgotten"))

        let second = try LiveRepl(terminal: true, environment: environment)
        #expect(second.waitFor("> "))
        second.type("\u{1B}[A\u{1B}[A\u{1B}[A\r")  // Up three times: 'fresh', answer, answer=6*7
        second.type("answer + 1\r")
        #expect(second.waitFor("43\r\n"))
        second.type("\u{04}")
        #expect(second.waitForExit() == 0)
    }

    @Test("At a terminal: Tab completes module functions and what earlier lines defined",
          .enabled(if: LiveRepl.terminalsAvailable, "no pseudo-terminals here"))
    func tabCompletion() throws {
        let repl = try LiveRepl(terminal: true, environment: ["AUTOMATOR_HISTORY": ""])
        #expect(repl.waitFor("> "))
        repl.type("suspicious_hosts = 3\r")
        #expect(repl.waitFor("> "))
        repl.type("suspicious_h\t + 1\r")
        #expect(repl.waitFor("4\r\n"))
        repl.type("json.enc\t({ 1 })\r")
        #expect(repl.waitFor("\"[1]\""))
        repl.type("\u{04}")
        #expect(repl.waitForExit() == 0)
    }

    @Test("At a terminal: a history file that cannot be written is a warning, not a failure",
          .enabled(if: LiveRepl.terminalsAvailable, "no pseudo-terminals here"))
    func unwritableHistory() throws {
        let repl = try LiveRepl(terminal: true, environment: ["AUTOMATOR_HISTORY": "/nonexistent-folder/history"])
        #expect(repl.waitFor("> "))
        repl.type("1 + 1\r\u{04}")
        #expect(repl.waitForExit() == 0)
        #expect(repl.output.contains("warning: could not save the history to /nonexistent-folder/history"))
    }
}

/// `automator repl` running while the test talks to it: on pipes, or on a pseudo-terminal
/// (standard input, output and error all on it, as in a shell).
private final class LiveRepl {
    /// Bytes read from a descriptor by a background thread.
    private final class Capture: Sendable {
        private let data = Mutex(Data())
        private let done = DispatchGroup()

        init(reading descriptor: Int32) {
            done.enter()
            DispatchQueue.global().async { [self] in
                var buffer = [UInt8](repeating: 0, count: 4096)
                while true {
                    let count = read(descriptor, &buffer, buffer.count)
                    if count <= 0 { break }  // end of file, or EIO once a terminal's last user is gone
                    data.withLock { $0.append(contentsOf: buffer[..<count]) }
                }
                done.leave()
            }
        }

        var text: String { data.withLock { String(decoding: $0, as: UTF8.self) } }

        /// Waits (at most `seconds`) until the writer closed its end.
        func waitUntilClosed(seconds: Double) { _ = done.wait(timeout: .now() + seconds) }
    }

    /// The X/Open pseudo-terminal functions, which Swift's Glibc module leaves out.
    private enum PseudoTerminal {
        typealias Call = @convention(c) (Int32) -> Int32
        typealias Name = @convention(c) (Int32) -> UnsafeMutablePointer<CChar>?

        private static func function<T>(_ name: String, as type: T.Type) -> T? {
            dlsym(dlopen(nil, RTLD_NOW), name).map { unsafeBitCast($0, to: type) }
        }

        /// Opens a pseudo-terminal; returns its controlling side and the path of the side a
        /// program uses as its terminal.
        static func open() -> (master: Int32, replica: String)? {
            guard let openpt = function("posix_openpt", as: Call.self), let grantpt = function("grantpt", as: Call.self),
                let unlockpt = function("unlockpt", as: Call.self), let ptsname = function("ptsname", as: Name.self)
            else { return nil }
            let master = openpt(O_RDWR | O_NOCTTY)
            guard master >= 0 else { return nil }
            guard grantpt(master) == 0, unlockpt(master) == 0, let name = ptsname(master) else {
                close(master)
                return nil
            }
            return (master, String(cString: name))
        }
    }

    /// Whether this machine can open a pseudo-terminal (some CI containers cannot).
    static let terminalsAvailable: Bool = {
        guard let terminal = PseudoTerminal.open() else { return false }
        close(terminal.master)
        return true
    }()

    private let process = Process()
    private let input: FileHandle
    private let stdout: Capture
    private let stderr: Capture?
    /// Keeps the pipes' descriptors open while the captures read them.
    private let pipes: [Pipe]

    init(terminal: Bool = false, folder: URL? = nil, environment: [String: String] = [:]) throws {
        process.executableURL = AutomatorProcess.executable
        process.arguments = ["repl"]
        process.environment = ProcessInfo.processInfo.environment.merging(["TERM": "xterm"].merging(environment) { $1 }) { $1 }
        if let folder { process.currentDirectoryURL = folder }

        if terminal {
            guard let (master, name) = PseudoTerminal.open() else { throw CocoaError(.fileReadUnknown) }
            let replica = FileHandle(fileDescriptor: open(name, O_RDWR | O_NOCTTY), closeOnDealloc: true)
            process.standardInput = replica
            process.standardOutput = replica
            process.standardError = replica
            try process.run()
            try replica.close()  // the child holds it now; the master sees EIO when the child is gone
            input = FileHandle(fileDescriptor: master, closeOnDealloc: true)
            stdout = Capture(reading: master)
            stderr = nil
            pipes = []
        } else {
            let (stdinPipe, stdoutPipe, stderrPipe) = (Pipe(), Pipe(), Pipe())
            process.standardInput = stdinPipe
            process.standardOutput = stdoutPipe
            process.standardError = stderrPipe
            try process.run()
            input = stdinPipe.fileHandleForWriting
            stdout = Capture(reading: stdoutPipe.fileHandleForReading.fileDescriptor)
            stderr = Capture(reading: stderrPipe.fileHandleForReading.fileDescriptor)
            pipes = [stdinPipe, stdoutPipe, stderrPipe]
        }
    }

    deinit {
        if process.isRunning { process.terminate() }
    }

    /// Standard output (at a terminal: everything the terminal showed).
    var output: String { stdout.text }
    var errors: String { stderr?.text ?? "" }

    func type(_ text: String) { input.write(Data(text.utf8)) }

    func closeInput() { try? input.close() }

    func interrupt() { process.interrupt() }

    /// Waits until the output contains `text`; false if it did not within `timeout`.
    func waitFor(_ text: String, timeout: Duration = .seconds(20)) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !output.contains(text) {
            guard ContinuousClock.now < deadline else { return false }
            Thread.sleep(forTimeInterval: 0.02)
        }
        return true
    }

    /// The exit status, once all output is read; nil (and the process killed) after `timeout`.
    func waitForExit(timeout: Duration = .seconds(30)) -> Int32? {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else {
                process.terminate()
                return nil
            }
            Thread.sleep(forTimeInterval: 0.02)
        }
        stdout.waitUntilClosed(seconds: 5)
        stderr?.waitUntilClosed(seconds: 5)
        return process.terminationStatus
    }

    @Test("A --data that names no folder is refused, with --incident and at a ! line, and not made")
    func missingFolder() async throws {
        let folder = try TemporaryFolder()
        let investigation = try AutomatorProcess.run(["repl", "--data", "nonexist", "--incident", "INC-1"],
                                                     in: folder.url, input: "1\n")
        #expect(investigation.status != 0)
        #expect(investigation.stderr.contains("there is no data folder nonexist: pass --data"), "\(investigation.stderr)")
        let line = try AutomatorProcess.run(["repl", "--data", "nonexist"], in: folder.url, input: "!help\n1 + 1\n")
        #expect(line.stderr.contains("there is no data folder nonexist: pass --data"), "\(line.stderr)")
        #expect(line.stdout == "2\n", "the Lua lines still run")
        #expect(!FileManager.default.fileExists(atPath: folder.url.appendingPathComponent("nonexist").path))
        // On a new machine the bot's default folder is started, as by automator chat.
        let first = try AutomatorProcess.run(["repl", "--scripts", PlaybookTrialTests.scripts.path], in: folder.url,
                                             input: "!help\n")
        #expect(first.status == 0 && first.stdout.contains("!ip"), "\(first.stdout)\(first.stderr)")
        #expect(FileManager.default.fileExists(atPath: folder.url.appendingPathComponent("automator-data").path))
    }
}
