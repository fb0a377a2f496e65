import AutomatorRuntime
import Testing

@Suite("json: decode, encode, arrays and null")
struct JSONModuleTests {
    let harness: SandboxHarness

    init() throws {
        harness = try SandboxHarness()
    }

    /// The message of the Lua error that running `source` raises.
    private func failure(_ source: String, arguments: [LuaValue] = []) throws -> String {
        let error = try #require(throws: LuaError.self) { try harness.run(source, arguments: arguments) }
        #expect(error.kind == .runtime)
        return error.message
    }

    // MARK: Numbers

    @Test("Integer literals decode as integers, everything else as floats")
    func decodeNumbers() throws {
        let types = try harness.run("""
            return math.type(json.decode("1")), math.type(json.decode("1.0")), math.type(json.decode("1e2")),
                1 / json.decode("-0.0")
            """)
        #expect(types == ["integer", "float", "float", .number(-.infinity)])

        let values = try harness.run("""
            return json.decode("-0"), json.decode("9223372036854775807"), json.decode("-9223372036854775808"),
                json.decode("9223372036854775808"), json.decode("0.1"), json.decode("1.5E-7"), json.decode("2.5e+3"),
                json.decode("12345678901234567890123"), json.decode("1e-400"), json.decode("-12.5e-1")
            """)
        #expect(values == [
            .integer(0), .integer(.max), .integer(.min), .number(9_223_372_036_854_775_808.0), .number(0.1),
            .number(1.5e-7), .number(2500.0), .number(1.2345678901234568e22), .number(0.0), .number(-1.25),
        ])
    }

    @Test("Floats with many digits round correctly, halfway cases to even")
    func decodeHardFloats() throws {
        let values = try harness.run("""
            return json.decode("9007199254740993.0"),
                json.decode("1.00000000000000011102230246251565404236316680908203125"),
                json.decode("1.00000000000000011102230246251565404236316680908203126"),
                json.decode("0.1000000000000000055511151231257827"),
                json.decode("2.2250738585072011e-308"), json.decode("1.7976931348623157e308")
            """)
        #expect(values == [
            .number(9_007_199_254_740_992.0), .number(1.0), .number(1.0000000000000002), .number(0.1),
            .number(Double("2.2250738585072011e-308")!), .number(1.7976931348623157e308),
        ])
    }

    @Test("Numbers encode as integers or as the shortest float that reads back the same")
    func encodeNumbers() throws {
        let texts = try harness.run("""
            return json.encode(1), json.encode(1.0), json.encode(-0.0), json.encode(0.1), json.encode(1e100),
                json.encode(2^53), json.encode(1/3), json.encode(math.maxinteger), json.encode(math.mininteger),
                json.encode(5e-324), json.encode(1e-7)
            """)
        #expect(texts == [
            "1", "1.0", "-0.0", "0.1", "1e+100", "9007199254740992.0", "0.3333333333333333", "9223372036854775807",
            "-9223372036854775808", "5e-324", "1e-07",
        ])

        let roundTrips = try harness.value("""
            local failures = {}
            for i = 1, 3000 do
                local x = math.sin(i) * 10.0 ^ (i % 600 - 300)
                local back = json.decode(json.encode(x))
                if back ~= x or math.type(back) ~= "float" then failures[#failures + 1] = json.encode(x) end
                local n = i * 1000000007 * (i % 2 == 0 and -1 or 1)
                if json.decode(json.encode(n)) ~= n or math.type(json.decode(json.encode(n))) ~= "integer" then
                    failures[#failures + 1] = tostring(n)
                end
            end
            return table.concat(failures, " ")
            """)
        #expect(roundTrips == "")
    }

    // MARK: Strings

    @Test("Escapes decode to bytes: NUL, \\u escapes, surrogate pairs")
    func decodeStrings() throws {
        let values = try harness.run(#"""
            return json.decode([["a\u0000b"]]), json.decode([["\u00e9\u00E9"]]), json.decode([["\ud83d\ude00"]]),
                json.decode([["\"\\\/\b\f\n\r\t"]]), json.decode([["raw é 日本 😀 \u0041"]]), json.decode([[""]])
            """#)
        #expect(values == [
            .string(LuaString(bytes: [0x61, 0x00, 0x62])), "éé", .string(LuaString(bytes: [0xF0, 0x9F, 0x98, 0x80])),
            .string(LuaString(bytes: [0x22, 0x5C, 0x2F, 0x08, 0x0C, 0x0A, 0x0D, 0x09])), "raw é 日本 😀 A", "",
        ])
    }

    @Test("Strings encode with escapes for quotes, backslashes, control characters, U+2028 and U+2029")
    func encodeStrings() throws {
        let texts = try harness.run(#"""
            return json.encode("a\0b"), json.encode("\"\\/\b\f\n\r\t\1\31\127"),
                json.encode("\u{2028}\u{2029}é😀"), json.encode("")
            """#)
        #expect(texts == [
            #""a\u0000b""#, .string(LuaString(bytes: Array(#""\"\\/\b\f\n\r\t\u0001\u001f"#.utf8) + [0x7F, 0x22])),
            #""\u2028\u2029é😀""#, #""""#,
        ])

        let roundTrip = try harness.value("""
            local points = { 0, 1, 0x1F, 0x20, 0x22, 0x5C, 0x7F, 0x80, 0x7FF, 0x800, 0x2028, 0x2029, 0xD7FF,
                             0xE000, 0xFEFF, 0xFFFF, 0x10000, 0x1F600, 0x10FFFF }
            local s = ""
            for _, p in ipairs(points) do s = s .. utf8.char(p) .. "x" end
            return json.decode(json.encode(s)) == s and json.decode(json.encode({ [s] = s }))[s] == s
            """)
        #expect(roundTrip == true)
    }

    // MARK: Structures

    @Test("Nested structures, duplicate keys and whitespace")
    func structures() throws {
        let results = try harness.run("""
            local t = json.decode(' \\t\\n\\r{"a": {"b": [1, [2, [3]]]}, "c" : "x", "d": 1, "d": 2 } \\r\\n')
            return t.a.b[2][2][1], t.c, t.d, #t.a.b, json.encode(t)
            """)
        #expect(results == [3, "x", 2, 2, #"{"a":{"b":[1,[2,[3]]]},"c":"x","d":2}"#])
    }

    @Test("null decodes to json.null, which keeps array positions and encodes back")
    func null() throws {
        let results = try harness.run("""
            local list = json.decode('[1,null,3]')
            local object = json.decode('{"a":null}')
            return #list, list[2] == json.null, object.a == json.null, json.decode("null") == json.null,
                type(json.null), json.encode(list), json.encode(object), json.encode({ json.null })
            """)
        #expect(results == [3, true, true, true, "userdata", "[1,null,3]", #"{"a":null}"#, "[null]"])
    }

    @Test("Empty arrays and objects round trip; the array marker is shared and protected")
    func emptyContainers() throws {
        let results = try harness.run("""
            return json.encode(json.decode("[]")), json.encode(json.decode("{}")),
                json.encode(json.decode('{"a":[],"b":{},"c":[[]]}')), getmetatable(json.decode("[]")),
                getmetatable(json.decode("{}")), json.encode({}), json.encode(json.array({})),
                json.encode(json.array({ 1, 2 }))
            """)
        #expect(results == ["[]", "{}", #"{"a":[],"b":{},"c":[[]]}"#, "json.array", nil, "{}", "[]", "[1,2]"])

        let marking = try harness.run("""
            local ok, err = pcall(setmetatable, json.decode("[]"), {})
            local t = {}
            return ok, err, json.array(t) == t, getmetatable(t), json.array(t) == t
            """)
        #expect(marking == [false, "cannot change a protected metatable", true, "json.array", true])
    }

    @Test("json.array refuses what it cannot mark")
    func arrayErrors() throws {
        let results = try harness.run("""
            return select(2, pcall(json.array, setmetatable({}, {}))), select(2, pcall(json.array, 5)),
                select(2, pcall(json.array))
            """)
        #expect(results == [
            .string(LuaString("bad argument #1 to 'json.array' (the table already has a metatable; json.array marks "
                + "only plain tables, so copy the values into a new one)")),
            "bad argument #1 to 'json.array' (table expected, got number)",
            "bad argument #1 to 'json.array' (table expected, got no value)",
        ])
    }

    @Test("Object keys are sorted by their UTF-8 bytes")
    func sortedKeys() throws {
        let text = try harness.value("""
            return json.encode({ b = 1, a = 2, c = { z = 1, y = 2 }, A = 0, ["é"] = 1, aa = 1, [""] = 0 })
            """)
        #expect(text == #"{"":0,"A":0,"a":2,"aa":1,"b":1,"c":{"y":2,"z":1},"é":1}"#)
    }

    @Test("indent writes one value per line, empty containers inline")
    func indentation() throws {
        let results = try harness.run("""
            local value = { name = "x", tags = { "a", "b" }, empty = {}, list = json.array({}), nested = { k = 1 } }
            return json.encode(value, { indent = 2 }), json.encode({ 1, { a = true } }, { indent = 4 }),
                json.encode({ 1, { a = true } }, { indent = 0 }), json.encode("x", {})
            """)
        #expect(results == [
            """
            {
              "empty": {},
              "list": [],
              "name": "x",
              "nested": {
                "k": 1
              },
              "tags": [
                "a",
                "b"
              ]
            }
            """,
            """
            [
                1,
                {
                    "a": true
                }
            ]
            """,
            #"[1,{"a":true}]"#,
            #""x""#,
        ])
    }

    @Test("Encoding reads tables raw: no metamethod runs")
    func rawAccess() throws {
        let text = try harness.value("""
            local proxy = setmetatable({}, {
                __index = function() error("__index ran") end,
                __pairs = function() error("__pairs ran") end,
                __len = function() error("__len ran") end,
            })
            local list = setmetatable({ 1, 2 }, { __index = function() error("__index ran") end, __len = function() return 9 end })
            return json.encode({ proxy = proxy, list = list })
            """)
        #expect(text == #"{"list":[1,2],"proxy":{}}"#)
    }

    // MARK: Decode errors

    /// Invalid texts and the message each one gives, after `test:1: json.decode: `.
    static let invalidTexts: [(text: [UInt8], message: String)] = [
        (Array(#"{"a": [1, 2"#.utf8), "unexpected end of input at line 1, column 12 (byte 12): expected ',' or ']'"),
        (Array(#""abc"#.utf8),
         #"unterminated string starting at line 1, column 1 (byte 1): the text ends before its closing '"'"#),
        ([], "unexpected end of input at line 1, column 1 (byte 1): expected a value"),
        (Array(#"{"a":1} x"#.utf8),
         "unexpected character 'x' at line 1, column 9 (byte 9): expected the end of the text after the value"),
        ([0x5B, 0x31, 0x5D, 0x00],
         "unexpected character U+0000 at line 1, column 4 (byte 4): expected the end of the text after the value"),
        (Array(#""a\x""#.utf8),
         #"invalid escape '\x' at line 1, column 3 (byte 3): JSON escapes are \" \\ \/ \b \f \n \r \t and \uXXXX"#),
        (Array(#""\u12G4""#.utf8), #"invalid \u escape at line 1, column 2 (byte 2): expected 4 hexadecimal digits"#),
        (Array(#""\ud83d""#.utf8),
         #"lone surrogate \uD83D at line 1, column 2 (byte 2): it must be followed by a low surrogate escape (\uDC00-\uDFFF)"#),
        (Array(#""\ud83d\u0041""#.utf8),
         #"lone surrogate \uD83D at line 1, column 2 (byte 2): it must be followed by a low surrogate escape (\uDC00-\uDFFF)"#),
        (Array(#""x\ude00""#.utf8),
         #"lone surrogate \uDE00 at line 1, column 3 (byte 3): it must follow a high surrogate escape (\uD800-\uDBFF)"#),
        (Array("[01]".utf8),
         "number with a leading zero at line 1, column 2 (byte 2): JSON numbers have none (quote the value as a string "
            + "to keep its zeros)"),
        (Array("-".utf8), "invalid number at line 1, column 2 (byte 2): expected a digit after '-', found end of input"),
        (Array("[1.]".utf8), "invalid number at line 1, column 4 (byte 4): expected a digit after '.', found character ']'"),
        (Array("1e+".utf8),
         "invalid number at line 1, column 4 (byte 4): expected a digit after the exponent, found end of input"),
        (Array("1e400".utf8),
         "number out of range at line 1, column 1 (byte 1): its magnitude exceeds the largest float (about 1.8e308)"),
        (Array("[1,2,]".utf8),
         "unexpected character ']' at line 1, column 6 (byte 6): expected a value (JSON allows no trailing comma)"),
        (Array(#"{"a":1,}"#.utf8),
         "unexpected character '}' at line 1, column 8 (byte 8): expected a string key (JSON allows no trailing comma)"),
        (Array("\"a\tb\"".utf8),
         #"control character U+0009 in a string at line 1, column 3 (byte 3): JSON strings must escape it (as \t)"#),
        ([0x22, 0x61, 0x00, 0x62, 0x22],
         "control character U+0000 in a string at line 1, column 3 (byte 3): JSON strings must escape it"),
        ([0x22, 0xFF, 0x22], "invalid UTF-8 (byte 0xFF) in a string at line 1, column 2 (byte 2): JSON text must be UTF-8"),
        ([0x22, 0xC0, 0xAF, 0x22],
         "invalid UTF-8 (byte 0xC0) in a string at line 1, column 2 (byte 2): JSON text must be UTF-8"),
        ([0x22, 0xED, 0xA0, 0x80, 0x22],
         "invalid UTF-8 (byte 0xED) in a string at line 1, column 2 (byte 2): JSON text must be UTF-8"),
        (Array("NaN".utf8), "unexpected character 'N' at line 1, column 1 (byte 1): expected a value"),
        (Array("[-Infinity]".utf8),
         "invalid number at line 1, column 3 (byte 3): expected a digit after '-', found character 'I'"),
        (Array("tru".utf8),
         "invalid literal at line 1, column 1 (byte 1): expected 'true' (JSON literals are true, false and null)"),
        (Array("{'a': 1}".utf8),
         #"unexpected character "'" at line 1, column 2 (byte 2): expected a string key in double quotes"#),
        (Array("[1] // note".utf8),
         "unexpected character '/' at line 1, column 5 (byte 5): expected the end of the text after the value "
            + "(JSON has no comments)"),
        (Array("/* note */ [1]".utf8),
         "unexpected character '/' at line 1, column 1 (byte 1): expected a value (JSON has no comments)"),
        (Array("[1 2]".utf8), "unexpected character '2' at line 1, column 4 (byte 4): expected ',' or ']'"),
        (Array(#"{"a" 1}"#.utf8), "unexpected character '1' at line 1, column 6 (byte 6): expected ':' after the key"),
        (Array(#"["é", x]"#.utf8), "unexpected character 'x' at line 1, column 7 (byte 8): expected a value"),
        (Array("{\n  \"ids\": [\n    7, }\n]".utf8),
         "unexpected character '}' at line 3, column 8 (byte 21): expected a value"),
        ([0xEF, 0xBB, 0xBF] + Array("{}".utf8),
         "unexpected character U+FEFF at line 1, column 1 (byte 1): expected a value (remove the byte order mark at "
            + "the start of the text)"),
        (Array(String(repeating: "[", count: 201).utf8), "nesting deeper than 200 levels at line 1, column 201 (byte 201)"),
    ]

    @Test("Invalid JSON is rejected with what and where", arguments: JSONModuleTests.invalidTexts)
    func decodeErrors(text: [UInt8], message: String) throws {
        let error = try failure("return json.decode(...)", arguments: [.string(LuaString(bytes: text))])
        #expect(error == "test:1: json.decode: " + message)
    }

    @Test("200 levels of nesting decode")
    func deepestDecode() throws {
        let depth = try harness.value("""
            local t = json.decode(string.rep("[", 200) .. string.rep("]", 200))
            local depth = 0
            while type(t) == "table" do depth, t = depth + 1, t[1] end
            return depth
            """)
        #expect(depth == 200)
    }

    @Test("json.decode wants a string")
    func decodeArgument() throws {
        let results = try harness.run("return select(2, pcall(json.decode, 5)), select(2, pcall(json.decode))")
        #expect(results == [
            "bad argument #1 to 'json.decode' (string expected, got number)",
            "bad argument #1 to 'json.decode' (string expected, got no value)",
        ])
    }

    @Test("A decode error is a Lua error at the script's line, which pcall catches")
    func errorPosition() throws {
        let caught = try harness.run("""
            local ok, message = pcall(function()
                return json.decode('{"a": tru}')
            end)
            return ok, message
            """)
        #expect(caught == [
            false,
            .string(LuaString("test:2: json.decode: invalid literal at line 1, column 7 (byte 7): expected 'true' "
                + "(JSON literals are true, false and null)")),
        ])
        let error = try #require(throws: LuaError.self) {
            try harness.run("local x = 1\n\njson.decode('[1,]')", name: "@playbook.lua")
        }
        #expect(error.message.hasPrefix("playbook.lua:3: json.decode: unexpected character ']'"))
        #expect(error.traceback.contains("playbook.lua:3: in main chunk"))
    }

    // MARK: Encode errors

    @Test("Cycles, non-string keys and sparse tables name their path")
    func encodeStructureErrors() throws {
        #expect(try failure("local t = { a = {} } t.a.b = t return json.encode(t)")
            == "test:1: json.encode: cycle at $.a.b (a table cannot contain itself in JSON)")
        #expect(try failure("return json.encode({ a = { 1, { [true] = 1 } } })")
            == "test:1: json.encode: key of type boolean at $.a[2] (JSON object keys are strings)")
        let numberKey = "key of type number at $ (JSON object keys are strings; a table is an array only when its keys "
            + "are exactly 1..n: fill gaps with json.null)"
        #expect(try failure("return json.encode({ 1, nil, 3 })") == "test:1: json.encode: " + numberKey)
        #expect(try failure("return json.encode({ 1, 2, x = 1 })") == "test:1: json.encode: " + numberKey)
        #expect(try failure("return json.encode({ [1.5] = 1 })") == "test:1: json.encode: " + numberKey)
        #expect(try failure("local a = json.array({}) a.x = 1 return json.encode({ list = a })")
            == #"test:1: json.encode: table at $.list is marked as an array (by json.array, or decoded from []) "#
                + #"but has the key "x"; remove the key or build a new table"#)
        #expect(try failure(#"return json.encode({ ["content-type"] = { 1, { f = print } } })"#)
            == #"test:1: json.encode: value of type function at $["content-type"][2].f "#
                + "(JSON holds tables, strings, numbers, booleans and json.null)")
    }

    @Test("NaN, infinities, functions, threads and invalid UTF-8 name their path")
    func encodeValueErrors() throws {
        #expect(try failure("return json.encode({ score = 0/0 })")
            == "test:1: json.encode: NaN at $.score (JSON numbers cannot be NaN or infinite)")
        #expect(try failure("return json.encode({ 1, math.huge })")
            == "test:1: json.encode: inf at $[2] (JSON numbers cannot be NaN or infinite)")
        #expect(try failure("return json.encode(-math.huge)")
            == "test:1: json.encode: -inf at $ (JSON numbers cannot be NaN or infinite)")
        #expect(try failure("return json.encode({ handler = print })")
            == "test:1: json.encode: value of type function at $.handler "
                + "(JSON holds tables, strings, numbers, booleans and json.null)")
        #expect(try failure("return json.encode({ co = coroutine.create(print) })")
            == "test:1: json.encode: value of type thread at $.co "
                + "(JSON holds tables, strings, numbers, booleans and json.null)")
        #expect(try failure(#"return json.encode({ name = { "ok", "ab\xC3(" } })"#)
            == "test:1: json.encode: invalid UTF-8 at byte 3 of the string at $.name[2] (JSON text is UTF-8: convert "
                + "binary data first, for example to hex)")
        #expect(try failure(#"return json.encode({ a = { ["k\xFF"] = 1 } })"#)
            == "test:1: json.encode: invalid UTF-8 at byte 2 of a key at $.a (JSON text is UTF-8)")
    }

    @Test("200 levels of nesting encode; 201 do not")
    func encodeDepth() throws {
        let deepest = try harness.value("""
            local t = {}
            for _ = 2, 200 do t = { t } end
            return json.encode(t)
            """)
        #expect(deepest == .string(LuaString(String(repeating: "[", count: 199) + "{}" + String(repeating: "]", count: 199))))
        let error = try failure("""
            local t = {}
            for _ = 2, 201 do t = { t } end
            return json.encode(t)
            """)
        #expect(error == "test:3: json.encode: nesting deeper than 200 levels at $" + String(repeating: "[1]", count: 200))
    }

    @Test("A value referenced many times cannot expand the text past the limit")
    func outputLimit() throws {
        let error = try failure("""
            local s = string.rep("a", 32 * 1024 * 1024)
            return json.encode({ s, s, s })
            """)
        #expect(error == "test:2: json.encode: the text would exceed 64 MiB at $[2] (a value that the tables refer to "
            + "many times is written each time)")
    }

    @Test("json.encode checks its arguments and options")
    func encodeArguments() throws {
        let results = try harness.run("""
            return select(2, pcall(json.encode)), select(2, pcall(json.encode, {}, { indnet = 2 })),
                select(2, pcall(json.encode, {}, { indent = -1 })), select(2, pcall(json.encode, {}, { indent = 2.5 })),
                select(2, pcall(json.encode, {}, 2)), json.encode(nil)
            """)
        #expect(results == [
            "bad argument #1 to 'json.encode' (value expected)",
            "bad argument #2 to 'json.encode' (unknown option 'indnet'; json.encode knows 'indent')",
            "bad argument #2 to 'json.encode' (indent must be an integer from 0 to 16, the spaces per level)",
            "bad argument #2 to 'json.encode' (indent must be an integer from 0 to 16, the spaces per level)",
            "bad argument #2 to 'json.encode' (options table expected, got number)",
            "null",
        ])
    }

    // MARK: A real payload

    @Test("A 1 MB alert batch decodes, and re-decoding its encoding gives the same value")
    func largePayload() throws {
        let results = try harness.run(#"""
            local parts, size, i = {}, 0, 0
            while size < 1100000 do
                i = i + 1
                local alert = string.format([[{"id": "alert-%d", "severity": "%s", "score": %.3f, "count": %d,
                  "host": {"name": "ws-%04d.corp.example.com", "ip": "10.0.%d.%d", "tags": ["vip", "emea"]},
                  "note": "line\nbreak \"quoted\" \u00e9\ud83d\ude00 tab\t/slash\/ é", "assignee": null,
                  "seen": %s, "labels": [], "extra": {}, "ratio": %.17g}]],
                  i, i % 2 == 0 and "high" or "low", i / 7, i * 1000003, i % 10000, i % 256, (i * 7) % 256,
                  tostring(i % 3 == 0), 1 / i)
                parts[#parts + 1] = alert
                size = size + #alert + 2
            end
            local text = '{"alerts": [\n' .. table.concat(parts, ",\n") .. '\n], "count": ' .. i .. '}'

            local function same(a, b)
                if type(a) ~= type(b) or math.type(a) ~= math.type(b) then return false end
                if type(a) ~= "table" then return a == b end
                if getmetatable(a) ~= getmetatable(b) then return false end
                for k, v in pairs(a) do if not same(v, b[k]) then return false end end
                for k in pairs(b) do if a[k] == nil then return false end end
                return true
            end

            local decoded = json.decode(text)
            local encoded = json.encode(decoded)
            local again = json.decode(encoded)
            local first = decoded.alerts[1]
            return #text > 1000000, #decoded.alerts == decoded.count, same(decoded, again), json.encode(again) == encoded,
                same(decoded, json.decode(json.encode(decoded, { indent = 2 }))), math.type(first.count),
                first.assignee == json.null, getmetatable(first.labels), first.note
            """#)
        #expect(results == [
            true, true, true, true, true, "integer", true, "json.array", "line\nbreak \"quoted\" é😀 tab\t/slash/ é",
        ])
    }

    @Test("JSONText.string: text with nothing to escape is kept whole; quotes, controls and line separators escaped")
    func textStrings() {
        #expect(JSONText.string("ACT-3f9a0c12b4 é😀") == #""ACT-3f9a0c12b4 é😀""#)
        #expect(JSONText.string("a \"b\" c\\d") == #""a \"b\" c\\d""#)
        #expect(JSONText.string("line\nbreak\ttab\u{1}\u{7F}") == #""line\nbreak\ttab\u0001\u007f""#)
        #expect(JSONText.string("x\u{2028}y\u{2029}z — …") == #""x\u2028y\u2029z — …""#)
    }
}
