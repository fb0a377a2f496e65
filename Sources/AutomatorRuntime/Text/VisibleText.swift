/// Text that shows every character it holds, for a person at a terminal.
///
/// Valid UTF-8 shows as text (`"café"`, emoji included), so that indicators in any language
/// stay readable. What would not show, or would show as something else, is escaped: control
/// characters (a terminal acts on `ESC [`, `ESC ]` and the bell), invisible formatting characters
/// such as right-to-left overrides and zero-width spaces (the tricks of lookalike file names and
/// hidden text), and each byte that is not valid UTF-8 (`\255`). Titles, journal entries and chat
/// posts come from alert payloads and chat users, so the CLI prints them this way, as the REPL
/// prints strings.
///
/// ```
/// VisibleText.escaped("EVIL\u{1B}[31mRED txt\u{202E}exe")  // EVIL\27[31mRED txt\u{202E}exe
/// ```
package enum VisibleText {
    package enum Style {
        /// A Lua string literal that reads back to the same bytes: quoted, `"` and `\` escaped,
        /// newlines and tabs too. What the REPL shows.
        case literal
        /// Lines as they are, newlines and tabs kept, quotes and backslashes unescaped: readable
        /// text that can hold no terminal control.
        case lines
        /// One line that reads back to the same bytes, a literal without its quotes: backslashes,
        /// newlines and tabs escaped, quotes not. A file's name that need not be UTF-8 (evidence
        /// from a compromised host), kept as text.
        case name
    }

    /// `text` with what would not show as itself escaped as in a Lua literal (`\27`, `\u{202E}`).
    package static func escaped(_ text: String, as style: Style = .lines) -> String {
        // Text without anything to escape, most of it, is returned as it is.
        guard text.unicodeScalars.contains(where: { needsEscape($0, style) }) else { return text }
        return escaped(Array(text.utf8), as: style)
    }

    /// The bytes as text with what would not show as itself escaped. A decimal escape takes
    /// three digits when a digit follows it, so `"\0" .. "1"` reads `"\0001"`, not `"\01"`.
    package static func escaped(_ bytes: [UInt8], as style: Style) -> String {
        let literal = style == .literal
        var text = literal ? "\"" : ""
        var parser = Unicode.UTF8.ForwardParser()
        var input = bytes.makeIterator()
        var offset = 0
        /// A decimal escape, padded when the byte after it (`next`) is an ASCII digit.
        func decimal(_ value: UInt8, before next: Int) -> String {
            let digits = String(value)
            let padded = next < bytes.count && (48...57).contains(bytes[next])
            return "\\" + (padded ? String(repeating: "0", count: 3 - digits.count) + digits : digits)
        }
        loop: while true {
            switch parser.parseScalar(from: &input) {
            case .emptyInput:
                break loop
            case .error(let length):
                for position in offset..<offset + length {
                    text += decimal(bytes[position], before: position + 1)
                }
                offset += length
            case .valid(let encoded):
                let scalar = Unicode.UTF8.decode(encoded)
                offset += encoded.count
                guard needsEscape(scalar, style) else {
                    text.unicodeScalars.append(scalar)
                    continue
                }
                switch scalar {
                case "\"": text += "\\\""
                case "\\": text += "\\\\"
                case "\u{07}": text += "\\a"
                case "\u{08}": text += "\\b"
                case "\t": text += "\\t"
                case "\n": text += "\\n"
                case "\u{0B}": text += "\\v"
                case "\u{0C}": text += "\\f"
                case "\r": text += "\\r"
                case _ where scalar.value < 0x80:
                    text += decimal(UInt8(scalar.value), before: offset)
                default:
                    text += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
                }
            }
        }
        return literal ? text + "\"" : text
    }

    private static func needsEscape(_ scalar: Unicode.Scalar, _ style: Style) -> Bool {
        switch scalar {
        case "\"": style == .literal
        case "\\", "\n", "\t": style != .lines
        default: isHidden(scalar)
        }
    }

    /// Characters that would not show as themselves: controls (C0, DEL, C1), separators that
    /// break lines, and format characters (bidirectional overrides and isolates, zero-width
    /// spaces). Zero-width joiners stay, as emoji and several scripts need them.
    private static func isHidden(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .control, .lineSeparator, .paragraphSeparator: true
        case .format: scalar != "\u{200C}" && scalar != "\u{200D}"
        default: false
        }
    }
}
