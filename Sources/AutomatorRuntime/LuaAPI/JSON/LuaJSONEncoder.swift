internal import CLua

/// Writes a Lua value as JSON text, reading tables with raw access only: no metamethod, and
/// so no script code, runs while the host encodes.
///
/// The output is deterministic (object keys sorted by their UTF-8 bytes), because the
/// journal hashes it. A table is an array when it carries the `JSONArrayMarker` or when its
/// keys are exactly 1..n; an empty table without the marker is `{}`; any other table is an
/// object whose keys must all be strings.
struct LuaJSONEncoder: ~Copyable {
    /// How deeply tables may nest.
    static let depthLimit = 200
    /// The longest text `json.encode` writes. The memory cap is lifted while host code runs,
    /// and a table that refers to the same subtable many times can expand without bound:
    /// this stops it long before the machine runs out of memory.
    static let outputLimit = 64 << 20

    /// A string key of an object, pointing into the Lua string (which the table keeps alive).
    private struct Key {
        let bytes: UnsafeBufferPointer<UInt8>
    }

    private let L: OpaquePointer
    private let marker: JSONArrayMarker
    /// Spaces per level; 0 for compact output.
    private let indent: Int
    private var output = JSONBuffer(capacity: 1024)
    /// The keys of the objects being written, outermost first; each object sorts its own range.
    private var keys: [Key] = []
    /// The tables being written, outermost first, to find cycles.
    private var enclosing: [UnsafeRawPointer] = []

    init(L: OpaquePointer, marker: JSONArrayMarker, indent: Int) {
        self.L = L
        self.marker = marker
        self.indent = indent
    }

    /// Encodes the value at `index`. On failure the stack may hold partial results: the
    /// caller resets it.
    mutating func encode(at index: Int32) throws(JSONEncodeError) {
        try value(at: lua_absindex(L, index), depth: 0)
    }

    /// The text written by `encode`, without a push (which could raise).
    var text: String { String(decoding: output.bytes, as: UTF8.self) }

    /// Pushes the text written by `encode`.
    func pushText() {
        let bytes = output.bytes
        lua_pushlstring(L, UnsafeRawPointer(bytes.baseAddress!).assumingMemoryBound(to: CChar.self), bytes.count)
    }

    // MARK: Values

    private mutating func value(at index: Int32, depth: Int) throws(JSONEncodeError) {
        switch lua_type(L, index) {
        case LUA_TNIL:
            output.append("null")
        case LUA_TBOOLEAN:
            output.append(lua_toboolean(L, index) != 0 ? "true" : "false")
        case LUA_TNUMBER:
            if au_isinteger(L, index) != 0 {
                writeInteger(lua_tointegerx(L, index, nil))
            } else {
                try writeFloat(lua_tonumberx(L, index, nil))
            }
        case LUA_TSTRING:
            try writeString(Self.bytes(L, index), isKey: false)
        case LUA_TTABLE:
            try table(at: index, depth: depth + 1)
        case LUA_TLIGHTUSERDATA where lua_touserdata(L, index) == nil:
            output.append("null")
        default:
            throw JSONEncodeError(.unsupported(String(cString: lua_typename(L, lua_type(L, index)))))
        }
    }

    private mutating func table(at index: Int32, depth: Int) throws(JSONEncodeError) {
        guard depth <= Self.depthLimit, lua_checkstack(L, 3) != 0 else { throw JSONEncodeError(.tooDeep) }
        let identity = lua_topointer(L, index)!
        guard !enclosing.contains(identity) else { throw JSONEncodeError(.cycle) }
        // A huge table takes a while: let a timeout or kill stop it between tables.
        guard au_is_killed(L) == 0 else { throw JSONEncodeError(.stopped) }
        guard output.count <= Self.outputLimit else { throw JSONEncodeError(.tooLarge) }
        enclosing.append(identity)
        defer { enclosing.removeLast() }

        let firstKey = keys.count
        defer { keys.removeLast(keys.count - firstKey) }
        let length = lua_rawlen(L, index)
        let sequenceKeys = try collectKeys(of: index, length: length)
        let stringKeys = keys.count - firstKey

        switch (stringKeys, sequenceKeys) {
        case (0, 0):
            output.append(marker.marks(L, index) ? "[]" : "{}")
        case (0, length):
            try array(at: index, count: Int64(length), depth: depth)
        case (_, 0):
            if marker.marks(L, index) { throw JSONEncodeError(.keyOfMarkedArray(Array(keys[firstKey].bytes))) }
            try object(at: index, keys: firstKey..<keys.count, depth: depth)
        default:
            // Keys 1..n mixed with string keys, or with gaps: neither an array nor an object.
            throw JSONEncodeError(.keyType("number"))
        }
    }

    /// Adds the string keys of the table at `index` to `keys`; returns how many keys are
    /// integers in 1...length. Fails on any other key.
    private mutating func collectKeys(of index: Int32, length: UInt64) throws(JSONEncodeError) -> UInt64 {
        var sequenceKeys: UInt64 = 0
        lua_pushnil(L)
        while lua_next(L, index) != 0 {
            au_pop(L, 1)
            let type = lua_type(L, -1)
            if type == LUA_TSTRING {
                keys.append(Key(bytes: Self.bytes(L, -1)))
                continue
            }
            if type == LUA_TNUMBER, au_isinteger(L, -1) != 0 {
                let key = lua_tointegerx(L, -1, nil)
                if key >= 1, UInt64(key) <= length {
                    sequenceKeys += 1
                    continue
                }
            }
            au_pop(L, 1)
            throw JSONEncodeError(.keyType(String(cString: lua_typename(L, type))))
        }
        return sequenceKeys
    }

    private mutating func array(at index: Int32, count: Int64, depth: Int) throws(JSONEncodeError) {
        output.append(UInt8(ascii: "["))
        for position in 1...count {
            if position > 1 { output.append(UInt8(ascii: ",")) }
            newline(depth)
            lua_rawgeti(L, index, position)
            do {
                try value(at: lua_gettop(L), depth: depth)
            } catch {
                var error = error
                error.path.append(.index(position))
                throw error
            }
            au_pop(L, 1)
        }
        newline(depth - 1)
        output.append(UInt8(ascii: "]"))
    }

    private mutating func object(at index: Int32, keys range: Range<Int>, depth: Int) throws(JSONEncodeError) {
        keys[range].sort { $0.bytes.lexicographicallyPrecedes($1.bytes) }
        output.append(UInt8(ascii: "{"))
        for position in range {
            let key = keys[position].bytes
            if position > range.lowerBound { output.append(UInt8(ascii: ",")) }
            newline(depth)
            try writeString(key, isKey: true)
            output.append(UInt8(ascii: ":"))
            if indent > 0 { output.append(UInt8(ascii: " ")) }
            lua_pushlstring(L, UnsafeRawPointer(key.baseAddress!).assumingMemoryBound(to: CChar.self), key.count)
            lua_rawget(L, index)
            do {
                try value(at: lua_gettop(L), depth: depth)
            } catch {
                var error = error
                error.path.append(.key(Array(key)))
                throw error
            }
            au_pop(L, 1)
        }
        newline(depth - 1)
        output.append(UInt8(ascii: "}"))
    }

    @inline(__always)
    private mutating func newline(_ level: Int) {
        guard indent > 0 else { return }
        output.append(0x0A)
        output.append(repeating: 0x20, count: indent * level)
    }

    // MARK: Scalars

    private mutating func writeInteger(_ value: Int64) {
        output.append(upTo: 20) { start in
            var digits = 1
            var rest = value.magnitude
            while rest >= 10 {
                rest /= 10
                digits += 1
            }
            let length = value < 0 ? digits + 1 : digits
            if value < 0 { start[0] = UInt8(ascii: "-") }
            var magnitude = value.magnitude
            for position in stride(from: length - 1, through: length - digits, by: -1) {
                start[position] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            }
            return length
        }
    }

    /// The shortest text that reads back as the same double; integral values keep a `.0`
    /// (or an exponent), so that they decode as floats again.
    private mutating func writeFloat(_ number: Double) throws(JSONEncodeError) {
        guard number.isFinite else { throw JSONEncodeError(.notFinite(number)) }
        var text = number.description
        text.withUTF8 { output.append($0.baseAddress!, count: $0.count) }
    }

    /// Writes a string in quotes, escaping `"`, `\`, control characters, and U+2028 and
    /// U+2029 (line ends to JavaScript, which may embed the text in a script).
    private mutating func writeString(_ bytes: UnsafeBufferPointer<UInt8>, isKey: Bool) throws(JSONEncodeError) {
        guard output.count + bytes.count <= Self.outputLimit else { throw JSONEncodeError(.tooLarge) }
        let start = bytes.baseAddress!
        output.append(UInt8(ascii: "\""))
        var runStart = 0
        var index = 0
        while index < bytes.count {
            let byte = start[index]
            if byte >= 0x80 {
                let length = UTF8Sequence.length(at: start + index)
                guard length > 0 else {
                    throw JSONEncodeError(isKey ? .invalidKeyUTF8(byte: index + 1) : .invalidUTF8(byte: index + 1))
                }
                let isLineSeparator = length == 3 && byte == 0xE2 && start[index + 1] == 0x80
                    && start[index + 2] & 0xFE == 0xA8
                guard isLineSeparator else {
                    index += length
                    continue
                }
                output.append(start + runStart, count: index - runStart)
                output.append(start[index + 2] == 0xA8 ? #"\u2028"# : #"\u2029"#)
                index += 3
            } else if byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") {
                index += 1
                continue
            } else {
                output.append(start + runStart, count: index - runStart)
                writeEscape(byte)
                index += 1
            }
            runStart = index
        }
        output.append(start + runStart, count: bytes.count - runStart)
        output.append(UInt8(ascii: "\""))
    }

    private mutating func writeEscape(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): output.append(#"\""#)
        case UInt8(ascii: "\\"): output.append(#"\\"#)
        case 0x08: output.append(#"\b"#)
        case 0x0C: output.append(#"\f"#)
        case 0x0A: output.append(#"\n"#)
        case 0x0D: output.append(#"\r"#)
        case 0x09: output.append(#"\t"#)
        default:
            let hexadecimal: StaticString = "0123456789abcdef"
            output.append(#"\u00"#)
            output.append(hexadecimal.utf8Start[Int(byte >> 4)])
            output.append(hexadecimal.utf8Start[Int(byte & 0x0F)])
        }
    }

    /// The bytes of the string at `index`, followed in memory by Lua's terminating `'\0'`.
    private static func bytes(_ L: OpaquePointer, _ index: Int32) -> UnsafeBufferPointer<UInt8> {
        var length = 0
        let start = au_tostring(L, index, &length)!
        return UnsafeBufferPointer(start: UnsafeRawPointer(start).assumingMemoryBound(to: UInt8.self), count: length)
    }
}
