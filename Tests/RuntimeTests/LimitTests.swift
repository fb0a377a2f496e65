import AutomatorRuntime
import Dispatch
import Testing

/// A hostile script for every limit; after each, the same sandbox must run a normal script.
@Suite("Limits: memory, time, recursion, patterns")
struct LimitTests {
    let harness: SandboxHarness
    static let short = Limits(memory: 64 << 20, timeout: .milliseconds(300))

    init() throws { harness = try SandboxHarness() }

    private func expectHealthy(sourceLocation: SourceLocation = #_sourceLocation) throws {
        let results = try harness.run("local t = {} for i = 1, 1000 do t[i] = ('x'):rep(10) end return #t, 1 + 1", limits: Self.short)
        #expect(results == [1000, 2], sourceLocation: sourceLocation)
    }

    private func expectFailure(_ source: String, _ kind: LuaError.Kind, containing text: String,
                               limits: Limits = Self.short, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let error = try #require(throws: LuaError.self, sourceLocation: sourceLocation) {
            try harness.run(source, name: "@hostile.lua", limits: limits)
        }
        #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
        #expect(error.message.contains(text), "\(error.message)", sourceLocation: sourceLocation)
        try expectHealthy(sourceLocation: sourceLocation)
    }

    @Test("Memory: one huge string, a growing array, a table of string keys", arguments: [
        "local s = string.rep('x', 1e9)",
        "local t = {} for i = 1, 1e9 do t[i] = i end",
        "local t = {} for i = 1, 1e9 do t['key' .. i] = true end",
        "local s = 'x' while true do s = s .. s end",
    ])
    func memory(source: String) throws {
        try expectFailure(source, .memory, containing: "hostile.lua:1: memory limit of 16 MiB exceeded",
                          limits: Limits(memory: 16 << 20, timeout: .seconds(60)))
    }

    @Test("Memory errors that a script catches leave it able to go on")
    func caughtMemoryError() throws {
        let result = try harness.value("local ok = pcall(string.rep, 'x', 1e9) return ok", limits: Self.short)
        #expect(result == false)
        try expectHealthy()
    }

    @Test("Time: loops, swallowing pcalls, coroutines, handlers, __close", arguments: [
        "while true do end",
        "while true do pcall(function() while true do end end) end",
        "local function spin() while true do end end while true do pcall(spin) pcall(spin) end",
        "while true do xpcall(function() while true do end end, function() while true do end end) end",
        "local co = coroutine.wrap(function() while true do end end) co()",
        "local co = coroutine.create(function() while true do pcall(coroutine.yield) end end) while true do coroutine.resume(co) end",
        "do local x <close> = setmetatable({}, { __close = function() while true do end end }) end",
        "do local x <close> = setmetatable({}, { __close = function() while true do end end }) error('first') end",
        "local x <close> = setmetatable({}, { __close = function() while true do end end }) error('first')",
        "local t = setmetatable({}, { __index = function(t, k) while true do end end }) return t.x",
        "local n = 0 repeat n = n + 1 until false",
        "table.sort({3, 2, 1, 5, 4}, function(a, b) while true do end end)",
        "local s = string.rep('a', 10) while true do s:gsub('a', function() while true do end end) end",
        "local co = coroutine.wrap(function() while true do pcall(coroutine.yield) end end) while true do pcall(co) end",
    ])
    func timeout(source: String) throws {
        let started = DispatchTime.now()
        try expectFailure(source, .killed, containing: "timeout: the run exceeded its limit of 0.3s")
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        #expect(elapsed < 5, "the kill took \(elapsed) s")
    }

    @Test("A killed run cannot catch the kill and go on")
    func killIsFinal() throws {
        let error = try #require(throws: LuaError.self) {
            try harness.run("""
                local caught = 0
                while true do
                  local ok = pcall(function() while true do end end)
                  if not ok then caught = caught + 1; result = 'escaped' end
                end
                """, limits: Self.short)
        }
        #expect(error.kind == .killed)
        #expect(try harness.value("return result") == nil)
    }

    @Test("Kill from another thread")
    func kill() throws {
        let sandbox = harness.sandbox
        nonisolated(unsafe) let target = sandbox
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(100)) {
            target.kill(reason: "killed by an operator")
        }
        let error = try #require(throws: LuaError.self) {
            try harness.run("while true do end", limits: Limits(timeout: .seconds(20)))
        }
        #expect(error.kind == .killed)
        #expect(error.message.hasSuffix("killed by an operator"))
        try expectHealthy()
    }

    @Test("Recursion: deep calls and recursive metamethods fail cleanly", arguments: [
        ("local function f() return 1 + f() end return f()", "stack overflow"),
        ("local t = setmetatable({}, {}) getmetatable(t).__index = function(t, k) return t[k] end return t.x", "stack overflow"),
        ("local t = setmetatable({}, {}) getmetatable(t).__index = t return t.x", "'__index' chain too long"),
        ("local function f(n) local t <close> = nil return f(n + 1) + 1 end return f(1)", "stack overflow"),
        ("local s = setmetatable({}, { __tostring = function(t) return tostring(t) end }) return tostring(s)", "stack overflow"),
    ])
    func recursion(source: String, text: String) throws {
        let limits = Limits(memory: 64 << 20, timeout: .seconds(60))  // to fail by depth, not by time
        let error = try #require(throws: LuaError.self) { try harness.run(source, limits: limits) }
        #expect([.runtime, .memory].contains(error.kind), "\(error)")
        #expect(error.message.contains(text) || error.kind == .memory, "\(error.message)")
        try expectHealthy()
    }

    @Test("Patterns give up on a 10 KB subject instead of holding the host", arguments: [
        "return (('a'):rep(10000)):find('.-.-.-b')",
        "return (('a'):rep(10000)):match(('a*'):rep(20) .. 'b')",
        "return (('a'):rep(10000)):gsub('.-.-b', '')",
        "for x in (('a'):rep(10000)):gmatch('.-.-.-b') do end",
    ])
    func patterns(source: String) throws {
        let started = DispatchTime.now()
        let error = try #require(throws: LuaError.self) {
            try harness.run(source, limits: Limits(timeout: .seconds(20)))
        }
        let elapsed = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        #expect(error.message.contains("pattern too complex"), "\(error.message)")
        #expect(elapsed < 10, "gave up after \(elapsed) s")
        try expectHealthy()
    }

    @Test("A pattern that is slow but linear still works on a large subject")
    func linearPattern() throws {
        let result = try harness.value("local s = ('word '):rep(200000) local out, n = s:gsub('%s+', ' ') return n")
        #expect(result == 200000)
    }
}
