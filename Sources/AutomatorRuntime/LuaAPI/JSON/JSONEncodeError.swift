/// Why `json.encode` could not encode a value, and where in it: a path such as
/// `$.alerts[3].tags`, with 1-based indexes as the script would write them.
///
/// The path is collected while the error travels out of the nested tables, so encoding
/// that succeeds pays nothing for it.
struct JSONEncodeError: Error {
    enum Problem {
        case keyType(String)
        case keyOfMarkedArray([UInt8])
        case cycle
        case tooDeep
        case notFinite(Double)
        case unsupported(String)
        case invalidUTF8(byte: Int)
        case invalidKeyUTF8(byte: Int)
        case tooLarge
        case stopped
    }

    enum PathComponent {
        case index(Int64)
        case key([UInt8])
    }

    var problem: Problem
    /// Innermost first.
    var path: [PathComponent] = []

    init(_ problem: Problem) { self.problem = problem }

    /// The message for the script, e.g. `cycle at $.a.b (a table cannot contain itself)`.
    var message: String {
        let path = pathText
        switch problem {
        case .keyType(let type):
            let advice = type == "number"
                ? "; a table is an array only when its keys are exactly 1..n: fill gaps with json.null" : ""
            return "key of type \(type) at \(path) (JSON object keys are strings\(advice))"
        case .keyOfMarkedArray(let key):
            return "table at \(path) is marked as an array (by json.array, or decoded from []) but has the key "
                + "\(Self.quoted(key)); remove the key or build a new table"
        case .cycle:
            return "cycle at \(path) (a table cannot contain itself in JSON)"
        case .tooDeep:
            return "nesting deeper than \(LuaJSONEncoder.depthLimit) levels at \(path)"
        case .notFinite(let number):
            let name = number.isNaN ? "NaN" : number < 0 ? "-inf" : "inf"
            return "\(name) at \(path) (JSON numbers cannot be NaN or infinite)"
        case .unsupported(let type):
            return "value of type \(type) at \(path) (JSON holds tables, strings, numbers, booleans and json.null)"
        case .invalidUTF8(let byte):
            return "invalid UTF-8 at byte \(byte) of the string at \(path) (JSON text is UTF-8: convert binary "
                + "data first, for example to hex)"
        case .invalidKeyUTF8(let byte):
            return "invalid UTF-8 at byte \(byte) of a key at \(path) (JSON text is UTF-8)"
        case .tooLarge:
            return "the text would exceed \(LuaJSONEncoder.outputLimit >> 20) MiB at \(path) (a value that the "
                + "tables refer to many times is written each time)"
        case .stopped:
            return "stopped at \(path): the run was killed"
        }
    }

    /// `$`, then `[3]` for an index, `.name` for a key that is an identifier, `["a-b"]` for another.
    private var pathText: String {
        var text = "$"
        for component in path.reversed() {
            switch component {
            case .index(let index):
                text += "[\(index)]"
            case .key(let key) where Self.isIdentifier(key):
                text += "." + String(decoding: key, as: UTF8.self)
            case .key(let key):
                text += "[\(Self.quoted(key))]"
            }
        }
        return text
    }

    private static func isIdentifier(_ key: [UInt8]) -> Bool {
        guard let first = key.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
        return key.allSatisfy { byte in
            byte == UInt8(ascii: "_") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
        }
    }

    /// A key in double quotes, with `"` and `\` escaped and invalid UTF-8 shown as U+FFFD.
    private static func quoted(_ key: [UInt8]) -> String {
        var text = "\""
        for character in String(decoding: key, as: UTF8.self).unicodeScalars {
            switch character {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            default: text.unicodeScalars.append(character)
            }
        }
        return text + "\""
    }
}
