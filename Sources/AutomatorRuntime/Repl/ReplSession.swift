/// The heart of `automator repl`: turns lines typed by a person into Lua evaluations, with no
/// terminal code, so that everything it decides can be tested.
///
/// All lines run in one environment, so globals persist from line to line; locals end with
/// their line, as in `lua5.4 -i`. A line is first compiled as an expression (`return LINE`),
/// so `1 + 1` shows `2`, then as a statement. Input that stops in the middle of a construct
/// (`function f()`, `t = {`, `1 +`) waits for more lines, which are appended until the whole
/// compiles or fails for another reason.
///
/// ```swift
/// let session = try ReplSession(sandbox: sandbox, limits: Limits(timeout: .seconds(5)))
/// session.submit("function double(x)")   // .needsMore
/// session.submit("  return 2 * x end")   // .results([])
/// session.submit("double(21), 'ok'")     // .results(["42", "\"ok\""])
/// ```
public final class ReplSession {
    /// What became of a submitted line.
    public enum Outcome {
        /// A blank line: nothing ran.
        case empty
        /// The input so far is the start of a longer construct: submit the next line.
        case needsMore
        /// The input ran; each value it produced, described for a person (see `LuaDisplay`).
        /// Statements produce none.
        case results([String])
        /// The input did not compile, failed, or was stopped by a limit or an interrupt.
        /// The session goes on: the next line runs as usual.
        case failed(LuaError)
    }

    /// Stops the evaluation in progress from another thread (a Ctrl-C handler); does nothing
    /// while no evaluation runs.
    public struct Interrupter: Sendable {
        let killHandle: KillHandle

        /// The evaluation fails with `stdin:LINE: interrupted`, even while it waits on the host.
        public func interrupt() { killHandle.kill(reason: "interrupted") }
    }

    /// Errors and results name the input `stdin`, as `lua5.4 -i` does: `stdin:1: ...`.
    static let chunkName = "=stdin"

    private let sandbox: Sandbox
    private let environment: Environment
    /// The limits each evaluation is held to.
    public var limits: Limits
    /// The lines of an unfinished input.
    private var pending: [String] = []
    /// The input's number of the pending input's first line: the chunk starts as many lines
    /// down, so that an error names the line read (`stdin:12:`), not `stdin:1:` every time.
    private var firstLine = 1
    /// The reading of the pending input that could still complete, and why it does not yet:
    /// its error is the one to show if the input fails for good or ends.
    private var unfinished: (form: Form, error: LuaError)?

    private enum Form {
        case expression
        case statement
    }

    /// What `:help` shows.
    public let help: ReplHelp

    public init(sandbox: Sandbox, limits: Limits, help: ReplHelp = ReplHelp(annotations: "")) throws(LuaError) {
        self.sandbox = sandbox
        self.environment = try sandbox.makeEnvironment()
        self.limits = limits
        self.help = help
    }

    /// Sets the global `name` to the value of the JSON `text` (`inc`, as a server shows it).
    public func define(_ name: String, json text: String) throws(LuaError) {
        let source = "local name, text = ...; _ENV[name] = json.decode(text)"
        let chunk = try sandbox.load(Array(source.utf8), chunkName: "=define", in: environment)
        _ = try sandbox.run(chunk, arguments: [.string(LuaString(name)), .string(LuaString(text))], limits: limits)
    }

    /// A line that starts with `:`: `:help` or `:help NAME`. Returns what to show, and whether
    /// the line was understood.
    public func help(_ line: String) -> (text: String, found: Bool) {
        let words = line.dropFirst().split(separator: " ", omittingEmptySubsequences: true)
        guard words.first == "help", words.count <= 2 else {
            return ("Unknown \(line): :help lists the documented API, :help NAME shows one entry.", false)
        }
        return help.lookup(words.count == 2 ? String(words[1]) : "")
    }

    /// What Tab may complete to: the globals of the session, and the functions of the tables
    /// among them (`incidents.find`), as Lua lists them now, so what a line defined is there too.
    public func completions() -> [String] {
        let listing = #"""
            local names = {}
            for name, value in pairs(_G) do
              if type(name) == "string" then
                names[#names + 1] = name
                if type(value) == "table" and name ~= "_G" then
                  for key in pairs(value) do
                    if type(key) == "string" then names[#names + 1] = name .. "." .. key end
                  end
                end
              end
            end
            return names
            """#
        guard let chunk = try? sandbox.load(Array(listing.utf8), chunkName: "=completions", in: environment),
              case .table(let names)? = try? sandbox.run(chunk, limits: limits).first
        else { return [] }
        return names.array.compactMap { if case .string(let name) = $0 { name.description } else { nil } }
    }

    /// True while an unfinished input waits for more lines (the prompt shows `>> `).
    public var isContinuing: Bool { !pending.isEmpty }

    /// A handle that stops the running evaluation from any thread.
    public var interrupter: Interrupter { Interrupter(killHandle: sandbox.killHandle) }

    /// Compiles and runs `line`, or keeps it when the input is not finished yet.
    ///
    /// - Parameter number: the line's number in the input, which errors name.
    public func submit(_ line: String, number: Int = 1) -> Outcome {
        if pending.isEmpty, line.allSatisfy(\.isWhitespace) { return .empty }
        if pending.isEmpty { firstLine = max(number, 1) }
        pending.append(line)
        let source = String(repeating: "\n", count: firstLine - 1) + pending.joined(separator: "\n")

        let expression: LuaError
        do {
            return run(try sandbox.load(Array("return \(source)".utf8), chunkName: Self.chunkName, in: environment))
        } catch {
            expression = error
        }
        let statement: LuaError
        do {
            return run(try sandbox.load(Array(source.utf8), chunkName: Self.chunkName, in: environment))
        } catch {
            statement = error
        }

        if Self.isIncomplete(statement) {
            unfinished = (.statement, statement)
            return .needsMore
        }
        if Self.isIncomplete(expression) {  // `1 + (` or `f(` continue as an expression
            unfinished = (.expression, expression)
            return .needsMore
        }
        let error = unfinished?.form == .expression ? expression : statement
        discardPending()
        return .failed(error)
    }

    /// Forgets an unfinished input (Ctrl-C at a `>> ` prompt).
    public func discardPending() {
        pending = []
        unfinished = nil
    }

    /// The input ended: returns why an unfinished input does not compile (`'end' expected
    /// near <eof>`), if there is one, and forgets it.
    public func endOfInput() -> LuaError? {
        defer { discardPending() }
        return unfinished?.error
    }

    /// The error as the REPL shows it: the message alone when it arose in the line itself
    /// (what `stdin:1: attempt to ...` says is enough), with Lua's traceback when it came from
    /// deeper, inside a function or module the line called.
    public static func report(_ error: LuaError) -> String {
        let frames = error.traceback.split(separator: "\n").dropFirst().map { $0.drop { $0 == "\t" || $0 == " " } }
        let innermost = frames.first { !$0.hasPrefix("[C]:") && !$0.hasPrefix("(...") }
        guard let innermost, !(innermost.hasPrefix("stdin:") && innermost.hasSuffix(": in main chunk")) else {
            return error.message
        }
        return "\(error.message)\n\(error.traceback)"
    }

    private func run(_ chunk: Chunk) -> Outcome {
        discardPending()
        do {
            return .results(try sandbox.evaluate(chunk, limits: limits))
        } catch {
            return .failed(error)
        }
    }

    /// Lua reports a construct cut short by the end of the input as a syntax error `near <eof>`.
    private static func isIncomplete(_ error: LuaError) -> Bool {
        error.kind == .syntax && error.message.hasSuffix("<eof>")
    }
}
