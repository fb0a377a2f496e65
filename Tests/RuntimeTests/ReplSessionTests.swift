import AutomatorRuntime
import Dispatch
import Testing

/// The REPL's core without a terminal: what each submitted line becomes, and how values read.
@Suite("REPL session: input, errors, limits, display")
struct ReplSessionTests {
    let session: ReplSession

    init() throws {
        session = try ReplSession(sandbox: SandboxHarness().sandbox, limits: Limits(memory: 64 << 20, timeout: .seconds(10)))
    }

    /// The values `line` shows; records an issue if it did not run to completion.
    private func show(_ line: String, sourceLocation: SourceLocation = #_sourceLocation) -> [String]? {
        switch session.submit(line) {
        case .results(let values): return values
        case let other:
            Issue.record("\(line) gave \(other)", sourceLocation: sourceLocation)
            return nil
        }
    }

    /// The error `line` fails with; records an issue if it did not fail.
    private func failure(_ line: String, sourceLocation: SourceLocation = #_sourceLocation) -> LuaError? {
        switch session.submit(line) {
        case .failed(let error): return error
        case let other:
            Issue.record("\(line) gave \(other)", sourceLocation: sourceLocation)
            return nil
        }
    }

    private func needsMore(_ line: String) -> Bool {
        if case .needsMore = session.submit(line) { return true }
        return false
    }

    // MARK: Input

    @Test("An expression shows its values; a statement shows nothing")
    func expressionsAndStatements() {
        #expect(show("1 + 1") == ["2"])
        #expect(show("x = 42") == [])
        #expect(show("x, 'a', nil") == ["42", "\"a\"", "nil"])
        #expect(show("-- just a comment") == [])
    }

    @Test("Globals persist from line to line; locals end with their line")
    func globalsPersist() {
        #expect(show("count = 1") == [])
        #expect(show("count = count + 1") == [])
        #expect(show("local hidden = 'x'") == [])
        #expect(show("count, hidden") == ["2", "nil"])
    }

    @Test("math.randomseed on one line holds for the next, with stock Lua's numbers")
    func randomAcrossLines() {
        _ = show("math.randomseed(42)")
        #expect(show("math.random(1, 100)") == ["50"])
        #expect(show("math.random(0)") != show("math.random(0)"))
    }

    @Test("A function defined over three lines, then called")
    func multiLineFunction() {
        #expect(needsMore("function double(x)"))
        #expect(session.isContinuing)
        #expect(needsMore("  return 2 * x"))
        #expect(show("end") == [])
        #expect(!session.isContinuing)
        #expect(show("double(21)") == ["42"])
    }

    @Test("An expression cut across lines shows its value when it completes")
    func multiLineExpression() {
        #expect(needsMore("string.format("))
        #expect(show("'%d items', 3)") == ["\"3 items\""])
        #expect(needsMore("1 + ("))
        #expect(show("2)") == ["3"])
        #expect(needsMore("10 *"))
        #expect(show("4") == ["40"])
        #expect(needsMore("t = {"))
        #expect(needsMore("  'a',"))
        #expect(show("}") == [])
        #expect(show("#t") == ["1"])
    }

    @Test("Blank lines do nothing at the prompt, and belong to an unfinished input")
    func blankLines() {
        guard case .empty = session.submit("   ") else { Issue.record("a blank line ran"); return }
        #expect(needsMore("if true then"))
        #expect(needsMore(""))
        #expect(show("end") == [])
    }

    @Test("A syntax error that is not a missing end fails at once, and the next line works")
    func syntaxError() {
        let error = failure("x = = 1")
        #expect(error?.kind == .syntax)
        #expect(error?.message == "stdin:1: unexpected symbol near '='")
        #expect(!session.isContinuing)
        #expect(show("'next'") == ["\"next\""])
    }

    @Test("An unfinished input that goes wrong reports the line at fault and starts over")
    func continuationThatFails() {
        #expect(needsMore("for i = 1, 2 do"))
        #expect(failure("+")?.message == "stdin:2: unexpected symbol near '+'")
        #expect(!session.isContinuing)
        #expect(needsMore("print(1 +"))
        #expect(failure(")")?.message == "stdin:2: unexpected symbol near ')'")
        #expect(show("1") == ["1"])
    }

    @Test("The end of the input reports an unfinished one; a discarded one is forgotten")
    func unfinishedInput() {
        #expect(needsMore("function f()"))
        let error = session.endOfInput()
        #expect(error?.message == "stdin:1: 'end' expected near <eof>")
        #expect(session.endOfInput() == nil)
        #expect(needsMore("while true do"))
        session.discardPending()
        #expect(!session.isContinuing)
        #expect(show("f") == ["nil"])
    }

    // MARK: Errors and limits

    @Test("A runtime error fails the line only")
    func runtimeError() {
        let error = failure("error('boom')")
        #expect(error?.kind == .runtime)
        #expect(error?.message == "stdin:1: boom")
        #expect(show("nil == false") == ["false"])
    }

    @Test("A timeout stops a runaway loop, and the next line runs normally")
    func timeout() {
        session.limits = Limits(memory: 64 << 20, timeout: .milliseconds(200))
        let error = failure("while true do end")
        #expect(error?.kind == .killed)
        #expect(error?.message.contains("timeout") == true)
        #expect(show("1 + 1") == ["2"])
    }

    @Test("The memory cap stops a line, and the next line runs normally")
    func memoryCap() {
        let error = failure("string.rep('x', 1 << 30)")
        #expect(error?.kind == .memory)
        #expect(show("#string.rep('x', 10)") == ["10"])
    }

    @Test("An interrupt from another thread stops the running line; when idle it does nothing")
    func interrupt() {
        session.limits = Limits(memory: 64 << 20, timeout: .seconds(30))
        let interrupter = session.interrupter
        interrupter.interrupt()
        #expect(show("'idle'") == ["\"idle\""])

        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(100)) { interrupter.interrupt() }
        let error = failure("while true do end")
        #expect(error?.kind == .killed)
        #expect(error?.message == "stdin:1: interrupted")
        #expect(show("'after'") == ["\"after\""])

        // While the line waits on the host, the interrupt ends the wait: not 30 s later.
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(100)) { interrupter.interrupt() }
        let sleeping = failure("time.sleep(3600)")  // a year would be the same: only the interrupt ends it
        #expect(sleeping?.kind == .killed)
        #expect(sleeping?.message == "stdin:1: interrupted")
        #expect(show("'awake'") == ["\"awake\""])
    }

    @Test("Errors show a traceback only when they come from inside a function")
    func errorReports() throws {
        let direct = try #require(failure("local x = nil + 1"))
        #expect(ReplSession.report(direct) == "stdin:1: attempt to perform arithmetic on a nil value")
        let library = try #require(failure("string.rep()"))
        #expect(!ReplSession.report(library).contains("traceback"))

        #expect(show("function fail() error('deep') end") == [])
        for line in ["fail()", "local x = fail()"] {
            let deep = try #require(failure(line))
            let report = ReplSession.report(deep)
            #expect(report.hasPrefix("stdin:1: deep\nstack traceback:"), "\(report)")
        }
    }

    // MARK: Display

    @Test("Numbers keep integer and float apart, as Lua prints them")
    func numbers() {
        #expect(show("1, 1.0, 7 // 2, 7 / 2, 2^53, -0.0, 1/0, math.mininteger")
            == ["1", "1.0", "3", "3.5", "9.007199254741e+15", "-0.0", "inf", "-9223372036854775808"])
    }

    @Test("Strings are quoted; only what would not show is escaped", arguments: [
        ("'plain'", #""plain""#),
        (#"'say "hi"\\'"#, #""say \"hi\"\\""#),
        (#"'a\0b'"#, #""a\0b""#),
        (#"'\0' .. '1'"#, #""\0001""#),
        (#"'line\nnext\ttab\r'"#, #""line\nnext\ttab\r""#),
        (#"'\27[31m' .. '\127'"#, #""\27[31m\127""#),
        ("'café 日本 🙂 👨‍👩‍👧'", #""café 日本 🙂 👨‍👩‍👧""#),
        (#"'invoice\u{202E}fdp.exe'"#, #""invoice\u{202E}fdp.exe""#),
        (#"'zero\u{200B}width'"#, #""zero\u{200B}width""#),
        (#"'\xff\xfe'"#, #""\255\254""#),
        (#"'\xe2\x82' .. '9'"#, #""\226\1309""#),
        (#"'ok\xc3'"#, #""ok\195""#),
    ])
    func strings(source: String, shown: String) {
        #expect(show(source) == [shown])
    }

    @Test("A shown string reads back as the same bytes in Lua", arguments: [
        #"'\0' .. '123'"#, #"'\xff' .. '1'"#, #"'tab\there'"#, #"'\u{202E}\u{85}x'"#, #"'é\xe9'"#, "string.char(0, 1, 2, 200)",
    ])
    func stringsReadBack(source: String) throws {
        #expect(show("original = \(source)") == [])
        let shown = try #require(show("original")?.first)
        #expect(show("\(shown) == original") == ["true"], "\(shown)")
    }

    @Test("Tables: sequences as in a constructor, keys sorted, short ones on one line")
    func tables() {
        #expect(show("{}") == ["{}"])
        #expect(show("{ 'a', 'b', 3 }") == [#"{ "a", "b", 3 }"#])
        #expect(show("{ zeta = 1, alpha = 2, [10] = 'x', 'first', [2.5] = 0, [true] = 1, ['not a name'] = 3, ['end'] = 4 }")
            == [#"""
                {
                  "first",
                  [10] = "x",
                  alpha = 2,
                  zeta = 1,
                  ["end"] = 4,
                  ["not a name"] = 3,
                  [2.5] = 0,
                  [true] = 1
                }
                """#])
        #expect(show("{ a = { b = { c = {} } } }") == ["{ a = { b = { c = {} } } }"])
    }

    @Test("Long tables break over lines, indented by depth")
    func longTables() {
        let long = String(repeating: "y", count: 70)
        #expect(show("{ a = { '\(long)' }, b = 1 }") == ["{\n  a = {\n    \"\(long)\"\n  },\n  b = 1\n}"])
    }

    @Test("A table inside itself shows as <cycle>; a shared one shows twice")
    func cycles() {
        #expect(show("t = { name = 't' } t.self = t t.list = { t }") == [])
        #expect(show("t") == [#"{ list = { <cycle> }, name = "t", self = <cycle> }"#])
        #expect(show("shared = { 1 } pair = { shared, shared }") == [])
        #expect(show("pair") == ["{ { 1 }, { 1 } }"])
    }

    @Test("Deep and huge tables are cut short")
    func limits() throws {
        let deep = try #require(show("local t = {} local c = t for i = 1, 20 do c.n = {} c = c.n end return t")?.first)
        #expect(deep.contains("{ ... }"))
        let huge = try #require(show("local t = {} for i = 1, 250 do t[i] = i end return t")?.first)
        #expect(huge.hasSuffix("  200,\n  ... (50 more)\n}"))
    }

    @Test("Showing a table runs none of its metamethods")
    func noMetamethods() {
        let trap = "function() error('a metamethod ran') end"
        #expect(show("setmetatable({ real = 1 }, { __index = \(trap), __pairs = \(trap), __tostring = \(trap), __name = 'x' })")
            == ["{ real = 1 }"])
    }

    @Test("Functions and coroutines show their type and address")
    func opaqueValues() throws {
        let shown = try #require(show("print, coroutine.create(print)"))
        #expect(shown.count == 2)
        #expect(shown.first?.hasPrefix("function: 0x") == true)
        #expect(shown.last?.hasPrefix("thread: 0x") == true)
    }
}
