/// Why `json.decode` rejected its text, and where.
///
/// Only the byte offset is kept while decoding; the line and column a person needs are
/// worked out from the text when the message is made, so that valid input pays nothing.
struct JSONSyntaxError: Error {
    /// What the decoder wanted where it found something else.
    enum Expectation {
        case value
        /// A value after a comma in an array.
        case element
        case key
        /// A key after a comma in an object.
        case member
        case colon
        case commaOrBrace
        case commaOrBracket
        case end
    }

    enum Problem {
        case unexpected(Expectation)
        case invalidLiteral(StaticString)
        case leadingZero
        case missingDigit(after: StaticString)
        case numberOutOfRange
        case unterminatedString
        case controlCharacter
        case invalidEscape
        case invalidUnicodeEscape
        case loneSurrogate(UInt32)
        case invalidUTF8
        case tooDeep
        case stopped
    }

    var problem: Problem
    /// The offset of the byte at fault; the text's length at its end.
    var offset: Int

    /// The message for the script, e.g. `unexpected character '}' at line 3, column 7 (byte 41):
    /// expected a value`. Line, column and byte count from 1; columns count characters.
    func message(text: UnsafePointer<UInt8>, count: Int) -> String {
        let found = offset < count ? character(in: text, count: count) : "end of input"
        let location = location(in: text)
        switch problem {
        case .unexpected(let expectation):
            let what = offset < count ? "unexpected \(found)" : "unexpected end of input"
            return "\(what) at \(location): \(describe(expectation, found: offset < count ? text[offset] : 0))"
        case .invalidLiteral(let literal):
            return "invalid literal at \(location): expected '\(literal)' (JSON literals are true, false and null)"
        case .leadingZero:
            return "number with a leading zero at \(location): JSON numbers have none (quote the value as a "
                + "string to keep its zeros)"
        case .missingDigit(let after):
            return "invalid number at \(location): expected a digit after \(after), found \(found)"
        case .numberOutOfRange:
            return "number out of range at \(location): its magnitude exceeds the largest float (about 1.8e308)"
        case .unterminatedString:
            return "unterminated string starting at \(location): the text ends before its closing '\"'"
        case .controlCharacter:
            return "control character \(Self.codePoint(UInt32(text[offset]))) in a string at \(location): "
                + "JSON strings must escape it" + escapeAdvice(text[offset])
        case .invalidEscape:
            return "invalid escape '\\\(offset + 1 < count ? Self.printable(text[offset + 1]) : "")' at \(location): "
                + #"JSON escapes are \" \\ \/ \b \f \n \r \t and \uXXXX"#
        case .invalidUnicodeEscape:
            return #"invalid \u escape at "# + location + ": expected 4 hexadecimal digits"
        case .loneSurrogate(let unit):
            let escape = "\\u" + String(unit, radix: 16, uppercase: true)
            let rule = unit < 0xDC00
                ? #"it must be followed by a low surrogate escape (\uDC00-\uDFFF)"#
                : #"it must follow a high surrogate escape (\uD800-\uDBFF)"#
            return "lone surrogate \(escape) at \(location): \(rule)"
        case .invalidUTF8:
            return "invalid UTF-8 (\(found)) in a string at \(location): JSON text must be UTF-8"
        case .tooDeep:
            return "nesting deeper than \(LuaJSONDecoder.depthLimit) levels at \(location)"
        case .stopped:
            return "stopped at \(location): the run was killed"
        }
    }

    private func describe(_ expectation: Expectation, found byte: UInt8) -> String {
        switch expectation {
        case .value where byte == UInt8(ascii: "/"):
            return "expected a value (JSON has no comments)"
        case .value where byte == 0xEF && offset == 0:
            return "expected a value (remove the byte order mark at the start of the text)"
        case .value:
            return "expected a value"
        case .element:
            return byte == UInt8(ascii: "]") ? "expected a value (JSON allows no trailing comma)" : "expected a value"
        case .key:
            return "expected a string key in double quotes"
        case .member:
            return byte == UInt8(ascii: "}")
                ? "expected a string key (JSON allows no trailing comma)" : "expected a string key in double quotes"
        case .colon:
            return "expected ':' after the key"
        case .commaOrBrace:
            return "expected ',' or '}'"
        case .commaOrBracket:
            return "expected ',' or ']'"
        case .end where byte == UInt8(ascii: "/"):
            return "expected the end of the text after the value (JSON has no comments)"
        case .end:
            return "expected the end of the text after the value"
        }
    }

    private func escapeAdvice(_ byte: UInt8) -> String {
        switch byte {
        case 0x08: #" (as \b)"#
        case 0x09: #" (as \t)"#
        case 0x0A: #" (as \n)"#
        case 0x0C: #" (as \f)"#
        case 0x0D: #" (as \r)"#
        default: ""
        }
    }

    /// `line 3, column 7 (byte 41)`.
    private func location(in text: UnsafePointer<UInt8>) -> String {
        var line = 1
        var column = 1
        for index in 0..<offset {
            let byte = text[index]
            if byte == 0x0A {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
        }
        return "line \(line), column \(column) (byte \(offset + 1))"
    }

    /// The character at `offset` as a message shows it: `character '}'`, `character 'é' (U+00E9)`,
    /// `character U+0001`, or `byte 0xFF` when it is not UTF-8.
    private func character(in text: UnsafePointer<UInt8>, count: Int) -> String {
        let byte = text[offset]
        if byte == UInt8(ascii: "'") { return #"character "'""# }
        if byte >= 0x20 && byte < 0x7F { return "character '\(Self.printable(byte))'" }
        if byte < 0x80 { return "character " + Self.codePoint(UInt32(byte)) }
        let length = UTF8Sequence.length(at: text + offset)
        guard length > 0, offset + length <= count else {
            return "byte 0x" + String(byte, radix: 16, uppercase: true)
        }
        let character = String(decoding: UnsafeBufferPointer(start: text + offset, count: length), as: UTF8.self)
        let scalar = character.unicodeScalars.first!
        switch scalar.properties.generalCategory {
        case .control, .format, .spaceSeparator, .lineSeparator, .paragraphSeparator, .privateUse, .unassigned,
            .surrogate, .nonspacingMark, .enclosingMark:
            // Invisible, or drawn over the quote: the code point alone says more.
            return "character " + Self.codePoint(scalar.value)
        default:
            return "character '\(character)' (\(Self.codePoint(scalar.value)))"
        }
    }

    private static func printable(_ byte: UInt8) -> String {
        byte >= 0x20 && byte < 0x7F ? String(UnicodeScalar(byte)) : codePoint(UInt32(byte))
    }

    private static func codePoint(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
