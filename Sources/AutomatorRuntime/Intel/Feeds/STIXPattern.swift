/// The part of STIX patterning a lookup can use: equality comparisons joined by OR, such as
/// `[ipv4-addr:value = '198.51.100.7' OR ipv4-addr:value = '198.51.100.8']` or
/// `[file:hashes.'SHA-256' = '...'] OR [domain-name:value = 'evil.example']`.
///
/// Anything else (AND, other operators, qualifiers such as WITHIN) describes more than one
/// value to look up, and the pattern is refused whole. A comparison on a property feeds do
/// not index (`file:name`) is refused alone: OR means any one of them is enough.
enum STIXPattern {
    struct Comparison: Equatable {
        /// As written: `ipv4-addr:value`, `file:hashes.'SHA-256'`.
        var path: String
        var value: String

        /// What the value is, nil for a property feeds do not index.
        var expectation: IndicatorKey.Expectation? {
            switch path {
            case "ipv4-addr:value": return .only(.ipv4)
            case "ipv6-addr:value": return .only(.ipv6)
            case "domain-name:value": return .only(.domain)
            case "url:value": return .only(.url)
            case "email-addr:value": return .only(.email)
            default:
                guard path.hasPrefix("file:hashes.") else { return nil }
                let name = path.dropFirst("file:hashes.".count).filter { $0 != "'" && $0 != "-" }.uppercased()
                let types: [String: IndicatorType] = ["MD5": .md5, "SHA1": .sha1, "SHA256": .sha256, "SHA512": .sha512]
                return types[name].map { .only($0) }
            }
        }
    }

    /// Why a pattern is not read.
    struct Unsupported: Error {
        var reason: String
    }

    /// The comparisons of `pattern`.
    ///
    /// - Throws: `Unsupported` with the part that is not an equality comparison or an OR.
    static func comparisons(in pattern: String) throws(Unsupported) -> [Comparison] {
        var parser = Parser(tokens: try tokens(of: pattern))
        let comparisons = try parser.disjunction()
        if let token = parser.peek() { throw Unsupported(reason: "\(token) after the end of the expression") }
        return comparisons
    }

    private enum Token: Equatable, CustomStringConvertible {
        case open(Character)
        case close(Character)
        /// An object path (`ipv4-addr:value`) or a keyword (`OR`, `AND`, `WITHIN`).
        case word(String)
        case string(String)
        /// `=`, `!=`, `<`, a number, a timestamp: anything else.
        case other(String)

        var description: String {
            switch self {
            case .open(let c), .close(let c): "\"\(c)\""
            case .word(let w), .other(let w): w
            case .string(let s): "'\(s)'"
            }
        }
    }

    private static func tokens(of pattern: String) throws(Unsupported) -> [Token] {
        var tokens: [Token] = []
        let characters = Array(pattern)
        var index = 0
        func isWordCharacter(_ c: Character) -> Bool {
            c.isLetter || c.isNumber || c == "-" || c == "_" || c == ":" || c == "."
        }
        /// A quoted literal from the opening quote at `index`; `\'` and `\\` are escapes.
        func literal() throws(Unsupported) -> String {
            var text = ""
            index += 1
            while index < characters.count {
                let c = characters[index]
                if c == "\\", index + 1 < characters.count {
                    text.append(characters[index + 1])
                    index += 2
                    continue
                }
                index += 1
                if c == "'" { return text }
                text.append(c)
            }
            throw Unsupported(reason: "a string is not closed with '")
        }
        while index < characters.count {
            let c = characters[index]
            if c.isWhitespace {
                index += 1
            } else if c == "[" || c == "(" {
                tokens.append(.open(c))
                index += 1
            } else if c == "]" || c == ")" {
                tokens.append(.close(c))
                index += 1
            } else if c == "'" {
                tokens.append(.string(try literal()))
            } else if c.isLetter {
                var word = ""
                while index < characters.count, isWordCharacter(characters[index]) || characters[index] == "'" {
                    if characters[index] == "'" {
                        // A quoted path step (file:hashes.'SHA-256') follows a dot; a quote
                        // elsewhere starts a literal (t'2024-...', b'...'), which is not read.
                        guard word.hasSuffix(".") else { break }
                        word += "'" + (try literal()) + "'"
                        continue
                    }
                    word.append(characters[index])
                    index += 1
                }
                if index < characters.count, characters[index] == "'" {
                    tokens.append(.other(word + "'" + (try literal()) + "'"))
                } else {
                    tokens.append(.word(word))
                }
            } else {
                var text = String(c)
                index += 1
                while index < characters.count, "=!<>".contains(characters[index]) || characters[index].isNumber {
                    text.append(characters[index])
                    index += 1
                }
                tokens.append(.other(text))
            }
        }
        return tokens
    }

    /// `disjunction := operand (OR operand)*`; `operand := '[' disjunction ']' | '(' disjunction ')'
    /// | path '=' string`.
    private struct Parser {
        let tokens: [Token]
        var position = 0

        func peek() -> Token? { position < tokens.count ? tokens[position] : nil }

        mutating func disjunction() throws(Unsupported) -> [Comparison] {
            var comparisons = try operand()
            while case .word(let keyword) = peek() {
                guard keyword == "OR" else {
                    throw Unsupported(reason: "\(keyword): only OR is read between comparisons")
                }
                position += 1
                comparisons += try operand()
            }
            return comparisons
        }

        private mutating func operand() throws(Unsupported) -> [Comparison] {
            switch peek() {
            case .open(let bracket):
                position += 1
                let comparisons = try disjunction()
                guard peek() == .close(bracket == "[" ? "]" : ")") else {
                    let closing = bracket == "[" ? "]" : ")"
                    throw Unsupported(reason: "\(peek().map(\.description) ?? "the end") where \(closing) or OR was expected")
                }
                position += 1
                return comparisons
            case .word(let path) where path.contains(":"):
                position += 1
                guard peek() == .other("=") else {
                    let found = peek().map(\.description) ?? "the end"
                    throw Unsupported(reason: "\(found) after \(path): only = is read")
                }
                position += 1
                guard case .string(let value) = peek() else {
                    throw Unsupported(reason: "\(path) = is not followed by a quoted string")
                }
                position += 1
                return [Comparison(path: path, value: value)]
            case let token:
                throw Unsupported(reason: "\(token.map(\.description) ?? "the end") where a comparison was expected")
            }
        }
    }
}
