@testable import AutomatorRuntime
import Testing

@Suite("Bridge: values, host functions, errors")
struct BridgeTests {
    let harness: SandboxHarness
    let tracker = TestModule.Tracker()

    init() throws {
        var module = TestModule()
        module.tracker = tracker
        harness = try SandboxHarness(modules: [module])
    }

    @Test("Integers and floats stay distinct both ways")
    func numbers() throws {
        let results = try harness.run("return 3, 3.0, -0.0, math.maxinteger, math.mininteger, 1e308, 0.1")
        #expect(results == [.integer(3), .number(3.0), .number(-0.0), .integer(.max), .integer(.min), .number(1e308), .number(0.1)])
        let types = try harness.run("""
            local a, b = test.echo(3, 3.0)
            return math.type(a), math.type(b), a == b
            """)
        #expect(types == ["integer", "float", true])
    }

    @Test("Strings are bytes: NULs and invalid UTF-8 survive")
    func bytes() throws {
        let value = try harness.value(#"return "a\0b\255\254c""#)
        #expect(value == .string(LuaString(bytes: [97, 0, 98, 255, 254, 99])))
        let same = try harness.value(#"local s = "a\0b\255" return test.echo(s) == s and #test.echo(s) == 4"#)
        #expect(same == true)
        let results = try harness.run("return ...", arguments: [.string(LuaString(bytes: [0, 200, 10]))])
        #expect(results == [.string(LuaString(bytes: [0, 200, 10]))])
    }

    @Test("Nested tables convert to arrays and fields, and back")
    func tables() throws {
        let value = try harness.value(#"return { 1, 2.5, "x", { nested = { true, false } }, name = "n", [10] = 1 }"#)
        var expected = LuaTable(array: [1, 2.5, "x", ["nested": [true, false]]])
        expected.fields = ["name": "n", 10: 1]
        #expect(value == .table(expected))

        let echoed = try harness.value("""
            local t = test.echo({ a = { b = { 1, 2, 3 } }, [true] = "yes" })
            return t.a.b[3] + #t.a.b + (t[true] == "yes" and 100 or 0)
            """)
        #expect(echoed == 106)
        let pushed = try harness.run("local t = ... return t.list[2], t.map.k, math.type(t.list[1])",
                                     arguments: [["list": [1, 2.0], "map": ["k": "v"]]])
        #expect(pushed == [.number(2.0), "v", "integer"])
    }

    @Test("Values that cannot cross say why")
    func conversionErrors() throws {
        #expect { try harness.run("return print") } throws: { ($0 as? LuaError)?.kind == .conversion }
        let cycle = try harness.value("local t = {} t.self = t return select(2, pcall(test.echo, t))")
        #expect(cycle == "bad argument #1 to 'test.echo' (a table that contains itself cannot be passed to the host)")
    }

    @Test("A Lua error carries file:line and a traceback")
    func luaError() throws {
        let error = try #require(throws: LuaError.self) {
            try harness.run("local x = 1\nerror('boom')", name: "@playbook.lua")
        }
        #expect(error.kind == .runtime)
        #expect(error.message == "playbook.lua:2: boom")
        #expect(error.traceback.contains("playbook.lua:2: in main chunk"))
        #expect(error.traceback.contains("in function 'error'"))
    }

    @Test("A table raised as an error shows its fields and where it was raised; one with none says what it was")
    func tableError() throws {
        let error = try #require(throws: LuaError.self) {
            try harness.run("local x = 1\nerror({ code = 42, message = 'denied', retry = false, detail = {} })", name: "@action.lua")
        }
        #expect(error.kind == .runtime)
        let fields = try #require(error.message.firstMatch(of: /^action.lua:2: \{(.*)\}$/)?.1, "\(error.message)")
        #expect(Set(fields.split(separator: ", ")) == [#"code = 42"#, #"message = "denied""#, "retry = false"])
        let empty = try #require(throws: LuaError.self) { try harness.run("error({ {} })", name: "@action.lua") }
        #expect(empty.message == "action.lua:1: (error object is a table value)")
    }

    @Test("A syntax error names the file and line")
    func syntaxError() throws {
        let error = try #require(throws: LuaError.self) { try harness.run("local x = \n\n(", name: "@bad.lua") }
        #expect(error.kind == .syntax)
        #expect(error.message.hasPrefix("bad.lua:3:"))
    }

    @Test("A host function's error reaches Lua at the caller's line, and pcall can catch it")
    func hostErrors() throws {
        let error = try #require(throws: LuaError.self) { try harness.run("\n\ntest.fail()", name: "@p.lua") }
        #expect(error.message == "p.lua:3: test.fail: it failed on purpose")
        #expect(error.traceback.contains("p.lua:3: in main chunk"))

        let caught = try harness.run("return pcall(test.add, 1, 'x')")
        #expect(caught == [false, "bad argument #2 to 'test.add' (number expected, got string)"])
        let missing = try harness.run("return pcall(test.add, 1)")
        #expect(missing == [false, "bad argument #2 to 'test.add' (number expected, got no value)"])
        let fraction = try harness.run("return pcall(test.add, 1, 1.5)")
        #expect(fraction == [false, "bad argument #2 to 'test.add' (number has no integer representation)"])
        #expect(try harness.value("return test.add(40, 2.0)") == 42)
    }

    @Test("Host objects: methods, type checks, and release when collected")
    func hostObjects() throws {
        let results = try harness.run("""
            local c = test.counter()
            c:add(2)
            local n = c:add(40)
            local ok, err = pcall(c.add, {}, 1)
            return n, tostring(c):match("^counter: ") ~= nil, getmetatable(c), err
            """)
        #expect(results == [42, true, "counter", "bad argument #1 to 'counter:add' (counter expected, got table)"])

        let environment = try harness.sandbox.makeEnvironment()
        let chunk = try harness.sandbox.load(Array("held = test.counter()".utf8), chunkName: "=t", in: environment)
        _ = try harness.sandbox.run(chunk)
        harness.sandbox.state.collectGarbage()
        #expect(tracker.lastCounter != nil, "the environment still holds it")
        try environment.set("held", nil)
        harness.sandbox.state.collectGarbage()
        #expect(tracker.lastCounter == nil, "released once unreachable")
    }

    @Test("Arguments reach the chunk as ... and arg")
    func arguments() throws {
        let environment = try harness.sandbox.makeEnvironment()
        try environment.set("arg", ["a", "b"])
        let chunk = try harness.sandbox.load(Array("return select('#', ...), ..., arg[2]".utf8), chunkName: "=t", in: environment)
        #expect(try harness.sandbox.run(chunk, arguments: ["x", 1]) == [2, "x", "b"])  // a middle ... keeps one value
    }
}
