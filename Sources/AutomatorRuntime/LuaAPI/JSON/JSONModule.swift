internal import CLua

/// `json`: JSON text to Lua values and back, for webhook payloads, alerts and API bodies.
///
/// ```lua
/// local alert = json.decode(body)            -- strict RFC 8259; errors say line and column
/// if alert.assignee == json.null then ... end
/// local text = json.encode({ id = alert.id, tags = json.array({}) }, { indent = 2 })
/// ```
///
/// - `json.decode(text)`: objects become tables with string keys, arrays sequences, `null`
///   becomes `json.null`; integer literals that fit 64 bits become integers, other numbers
///   floats. An empty array carries a marker (`getmetatable(t) == "json.array"`) so that it
///   encodes back as `[]`.
/// - `json.encode(value [, options])`: compact unless `options.indent` gives spaces per
///   level (0 to 16); object keys sorted, so equal values give equal text. A table is an
///   array when it is marked or its keys are exactly 1..n, an empty unmarked table is `{}`,
///   any other table an object whose keys must be strings. Errors name the path of the
///   value at fault, as in `$.alerts[2].tags` (indexes from 1, as in Lua).
/// - `json.array(t)`: marks `t` as an array and returns it.
/// - `json.null`: JSON's null. It is a value, so it is true in a condition: compare it.
public struct JSONModule: HostModule {
    public let name = "json"

    public init() {}

    public func register(in table: inout ModuleTable) {
        let L = table.state.L
        let marker = table.state.jsonArrayMarker

        table.state.stack.push("null")
        lua_pushlightuserdata(L, nil)
        lua_rawset(L, -3)

        table.function("decode") { call in try Self.decode(call, marker: marker) }
        table.function("encode") { call in try Self.encode(call, marker: marker) }
        table.function("array") { call in try Self.array(call, marker: marker) }
    }

    private static func decode(_ call: LuaCall, marker: JSONArrayMarker) throws(HostError) -> Int32 {
        let L = call.stack.L
        guard lua_type(L, 1) == LUA_TSTRING else { throw call.expected("string", at: 1) }
        var length = 0
        let text = UnsafeRawPointer(au_tostring(L, 1, &length)!).assumingMemoryBound(to: UInt8.self)
        let top = lua_gettop(L)
        var decoder = LuaJSONDecoder(L: L, text: text, count: length, marker: marker)
        do {
            try decoder.decode()
        } catch {
            lua_settop(L, top)
            throw HostError(error.message(text: text, count: length))
        }
        return 1
    }

    private static func encode(_ call: LuaCall, marker: JSONArrayMarker) throws(HostError) -> Int32 {
        let L = call.stack.L
        guard call.argumentCount >= 1 else { throw HostError.argument(1, "value expected") }
        let indent = try indentation(call)
        let top = lua_gettop(L)
        var encoder = LuaJSONEncoder(L: L, marker: marker, indent: indent)
        do {
            try encoder.encode(at: 1)
        } catch {
            lua_settop(L, top)
            throw HostError(error.message)
        }
        encoder.pushText()
        return 1
    }

    /// Reads `options.indent` raw, and refuses options it does not know, so that a typo
    /// does not go unnoticed.
    private static func indentation(_ call: LuaCall) throws(HostError) -> Int {
        let L = call.stack.L
        if call.isNoneOrNil(2) { return 0 }
        guard lua_type(L, 2) == LUA_TTABLE else { throw call.expected("options table", at: 2) }
        var indent = 0
        lua_pushnil(L)
        while lua_next(L, 2) != 0 {
            defer { au_pop(L, 1) }
            let key = call.stack.bytes(at: -2)
            guard key == Array("indent".utf8) else {
                let name = key.map { "'\(LuaString(bytes: $0))'" } ?? "of type \(call.stack.typeName(at: -2))"
                throw HostError.argument(2, "unknown option \(name); json.encode knows 'indent'")
            }
            var isInteger: Int32 = 0
            let spaces = lua_tointegerx(L, -1, &isInteger)
            guard isInteger != 0, lua_type(L, -1) == LUA_TNUMBER, (0...16).contains(spaces) else {
                throw HostError.argument(2, "indent must be an integer from 0 to 16, the spaces per level")
            }
            indent = Int(spaces)
        }
        return indent
    }

    private static func array(_ call: LuaCall, marker: JSONArrayMarker) throws(HostError) -> Int32 {
        let L = call.stack.L
        guard lua_type(L, 1) == LUA_TTABLE else { throw call.expected("table", at: 1) }
        if marker.marks(L, 1) {
            lua_settop(L, 1)
            return 1
        }
        guard lua_getmetatable(L, 1) == 0 else {
            au_pop(L, 1)
            throw HostError.argument(1, "the table already has a metatable; json.array marks only plain tables, "
                + "so copy the values into a new one")
        }
        marker.attach(L, 1)
        lua_settop(L, 1)
        return 1
    }
}
