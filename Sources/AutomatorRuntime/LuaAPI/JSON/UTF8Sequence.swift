/// Checks UTF-8 one sequence at a time, as `json.decode` reads strings and `json.encode`
/// writes them: JSON text is UTF-8 (RFC 8259, section 8.1), and a string that is not would
/// come back from the other side as something else.
enum UTF8Sequence {
    /// The length of the well-formed sequence that starts at `start` with a byte of 0x80 or
    /// more, or 0 when it is ill-formed (Unicode table 3-7: no overlong forms, no surrogates,
    /// nothing above U+10FFFF).
    ///
    /// Reads stop at the first byte that does not fit, so the bytes must be followed by one
    /// below 0x80: Lua strings always are, by the `'\0'` that `lua_tolstring` guarantees.
    @inline(__always)
    static func length(at start: UnsafePointer<UInt8>) -> Int {
        switch start[0] {
        case 0xC2...0xDF:
            return isContinuation(start[1]) ? 2 : 0
        case 0xE0:
            return (0xA0...0xBF).contains(start[1]) && isContinuation(start[2]) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF:
            return isContinuation(start[1]) && isContinuation(start[2]) ? 3 : 0
        case 0xED:
            return (0x80...0x9F).contains(start[1]) && isContinuation(start[2]) ? 3 : 0
        case 0xF0:
            return (0x90...0xBF).contains(start[1]) && isContinuation(start[2]) && isContinuation(start[3]) ? 4 : 0
        case 0xF1...0xF3:
            return isContinuation(start[1]) && isContinuation(start[2]) && isContinuation(start[3]) ? 4 : 0
        case 0xF4:
            return (0x80...0x8F).contains(start[1]) && isContinuation(start[2]) && isContinuation(start[3]) ? 4 : 0
        default:
            return 0
        }
    }

    @inline(__always)
    private static func isContinuation(_ byte: UInt8) -> Bool { byte & 0xC0 == 0x80 }
}
