internal import CLua

/// Parses JSON text (RFC 8259, strictly) straight onto a Lua stack: no intermediate values,
/// and strings without escapes go from the text into Lua without a copy.
///
/// Objects become tables with string keys (the last of duplicate keys wins), arrays become
/// sequences, `null` becomes `json.null` (a light userdata NULL, so that arrays keep their
/// positions), integer literals that fit 64 bits become Lua integers and every other number
/// a float. An empty array carries the `JSONArrayMarker`, so that it encodes back as `[]`.
///
/// The text must be a Lua string: the decoder relies on the `'\0'` that Lua keeps after the
/// last byte, which stops every scanning loop at the end without a bounds check of its own.
struct LuaJSONDecoder: ~Copyable {
    /// How deeply arrays and objects may nest.
    static let depthLimit = 200

    // Not private: the extensions for strings and numbers, in their own files, read them.
    let L: OpaquePointer
    let text: UnsafePointer<UInt8>
    let count: Int
    let marker: JSONArrayMarker
    /// The offset of the next byte to read.
    var position = 0
    /// Where a string with escapes is decoded before it is pushed.
    var scratch = JSONBuffer(capacity: 256)

    /// - Parameter text: the bytes of a Lua string that stays on the stack while decoding,
    ///   followed by Lua's terminating `'\0'`.
    init(L: OpaquePointer, text: UnsafePointer<UInt8>, count: Int, marker: JSONArrayMarker) {
        self.L = L
        self.text = text
        self.count = count
        self.marker = marker
    }

    /// Pushes the value of the whole text. On failure the stack holds partial results: the
    /// caller resets it.
    mutating func decode() throws(JSONSyntaxError) {
        guard lua_checkstack(L, 2) != 0 else { throw failure(.tooDeep) }
        try value(depth: 0, expecting: .value)
        skipWhitespace()
        guard position == count else { throw failure(.unexpected(.end)) }
    }

    // MARK: Values

    private mutating func value(depth: Int, expecting expectation: JSONSyntaxError.Expectation)
        throws(JSONSyntaxError)
    {
        skipWhitespace()
        switch text[position] {
        case UInt8(ascii: "{"): try object(depth: depth + 1)
        case UInt8(ascii: "["): try array(depth: depth + 1)
        case UInt8(ascii: "\""): try string()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try number()
        case UInt8(ascii: "t"):
            try literal("true")
            lua_pushboolean(L, 1)
        case UInt8(ascii: "f"):
            try literal("false")
            lua_pushboolean(L, 0)
        case UInt8(ascii: "n"):
            try literal("null")
            lua_pushlightuserdata(L, nil)
        default:
            throw failure(.unexpected(expectation))
        }
    }

    /// Checks the depth and the stack before a container is pushed; a container needs three
    /// slots (itself, a key, a value), and those nested in it check their own.
    private mutating func enter(depth: Int) throws(JSONSyntaxError) {
        guard depth <= Self.depthLimit, lua_checkstack(L, 3) != 0 else { throw failure(.tooDeep) }
        // A huge document takes a while: let a timeout or kill stop it between containers.
        guard au_is_killed(L) == 0 else { throw failure(.stopped) }
        position += 1
        lua_createtable(L, 0, 0)
    }

    private mutating func object(depth: Int) throws(JSONSyntaxError) {
        try enter(depth: depth)
        skipWhitespace()
        if text[position] == UInt8(ascii: "}") {
            position += 1
            return
        }
        var expectation = JSONSyntaxError.Expectation.key
        while true {
            guard text[position] == UInt8(ascii: "\"") else { throw failure(.unexpected(expectation)) }
            try string()
            skipWhitespace()
            guard text[position] == UInt8(ascii: ":") else { throw failure(.unexpected(.colon)) }
            position += 1
            try value(depth: depth, expecting: .value)
            lua_rawset(L, -3)
            skipWhitespace()
            switch text[position] {
            case UInt8(ascii: ","):
                position += 1
                skipWhitespace()
                expectation = .member
            case UInt8(ascii: "}"):
                position += 1
                return
            default:
                throw failure(.unexpected(.commaOrBrace))
            }
        }
    }

    private mutating func array(depth: Int) throws(JSONSyntaxError) {
        try enter(depth: depth)
        skipWhitespace()
        if text[position] == UInt8(ascii: "]") {
            position += 1
            marker.attach(L, -1)
            return
        }
        var index: Int64 = 1
        while true {
            try value(depth: depth, expecting: index == 1 ? .value : .element)
            lua_rawseti(L, -2, index)
            index += 1
            skipWhitespace()
            switch text[position] {
            case UInt8(ascii: ","):
                position += 1
            case UInt8(ascii: "]"):
                position += 1
                return
            default:
                throw failure(.unexpected(.commaOrBracket))
            }
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
        let bytes = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        // Compares in order, so the terminating '\0' stops it at the end of the text.
        for (offset, byte) in bytes.enumerated() where text[position + offset] != byte {
            throw failure(.invalidLiteral(word))
        }
        position += bytes.count
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while true {
            switch text[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return
            }
        }
    }

    func failure(_ problem: JSONSyntaxError.Problem, at offset: Int? = nil) -> JSONSyntaxError {
        JSONSyntaxError(problem: problem, offset: offset ?? position)
    }
}
