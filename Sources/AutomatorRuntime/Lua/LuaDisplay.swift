internal import CLua

/// Describes Lua values for a person, as the REPL shows results.
///
/// Reads the stack raw: no metamethod, so no script code, runs while describing, and a
/// table that lies through `__index` or `__pairs` shows what it really holds. The text reads
/// like Lua source where it can (strings quoted and escaped, `{ "a", "b", n = 2 }`), so an
/// analyst can tell `1` from `1.0` and `"1"`, and sees every byte of a suspicious string:
///
/// ```
/// { "a", 1.0, [5] = true, name = "café", ["not a name"] = { x = 1 } }
/// ```
enum LuaDisplay {
    /// Tables deeper than this, or with more entries, are elided with `...`.
    static let depthLimit = 8
    static let entryLimit = 200
    /// A table whose one-line form fits in this many columns (after its indentation) stays on one line.
    static let lineWidth = 72

    static func describe(_ stack: LuaStack, at index: Int32) -> String {
        var visiting = Set<UnsafeRawPointer>()
        return describe(stack, at: lua_absindex(stack.L, index), indent: "", visiting: &visiting)
    }

    private static func describe(_ stack: LuaStack, at index: Int32, indent: String, visiting: inout Set<UnsafeRawPointer>)
        -> String
    {
        let L = stack.L
        switch lua_type(L, index) {
        case LUA_TNIL: return "nil"
        case LUA_TBOOLEAN: return lua_toboolean(L, index) != 0 ? "true" : "false"
        case LUA_TNUMBER:
            return au_isinteger(L, index) != 0
                ? String(lua_tointegerx(L, index, nil)) : LuaNumberFormat.string(lua_tonumberx(L, index, nil))
        case LUA_TSTRING: return VisibleText.escaped(stack.bytes(at: index) ?? [], as: .literal)
        case LUA_TTABLE: return table(stack, at: index, indent: indent, visiting: &visiting)
        default:
            let address = lua_topointer(L, index).map { String(UInt(bitPattern: $0), radix: 16) } ?? "0"
            return "\(stack.typeName(at: index)): 0x\(address)"
        }
    }

    /// One entry of a table: `order` sorts integer keys first (numerically), then names, then
    /// other keys by their text, so the same table always reads the same way.
    private struct Entry {
        enum Order: Comparable {
            case position(Int64)
            case name(String)
            case other(String)
        }

        var order: Order
        var key: String
        var value: String
    }

    private static func table(_ stack: LuaStack, at index: Int32, indent: String, visiting: inout Set<UnsafeRawPointer>)
        -> String
    {
        let L = stack.L
        guard let identity = lua_topointer(L, index) else { return "{}" }
        if visiting.contains(identity) { return "<cycle>" }
        if visiting.count >= depthLimit || lua_checkstack(L, 4) == 0 { return "{ ... }" }
        visiting.insert(identity)
        defer { visiting.remove(identity) }

        let inner = indent + "  "
        var entries: [Entry] = []
        var omitted = 0
        lua_pushnil(L)
        while lua_next(L, index) != 0 {
            defer { au_pop(L, 1) }
            if entries.count == entryLimit {
                omitted += 1
                continue
            }
            let keyIndex = lua_gettop(L) - 1
            let value = describe(stack, at: lua_gettop(L), indent: inner, visiting: &visiting)
            if lua_type(L, keyIndex) == LUA_TNUMBER, au_isinteger(L, keyIndex) != 0 {
                let position = lua_tointegerx(L, keyIndex, nil)
                entries.append(Entry(order: .position(position), key: "[\(position)]", value: value))
            } else if let name = stack.bytes(at: keyIndex).flatMap({ LuaString(bytes: $0).text }), isIdentifier(name) {
                entries.append(Entry(order: .name(name), key: name, value: value))
            } else {
                let key = describe(stack, at: keyIndex, indent: inner, visiting: &visiting)
                entries.append(Entry(order: .other(key), key: "[\(key)]", value: value))
            }
        }
        if entries.isEmpty { return "{}" }
        entries.sort { $0.order < $1.order }

        var items: [String] = []
        var nextPosition: Int64 = 1
        for entry in entries {
            if entry.order == .position(nextPosition) {
                items.append(entry.value)  // the sequence part reads as in a constructor: { "a", "b" }
                nextPosition += 1
            } else {
                items.append("\(entry.key) = \(entry.value)")
            }
        }
        if omitted > 0 { items.append("... (\(omitted) more)") }

        let oneLine = "{ " + items.joined(separator: ", ") + " }"
        if !oneLine.contains("\n"), indent.count + oneLine.count <= lineWidth { return oneLine }
        return "{\n" + items.map { inner + $0 }.joined(separator: ",\n") + "\n" + indent + "}"
    }

    private static func isIdentifier(_ name: String) -> Bool {
        guard let first = name.utf8.first, !(48...57).contains(first) else { return false }
        return name.utf8.allSatisfy { $0 == 95 || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) }
            && !keywords.contains(name)
    }

    private static let keywords: Set<String> = [
        "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in",
        "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
    ]
}
