import Foundation

/// JSON values as text, exactly as written: `JSONSerialization` reads `1.0` and `1e2` as numbers
/// that it writes back as `1` and `100`, which a Lua script would see as integers.
package enum RawJSON {
    /// The text of each member of a JSON object, by key; the last one wins for a repeated key,
    /// as in `JSONSerialization`. For UTF-8 text that `JSONSerialization` has already accepted
    /// as an object: this only finds where values start and end. Nil for anything else (another
    /// encoding); it never reads out of bounds.
    package static func members(of text: [UInt8]) -> [String: String]? {
        var scanner = Scanner(text: text)
        guard scanner.skipSpace() == UInt8(ascii: "{") else { return nil }
        scanner.index += 1
        var members: [String: String] = [:]
        while let next = scanner.skipSpace(), next != UInt8(ascii: "}") {
            let keyStart = scanner.index
            guard scanner.skipString(),
                  let key = try? JSONDecoder().decode(String.self, from: Data(text[keyStart..<scanner.index])),
                  scanner.skipSpace() == UInt8(ascii: ":")
            else { return nil }
            scanner.index += 1
            guard scanner.skipSpace() != nil else { return nil }
            let valueStart = scanner.index
            guard scanner.skipValue() else { return nil }
            members[key] = String(decoding: text[valueStart..<scanner.index], as: UTF8.self)
            if scanner.skipSpace() == UInt8(ascii: ",") { scanner.index += 1 }
        }
        return members
    }

    /// JSON text without the white space between its tokens (strings are kept as they are):
    /// a pretty-printed payload kept and shown on one line.
    package static func compact(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        var inString = false
        var escaped = false
        for byte in text.utf8 {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
            } else if [0x20, 0x09, 0x0A, 0x0D].contains(byte) {
                continue
            }
            out.append(byte)
        }
        return String(decoding: out, as: UTF8.self)
    }

    private struct Scanner {
        let text: [UInt8]
        var index = 0

        /// Moves past white space; returns the byte there, nil at the end.
        mutating func skipSpace() -> UInt8? {
            while index < text.count, [0x20, 0x09, 0x0A, 0x0D].contains(text[index]) { index += 1 }
            return index < text.count ? text[index] : nil
        }

        /// Moves past the string that starts here.
        mutating func skipString() -> Bool {
            guard index < text.count, text[index] == UInt8(ascii: "\"") else { return false }
            index += 1
            while index < text.count, text[index] != UInt8(ascii: "\"") {
                index += text[index] == UInt8(ascii: "\\") ? 2 : 1
            }
            guard index < text.count else { return false }
            index += 1
            return true
        }

        /// Moves past the value that starts here: a string, an object or array (to its
        /// matching end), or a number or literal (to the next delimiter).
        mutating func skipValue() -> Bool {
            guard index < text.count else { return false }
            switch text[index] {
            case UInt8(ascii: "\""):
                return skipString()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while index < text.count {
                    switch text[index] {
                    case UInt8(ascii: "\""):
                        guard skipString() else { return false }
                        continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
                    default: break
                    }
                    index += 1
                    if depth == 0 { return true }
                }
                return false
            default:
                while index < text.count, !Array(",}] \t\n\r".utf8).contains(text[index]) { index += 1 }
                return true
            }
        }
    }
}
