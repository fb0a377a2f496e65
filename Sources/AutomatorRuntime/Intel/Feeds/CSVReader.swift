/// RFC 4180 records: fields separated by commas (or another separator: `;`, a tab), records by
/// CRLF or LF; a field in double quotes may hold separators, line breaks and doubled quotes
/// (`""` for `"`).
///
/// Blank lines and lines starting with `#` (as abuse.ch feeds begin) are skipped. A record
/// that breaks the rules is returned with the reason, and reading goes on at the next line.
struct CSVReader {
    /// A field's content: inside the quotes for a quoted field.
    struct Field {
        var range: Range<Int>
        /// Holds doubled quotes to undo.
        var escaped: Bool
    }

    struct Record {
        /// Its first line, from 1.
        var line: Int
        /// Why it was not read; its fields are then incomplete.
        var failure: String?
    }

    private let bytes: UnsafeBufferPointer<UInt8>
    /// An ASCII byte other than a quote or a line break.
    private let separator: UInt8
    private var position: Int
    private var line = 1
    /// The fields of the record `next()` returned last.
    private(set) var fields: [Field] = []

    init(_ bytes: UnsafeBufferPointer<UInt8>, separator: UInt8) {
        self.bytes = bytes
        self.separator = separator
        position = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    }

    mutating func next() -> Record? {
        fields.removeAll(keepingCapacity: true)
        skipBlankAndCommentLines()
        guard position < bytes.count else { return nil }
        let first = line
        while true {
            if bytes[position] == UInt8(ascii: "\"") {
                position += 1
                let start = position
                var escaped = false
                while true {
                    guard position < bytes.count else {
                        return Record(line: first, failure: "the quoted field opened here is never closed: "
                            + "close it with a double quote (the rest of the file was skipped)")
                    }
                    if bytes[position] == UInt8(ascii: "\"") {
                        guard position + 1 < bytes.count, bytes[position + 1] == UInt8(ascii: "\"") else { break }
                        escaped = true
                        position += 1
                    } else if bytes[position] == 0x0A {
                        line += 1
                    }
                    position += 1
                }
                fields.append(Field(range: start..<position, escaped: escaped))
                position += 1
                if position < bytes.count, bytes[position] != separator, !atLineEnd() {
                    skipLine()
                    return Record(line: first, failure: "text after a closing quote: quote the whole field, "
                        + "and double the quotes inside it (\"\")")
                }
            } else {
                let start = position
                while position < bytes.count, bytes[position] != separator, !atLineEnd() {
                    if bytes[position] == UInt8(ascii: "\"") {
                        skipLine()
                        return Record(line: first, failure: "a quote inside an unquoted field: quote the whole field, "
                            + "and double the quotes inside it (\"\")")
                    }
                    position += 1
                }
                fields.append(Field(range: start..<position, escaped: false))
            }
            if position < bytes.count, bytes[position] == separator {
                position += 1
                continue
            }
            skipLine()
            return Record(line: first, failure: nil)
        }
    }

    /// A field's text, without the spaces and tabs around it.
    func text(_ field: Field) -> String {
        let content = TextFeedParser.trimmed(UnsafeBufferPointer(rebasing: bytes[field.range]))
        let text = String(decoding: content, as: UTF8.self)
        return field.escaped ? text.replacing("\"\"", with: "\"") : text
    }

    private func atLineEnd() -> Bool {
        bytes[position] == 0x0A
            || (bytes[position] == 0x0D && (position + 1 == bytes.count || bytes[position + 1] == 0x0A))
    }

    /// Past the end of the current line.
    private mutating func skipLine() {
        while position < bytes.count, bytes[position] != 0x0A { position += 1 }
        if position < bytes.count {
            position += 1
            line += 1
        }
    }

    private mutating func skipBlankAndCommentLines() {
        while position < bytes.count {
            let byte = bytes[position]
            guard byte == 0x0A || byte == 0x0D || byte == UInt8(ascii: "#") else { return }
            if byte == 0x0D, position + 1 < bytes.count, bytes[position + 1] != 0x0A { return }
            skipLine()
        }
    }
}
