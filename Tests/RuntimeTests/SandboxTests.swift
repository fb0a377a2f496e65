import AutomatorRuntime
import Foundation
import Testing

/// A hostile script for every sandbox rule (docs/ARCHITECTURE.md, "The sandbox"), each
/// followed by a check that nothing leaked into the next run.
@Suite("Sandbox by construction")
struct SandboxTests {
    let harness: SandboxHarness

    init() throws { harness = try SandboxHarness() }

    @Test("Globals stay in their run")
    func globals() throws {
        try harness.run("x = 1; _G.y = 2; _ENV.z = 3")
        #expect(try harness.run("return x, y, z") == [nil, nil, nil])
        #expect(try harness.value("return _G == _ENV") == true)
    }

    @Test("Changing a library changes it for this run only", arguments: [
        "string.upper = nil; string.evil = true",
        "rawset(string, 'upper', nil); rawset(string, 'evil', true)",
        "table.insert = nil; math.pi = 3; os.time = nil",
        "for k in pairs(string) do string[k] = nil end",
        "local s = string; for k in pairs(s) do rawset(s, k, nil) end; s.evil = true",
    ])
    func libraries(attack: String) throws {
        try harness.run(attack + "\nassert(string.evil or string.upper == nil or math.pi == 3)")
        let after = try harness.run(#"return string.upper("a"), string.evil, ("b"):upper(), math.pi > 3.14, type(table.insert), type(os.time)"#)
        #expect(after == ["A", nil, "B", true, "function", "function"])
    }

    @Test("The string metatable is out of reach")
    func stringMetatable() throws {
        #expect(try harness.value("return getmetatable('')") == false)
        let attack = try harness.run("""
            local ok1 = pcall(function() getmetatable('').__index.upper = nil end)
            local ok2 = pcall(setmetatable, '', {})
            return ok1, ok2
            """)
        #expect(attack == [false, false])
        #expect(try harness.value("return ('x'):upper() .. ('%d'):format(7)") == "X7")
    }

    @Test("Dangerous libraries and functions do not exist")
    func missing() throws {
        let names = ["debug", "io", "package", "dofile", "loadfile", "string.dump", "os.execute", "os.exit",
                     "os.getenv", "os.remove", "os.rename", "os.tmpname", "os.setlocale", "require'debug'"]
        for name in names where !name.hasPrefix("require") {
            #expect(try harness.value("return \(name) == nil") == true, "\(name) must not exist")
        }
        let required = try harness.run("return pcall(require, 'io')")
        #expect(required.first == false)
        #expect(try harness.run("return type(os.time()), type(os.clock()), type(os.date('%Y')), os.difftime(2, 1)")
                == ["number", "number", "string", 1.0])
    }

    @Test("Reaching for what is left out says so, and what to use instead; other nil values read as before")
    func hints() throws {
        func message(_ source: String) -> String {
            do { _ = try harness.run(source); return "" } catch { return error.message }
        }
        #expect(message("io.open('/etc/passwd')") == "test:1: attempt to index a nil value (global 'io'): io is not in "
            + "the sandbox (scripts read and write no files: evidence.add keeps one, http asks the web)")
        #expect(message("os.execute('id')").hasSuffix("(field 'execute'): os.execute is not in the sandbox (scripts start "
            + "no processes: act through an integration's actions)"))
        #expect(message("dofile('x.lua')").contains("dofile is not in the sandbox"))
        #expect(message("incidnets.find()") == "test:1: attempt to index a nil value (global 'incidnets')")
    }

    @Test("load reads text only, in the run's environment")
    func load() throws {
        let binary = try harness.run(#"return load("\27Lua\x54\0garbage")"#)
        #expect(binary.first == LuaValue.nil)
        #expect(binary.last == "attempt to load a binary chunk (mode is 't')")
        let forcedText = try harness.run(#"return load("\27Lua", "x", "b")"#)
        #expect(forcedText.last == "attempt to load a binary chunk (mode is 't')")
        #expect(try harness.value("secret = 5; return load('return secret')()") == 5)
        #expect(try harness.value("return load('return string')() == string") == true)
        #expect(try harness.value("return load('return x', 'c', 't', { x = 7 })()") == 7)
        #expect(try harness.value("local parts = { 'return ', '1 + ', '1' } local i = 0 return load(function() i = i + 1 return parts[i] end)()") == 2)
        try harness.run("load('leaked = true')()")
        #expect(try harness.value("return leaked") == nil)
    }

    @Test("collectgarbage allows only count")
    func collectgarbage() throws {
        #expect(try harness.value("return math.type(collectgarbage('count'))") == "float")
        for option in ["", ", 'collect'", ", 'stop'", ", 'step'", ", 'incremental'", ", 'generational'"] {
            let result = try harness.run("return pcall(collectgarbage\(option))")
            #expect(result.first == false, "collectgarbage(\(option)) must be refused")
        }
    }

    @Test("setmetatable refuses __gc; protected metatables stay protected")
    func metatables() throws {
        let gc = try harness.run("return pcall(setmetatable, {}, { __gc = function() end })")
        #expect(gc.first == false)
        #expect(try harness.value("return setmetatable({}, { __index = { a = 1 } }).a") == 1)
        let env = try harness.run("return getmetatable(_ENV), pcall(setmetatable, _ENV, {})")
        #expect(env.prefix(2) == [false, false])
    }

    @Test("The environment lists the base in pairs, and a run cannot reach the base itself")
    func pairsOfEnvironment() throws {
        let names = try harness.value("""
            local names = {}
            for k in pairs(_G) do names[#names + 1] = k end
            table.sort(names)
            return table.concat(names, ' ')
            """)
        guard case .string(let text) = names else { Issue.record("expected names"); return }
        for name in ["print", "string", "json", "log", "time", "load", "require", "_G", "pcall"] {
            #expect(text.description.split(separator: " ").contains(Substring(name)), "pairs(_G) lists \(name)")
        }
        #expect(!text.description.contains("debug"))
    }

    @Test("require: runtime modules, script folders, and nothing else")
    func require() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("automator-require-\(UUID())")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("lib"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "return { twice = function(x) return 2 * x end, seen = seen }".write(
            to: folder.appendingPathComponent("lib/helpers.lua"), atomically: true, encoding: .utf8)
        try "return require('loop')".write(to: folder.appendingPathComponent("loop.lua"), atomically: true, encoding: .utf8)
        try Data([0x7F, 0x45, 0x4C, 0x46]).write(to: folder.appendingPathComponent("native.so"))
        let sandbox = try SandboxHarness(modulePaths: [folder.path])

        #expect(try sandbox.value("return require('json') == json") == true)
        #expect(try sandbox.value("seen = 'mine' local h = require('lib.helpers') return h.twice(21) + (h.seen == 'mine' and 1 or 0)") == 43)
        #expect(try sandbox.value("return require('lib.helpers') == require('lib.helpers')") == true)
        // Compiled once per state, but each run's copy sees that run's globals; an edited file is compiled again.
        #expect(try sandbox.value("seen = 'other' return require('lib.helpers').seen") == .string(LuaString("other")))
        try "return { twice = function(x) return 3 * x end }".write(
            to: folder.appendingPathComponent("lib/helpers.lua"), atomically: true, encoding: .utf8)
        #expect(try sandbox.value("return require('lib.helpers').twice(2)") == 6)
        try "#!/usr/bin/env lua\nerror('on line two')".write(to: folder.appendingPathComponent("lib/oops.lua"),
                                                              atomically: true, encoding: .utf8)
        let oops = try sandbox.run("return pcall(require, 'lib.oops')")
        let message = if case .string(let text)? = oops.last { text.description } else { "" }
        #expect(message.hasSuffix("/lib/oops.lua:2: on line two"), "a first line #! is skipped, counted: \(oops)")

        let loop = try #require(throws: LuaError.self) { try sandbox.run("require('loop')") }
        #expect(loop.message.contains("module 'loop' requires itself"))
        for name in ["../etc/passwd", "/etc/passwd", "native", "lib..helpers", ""] {
            let refused = try sandbox.run("return pcall(require, '\(name)')")
            #expect(refused.first == false, "require('\(name)') must fail")
        }
        let missing = try sandbox.run("return pcall(require, 'absent')")
        #expect(missing.last == .string(LuaString("module 'absent' not found:\n\tno file '\(folder.path)/absent.lua'")))
    }

    @Test("A script's coroutines behave as in stock Lua; the run itself cannot be yielded")
    func coroutines() throws {
        let results = try harness.run("""
            local co = coroutine.create(function(a)
              local b = coroutine.yield(a + 1)
              return b * 2
            end)
            local _, first = coroutine.resume(co, 1)
            local _, second = coroutine.resume(co, 10)
            local main = select(2, coroutine.running())
            return first, second, coroutine.status(co), main, coroutine.isyieldable(), coroutine.resume(co)
            """)
        #expect(results == [2, 20, "dead", true, false, false, "cannot resume dead coroutine"])
        let yielded = try #require(throws: LuaError.self) { try harness.run("coroutine.yield('fake')") }
        #expect(yielded.message.contains("attempt to yield from outside a coroutine"))
        let wrapped = try harness.run("return pcall(coroutine.wrap(function() error('inner') end))")
        #expect(wrapped.last == "test:1: inner")
    }
}
