internal import CLua

extension LuaJSONDecoder {
    /// Pushes the string that starts at the `"` under `position`.
    ///
    /// Most strings have no escapes: they are checked and pushed straight from the text.
    /// The others are decoded into `scratch` first.
    mutating func string() throws(JSONSyntaxError) {
        let open = position
        var end = try plainRun(from: open + 1, open: open)
        if text[end] == UInt8(ascii: "\"") {
            push(text + open + 1, count: end - open - 1)
            position = end + 1
            return
        }
        scratch.removeAll()
        scratch.append(text + open + 1, count: end - open - 1)
        while text[end] == UInt8(ascii: "\\") {
            let next = try escape(at: end, open: open)
            end = try plainRun(from: next, open: open)
            scratch.append(text + next, count: end - next)
        }
        let bytes = scratch.bytes
        push(bytes.baseAddress!, count: bytes.count)
        position = end + 1
    }

    /// The offset of the first `"` or `\` from `start`, after checking that everything before
    /// it is text a JSON string may hold as is: no control characters, well-formed UTF-8.
    @inline(__always)
    private func plainRun(from start: Int, open: Int) throws(JSONSyntaxError) -> Int {
        var index = start
        while true {
            let byte = text[index]
            if byte >= 0x20 && byte < 0x80 {
                if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return index }
                index += 1
            } else if byte >= 0x80 {
                let length = UTF8Sequence.length(at: text + index)
                guard length > 0 else { throw failure(.invalidUTF8, at: index) }
                index += length
            } else if index == count {
                throw failure(.unterminatedString, at: open)
            } else {
                throw failure(.controlCharacter, at: index)
            }
        }
    }

    /// Decodes the escape at `start` (its backslash) into `scratch`; returns the offset after it.
    private mutating func escape(at start: Int, open: Int) throws(JSONSyntaxError) -> Int {
        let byte: UInt8
        switch text[start + 1] {
        case UInt8(ascii: "\""): byte = 0x22
        case UInt8(ascii: "\\"): byte = 0x5C
        case UInt8(ascii: "/"): byte = 0x2F
        case UInt8(ascii: "b"): byte = 0x08
        case UInt8(ascii: "f"): byte = 0x0C
        case UInt8(ascii: "n"): byte = 0x0A
        case UInt8(ascii: "r"): byte = 0x0D
        case UInt8(ascii: "t"): byte = 0x09
        case UInt8(ascii: "u"): return try unicodeEscape(at: start)
        default:
            throw start + 1 == count ? failure(.unterminatedString, at: open) : failure(.invalidEscape, at: start)
        }
        scratch.append(byte)
        return start + 2
    }

    /// Decodes `\uXXXX`, or a surrogate pair `\uD83D\uDE00`, into UTF-8.
    private mutating func unicodeEscape(at start: Int) throws(JSONSyntaxError) -> Int {
        var scalar = try hexadecimal(at: start)
        var next = start + 6
        switch scalar {
        case 0xD800...0xDBFF:
            guard text[next] == UInt8(ascii: "\\"), text[next + 1] == UInt8(ascii: "u") else {
                throw failure(.loneSurrogate(scalar), at: start)
            }
            let low = try hexadecimal(at: next)
            guard (0xDC00...0xDFFF).contains(low) else { throw failure(.loneSurrogate(scalar), at: start) }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            next += 6
        case 0xDC00...0xDFFF:
            throw failure(.loneSurrogate(scalar), at: start)
        default:
            break
        }
        appendUTF8(scalar)
        return next
    }

    /// The four hexadecimal digits of the `\u` escape at `start`.
    private func hexadecimal(at start: Int) throws(JSONSyntaxError) -> UInt32 {
        var value: UInt32 = 0
        // In order, so that the terminating '\0' stops it at the end of the text.
        for index in start + 2..<start + 6 {
            let byte = text[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure(.invalidUnicodeEscape, at: start)
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case ..<0x80:
            scratch.append(UInt8(scalar))
        case ..<0x800:
            scratch.append(UInt8(0xC0 | scalar >> 6))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        case ..<0x10000:
            scratch.append(UInt8(0xE0 | scalar >> 12))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | scalar >> 18))
            scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    private func push(_ start: UnsafePointer<UInt8>, count length: Int) {
        lua_pushlstring(L, UnsafeRawPointer(start).assumingMemoryBound(to: CChar.self), length)
    }
}
