internal import CLua

/// Reads and pushes bridge values on one Lua stack, using only calls that cannot raise.
///
/// Host code runs with the memory cap lifted (see `clua.h`), so the pushes here cannot
/// fail short of the machine running out of memory; raw table access keeps metamethods,
/// and so script code, out of host frames.
struct LuaStack {
    let L: OpaquePointer

    /// How deep a table may nest to cross the bridge.
    static let depthLimit = 200

    var top: Int32 { lua_gettop(L) }

    func type(at index: Int32) -> Int32 { lua_type(L, index) }

    func typeName(at index: Int32) -> String { String(cString: lua_typename(L, lua_type(L, index))) }

    // MARK: Reading

    func value(at index: Int32) throws(LuaError) -> LuaValue {
        var visiting = Set<UnsafeRawPointer>()
        return try value(at: lua_absindex(L, index), depth: 0, visiting: &visiting)
    }

    /// The bytes of the string at `index`; nil if it is not a string. Numbers are not converted,
    /// so this is safe during `lua_next`.
    func bytes(at index: Int32) -> [UInt8]? {
        guard lua_type(L, index) == LUA_TSTRING else { return nil }
        var length = 0
        let pointer = au_tostring(L, index, &length)
        return Array(UnsafeRawBufferPointer(start: pointer, count: length))
    }

    private func value(at index: Int32, depth: Int, visiting: inout Set<UnsafeRawPointer>) throws(LuaError)
        -> LuaValue
    {
        switch lua_type(L, index) {
        case LUA_TNIL, LUA_TNONE: return .nil
        case LUA_TBOOLEAN: return .boolean(lua_toboolean(L, index) != 0)
        case LUA_TNUMBER:
            return au_isinteger(L, index) != 0
                ? .integer(lua_tointegerx(L, index, nil)) : .number(lua_tonumberx(L, index, nil))
        case LUA_TSTRING: return .string(LuaString(bytes: bytes(at: index) ?? []))
        case LUA_TTABLE: return .table(try table(at: index, depth: depth, visiting: &visiting))
        default:
            throw LuaError(.conversion, "a \(typeName(at: index)) value cannot be passed to the host")
        }
    }

    private func table(at index: Int32, depth: Int, visiting: inout Set<UnsafeRawPointer>) throws(LuaError)
        -> LuaTable
    {
        guard let identity = lua_topointer(L, index) else { return LuaTable() }
        guard depth < Self.depthLimit, lua_checkstack(L, 3) != 0 else {
            throw LuaError(.conversion, "a table nested more than \(Self.depthLimit) deep cannot be passed to the host")
        }
        guard visiting.insert(identity).inserted else {
            throw LuaError(.conversion, "a table that contains itself cannot be passed to the host")
        }
        defer { visiting.remove(identity) }

        var table = LuaTable()
        let border = lua_rawlen(L, index)
        if border > 0 {
            table.array.reserveCapacity(Int(border))
            for position in 1...Int64(border) {
                lua_rawgeti(L, index, position)
                defer { au_pop(L, 1) }
                if lua_type(L, -1) == LUA_TNIL { break }
                table.array.append(try value(at: lua_gettop(L), depth: depth + 1, visiting: &visiting))
            }
        }
        lua_pushnil(L)
        while lua_next(L, index) != 0 {
            defer { au_pop(L, 1) }
            let key = try value(at: lua_gettop(L) - 1, depth: depth + 1, visiting: &visiting)
            if case .integer(let position) = key, position >= 1, position <= table.array.count { continue }
            table.fields[key] = try value(at: lua_gettop(L), depth: depth + 1, visiting: &visiting)
        }
        return table
    }

    // MARK: Pushing

    func push(_ value: LuaValue) throws(LuaError) {
        guard lua_checkstack(L, 3) != 0 else {
            throw LuaError(.conversion, "a value nested too deeply to pass to Lua")
        }
        switch value {
        case .nil: lua_pushnil(L)
        case .boolean(let flag): lua_pushboolean(L, flag ? 1 : 0)
        case .integer(let number): lua_pushinteger(L, number)
        case .number(let number): lua_pushnumber(L, number)
        case .string(let string): push(bytes: string.bytes)
        case .table(let table):
            lua_createtable(L, Int32(clamping: table.array.count), Int32(clamping: table.fields.count))
            for (offset, element) in table.array.enumerated() {
                try push(element)
                lua_rawseti(L, -2, Int64(offset + 1))
            }
            for (key, element) in table.fields {
                switch key {
                case .nil: throw LuaError(.conversion, "a table key cannot be nil")
                case .number(let number) where number.isNaN: throw LuaError(.conversion, "a table key cannot be NaN")
                default: break
                }
                try push(key)
                try push(element)
                lua_rawset(L, -3)
            }
        }
    }

    func push(bytes: [UInt8]) {
        bytes.withUnsafeBytes { push(bytes: $0) }
    }

    func push(bytes: UnsafeRawBufferPointer) {
        lua_pushlstring(L, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count)
    }

    func push(_ text: String) {
        var text = text
        text.withUTF8 { push(bytes: UnsafeRawBufferPointer($0)) }
    }
}
