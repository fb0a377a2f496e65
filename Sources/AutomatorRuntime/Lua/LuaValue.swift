/// A Lua value that crosses the bridge: data only. Functions, threads and userdata stay in Lua.
///
/// Integers and floats stay distinct (`3` and `3.0` are different values here, as in
/// `math.type`), and strings are bytes: embedded NULs and invalid UTF-8 survive a round trip.
public enum LuaValue: Hashable, Sendable {
    case `nil`
    case boolean(Bool)
    case integer(Int64)
    case number(Double)
    case string(LuaString)
    case table(LuaTable)

    /// The name Lua's `type()` gives this value.
    public var typeName: String {
        switch self {
        case .nil: "nil"
        case .boolean: "boolean"
        case .integer, .number: "number"
        case .string: "string"
        case .table: "table"
        }
    }
}

extension LuaValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .nil }
    public init(booleanLiteral value: Bool) { self = .boolean(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(stringLiteral value: String) { self = .string(LuaString(value)) }
    public init(arrayLiteral elements: LuaValue...) { self = .table(LuaTable(array: elements)) }
    public init(dictionaryLiteral elements: (LuaValue, LuaValue)...) {
        self = .table(LuaTable(fields: Dictionary(elements, uniquingKeysWith: { _, last in last })))
    }
}

/// A Lua string: a sequence of bytes, usually but not always UTF-8.
public struct LuaString: Hashable, Sendable, ExpressibleByStringLiteral, CustomStringConvertible {
    public var bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }
    public init(_ text: String) { self.bytes = Array(text.utf8) }
    public init(stringLiteral value: String) { self.init(value) }

    /// The text, or nil when the bytes are not valid UTF-8.
    public var text: String? { String(validating: bytes, as: UTF8.self) }
    /// The text with invalid UTF-8 replaced by U+FFFD, for messages and display.
    public var description: String { String(decoding: bytes, as: UTF8.self) }
}

/// A Lua table as a sequence (`array`, keys 1...n) and the remaining `fields`.
public struct LuaTable: Hashable, Sendable {
    public var array: [LuaValue]
    public var fields: [LuaValue: LuaValue]

    public init(array: [LuaValue] = [], fields: [LuaValue: LuaValue] = [:]) {
        self.array = array
        self.fields = fields
    }

    public subscript(key: LuaValue) -> LuaValue {
        if case .integer(let index) = key, index >= 1, index <= array.count { return array[Int(index) - 1] }
        return fields[key] ?? .nil
    }
}
